//! Runs `N` intent pairs (a resting order and its cancel) through the
//! gateway fixture, for instruction counts under callgrind: run with two
//! values of `N`; the difference over the extra pairs is the cost of one
//! pair, free of set-up.
//!
//! `valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/gateway_intents 20000`

use pt_engine::model::{Mode, Side};
use pt_gateway::{PaperConfig, RiskPolicy};
use pt_tests::gateway::Harness;
use std::hint::black_box;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let policy = RiskPolicy::from_toml(
        "[rate]\ncapacity = 1000000\nrefill_per_second = 1000000000\n",
        "callgrind",
    )
    .expect("valid");
    let mut h = Harness::new(Some(policy), Mode::Paper, false, PaperConfig::default());
    for i in 0..4 {
        h.quote(i, "0.40", "0.45", 20);
    }
    for k in 0..n {
        let o = h.new_order(1, k + 1, (k % 4) as u32, Side::Buy, "0.35", 3);
        black_box(h.send(o));
        let c = h.cancel(2, k + 1, o.client_order_id);
        black_box(h.send(c));
        if k.is_multiple_of(4096) {
            h.gw.journal_mut().clear();
        }
    }
    println!("{n} pairs, {} intents", h.gw.counters().intents);
}
