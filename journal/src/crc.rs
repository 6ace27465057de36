//! CRC32C of a record: bytes 4..24 of its header (`record::CRC_COVERS`)
//! followed by its payload.
//!
//! Records are small, and the `crc32c` crate's general path (alignment
//! lead-in, 3-way interleaving for long inputs) costs ~300 instructions on a
//! 64-byte payload. For payloads up to [`SMALL`] bytes on x86-64 with SSE4.2,
//! this module feeds the header and payload to the `crc32` instruction 8 bytes
//! at a time instead; longer payloads and other CPUs use the crate. Both give
//! the same value (`tests::matches_the_crate`).

use crate::format::record::{CRC_COVERS, KIND_AT, SEQ_AT, TIMESTAMP_AT};

/// Payloads up to this many bytes take the direct path.
const SMALL: usize = 1024;

/// The CRC of a record.
#[inline]
pub(crate) fn record_crc(header: &[u8], payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if payload.len() <= SMALL
        && header.len() >= CRC_COVERS.end
        && std::arch::is_x86_feature_detected!("sse4.2")
    {
        // SAFETY: the CPU supports SSE4.2, checked just above, which is the
        // only requirement of `small_sse42`.
        return unsafe { small_sse42(header, payload) };
    }
    crc32c::crc32c_append(crc32c::crc32c(&header[CRC_COVERS]), payload)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn small_sse42(header: &[u8], payload: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u32, _mm_crc32_u64};
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    // The covered header bytes: kind and flags (4), sequence (8), timestamp (8).
    let mut head = [0u8; 4];
    head.copy_from_slice(&header[KIND_AT..SEQ_AT]);
    let mut crc = u64::from(_mm_crc32_u32(!0, u32::from_le_bytes(head)));
    crc = _mm_crc32_u64(crc, word(&header[SEQ_AT..TIMESTAMP_AT]));
    crc = _mm_crc32_u64(crc, word(&header[TIMESTAMP_AT..CRC_COVERS.end]));
    let mut chunks = payload.chunks_exact(8);
    for chunk in &mut chunks {
        crc = _mm_crc32_u64(crc, word(chunk));
    }
    let mut crc = crc as u32;
    for &b in chunks.remainder() {
        crc = _mm_crc32_u8(crc, b);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_the_crate(header in prop::collection::vec(any::<u8>(), 32), payload in prop::collection::vec(any::<u8>(), 0..1500)) {
            let expected = crc32c::crc32c_append(crc32c::crc32c(&header[4..24]), &payload);
            prop_assert_eq!(record_crc(&header, &payload), expected);
        }
    }

    #[test]
    fn known_value() {
        // CRC32C("123456789") = 0xE3069283, split across header and payload.
        let mut header = [0u8; 32];
        header[4..24].copy_from_slice(b"12345678900000000000");
        let whole = crc32c::crc32c(b"12345678900000000000abc");
        assert_eq!(record_crc(&header, b"abc"), whole);
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }
}
