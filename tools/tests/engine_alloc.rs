//! After warm-up, the decision path allocates nothing per input: books,
//! both strategies (quotes, requotes by replace, cancels, signal trades),
//! the gate, the OMS, the ledger and the paper venue's fills.
//!
//! Runs without the libtest harness so no other test shares the count.

use pt_tests::alloc::process_allocations as allocations;
use pt_tools::engine::synthetic::Synthetic;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

fn main() {
    let mut s = Synthetic::new(false);
    const WARM: u64 = 50_000;
    const MEASURED: u64 = 100_000;
    for _ in 0..WARM {
        s.step();
    }
    let approved_before = s.approved();
    let before = allocations();
    for _ in 0..MEASURED {
        s.step();
    }
    let during = allocations() - before;
    let approved = s.approved() - approved_before;
    let reports = s.core.strategies().counters().reports;
    println!(
        "decision path: {MEASURED} steps, {approved} orders approved, {reports} reports in all, {during} allocations"
    );
    assert!(
        approved > 1_000,
        "too few orders to prove anything: {approved}"
    );
    assert_eq!(during, 0, "the decision path allocated after warm-up");
}
