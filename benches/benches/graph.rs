//! The graph runtime on the trading loop of `pt_tests::graph` (book →
//! strategy → gateway, execution reports back to the strategy, a cancel-all
//! now and then): input events per second through the fused runner with and
//! without stage stamps, and through the threaded runner one thread per
//! node, against the same three nodes wired by hand (direct calls and one
//! local queue, no routing, counters or stamps): the floor any runtime pays.
//!
//! `cargo bench -p pt-benches --bench graph`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pt_engine::graph::{FusedGraph, LinkId, Node, Out, ThreadedGraph};
use pt_engine::model::{Event, Family, Mono, Nanos};
use pt_engine::pipeline::{PipelineConfig, PlacementMode, WaitStrategy};
use pt_tests::graph::{self as fixture, PaperGateway, Quoter, TopBook};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

const INSTRUMENTS: u32 = 1_000;
const INPUTS: usize = 100_000;

/// The inputs, cycled: market data, every 500th a cancel-all.
fn inputs() -> Vec<(bool, Event)> {
    (0..INPUTS as u64)
        .map(|seq| {
            let (link, event) = fixture::input(seq, INSTRUMENTS);
            (link == fixture::MD, event)
        })
        .collect()
}

/// The three nodes called directly.
struct HandWired {
    book: TopBook,
    strategy: Quoter,
    gateway: PaperGateway,
    out: Out<Event>,
    queue: VecDeque<(u8, Event)>,
}

impl HandWired {
    fn new() -> HandWired {
        HandWired {
            book: TopBook::new(INSTRUMENTS),
            strategy: Quoter::new(INSTRUMENTS),
            gateway: PaperGateway::new(INSTRUMENTS),
            out: Out::new(4096),
            queue: VecDeque::with_capacity(4096),
        }
    }

    fn send(&mut self, market: bool, event: Event, now: Nanos, sink: &mut u64) {
        self.queue.push_back((if market { 0 } else { 1 }, event));
        while let Some((to, e)) = self.queue.pop_front() {
            match to {
                0 => self.book.on_event(&e, now, &mut self.out),
                1 => self.strategy.on_event(&e, now, &mut self.out),
                _ => self.gateway.on_event(&e, now, &mut self.out),
            }
            for o in self.out.as_slice() {
                *sink += 1;
                match o.kind().family() {
                    Family::Book => self.queue.push_back((1, *o)),
                    Family::Intent => self.queue.push_back((2, *o)),
                    Family::Exec => self.queue.push_back((1, *o)),
                    _ => {}
                }
            }
            self.out.clear();
        }
    }
}

fn fused(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("graph");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(20)
        .throughput(Throughput::Elements(1));
    for (name, stamped) in [("fused", false), ("fused_stamped", true)] {
        let mut graph = FusedGraph::new(fixture::trading_loop(INSTRUMENTS)).unwrap();
        let links = [
            graph.link_id(fixture::MD).unwrap(),
            graph.link_id(fixture::CMD).unwrap(),
        ];
        let mut i = 0;
        let mut outputs = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                let (market, event) = inputs[i % INPUTS];
                i += 1;
                let at = if stamped { Mono::now() } else { Mono::UNSET };
                let link = links[usize::from(!market)];
                graph
                    .send(link, event, Nanos(i as i64), at, &mut |_, _| outputs += 1)
                    .unwrap();
            })
        });
        black_box(outputs);
    }
    let mut wired = HandWired::new();
    let mut i = 0;
    let mut outputs = 0u64;
    group.bench_function("hand_wired", |b| {
        b.iter(|| {
            let (market, event) = inputs[i % INPUTS];
            i += 1;
            wired.send(market, event, Nanos(i as i64), &mut outputs);
        })
    });
    black_box(outputs);

    let config = PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield);
    let mut graph = ThreadedGraph::start(fixture::trading_loop(INSTRUMENTS), &config).unwrap();
    let links = [
        graph.link_id(fixture::MD).unwrap(),
        graph.link_id(fixture::CMD).unwrap(),
    ];
    let mut outputs = 0u64;
    group.bench_function("threaded_one_per_node", |b| {
        b.iter_custom(|count| {
            let mut sink = |_: LinkId, _: Event| outputs += 1;
            let start = Instant::now();
            for k in 0..count as usize {
                let (market, event) = inputs[k % INPUTS];
                graph
                    .send(links[usize::from(!market)], event, &mut sink)
                    .unwrap();
            }
            graph.wait_idle(&mut sink);
            start.elapsed()
        })
    });
    graph.shutdown(&mut |_, _| {});
    black_box(outputs);
    group.finish();
}

criterion_group!(benches, fused);
criterion_main!(benches);
