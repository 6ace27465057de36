//! The market-data loop when its `md` link overflows: the link drops and
//! counts, the book stage goes stale on the stale mark and flags its update
//! `RESYNC`, the link back carries it to the feed edge, the feed asks for a
//! snapshot, and every book ends whole. The venue here is a scripted feed
//! that answers a resync with a snapshot at its next poll, fast enough to
//! overrun a 2-slot ring; the Kalshi path itself is proven against
//! `pt sim` in `tools/tests/kalshi_feed.rs`.

use pt_engine::book::{BookStage, market_event};
use pt_engine::graph::{GraphSpec, ThreadedGraph};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{EventKind, InstrumentId, MarketEvent, Price, Qty, Side};
use pt_engine::pipeline::{PipelineConfig, PlacementMode, WaitStrategy};
use pt_feed::market_data::{BOOK, FeedEdge, FeedStatus, MD, VenueFeed, add_market_data};
use std::any::Any;
use std::time::Duration;

const INSTRUMENTS: u32 = 4;
const TOTAL: u64 = 40_000;

/// Emits `TOTAL` level changes in bursts, a snapshot of every book first and
/// of each book it is asked to resync.
#[derive(Debug, Default)]
struct Scripted {
    emitted: u64,
    pending: Vec<InstrumentId>,
    started: bool,
    resyncs: u64,
    seq: u64,
}

impl Scripted {
    fn snapshot(&mut self, id: InstrumentId, emit: &mut dyn FnMut(MarketEvent)) {
        let mut e = |kind, side, cents: i64| {
            self.seq += 1;
            let p = Price::from_raw(cents * 1_000_000);
            emit(market_event(
                kind,
                id,
                self.seq,
                side,
                p,
                Qty::from_units(5).unwrap(),
            ));
        };
        e(EventKind::SnapshotBegin, Side::Buy, 0);
        e(EventKind::SnapshotLevel, Side::Buy, 40);
        e(EventKind::SnapshotLevel, Side::Sell, 60);
        e(EventKind::SnapshotEnd, Side::Buy, 0);
    }
}

impl VenueFeed for Scripted {
    fn poll(&mut self, _timeout: Duration, emit: &mut dyn FnMut(MarketEvent)) {
        if !self.started {
            self.started = true;
            self.pending.extend((1..=INSTRUMENTS).map(InstrumentId));
        }
        for id in std::mem::take(&mut self.pending) {
            self.snapshot(id, emit);
        }
        let end = (self.emitted + 512).min(TOTAL);
        for n in self.emitted..end {
            let id = InstrumentId(1 + (n % u64::from(INSTRUMENTS)) as u32);
            let side = if n % 2 == 0 { Side::Buy } else { Side::Sell };
            let cents = if side == Side::Buy {
                30 + (n % 10) as i64
            } else {
                61 + (n % 10) as i64
            };
            self.seq += 1;
            let p = Price::from_raw(cents * 1_000_000);
            emit(market_event(
                EventKind::LevelSet,
                id,
                self.seq,
                side,
                p,
                Qty::from_units(1).unwrap(),
            ));
        }
        self.emitted = end;
    }

    fn resync(&mut self, instrument: InstrumentId, _emit: &mut dyn FnMut(MarketEvent)) -> bool {
        if self.pending.contains(&instrument) {
            return false;
        }
        self.resyncs += 1;
        self.pending.push(instrument);
        true
    }

    fn status(&self) -> FeedStatus {
        FeedStatus {
            open: true,
            deltas: self.emitted,
            ..FeedStatus::default()
        }
    }
}

#[test]
fn an_overflowing_md_link_makes_books_stale_and_the_feed_resyncs_them() {
    let cent = Price::from_raw(1_000_000);
    let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).unwrap();
    let books = BookStage::new((1..=INSTRUMENTS).map(|i| (InstrumentId(i), grid.clone()))).unwrap();
    let mut spec = GraphSpec::new();
    add_market_data(
        &mut spec,
        Box::new(FeedEdge::new(Scripted::default(), Duration::ZERO)),
        books,
        None,
    );
    let config = PipelineConfig {
        ring_capacity: 2,
        ..PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield)
    };
    let mut graph = ThreadedGraph::start(spec, &config).unwrap();
    let mut resync_updates = 0u64;
    let mut sink = |_, e: pt_engine::model::Event| {
        resync_updates += u64::from(pt_engine::book::is_resync(&e));
    };
    // Until the feed has emitted everything and every answer is in.
    loop {
        graph.drain(&mut sink);
        let s = graph.stats();
        let md = s.link(MD).unwrap();
        if md.sent - md.stale_marks + md.dropped >= TOTAL {
            break;
        }
        std::thread::yield_now();
    }
    graph.wait_idle(&mut sink);
    let done = graph.shutdown(&mut sink);
    let md = done.stats.link(MD).unwrap().clone();
    assert!(md.dropped > 0, "the 2-slot ring never overflowed: {md:?}");
    assert!(md.stale_marks > 0, "{md:?}");
    assert_eq!(md.sent, md.received, "{md:?}");
    let resync = done.stats.link("resync").unwrap();
    assert!(resync.sent > 0, "no book asked for a snapshot: {resync:?}");
    assert_eq!(
        resync.sent, resync_updates,
        "every request also reached the owner"
    );
    let mut nodes = done.nodes.into_iter();
    let feed: Box<dyn Any> = nodes.next().unwrap();
    let edge = feed.downcast::<FeedEdge<Scripted>>().unwrap();
    let (asked, sent) = edge.resyncs();
    assert_eq!(asked, resync.received);
    assert!(sent > 0 && sent <= asked);
    assert_eq!(edge.feed().resyncs, sent);
    let book: Box<dyn Any> = nodes.next().unwrap();
    let book = book.downcast::<BookStage>().unwrap();
    assert_eq!(BOOK, "book");
    for i in 1..=INSTRUMENTS {
        assert!(
            !book.book(InstrumentId(i)).unwrap().is_stale(),
            "book {i} still stale after its resync: {:?}",
            book.counters()
        );
    }
    assert!(book.counters().resyncs >= md.stale_marks.min(1));
}
