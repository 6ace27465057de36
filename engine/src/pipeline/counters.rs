//! Per-stage counters, written by the stage's own thread and read by anyone.

use crossbeam_utils::CachePadded;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One stage's counters as shared memory. Each field has exactly one writer
/// (the stage's thread), which publishes its local totals after every batch.
#[derive(Debug, Default)]
pub(crate) struct SharedCounters {
    events_in: AtomicU64,
    events_out: AtomicU64,
    full_waits: AtomicU64,
    max_depth: AtomicU64,
    outbox_refused: AtomicU64,
}

/// The thread-local totals a stage thread accumulates between publications.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LocalCounters {
    pub(crate) events_in: u64,
    pub(crate) events_out: u64,
    pub(crate) full_waits: u64,
    pub(crate) max_depth: u64,
    pub(crate) outbox_refused: u64,
}

/// Counters of every stage, indexed by stage position; padded so stages on
/// different threads never share a cache line.
pub(crate) type CounterBoard = Arc<[CachePadded<SharedCounters>]>;

pub(crate) fn board(stages: usize) -> CounterBoard {
    (0..stages)
        .map(|_| CachePadded::new(SharedCounters::default()))
        .collect()
}

impl SharedCounters {
    /// Publishes `local`. Relaxed: each value is independent, monotonic and
    /// only ever written by this stage's thread; readers need no ordering.
    #[inline]
    pub(crate) fn publish(&self, local: &LocalCounters) {
        self.events_in.store(local.events_in, Ordering::Relaxed);
        self.events_out.store(local.events_out, Ordering::Relaxed);
        self.full_waits.store(local.full_waits, Ordering::Relaxed);
        self.max_depth.store(local.max_depth, Ordering::Relaxed);
        self.outbox_refused
            .store(local.outbox_refused, Ordering::Relaxed);
    }

    /// Relaxed: a monitoring snapshot, each field read independently.
    pub(crate) fn read(&self) -> LocalCounters {
        LocalCounters {
            events_in: self.events_in.load(Ordering::Relaxed),
            events_out: self.events_out.load(Ordering::Relaxed),
            full_waits: self.full_waits.load(Ordering::Relaxed),
            max_depth: self.max_depth.load(Ordering::Relaxed),
            outbox_refused: self.outbox_refused.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of one stage's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageStats {
    /// Stage name.
    pub stage: String,
    /// Name of the thread that runs it.
    pub thread: String,
    /// The core that thread is pinned to, if any.
    pub core: Option<usize>,
    /// Events the stage took.
    pub events_in: u64,
    /// Events it emitted.
    pub events_out: u64,
    /// Times its output ring was full and it had to wait (last stage of a
    /// thread only; fused stages hand events on directly).
    pub full_waits: u64,
    /// Deepest backlog at its input: the ring for the first stage of a thread,
    /// the previous stage's outbox for a fused stage.
    pub max_depth: u64,
    /// Events refused because it emitted more than it declared.
    pub outbox_refused: u64,
}
