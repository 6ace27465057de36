//! The on-disk format, as one table of offsets. `docs/JOURNAL-FORMAT.md`
//! describes the same layout in prose; `tests::layout_is_pinned` keeps them
//! equal. Everything is little-endian.
//!
//! A segment file is a 64-byte header followed by records from offset 64. A
//! record is a 32-byte header and its payload, padded to a multiple of 8. The
//! first word of a record is its length word: bits 0..31 hold the payload
//! length, bit 31 is set when the record is committed. Zero means "nothing
//! here yet". A committed record of kind [`KIND_SEGMENT_END`] ends a segment;
//! the journal continues in the next.

/// Segment header.
pub mod segment {
    /// `b"PTJOURNL"`.
    pub const MAGIC: [u8; 8] = *b"PTJOURNL";
    /// Current format version.
    pub const VERSION: u32 = 1;
    /// Header size; records start here.
    pub const HEADER_LEN: usize = 64;

    /// `[u8; 8]` magic.
    pub const MAGIC_AT: usize = 0;
    /// `u32` format version.
    pub const VERSION_AT: usize = 8;
    /// `u32` header length (64).
    pub const HEADER_LEN_AT: usize = 12;
    /// `u64` segment number, counting from 0.
    pub const NUMBER_AT: usize = 16;
    /// `u64` sequence number of the segment's first record.
    pub const FIRST_SEQ_AT: usize = 24;
    /// `i64` creation time, nanoseconds since the Unix epoch.
    pub const CREATED_AT: usize = 32;
    /// `u64` file size in bytes.
    pub const SIZE_AT: usize = 40;
    /// `u32` CRC32C of bytes 0..48.
    pub const CRC_AT: usize = 48;
    /// Bytes 52..64 are reserved and zero.
    pub const RESERVED_AT: usize = 52;
}

/// Record header.
pub mod record {
    /// Record header size; the payload starts here.
    pub const HEADER_LEN: usize = 32;
    /// Records start at multiples of this.
    pub const ALIGN: usize = 8;
    /// Bit of the length word that marks a committed record.
    pub const COMMITTED: u32 = 1 << 31;
    /// Largest payload length the length word can hold.
    pub const MAX_LEN: u32 = COMMITTED - 1;

    /// `u32` length word: payload length | [`COMMITTED`].
    pub const LEN_AT: usize = 0;
    /// `u16` record kind.
    pub const KIND_AT: usize = 4;
    /// `u16` flags (free for the application).
    pub const FLAGS_AT: usize = 6;
    /// `u64` sequence number.
    pub const SEQ_AT: usize = 8;
    /// `i64` timestamp, nanoseconds since the Unix epoch.
    pub const TIMESTAMP_AT: usize = 16;
    /// `u32` CRC32C of bytes 4..24 of the header followed by the payload.
    pub const CRC_AT: usize = 24;
    /// `u32` reserved, zero.
    pub const RESERVED_AT: usize = 28;
    /// Bytes covered by the CRC before the payload.
    pub const CRC_COVERS: core::ops::Range<usize> = KIND_AT..CRC_AT;
}

/// The kind of the record that ends a segment. Applications use 1..=0xFFFE;
/// kind 0 is never written.
pub const KIND_SEGMENT_END: u16 = 0xFFFF;

/// Bytes a record of `payload_len` occupies, header and padding included.
pub const fn record_span(payload_len: usize) -> usize {
    record::HEADER_LEN + payload_len.div_ceil(record::ALIGN) * record::ALIGN
}

/// The parsed header of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Segment number.
    pub number: u64,
    /// Sequence number of its first record.
    pub first_seq: u64,
    /// Creation time, ns since the epoch.
    pub created_ns: i64,
    /// File size.
    pub size: u64,
}

/// Why a segment header is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer than 64 bytes.
    Short,
    /// All zero: the file was prepared but never started.
    Blank,
    /// The magic is not `PTJOURNL`.
    Magic,
    /// A version this code does not read.
    Version(u32),
    /// The CRC does not match.
    Crc,
    /// The header length or file size is inconsistent.
    Size,
}

impl core::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HeaderError::Short => f.write_str("shorter than a segment header (64 bytes)"),
            HeaderError::Blank => f.write_str("blank header (segment prepared but never started)"),
            HeaderError::Magic => f.write_str("not a journal segment (bad magic)"),
            HeaderError::Version(v) => write!(
                f,
                "format version {v}; this build reads version {}",
                segment::VERSION
            ),
            HeaderError::Crc => f.write_str("segment header checksum mismatch"),
            HeaderError::Size => {
                f.write_str("segment size differs from its header (file cut short or padded)")
            }
        }
    }
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

pub(crate) fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl SegmentHeader {
    /// The 64 header bytes.
    pub fn encode(&self) -> [u8; segment::HEADER_LEN] {
        let mut b = [0u8; segment::HEADER_LEN];
        b[segment::MAGIC_AT..segment::MAGIC_AT + 8].copy_from_slice(&segment::MAGIC);
        b[segment::VERSION_AT..segment::VERSION_AT + 4]
            .copy_from_slice(&segment::VERSION.to_le_bytes());
        b[segment::HEADER_LEN_AT..segment::HEADER_LEN_AT + 4]
            .copy_from_slice(&(segment::HEADER_LEN as u32).to_le_bytes());
        b[segment::NUMBER_AT..segment::NUMBER_AT + 8].copy_from_slice(&self.number.to_le_bytes());
        b[segment::FIRST_SEQ_AT..segment::FIRST_SEQ_AT + 8]
            .copy_from_slice(&self.first_seq.to_le_bytes());
        b[segment::CREATED_AT..segment::CREATED_AT + 8]
            .copy_from_slice(&self.created_ns.to_le_bytes());
        b[segment::SIZE_AT..segment::SIZE_AT + 8].copy_from_slice(&self.size.to_le_bytes());
        let crc = crc32c::crc32c(&b[..segment::CRC_AT]);
        b[segment::CRC_AT..segment::CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and checks a header.
    pub fn decode(bytes: &[u8]) -> Result<SegmentHeader, HeaderError> {
        let b = bytes.get(..segment::HEADER_LEN).ok_or(HeaderError::Short)?;
        if b.iter().all(|&x| x == 0) {
            return Err(HeaderError::Blank);
        }
        if b[..8] != segment::MAGIC {
            return Err(HeaderError::Magic);
        }
        let version = u32_at(b, segment::VERSION_AT);
        if version != segment::VERSION {
            return Err(HeaderError::Version(version));
        }
        if u32_at(b, segment::CRC_AT) != crc32c::crc32c(&b[..segment::CRC_AT]) {
            return Err(HeaderError::Crc);
        }
        let header = SegmentHeader {
            number: u64_at(b, segment::NUMBER_AT),
            first_seq: u64_at(b, segment::FIRST_SEQ_AT),
            created_ns: u64_at(b, segment::CREATED_AT) as i64,
            size: u64_at(b, segment::SIZE_AT),
        };
        let header_len = u32_at(b, segment::HEADER_LEN_AT) as usize;
        if header_len != segment::HEADER_LEN
            || header.size < (segment::HEADER_LEN + 2 * record::HEADER_LEN) as u64
        {
            return Err(HeaderError::Size);
        }
        Ok(header)
    }
}

/// The CRC of a record: header bytes 4..24, then the payload.
pub fn record_crc(header: &[u8], payload: &[u8]) -> u32 {
    crate::crc::record_crc(header, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_pinned() {
        // Changing any of these is a format change: bump VERSION and update
        // docs/JOURNAL-FORMAT.md.
        assert_eq!(segment::MAGIC, *b"PTJOURNL");
        assert_eq!(segment::VERSION, 1);
        assert_eq!(
            [
                segment::MAGIC_AT,
                segment::VERSION_AT,
                segment::HEADER_LEN_AT,
                segment::NUMBER_AT,
                segment::FIRST_SEQ_AT,
                segment::CREATED_AT,
                segment::SIZE_AT,
                segment::CRC_AT,
                segment::RESERVED_AT,
                segment::HEADER_LEN
            ],
            [0, 8, 12, 16, 24, 32, 40, 48, 52, 64]
        );
        assert_eq!(
            [
                record::LEN_AT,
                record::KIND_AT,
                record::FLAGS_AT,
                record::SEQ_AT,
                record::TIMESTAMP_AT,
                record::CRC_AT,
                record::RESERVED_AT,
                record::HEADER_LEN
            ],
            [0, 4, 6, 8, 16, 24, 28, 32]
        );
        assert_eq!(record::COMMITTED, 0x8000_0000);
        assert_eq!(KIND_SEGMENT_END, 0xFFFF);
        assert_eq!(record_span(0), 32);
        assert_eq!(record_span(1), 40);
        assert_eq!(record_span(64), 96);
    }

    #[test]
    fn header_round_trips_and_rejects_damage() {
        let h = SegmentHeader {
            number: 7,
            first_seq: 1234,
            created_ns: 1_700_000_000_000_000_000,
            size: 1 << 20,
        };
        let bytes = h.encode();
        assert_eq!(&bytes[..8], b"PTJOURNL");
        assert_eq!(u64_at(&bytes, segment::FIRST_SEQ_AT), 1234);
        assert_eq!(SegmentHeader::decode(&bytes), Ok(h));
        assert_eq!(SegmentHeader::decode(&[0u8; 64]), Err(HeaderError::Blank));
        assert_eq!(SegmentHeader::decode(&bytes[..10]), Err(HeaderError::Short));
        let mut bad = bytes;
        bad[20] ^= 1;
        assert_eq!(SegmentHeader::decode(&bad), Err(HeaderError::Crc));
        let mut bad = bytes;
        bad[0] = b'X';
        assert_eq!(SegmentHeader::decode(&bad), Err(HeaderError::Magic));
        let mut bad = bytes;
        bad[8] = 9;
        assert_eq!(SegmentHeader::decode(&bad), Err(HeaderError::Version(9)));
    }
}
