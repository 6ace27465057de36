//! What `pt sim` reads from the network never panics: WebSocket commands
//! through a session, the order fields' number parsers, the signature
//! headers, and fault settings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_sim::auth::KeyStore;
use pt_sim::faults::Faults;
use pt_sim::server::{SimConfig, build_shared};
use pt_sim::wire::{parse_count, parse_price};
use std::sync::OnceLock;

fn shared() -> std::sync::Arc<pt_sim::server::Shared> {
    static SHARED: OnceLock<std::sync::Arc<pt_sim::server::Shared>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            build_shared(
                SimConfig {
                    rate: 0,
                    ..SimConfig::default()
                },
                KeyStore::empty(),
            )
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Several commands, separated by newlines, through one session.
    let commands: Vec<&str> = text.split('\n').collect();
    for frame in pt_sim::ws::commands_for_fuzzing(shared(), 1, &commands) {
        assert!(
            serde_json::from_str::<serde_json::Value>(&frame).is_ok(),
            "{frame}"
        );
    }
    let _ = parse_price("price", text);
    let _ = parse_count("count", text);
    let mut parts = text.splitn(3, '|');
    let (key, ts, sig) = (parts.next(), parts.next(), parts.next());
    let _ = KeyStore::empty().verify(key, ts, sig, "GET", text, 0, 30_000);
    let _ = Faults::default().set(text);
    if let Ok(f) = serde_json::from_str::<Faults>(text) {
        let _ = f.validate();
    }
});
