//! Reading one record at an offset: shared by recovery, verify and tailers.

use crate::format::{KIND_SEGMENT_END, record, record_crc, record_span, u16_at, u32_at, u64_at};

/// A committed record, borrowed from its segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Kind (1..=0xFFFE).
    pub kind: u16,
    /// Flags.
    pub flags: u16,
    /// Sequence number.
    pub seq: u64,
    /// Timestamp, ns since the epoch.
    pub timestamp: i64,
    /// Payload.
    pub payload: &'a [u8],
}

/// Why the bytes at an offset are not a valid committed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadRecord {
    /// The length word has bytes but no commit bit (a write cut short).
    Uncommitted,
    /// The record would run past the end of the segment.
    Overrun,
    /// The checksum does not match.
    Crc,
    /// The sequence number is not the next one.
    Sequence {
        /// The one expected.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// Kind 0 is never written.
    ZeroKind,
    /// The segment-end marker is malformed.
    BadEnd,
}

impl core::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BadRecord::Uncommitted => f.write_str("record started but never committed"),
            BadRecord::Overrun => f.write_str("record length runs past the end of the segment"),
            BadRecord::Crc => f.write_str("record checksum mismatch"),
            BadRecord::Sequence { expected, found } => {
                write!(f, "sequence {found} where {expected} was expected")
            }
            BadRecord::ZeroKind => f.write_str("record kind 0"),
            BadRecord::BadEnd => f.write_str("malformed segment-end marker"),
        }
    }
}

/// What is at an offset.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// A valid record, and the offset of the next.
    Record(RecordRef<'a>, usize),
    /// The segment ends here; the journal continues in the next segment.
    SegmentEnd,
    /// Nothing written yet.
    Empty,
    /// Something that is not a valid record.
    Bad(BadRecord),
}

/// Decodes the record at `at`, whose length word (already acquire-loaded by
/// the caller) is `word`. Never panics, whatever the bytes.
pub(crate) fn step(bytes: &[u8], at: usize, word: u32, expected_seq: u64) -> Step<'_> {
    if word == 0 {
        return Step::Empty;
    }
    if word & record::COMMITTED == 0 {
        return Step::Bad(BadRecord::Uncommitted);
    }
    let len = (word & record::MAX_LEN) as usize;
    let span = record_span(len);
    let Some(end) = at.checked_add(span).filter(|&end| end <= bytes.len()) else {
        return Step::Bad(BadRecord::Overrun);
    };
    let header = &bytes[at..at + record::HEADER_LEN];
    let kind = u16_at(header, record::KIND_AT);
    if kind == KIND_SEGMENT_END {
        return if len == 0 {
            Step::SegmentEnd
        } else {
            Step::Bad(BadRecord::BadEnd)
        };
    }
    if kind == 0 {
        return Step::Bad(BadRecord::ZeroKind);
    }
    let payload = &bytes[at + record::HEADER_LEN..at + record::HEADER_LEN + len];
    if u32_at(header, record::CRC_AT) != record_crc(header, payload) {
        return Step::Bad(BadRecord::Crc);
    }
    let seq = u64_at(header, record::SEQ_AT);
    if seq != expected_seq {
        return Step::Bad(BadRecord::Sequence {
            expected: expected_seq,
            found: seq,
        });
    }
    let record = RecordRef {
        kind,
        flags: u16_at(header, record::FLAGS_AT),
        seq,
        timestamp: u64_at(header, record::TIMESTAMP_AT) as i64,
        payload,
    };
    Step::Record(record, end)
}

/// How a walk through a segment's records stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WalkEnd {
    /// At the end marker: the segment is finished.
    Marker,
    /// At unwritten space.
    Empty,
    /// At something that is not a valid record.
    Bad(BadRecord),
}

/// The result of walking a segment from its first record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Walk {
    /// Offset where the walk stopped (of the marker, the unwritten space or
    /// the bad record).
    pub(crate) offset: usize,
    /// Valid records passed.
    pub(crate) records: u64,
    /// Why it stopped.
    pub(crate) end: WalkEnd,
}

/// Walks the records of a segment whose bytes are `bytes` and whose first
/// record has sequence `first_seq`; `len_word` reads the length word at an
/// offset (atomically, for a map another process may be writing).
pub(crate) fn walk(bytes: &[u8], len_word: impl Fn(usize) -> u32, first_seq: u64) -> Walk {
    let mut offset = crate::format::segment::HEADER_LEN;
    let mut records = 0u64;
    let end = loop {
        match step(
            bytes,
            offset,
            len_word(offset),
            first_seq.wrapping_add(records),
        ) {
            Step::Record(_, next) => {
                offset = next;
                records += 1;
            }
            Step::SegmentEnd => break WalkEnd::Marker,
            Step::Empty => break WalkEnd::Empty,
            Step::Bad(bad) => break WalkEnd::Bad(bad),
        }
    };
    Walk {
        offset,
        records,
        end,
    }
}

/// What a segment's bytes hold, read without any file: for fuzzing and for
/// checking a segment copied elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentCheck {
    /// The header, or why it is not one.
    pub header: Result<crate::format::SegmentHeader, crate::format::HeaderError>,
    /// Valid records from the start.
    pub records: u64,
    /// Offset where reading stopped.
    pub end: u64,
    /// Why it stopped: `None` at an end marker or unwritten space.
    pub problem: Option<BadRecord>,
}

/// Reads a whole segment from `bytes`. Never panics, whatever they hold.
pub fn check_segment(bytes: &[u8]) -> SegmentCheck {
    let header = crate::format::SegmentHeader::decode(bytes);
    let mut check = SegmentCheck {
        header,
        records: 0,
        end: 0,
        problem: None,
    };
    let Ok(h) = header else { return check };
    // The length word is decoded plainly here: nothing else writes `bytes`.
    let plain = |at: usize| {
        if at + 4 <= bytes.len() {
            crate::format::u32_at(bytes, at)
        } else {
            0
        }
    };
    let w = walk(bytes, plain, h.first_seq);
    check.records = w.records;
    check.end = w.offset as u64;
    if let WalkEnd::Bad(bad) = w.end {
        check.problem = Some(bad);
    }
    check
}
