//! After warm-up, the pipeline allocates nothing per event: threaded or fused.
//!
//! A counting global allocator sees every allocation in the process. This
//! test runs without the libtest harness so no other test shares the count.

use pt_engine::model::{Event, Nanos};
use pt_engine::pipeline::synthetic;
use pt_engine::pipeline::{FusedRunner, Pipeline, PipelineConfig, PlacementMode, WaitStrategy};
use pt_tests::alloc::process_allocations as allocations;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

const WARM_UP: u64 = 100_000;
const MEASURED: u64 = 1_000_000;

fn threaded(placement: PlacementMode) {
    let config = PipelineConfig::unpinned(placement, WaitStrategy::Park);
    let mut pipeline = Pipeline::start(&config, synthetic::stages()).unwrap();
    let mut outputs = 0u64;
    let mut sink = |_: Event| outputs += 1;
    for seq in 0..WARM_UP {
        pipeline.send(synthetic::input(seq, Nanos::now()), &mut sink);
    }
    let before = allocations();
    for seq in WARM_UP..WARM_UP + MEASURED {
        pipeline.send(synthetic::input(seq, Nanos::now()), &mut sink);
    }
    // Wait until every stage has handled everything sent so far.
    pipeline.flush(&mut sink);
    let during = allocations() - before;
    let stats = pipeline.stats();
    pipeline.shutdown(&mut sink);
    println!("threaded {placement:?}: {MEASURED} events, {during} allocations");
    assert_eq!(
        during, 0,
        "the threaded pipeline ({placement:?}) allocated in steady state: {stats:?}"
    );
    assert!(outputs > 0);
}

fn fused() {
    let mut runner = FusedRunner::new(synthetic::stages()).unwrap();
    let mut outputs = 0u64;
    let mut sink = |_: Event| outputs += 1;
    for seq in 0..WARM_UP {
        runner.process(synthetic::input(seq, Nanos(1)), Nanos::now(), &mut sink);
    }
    let before = allocations();
    for seq in WARM_UP..WARM_UP + MEASURED {
        runner.process(synthetic::input(seq, Nanos(1)), Nanos::now(), &mut sink);
    }
    let during = allocations() - before;
    println!("fused: {MEASURED} events, {during} allocations");
    assert_eq!(during, 0, "the fused runner allocated in steady state");
    assert!(outputs > 0);
}

fn graph_input(seq: u64) -> (&'static str, Event) {
    pt_tests::graph::input(seq, 1_000)
}

/// The trading loop (back-edge, cancel-all fan-out) on the fused graph
/// runner, stamped with the monotonic clock.
fn graph_fused() {
    use pt_engine::graph::FusedGraph;
    use pt_engine::model::Mono;
    let mut graph = FusedGraph::new(pt_tests::graph::trading_loop(1_000)).unwrap();
    let links = [graph.link_id("md").unwrap(), graph.link_id("cmd").unwrap()];
    let mut outputs = 0u64;
    let run = |graph: &mut FusedGraph<Event>, seq: u64, outputs: &mut u64| {
        let (name, event) = graph_input(seq);
        let link = if name == "md" { links[0] } else { links[1] };
        graph
            .send(link, event, Nanos(seq as i64), Mono::now(), &mut |_, _| {
                *outputs += 1
            })
            .unwrap();
    };
    for seq in 0..WARM_UP {
        run(&mut graph, seq, &mut outputs);
    }
    let before = allocations();
    for seq in WARM_UP..WARM_UP + MEASURED {
        run(&mut graph, seq, &mut outputs);
    }
    let during = allocations() - before;
    println!("graph fused: {MEASURED} inputs, {outputs} outputs, {during} allocations");
    assert_eq!(
        during,
        0,
        "the fused graph allocated in steady state: {:?}",
        graph.stats()
    );
    assert!(outputs > MEASURED);
}

/// The same loop threaded, one thread per node, free-running.
fn graph_threaded() {
    use pt_engine::graph::ThreadedGraph;
    let config = PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::Park);
    let mut graph = ThreadedGraph::start(pt_tests::graph::trading_loop(1_000), &config).unwrap();
    let links = [graph.link_id("md").unwrap(), graph.link_id("cmd").unwrap()];
    let mut outputs = 0u64;
    let mut sink = |_, _: Event| outputs += 1;
    let send = |graph: &mut ThreadedGraph<Event>, seq: u64, sink: &mut dyn FnMut(_, Event)| {
        let (name, event) = graph_input(seq);
        let link = if name == "md" { links[0] } else { links[1] };
        graph.send(link, event, &mut |l, e| sink(l, e)).unwrap();
    };
    for seq in 0..WARM_UP {
        send(&mut graph, seq, &mut sink);
    }
    graph.wait_idle(&mut sink);
    let before = allocations();
    for seq in WARM_UP..WARM_UP + MEASURED {
        send(&mut graph, seq, &mut sink);
    }
    graph.wait_idle(&mut sink);
    let during = allocations() - before;
    let done = graph.shutdown(&mut sink);
    println!("graph threaded: {MEASURED} inputs, {outputs} outputs, {during} allocations");
    assert_eq!(
        during, 0,
        "the threaded graph allocated in steady state: {:?}",
        done.stats
    );
    assert!(outputs > MEASURED);
}

/// A stage that allocates on every event: the check below must catch it.
struct Leaky;

impl pt_engine::pipeline::Stage<Event> for Leaky {
    fn name(&self) -> &str {
        "leaky"
    }
    fn on_event(
        &mut self,
        event: &Event,
        _now: Nanos,
        out: &mut pt_engine::pipeline::Outbox<Event>,
    ) {
        let boxed = std::hint::black_box(Box::new(*event));
        let _ = out.push(*boxed);
    }
}

/// Level changes, best-level scans, refills and top-N reads on a built book.
fn book() {
    use pt_engine::book::{BinaryBook, Ladder, plain_header};
    use pt_engine::instrument::PriceGrid;
    use pt_engine::model::{InstrumentId, Price, Qty, Side};
    let cent = Price::from_raw(1_000_000);
    let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).unwrap();
    let mut ladder = Ladder::new(InstrumentId(1), grid.clone());
    let mut binary = BinaryBook::new(InstrumentId(2), grid);
    let h = plain_header(InstrumentId(1), 0);
    let mut top = Vec::with_capacity(10);
    let before = allocations();
    for i in 0..1_000_000i64 {
        let p = Price::from_raw((1 + i % 98) * 1_000_000);
        let side = if i % 3 == 0 { Side::Sell } else { Side::Buy };
        let _ = ladder.set(side, p, Qty::from_raw((i % 7) * 100_000_000), &h);
        let _ = binary.apply_delta(i % 2 == 0, p, Qty::from_raw(100_000_000), &h);
        if i % 1000 == 0 {
            let _ = ladder.reset_best(Side::Buy, p, Qty::from_raw(100_000_000), &h);
            ladder.top_n(Side::Buy, 10, &mut top);
        }
    }
    let during = allocations() - before;
    println!("book: 1000000 changes, {during} allocations");
    assert_eq!(during, 0, "the book allocated on its update path");
}

/// The book stage in a fused pipeline: snapshots, deltas, gaps, refused
/// changes and trades.
fn book_stage() {
    use pt_engine::book::{BookStage, market_event};
    use pt_engine::instrument::PriceGrid;
    use pt_engine::model::{Event, EventKind, InstrumentId, MarketStatus, Price, Qty, Side};
    let cent = Price::from_raw(1_000_000);
    let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).unwrap();
    let ids = [InstrumentId(1), InstrumentId(2), InstrumentId(3)];
    let stage = BookStage::new(ids.iter().map(|&i| (i, grid.clone()))).unwrap();
    let mut runner = FusedRunner::new(vec![Box::new(stage)]).unwrap();
    let mut emitted = 0u64;
    let feed = |i: i64, runner: &mut FusedRunner<Event>, emitted: &mut u64| {
        let id = ids[((i / 500) % 3) as usize];
        let p = Price::from_raw((1 + i % 98) * 1_000_000);
        let side = if i % 2 == 0 { Side::Sell } else { Side::Buy };
        let kind = match i % 500 {
            0 => EventKind::SnapshotBegin,
            1..=20 => EventKind::SnapshotLevel,
            21 => EventKind::SnapshotEnd,
            22 => EventKind::Status,
            23 => EventKind::Trade,
            n if n % 2 == 0 => EventKind::LevelDelta,
            _ => EventKind::LevelSet,
        };
        let units = match kind {
            // Now and then a delta the book must refuse (below zero).
            EventKind::LevelDelta if i % 250 == 2 => -1000,
            EventKind::LevelDelta => 1 + i % 3,
            _ => i % 5,
        };
        let mut m = market_event(
            kind,
            id,
            i as u64,
            side,
            p,
            Qty::from_raw(units * 100_000_000),
        );
        if kind == EventKind::Status && i % 1000 == 22 {
            m.status = MarketStatus::Gap;
        }
        runner.process(Event::Market(m), Nanos(1), &mut |_| *emitted += 1);
    };
    for i in 0..10_000 {
        feed(i, &mut runner, &mut emitted);
    }
    let before = allocations();
    for i in 10_000..1_000_000 {
        feed(i, &mut runner, &mut emitted);
    }
    let during = allocations() - before;
    println!("book stage: 990000 events, {emitted} emitted, {during} allocations");
    assert!(
        emitted > 100_000,
        "the book stage emitted too little to prove anything"
    );
    assert_eq!(during, 0, "the book stage allocated on its update path");
}

fn main() {
    // The counter must see allocations at all, or a zero proves nothing.
    let before = allocations();
    let probe = std::hint::black_box(vec![1u8; 64]);
    assert!(
        allocations() > before,
        "the counting allocator is not installed"
    );
    drop(probe);
    let mut leaky = FusedRunner::new(vec![Box::new(Leaky)]).unwrap();
    let before = allocations();
    for seq in 0..1000 {
        leaky.process(synthetic::input(seq, Nanos(1)), Nanos(1), &mut |_| {});
    }
    assert!(
        allocations() - before >= 1000,
        "an allocating stage went unnoticed"
    );

    fused();
    graph_fused();
    graph_threaded();
    book();
    book_stage();
    threaded(PlacementMode::OnePerStage);
    threaded(PlacementMode::Fused);
    println!("zero_alloc: ok");
}
