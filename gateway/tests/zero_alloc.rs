//! After warm-up, the gateway allocates nothing per intent: gate, OMS,
//! ledger, journal (in memory, reserved) and the paper venue's fills.
//!
//! Runs without the libtest harness so no other test shares the count.

use pt_engine::model::Side;
use pt_tests::alloc::process_allocations as allocations;
use pt_tests::gateway::Harness;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

const ROUNDS: u64 = 20_000;

/// One round: a quote pair that rests, trades that fill both (so the
/// position stays flat), a level change, a third order and its cancel.
fn round(h: &mut Harness, k: u64) {
    let instrument = (k % 4) as u32;
    let buy = h.new_order(1, 3 * k + 1, instrument, Side::Buy, "0.40", 5);
    h.send(buy);
    let sell = h.new_order(1, 3 * k + 2, instrument, Side::Sell, "0.46", 5);
    h.send(sell);
    h.trade(instrument, Side::Sell, "0.40", 30);
    h.trade(instrument, Side::Buy, "0.46", 30);
    h.level(instrument, Side::Buy, "0.40", 20);
    let rest = h.new_order(1, 3 * k + 3, instrument, Side::Buy, "0.35", 2);
    h.send(rest);
    let cancel = h.cancel(2, k + 1, rest.client_order_id);
    h.send(cancel);
}

fn main() {
    // The harness's clock moves a microsecond an event: a budget that never runs dry.
    let policy = pt_gateway::RiskPolicy::from_toml(
        "[rate]\ncapacity = 1000000\nrefill_per_second = 1000000000\n",
        "zero_alloc",
    )
    .unwrap();
    let mut h = Harness::new(
        Some(policy),
        pt_engine::model::Mode::Paper,
        false,
        pt_gateway::PaperConfig::default(),
    );
    for i in 0..4 {
        h.quote(i, "0.40", "0.45", 20);
    }
    for k in 0..ROUNDS {
        round(&mut h, k);
    }
    // The in-memory journal grows by design; give it room for what follows.
    let before_len = h.gw.journal().len();
    h.reserve_journal(before_len * 2);
    let before = allocations();
    for k in ROUNDS..2 * ROUNDS {
        round(&mut h, k);
    }
    let during = allocations() - before;
    let intents = h.gw.counters().intents;
    println!("gateway: {intents} intents in all, {during} allocations in the measured half");
    assert!(
        h.gw.ledger(pt_engine::model::Mode::Paper)
            .balanced()
            .is_ok()
    );
    let c = h.gw.counters();
    assert_eq!(
        c.rejects.iter().sum::<u64>(),
        0,
        "every intent passes: {c:?}"
    );
    assert_eq!(c.approved[0], 4 * 2 * ROUNDS);
    assert_eq!(during, 0, "the gateway allocated in steady state");
}
