//! Loading an arbitrary instrument registry never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_engine::instrument::Registry;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(registry) = Registry::from_toml(text, "fuzz.toml") {
            for i in registry.instruments() {
                for k in 0..i.grid.len().min(64) {
                    let price = i.grid.price_at(k).expect("index below len");
                    assert_eq!(i.grid.index_of(price), Some(k));
                }
            }
        }
    }
});
