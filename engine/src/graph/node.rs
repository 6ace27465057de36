//! What a graph carries and what its nodes are.

use crate::model::{Event, Family, Header, MarketEvent, MarketStatus, Nanos, Stamp};
use crate::model::{EventKind, InstrumentId, header_flags};
use crate::pipeline::{Outbox, Stage};

/// An event a graph can carry: routed by its family, stamped by the nodes
/// that take it, and replaced by a stale mark when a market-data link
/// overflows.
pub trait GraphEvent: Copy + Send + 'static {
    /// The record family, which picks the link an output goes on.
    fn family(&self) -> Family;

    /// The instrument it concerns (0 when none).
    fn instrument(&self) -> u32;

    /// A market-data event saying `instrument` missed data: what an
    /// overflowing market-data link delivers in place of what it dropped.
    fn stale_mark(instrument: u32, at: Nanos) -> Self;

    /// Whether it is part of what repairs a stale book (a snapshot): a
    /// market-data link waits for room rather than drop it.
    fn repairs(&self) -> bool;

    /// The latest stage stamp.
    fn last_stamp(&self) -> Option<Stamp>;

    /// Records that a node took the event.
    fn push_stamp(&mut self, stamp: Stamp);
}

impl GraphEvent for Event {
    #[inline]
    fn family(&self) -> Family {
        self.kind().family()
    }

    #[inline]
    fn instrument(&self) -> u32 {
        self.header().instrument.0
    }

    fn stale_mark(instrument: u32, at: Nanos) -> Event {
        let mut header = Header::new(EventKind::Status, InstrumentId(instrument), 0, at);
        header.flags = header_flags::STALE;
        Event::Market(MarketEvent {
            header,
            status: MarketStatus::Gap,
            ..MarketEvent::default()
        })
    }

    #[inline]
    fn repairs(&self) -> bool {
        matches!(
            self.kind(),
            EventKind::SnapshotBegin | EventKind::SnapshotLevel | EventKind::SnapshotEnd
        )
    }

    #[inline]
    fn last_stamp(&self) -> Option<Stamp> {
        self.header().last_stamp()
    }

    #[inline]
    fn push_stamp(&mut self, stamp: Stamp) {
        self.header_mut().push_stamp(stamp);
    }
}

/// The outputs of one node call, in order. It grows when a node emits more
/// than it ever did (a cancel-all fanning out to every open order), so it
/// never refuses; after warm-up it does not allocate.
#[derive(Debug)]
pub struct Out<E> {
    items: Vec<E>,
    grew: u64,
}

impl<E: Copy> Out<E> {
    /// An empty buffer for `capacity` events (a node's caller in a test or
    /// a hand-wired loop; the runtime makes its own).
    pub fn new(capacity: usize) -> Out<E> {
        Out::with_capacity(capacity)
    }

    /// Forgets the emitted events, keeping the buffer.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub(crate) fn with_capacity(capacity: usize) -> Out<E> {
        Out {
            items: Vec::with_capacity(capacity.max(1)),
            grew: 0,
        }
    }

    /// Emits `event` after those already emitted.
    #[inline]
    pub fn push(&mut self, event: E) {
        if self.items.len() == self.items.capacity() {
            self.grew += 1;
        }
        self.items.push(event);
    }

    /// Events emitted so far in this call.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was emitted.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The emitted events.
    pub fn as_slice(&self) -> &[E] {
        &self.items
    }

    #[inline]
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, E> {
        self.items.drain(..)
    }

    /// Times the buffer had to grow.
    pub(crate) fn grew(&self) -> u64 {
        self.grew
    }
}

/// What an edge's poll found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polled {
    /// It emitted this many events.
    Emitted(usize),
    /// Nothing now; poll again.
    Idle,
    /// It will emit nothing more (a recording at its end, a closed socket).
    Done,
}

/// Whether a node may do I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Pure: outputs follow from inputs and `now` alone.
    Stage,
    /// Owns I/O (a socket, a journal, a clock) and is polled.
    Edge,
}

/// One node of a graph. A stage is pure: events and the time in, events
/// out, no I/O, no locks, no clock reads, no allocation after warm-up, so it
/// gives the same outputs on a pinned thread, fused, in replay and in a
/// backtest. An edge owns I/O: the runtime polls it on its thread, and it
/// may also take events (a venue edge takes orders).
pub trait Node<E>: Send + std::any::Any {
    /// A short unique name, used by links, placement and reports.
    fn name(&self) -> &str;

    /// Stage or edge; edges are polled.
    fn kind(&self) -> NodeKind {
        NodeKind::Stage
    }

    /// Handles one event from any of the node's input links (its family says
    /// which). `now` is the event time: the wall clock live, the recorded
    /// time in replay.
    fn on_event(&mut self, event: &E, now: Nanos, out: &mut Out<E>);

    /// An edge's turn to do I/O and emit what it received.
    fn poll(&mut self, now: Nanos, out: &mut Out<E>) -> Polled {
        let _ = (now, out);
        Polled::Done
    }

    /// How many outputs one call usually emits; sizes the buffer.
    fn expected_outputs(&self) -> usize {
        4
    }
}

/// A linear-pipeline [`Stage`] as a graph node: its outputs are routed by
/// family like any node's.
#[derive(Debug)]
pub struct StageNode<S, E> {
    stage: S,
    outbox: Outbox<E>,
    refused: u64,
}

impl<S: Stage<E>, E: Copy> StageNode<S, E> {
    /// Wraps `stage`.
    pub fn new(stage: S) -> StageNode<S, E> {
        let outbox = Outbox::with_capacity(stage.max_outputs());
        StageNode {
            stage,
            outbox,
            refused: 0,
        }
    }

    /// Outputs the stage's own fixed outbox refused (the stage emitted more
    /// than its `max_outputs`); an operator-visible fault, never silent.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The stage.
    pub fn stage(&self) -> &S {
        &self.stage
    }
}

impl<S: Stage<E> + 'static, E: Copy + Send + 'static> Node<E> for StageNode<S, E> {
    fn name(&self) -> &str {
        self.stage.name()
    }

    fn on_event(&mut self, event: &E, now: Nanos, out: &mut Out<E>) {
        self.stage.on_event(event, now, &mut self.outbox);
        for e in self.outbox.as_slice() {
            out.push(*e);
        }
        self.refused += self.outbox.take_refused();
        self.outbox.clear();
    }

    fn expected_outputs(&self) -> usize {
        self.stage.max_outputs()
    }
}
