//! The LOBSTER parsers never panic on any text: a message line, an
//! orderbook row, and a pair of whole files, failing or skipping bad lines.
//! A skipping parse keeps every pair the failing parse keeps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_feed::lobster::{BadLines, Recording, parse_message, parse_row};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_message(text, 1);
    let _ = parse_row(text, 1);
    // Split at the first NUL into a message file and an orderbook file.
    let (messages, rows) = text.split_once('\0').unwrap_or((text, text));
    let strict = Recording::parse(messages, rows, BadLines::Fail);
    let lenient = Recording::parse(messages, rows, BadLines::Skip);
    if let (Ok(s), Ok(l)) = (&strict, &lenient) {
        assert_eq!(s.steps, l.steps);
        assert!(l.skipped.is_empty());
    }
});
