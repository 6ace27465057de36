//! Decoding arbitrary bytes as an event record never panics, and a record
//! that decodes encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_engine::model::Event;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = Event::from_bytes(data) {
        assert_eq!(&event.to_bytes()[..], data);
    }
});
