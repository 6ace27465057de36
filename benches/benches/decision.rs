//! The decision path per input: books, `mm` and `taker`, the risk gate,
//! the OMS, the ledger and the paper venue's answers (no journal), driven by
//! `pt_tools::engine::synthetic` (four markets, a mid walking a cent at a
//! time, trades through the quotes, ticks and signals). After criterion's
//! run it prints the gateway's tick-to-trade histogram: from each market
//! event's creation (its receive time) to the venue hand-over of the
//! orders it caused, on this process's wall clock, decoding excluded.
//!
//! `cargo bench -p pt-benches --bench decision`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pt_tools::engine::synthetic::Synthetic;

fn decision(c: &mut Criterion) {
    let mut s = Synthetic::new(true);
    for _ in 0..50_000 {
        s.step();
    }
    let mut g = c.benchmark_group("decision");
    g.throughput(Throughput::Elements(1));
    g.bench_function("step", |b| b.iter(|| s.step()));
    g.finish();
    let h = s.core.gateway_node().tick_to_trade();
    println!(
        "tick-to-trade over {} approved orders: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
    let c = s.core.gateway().counters();
    let rejects: Vec<String> = (1..32u16)
        .filter(|k| c.rejects[*k as usize] > 0)
        .map(|k| {
            format!(
                "{} {}",
                pt_engine::model::RejectCode(k).name(),
                c.rejects[k as usize]
            )
        })
        .collect();
    println!(
        "gateway: {} intents, {} approved, rejects: {}",
        c.intents,
        c.approved.iter().sum::<u64>(),
        rejects.join(", ")
    );
    let steps = s.core.strategies().counters();
    println!(
        "{} book updates, {} reports, {} intents in all",
        steps.books, steps.reports, steps.intents
    );
}

criterion_group!(benches, decision);
criterion_main!(benches);
