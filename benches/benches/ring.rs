//! One-hop latency and one-way throughput of the pipeline link against raw
//! rtrb, crossbeam's ArrayQueue, std's sync_channel and the disruptor crate,
//! in one run, with the two threads pinned to the first two cores.
//!
//! `cargo bench -p pt-benches --bench ring`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pt_benches::{Placement, Transport};
use std::time::Duration;

fn one_hop_latency(c: &mut Criterion) {
    let placement = Placement::first_two_cores();
    let mut group = c.benchmark_group("one_hop");
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(40);
    for transport in Transport::ALL {
        group.bench_function(transport.name(), |b| {
            b.iter_custom(|hops| transport.one_hop(hops, placement))
        });
    }
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let placement = Placement::first_two_cores();
    let mut group = c.benchmark_group("stream");
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(20)
        .throughput(Throughput::Elements(1));
    for transport in Transport::ALL {
        group.bench_function(transport.name(), |b| {
            b.iter_custom(|count| {
                transport
                    .stream(count.max(1000), 4096, placement)
                    .mul_f64(count as f64 / count.max(1000) as f64)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, one_hop_latency, throughput);
criterion_main!(benches);
