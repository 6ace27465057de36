//! Per-delta book update latency on LOBSTER AMZN level 1: every
//! `Ladder::apply_delta` timed on its own with the time-stamp counter,
//! the cost of an empty timed region subtracted, over several replays;
//! prints the distribution (the criterion `book` bench gives the mean
//! over whole replays instead).
//!
//! `cargo run --release -p pt-benches --example book_latency [rounds]`
//!
//! x86_64 only (reads the TSC); the TSC rate is calibrated against the
//! monotonic clock for 200 ms first.

#[cfg(target_arch = "x86_64")]
fn main() {
    use pt_engine::book::{Ladder, plain_header};
    use pt_engine::model::{InstrumentId, Price, Qty};
    use pt_feed::lobster::{MessageType, equity_grid, parse_message};
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    fn tsc() -> u64 {
        // SAFETY: RDTSC reads a counter; x86_64 always has it and it has
        // no memory effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let Some(text) =
        pt_tests::data::shared_text("lobster/AMZN_2012-06-21_34200000_57600000_message_1.csv")
    else {
        return;
    };
    let msgs: Vec<_> = text
        .lines()
        .enumerate()
        .map(|(i, l)| parse_message(l, i + 1).unwrap_or_else(|e| panic!("{e}")))
        .collect();

    // TSC ticks per nanosecond.
    let (t0, c0) = (Instant::now(), tsc());
    while t0.elapsed() < Duration::from_millis(200) {}
    let per_ns = (tsc() - c0) as f64 / t0.elapsed().as_nanos() as f64;

    // The cost of an empty timed region (the two counter reads).
    let mut empty: Vec<u64> = (0..100_000)
        .map(|_| {
            let a = tsc();
            black_box(());
            tsc() - a
        })
        .collect();
    empty.sort_unstable();
    let overhead = empty[empty.len() / 2];

    let grid = equity_grid(Price::parse("1000").expect("price")).expect("grid");
    let h = plain_header(InstrumentId(1), 0);
    let mut ticks = Vec::with_capacity(msgs.len() * rounds);
    for _ in 0..rounds {
        let mut book = Ladder::new(InstrumentId(1), grid.clone());
        for m in &msgs {
            let d = match m.kind {
                MessageType::Submit => m.size.raw(),
                MessageType::PartialCancel | MessageType::Delete | MessageType::Execute => {
                    -m.size.raw().min(book.qty_at(m.side, m.price).raw())
                }
                _ => 0,
            };
            let a = tsc();
            let r = book.apply_delta(m.side, m.price, Qty::from_raw(d), &h);
            let b = tsc();
            black_box(r.ok());
            ticks.push((b - a).saturating_sub(overhead));
        }
    }
    ticks.sort_unstable();
    let at = |q: f64| ticks[((ticks.len() - 1) as f64 * q) as usize] as f64 / per_ns;
    println!(
        "{} deltas x {rounds} rounds; TSC {per_ns:.3} ticks/ns; timer overhead {overhead} ticks subtracted",
        msgs.len()
    );
    println!(
        "apply_delta ns: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999)
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("book_latency reads the x86_64 time-stamp counter; nothing to do here");
}
