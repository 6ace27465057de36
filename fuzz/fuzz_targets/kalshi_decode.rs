//! The Kalshi WebSocket decoder never panics on any bytes; a frame that
//! decodes iterates exactly the levels, strings and subscriptions it
//! reports, every error span lies inside the frame, and turning a decoded
//! message into events (both price conventions) emits what it says. The
//! `orderbook_delta` fast path never changes the outcome: `decode` equals
//! `decode_general` (no fast path) on every input, errors included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_engine::model::Nanos;
use pt_feed::kalshi::{EventSource, Msg, decode, decode_general, to_events};

fuzz_target!(|data: &[u8]| {
    assert_eq!(decode(data), decode_general(data));
    let env = match decode(data) {
        Ok(env) => env,
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= data.len());
            let _ = e.display(data).to_string();
            return;
        }
    };
    match env.msg {
        Msg::OrderbookSnapshot(s) => {
            for levels in [s.yes, s.no] {
                let mut n = 0;
                for (p, q) in levels {
                    assert!(p.raw() >= 0 && q.raw() >= 0);
                    n += 1;
                }
                assert_eq!(n, levels.len());
            }
        }
        Msg::Ok(o) => {
            for list in [o.market_tickers, o.market_ids].into_iter().flatten() {
                assert_eq!(list.iter().count(), list.len());
            }
        }
        Msg::ListSubscriptions(l) => assert_eq!(l.iter().count(), l.len()),
        _ => {}
    }
    for use_yes_price in [false, true] {
        let src = EventSource {
            use_yes_price,
            ..EventSource::default()
        };
        let mut n = 0;
        let said = to_events(&env, &src, Nanos(1), |_| n += 1);
        assert_eq!(said, n);
    }
});
