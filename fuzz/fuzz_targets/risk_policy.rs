//! Loading an arbitrary risk policy never panics, and what loads is valid:
//! positive limits, a collar fraction of at most one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_gateway::RiskPolicy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match RiskPolicy::from_toml(text, "fuzz.toml") {
            Ok(p) => {
                assert!(p.order.max_qty.raw() > 0 && p.order.max_notional.raw() > 0);
                assert!(p.order.collar_pct.raw() <= 100_000_000);
                assert!(p.global.max_open_orders > 0 && p.rate.capacity > 0);
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
});
