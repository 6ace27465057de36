//! The graph runtime on a trading loop with a back-edge (gateway → strategy):
//! the fused runner is deterministic, the threaded runner gives its outputs
//! on every placement, a free-running graph with tiny rings neither
//! deadlocks nor loses anything, and an overflowing market-data link drops,
//! counts and marks instruments stale.

use pt_engine::graph::{
    FusedGraph, GraphError, GraphShutdown, GraphSpec, LinkId, Overflow, ThreadedGraph,
};
use pt_engine::model::{Event, EventKind, Family, Mono, Nanos, header_flags};
use pt_engine::pipeline::{GroupSpec, PipelineConfig, PlacementMode, WaitStrategy};
use pt_tests::graph::{
    self as fixture, BOOKS_OUT, BurstFeed, CMD, EXEC_OUT, INTENTS_OUT, MD, Outputs, Slow, TopBook,
};

const INSTRUMENTS: u32 = 1_000;

fn input(seq: u64) -> (&'static str, Event) {
    fixture::input(seq, INSTRUMENTS)
}

fn fused_outputs(n: u64) -> (Outputs, usize) {
    let mut graph = FusedGraph::new(fixture::trading_loop(INSTRUMENTS)).unwrap();
    let mut out = Outputs::default();
    let mut widest = 0;
    for seq in 0..n {
        let (name, event) = input(seq);
        let link = graph.link_id(name).unwrap();
        let mut cancels = 0;
        graph
            .send(
                link,
                event,
                fixture::recv_time(seq),
                Mono::now(),
                &mut |l, e| {
                    cancels += usize::from(e.kind() == EventKind::OrderCancel);
                    out.push(l, e)
                },
            )
            .unwrap();
        widest = widest.max(cancels);
    }
    let stats = graph.stats();
    assert_eq!(stats.links.iter().map(|l| l.dropped).sum::<u64>(), 0);
    // Every node stamped what it took, by name, from the monotonic clock.
    let latency = graph.latency().summaries();
    for node in ["book", "strategy", "gateway"] {
        let s = latency.iter().find(|s| s.stage == node).unwrap();
        assert!(s.count > 0, "{node}: no latency recorded");
    }
    (out, widest)
}

fn placements() -> Vec<PipelineConfig> {
    let groups = |a: &[&str], b: &[&str]| PipelineConfig {
        placement: PlacementMode::Groups,
        groups: vec![
            GroupSpec {
                name: "first".into(),
                stages: a.iter().map(|s| s.to_string()).collect(),
                core: None,
            },
            GroupSpec {
                name: "second".into(),
                stages: b.iter().map(|s| s.to_string()).collect(),
                core: None,
            },
        ],
        wait: Some(WaitStrategy::SpinYield),
        ring_capacity: 8,
        ..PipelineConfig::default()
    };
    vec![
        PipelineConfig::unpinned(PlacementMode::Fused, WaitStrategy::SpinYield),
        PipelineConfig {
            ring_capacity: 2,
            ..PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield)
        },
        groups(&["book"], &["strategy", "gateway"]),
        groups(&["book", "strategy"], &["gateway"]),
    ]
}

#[test]
fn the_fused_runner_is_deterministic_and_the_loop_really_trades() {
    const N: u64 = 20_000;
    let (a, widest) = fused_outputs(N);
    let (b, _) = fused_outputs(N);
    assert_eq!(a, b, "two fused runs of the same inputs differ");
    // The back-edge carries real decisions: fills, cancels and re-places.
    for kind in [
        EventKind::Ack,
        EventKind::Fill,
        EventKind::Cancelled,
        EventKind::OrderNew,
    ] {
        assert!(a.count(kind) > 100, "{kind:?}: {}", a.count(kind));
    }
    assert_eq!(a.count(EventKind::Ack), a.count(EventKind::OrderNew));
    assert_eq!(
        a.count(EventKind::Cancelled) + a.count(EventKind::CancelRejected),
        a.count(EventKind::OrderCancel)
    );
    // A cancel-all fans out far beyond any fixed output buffer.
    assert!(widest > 300, "widest cancel-all fan-out was {widest}");
}

/// Inputs `0..n` through the loop on `config`; `stepped` waits for each
/// input's whole cascade (back-edge included) before the next.
fn threaded_outputs(
    config: &PipelineConfig,
    n: u64,
    stepped: bool,
) -> (Outputs, GraphShutdown<Event>) {
    let mut graph = ThreadedGraph::start(fixture::trading_loop(INSTRUMENTS), config).unwrap();
    let mut out = Outputs::default();
    let mut collect = |l, e| out.push(l, e);
    for seq in 0..n {
        let (name, event) = input(seq);
        let link = graph.link_id(name).unwrap();
        graph.send(link, event, &mut collect).unwrap();
        if stepped {
            graph.wait_idle(&mut collect);
        }
    }
    let done = graph.shutdown(&mut collect);
    (out, done)
}

/// The id of the link named `name` (the same in every runner of one spec).
fn link_id(name: &str) -> LinkId {
    FusedGraph::new(fixture::trading_loop(1))
        .unwrap()
        .link_id(name)
        .unwrap()
}

#[test]
fn the_threaded_runner_gives_the_fused_outputs_on_every_placement() {
    const N: u64 = 3_000;
    let (fused, _) = fused_outputs(N);
    for config in placements() {
        let (out, _) = threaded_outputs(&config, N, true);
        for name in [INTENTS_OUT, EXEC_OUT, BOOKS_OUT] {
            let id = link_id(name);
            assert!(
                out.of(id) == fused.of(id),
                "{config:?}: link {name} differs from the fused run ({} vs {} events)",
                out.of(id).len(),
                fused.of(id).len()
            );
        }
    }
}

#[test]
fn a_free_running_loop_on_tiny_rings_neither_deadlocks_nor_loses() {
    const N: u64 = 20_000;
    for config in placements() {
        let (out, done) = threaded_outputs(&config, N, false);
        for l in &done.stats.links {
            assert_eq!(l.dropped, 0, "{config:?}: {l:?}");
            assert_eq!(l.sent, l.received, "{config:?}: {l:?}");
        }
        let node = |n: &str| done.stats.node(n).unwrap().clone();
        assert_eq!(node("book").events_in, done.stats.link(MD).unwrap().sent);
        assert_eq!(
            node("strategy").events_in,
            done.stats.link("books").unwrap().received
                + done.stats.link("exec").unwrap().received
                + done.stats.link(CMD).unwrap().received
        );
        assert_eq!(out.of(link_id(BOOKS_OUT)).len() as u64, N - N / 500);
        assert_eq!(out.count(EventKind::Ack), out.count(EventKind::OrderNew));
        assert_eq!(
            out.count(EventKind::Cancelled) + out.count(EventKind::CancelRejected),
            out.count(EventKind::OrderCancel)
        );
        assert!(out.count(EventKind::Fill) > 100);
    }
}

#[test]
fn an_overflowing_market_data_link_drops_counts_and_marks_stale() {
    const N: u64 = 50_000;
    let mut spec = GraphSpec::new();
    spec.node(Box::new(BurstFeed::new(N, 64, 50)))
        .node(Box::new(Slow {
            inner: TopBook::new(50),
            spin: 2_000,
        }));
    let md = spec.link(MD, Family::Market, "feed", "book");
    spec.capacity(md, 4);
    spec.output(BOOKS_OUT, Family::Book, "book");
    let config = PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield);
    let mut graph = ThreadedGraph::start(spec, &config).unwrap();
    let mut books = Vec::new();
    let mut collect = |_, e: Event| books.push(e);
    // Until the feed has emitted everything, delivered or dropped.
    loop {
        graph.drain(&mut collect);
        let s = graph.stats();
        let l = s.link(MD).unwrap();
        if l.sent - l.stale_marks + l.dropped == N {
            break;
        }
        std::thread::yield_now();
    }
    let done = graph.shutdown(&mut collect);
    let l = done.stats.link(MD).unwrap();
    assert_eq!(l.overflow, Overflow::MarkStale);
    assert!(l.dropped > 0, "{l:?}");
    assert!(l.stale_marks > 0, "{l:?}");
    assert!(l.stale_marks <= l.dropped, "{l:?}");
    assert_eq!(l.sent, l.received, "{l:?}");
    assert_eq!(l.sent - l.stale_marks + l.dropped, N, "{l:?}");
    // The book took every delivered event, marks included, and said which
    // instruments are stale.
    assert_eq!(books.len() as u64, l.received);
    let marks = books
        .iter()
        .filter(|e| e.header().flags & header_flags::STALE != 0)
        .count() as u64;
    assert!(marks >= l.stale_marks, "{marks} stale books for {l:?}");
    let node = done.stats.node("book").unwrap();
    assert_eq!(node.events_in, l.received);
}

#[test]
fn a_fused_feed_edge_runs_to_done() {
    let mut spec = GraphSpec::new();
    spec.node(Box::new(BurstFeed::new(1_000, 10, 5)))
        .node(Box::new(TopBook::new(5)));
    spec.link(MD, Family::Market, "feed", "book");
    spec.output(BOOKS_OUT, Family::Book, "book");
    let mut graph = FusedGraph::new(spec).unwrap();
    let mut books = 0;
    let mut polls = 0;
    while graph.poll(Nanos(1), Mono::UNSET, &mut |_, _| books += 1)
        != pt_engine::graph::Polled::Done
    {
        polls += 1;
    }
    assert_eq!(books, 1_000);
    assert_eq!(polls, 100);
    // An edge's output link is not an input: the owner cannot send on it.
    let md = graph.link_id(MD).unwrap();
    assert!(
        graph
            .send(
                md,
                fixture::market_input(0, 5),
                Nanos(1),
                Mono::UNSET,
                &mut |_, _| {}
            )
            .is_err()
    );
}

#[test]
fn malformed_graphs_are_refused_by_name() {
    let err = |spec: GraphSpec<Event>| FusedGraph::new(spec).err().unwrap();
    assert_eq!(err(GraphSpec::new()), GraphError::Empty);

    let mut spec = fixture::trading_loop(4);
    let intents = spec.link("more-intents", Family::Intent, "strategy", "gateway");
    spec.overflow(intents, Overflow::MarkStale);
    assert_eq!(
        err(spec),
        GraphError::DropsOrders {
            link: "more-intents".into(),
            family: Family::Intent
        }
    );

    let mut spec = fixture::trading_loop(4);
    spec.link("signals", Family::Command, "oracle", "strategy");
    let e = err(spec);
    assert_eq!(
        e,
        GraphError::UnknownNode {
            link: "signals".into(),
            node: "oracle".into()
        }
    );
    assert!(e.to_string().contains("\"oracle\""), "{e}");

    let mut spec = fixture::trading_loop(4);
    spec.node(Box::new(TopBook::new(1)));
    assert_eq!(err(spec), GraphError::DuplicateNode("book".into()));

    let mut spec = fixture::trading_loop(4);
    spec.input(MD, Family::Market, "book");
    assert_eq!(err(spec), GraphError::DuplicateLink(MD.into()));
}
