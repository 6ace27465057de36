//! The Binance frame decoder never panics, and a frame that decodes
//! iterates exactly the levels it reports, each with a positive price and
//! a non-negative quantity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_feed::binance::{Msg, decode};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode(data) else { return };
    let (bids, asks) = match msg {
        Msg::DepthUpdate(d) => {
            assert!(d.first_update_id <= d.final_update_id);
            (d.bids, d.asks)
        }
        Msg::Snapshot(s) => (s.bids, s.asks),
        _ => return,
    };
    for levels in [bids, asks] {
        let mut n = 0;
        for (price, qty) in levels {
            assert!(price.raw() > 0 && qty.raw() >= 0);
            n += 1;
        }
        assert_eq!(n, levels.len());
    }
});
