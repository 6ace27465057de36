//! `Price`/`Qty` parsing never panics, and whatever parses formats back to
//! the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_engine::model::{Price, Qty};

fuzz_target!(|data: &[u8]| {
    let (scale, text) = match data.split_first() {
        Some((s, rest)) => (u32::from(*s % 24), rest),
        None => (0, data),
    };
    if let Ok(price) = Price::parse_bytes(text) {
        assert_eq!(Price::parse(&price.to_string()), Ok(price));
    }
    if let Ok(text) = std::str::from_utf8(text) {
        let _ = Qty::parse_scaled(text, scale);
    }
});
