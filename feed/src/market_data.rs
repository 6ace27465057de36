//! The market-data loop every venue runs: the venue's feed as a graph edge
//! (it owns the connection and the session, and is the graph's market-data
//! input) and the book stage behind it, with a link back on which a book
//! asks for a fresh snapshot.
//!
//! ```text
//!   feed ──md (market data; overflow marks stale)──► book ──books──► …
//!    ▲                                                 │
//!    └──resync (only updates flagged RESYNC)───────────┘
//! ```
//!
//! The book stage is the one owner of a book's consistency: it goes stale
//! on a session gap, on a change it refuses, or on a stale mark from an
//! overflowing `md` link, and in the last two cases (which the session
//! cannot know of) its update carries `book_flags::RESYNC`. The edge turns
//! that into the venue's snapshot request. `pt feed` and the engine both
//! build their graphs with [`add_market_data`].

use crate::kalshi::feed::KalshiFeed;
use pt_engine::book::{BookStage, is_resync};
use pt_engine::graph::{GraphSpec, Node, NodeKind, Out, Polled};
use pt_engine::model::{Event, Family, InstrumentId, MarketEvent, Nanos};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The feed's node name.
pub const FEED: &str = "feed";
/// The book stage's node name.
pub const BOOK: &str = "book";
/// Market data from the feed to the books.
pub const MD: &str = "md";
/// Snapshot requests from the books back to the feed.
pub const RESYNC: &str = "resync";
/// Book updates out of the loop.
pub const BOOKS: &str = "books";
/// Trades and statuses the book stage passes through.
pub const MARKET: &str = "market";

/// What a venue's market-data connection offers the loop.
pub trait VenueFeed: Send + 'static {
    /// Waits up to `timeout` for the network and emits what arrived.
    fn poll(&mut self, timeout: Duration, emit: &mut dyn FnMut(MarketEvent));

    /// Asks the venue for a fresh snapshot of `instrument`'s book (the
    /// session marks it stale meanwhile); `false` when it cannot (not its
    /// instrument, a snapshot already on its way).
    fn resync(&mut self, instrument: InstrumentId, emit: &mut dyn FnMut(MarketEvent)) -> bool;

    /// Counters for the operator.
    fn status(&self) -> FeedStatus;
}

/// A feed's counters, as one value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStatus {
    /// Whether the connection is open.
    pub open: bool,
    /// Frames received.
    pub frames: u64,
    /// Level changes decoded.
    pub deltas: u64,
    /// Trades decoded.
    pub trades: u64,
    /// Sequence gaps seen by the session.
    pub gaps: u64,
    /// Snapshots asked for a book (by the book stage or the session).
    pub resyncs: u64,
    /// Frames that did not decode.
    pub decode_errors: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Frames of a type the decoder passes over.
    pub unknown_frames: u64,
}

impl VenueFeed for KalshiFeed {
    fn poll(&mut self, timeout: Duration, emit: &mut dyn FnMut(MarketEvent)) {
        KalshiFeed::poll(self, timeout, emit);
    }

    fn resync(&mut self, instrument: InstrumentId, emit: &mut dyn FnMut(MarketEvent)) -> bool {
        KalshiFeed::resync(self, instrument, emit)
    }

    fn status(&self) -> FeedStatus {
        let s = self.session_counters();
        FeedStatus {
            open: self.is_open(),
            frames: s.frames,
            deltas: s.deltas,
            trades: s.trades,
            gaps: s.gaps,
            resyncs: s.resyncs,
            decode_errors: s.decode_errors,
            reconnects: self.counters().opened.saturating_sub(1),
            unknown_frames: s.ignored,
        }
    }
}

/// A feed's counters published for another thread (the operator's status
/// line) with relaxed atomic stores after every poll: no lock, no wait.
#[derive(Debug, Default)]
pub struct FeedMonitor {
    open: AtomicBool,
    counters: [AtomicU64; 8],
}

impl FeedMonitor {
    fn publish(&self, s: &FeedStatus) {
        self.open.store(s.open, Ordering::Relaxed);
        let values = [
            s.frames,
            s.deltas,
            s.trades,
            s.gaps,
            s.resyncs,
            s.decode_errors,
            s.reconnects,
            s.unknown_frames,
        ];
        for (c, v) in self.counters.iter().zip(values) {
            c.store(v, Ordering::Relaxed);
        }
    }

    /// The counters last published.
    pub fn status(&self) -> FeedStatus {
        let c = |i: usize| self.counters[i].load(Ordering::Relaxed);
        FeedStatus {
            open: self.open.load(Ordering::Relaxed),
            frames: c(0),
            deltas: c(1),
            trades: c(2),
            gaps: c(3),
            resyncs: c(4),
            decode_errors: c(5),
            reconnects: c(6),
            unknown_frames: c(7),
        }
    }
}

/// A venue feed as the loop's edge.
#[derive(Debug)]
pub struct FeedEdge<F> {
    feed: F,
    timeout: Duration,
    monitor: Arc<FeedMonitor>,
    /// Snapshot requests from the books, and how many the feed sent.
    asked: u64,
    sent: u64,
}

impl<F: VenueFeed> FeedEdge<F> {
    /// `feed`, waiting up to `timeout` for the network on each poll (zero on
    /// a core of its own; a few milliseconds where the thread is shared).
    pub fn new(feed: F, timeout: Duration) -> FeedEdge<F> {
        FeedEdge {
            feed,
            timeout,
            monitor: Arc::default(),
            asked: 0,
            sent: 0,
        }
    }

    /// Where the edge publishes its counters.
    pub fn monitor(&self) -> Arc<FeedMonitor> {
        self.monitor.clone()
    }

    /// The feed.
    pub fn feed(&self) -> &F {
        &self.feed
    }

    /// `(asked, sent)`: snapshot requests from the books, and those the feed
    /// passed to the venue (the rest had one on its way already).
    pub fn resyncs(&self) -> (u64, u64) {
        (self.asked, self.sent)
    }
}

impl<F: VenueFeed> Node<Event> for FeedEdge<F> {
    fn name(&self) -> &str {
        FEED
    }

    fn kind(&self) -> NodeKind {
        NodeKind::Edge
    }

    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Out<Event>) {
        if !is_resync(event) {
            return;
        }
        self.asked += 1;
        let instrument = event.header().instrument;
        if self
            .feed
            .resync(instrument, &mut |m| out.push(Event::Market(m)))
        {
            self.sent += 1;
        }
    }

    fn poll(&mut self, _now: Nanos, out: &mut Out<Event>) -> Polled {
        let before = out.len();
        self.feed
            .poll(self.timeout, &mut |m| out.push(Event::Market(m)));
        self.monitor.publish(&self.feed.status());
        match out.len() - before {
            0 => Polled::Idle,
            n => Polled::Emitted(n),
        }
    }

    fn expected_outputs(&self) -> usize {
        // A read can carry many frames.
        1024
    }
}

/// Adds the loop to `spec`: the `feed` edge and the `book` stage, the `md`
/// link between them (market data: overflow marks stale) and the `resync`
/// link back. The books' updates and the trades and statuses it passes
/// through go to node `to` (links `books` and `market`), or with `None` to
/// the graph's owner (outputs of those names).
pub fn add_market_data(
    spec: &mut GraphSpec<Event>,
    feed: Box<dyn Node<Event>>,
    books: BookStage,
    to: Option<&str>,
) {
    spec.node(feed).node(Box::new(books));
    spec.link(MD, Family::Market, FEED, BOOK);
    let resync = spec.link(RESYNC, Family::Book, BOOK, FEED);
    spec.only(resync, is_resync);
    match to {
        Some(node) => {
            spec.link(BOOKS, Family::Book, BOOK, node);
            spec.link(MARKET, Family::Market, BOOK, node);
        }
        None => {
            spec.output(BOOKS, Family::Book, BOOK);
            spec.output(MARKET, Family::Market, BOOK);
        }
    }
}
