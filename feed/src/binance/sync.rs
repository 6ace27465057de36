//! Keeping a local L2 book in step with Binance's `depth` diff stream.
//!
//! Binance spot ("How to manage a local order book correctly"): buffer the
//! diffs, fetch a REST snapshot, drop every diff with `u <= lastUpdateId`;
//! the first diff applied must straddle the snapshot
//! (`U <= lastUpdateId + 1 <= u`), and each later one must start right
//! after its predecessor (`U == previous u + 1`). Quantities are absolute;
//! zero removes a level.
//!
//! [`DepthSync`] is that procedure as a state machine with two states.
//! *Waiting for a snapshot* (at start, and after a gap): diffs are copied
//! into a bounded, reused buffer (the slow path; the oldest copy is dropped
//! and counted when it is full). *Synced*: each diff is checked against the
//! next expected update id and applied in place; this path allocates
//! nothing. A diff that does not join up is a gap: the book is marked stale,
//! one [`BookUpdate`] with the STALE flags goes out, the diff is buffered
//! and [`DepthSync::needs_snapshot`] turns true until the connection layer
//! supplies a new snapshot, which is then bridged with the buffer exactly as
//! at start.
//!
//! A diff wholly before the next expected id (a repeat) is dropped as old,
//! not treated as a gap: it carries nothing the book lacks. A diff that
//! overlaps the book's last id without starting right after it is a gap,
//! as Binance's rule reads.
//!
//! One [`BookUpdate`] is emitted per applied diff, after all its levels:
//! a diff is atomic at the venue, so the top of book between two of its
//! levels never existed and is not published. Its header carries `seq = u`,
//! the venue time `E` and the local receive time.

use super::decode::{DepthUpdate, Snapshot};
use pt_engine::book::{BookError, Ladder};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{
    BookUpdate, EventKind, Header, InstrumentId, Nanos, Price, Qty, Side, header_flags,
};
use std::collections::VecDeque;

/// Where the book stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// No usable book: diffs are buffered until a snapshot arrives.
    WaitingSnapshot,
    /// The book is current as of the last applied update id.
    Synced,
}

/// What [`DepthSync::on_diff`] did with a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffOutcome {
    /// Kept for the next snapshot.
    Buffered,
    /// Applied to the book.
    Applied,
    /// Already covered by the book; dropped.
    Old,
    /// It does not join up with the book: the book is stale and a snapshot
    /// is needed. The diff was buffered.
    Gap {
        /// The update id the book needed next.
        expected: u64,
        /// The diff's first update id (`U`).
        first: u64,
    },
}

/// What [`DepthSync::on_snapshot`] did with a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// The book was seeded and the buffered diffs bridged; it is synced.
    Synced,
    /// The book was seeded but the buffered diffs do not join up with it
    /// (the snapshot is too old): another snapshot is needed.
    Gap,
    /// Older than the synced book; ignored.
    Ignored,
}

/// Counters of a [`DepthSync`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Diffs applied to the book.
    pub diffs_applied: u64,
    /// Diffs dropped because the book already covered them.
    pub diffs_old: u64,
    /// Diffs copied into the buffer while waiting for a snapshot.
    pub diffs_buffered: u64,
    /// Buffered diffs dropped (oldest first) because the buffer was full.
    pub buffer_dropped: u64,
    /// Gaps seen (each one makes the book stale).
    pub gaps: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Snapshots applied after a gap.
    pub resyncs: u64,
    /// Snapshots older than the synced book.
    pub snapshots_ignored: u64,
    /// Level changes stored in the ladder (diffs and snapshots).
    pub levels_applied: u64,
    /// Levels whose price lies off the ladder's grid; not stored.
    pub off_grid_levels: u64,
    /// Levels the ladder refused for another reason; not stored.
    pub rejected_levels: u64,
}

/// An owned copy of a diff, waiting for a snapshot.
#[derive(Clone, Debug)]
struct Buffered {
    first: u64,
    last: u64,
    event_time: u64,
    recv_ts: Nanos,
    levels: Vec<(Side, Price, Qty)>,
}

/// What the sequence rules say about a diff.
enum Step {
    Old,
    Apply,
    Gap,
}

/// An L2 book kept in sync with a Binance diff stream. See the module
/// documentation for the rules.
#[derive(Clone, Debug)]
pub struct DepthSync {
    ladder: Ladder,
    instrument: InstrumentId,
    state: SyncState,
    /// The first update id the book lacks (`lastUpdateId + 1`, then
    /// `u + 1` of the last applied diff).
    next_id: u64,
    /// Whether a diff has been applied since the snapshot: before that the
    /// first diff may straddle `next_id`, after it must start there.
    bridged: bool,
    /// A gap happened since the last snapshot.
    gapped: bool,
    pending: VecDeque<Buffered>,
    /// Level vectors of dropped or applied copies, reused.
    spare: Vec<Vec<(Side, Price, Qty)>>,
    max_buffered: usize,
    stats: SyncStats,
}

impl DepthSync {
    /// A book over `grid`, waiting for its first snapshot; at most
    /// `max_buffered` diffs (at least one) are kept while waiting.
    pub fn new(instrument: InstrumentId, grid: PriceGrid, max_buffered: usize) -> DepthSync {
        let max_buffered = max_buffered.max(1);
        DepthSync {
            ladder: Ladder::new(instrument, grid),
            instrument,
            state: SyncState::WaitingSnapshot,
            next_id: 0,
            bridged: false,
            gapped: false,
            pending: VecDeque::with_capacity(max_buffered),
            spare: Vec::new(),
            max_buffered,
            stats: SyncStats::default(),
        }
    }

    /// The book.
    pub fn ladder(&self) -> &Ladder {
        &self.ladder
    }

    /// Where the book stands.
    pub fn state(&self) -> SyncState {
        self.state
    }

    /// Whether the connection layer must fetch a REST snapshot.
    pub fn needs_snapshot(&self) -> bool {
        self.state == SyncState::WaitingSnapshot
    }

    /// The last update id the book includes, when synced.
    pub fn last_update_id(&self) -> Option<u64> {
        (self.state == SyncState::Synced).then(|| self.next_id.saturating_sub(1))
    }

    /// Diffs held for the next snapshot.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// The counters.
    pub fn stats(&self) -> &SyncStats {
        &self.stats
    }

    /// Forgets the stream (after a reconnect): the book turns stale, the
    /// buffer is emptied and a snapshot is needed.
    pub fn reset(&mut self) {
        while let Some(b) = self.pending.pop_front() {
            self.recycle(b);
        }
        self.ladder.set_stale(true);
        self.state = SyncState::WaitingSnapshot;
        self.gapped = true;
    }

    fn header(&self, seq: u64, event_ms: u64, recv_ts: Nanos) -> Header {
        let mut h = Header::new(EventKind::BookUpdate, self.instrument, seq, recv_ts);
        h.venue_ts = Nanos(i64::try_from(event_ms.saturating_mul(1_000_000)).unwrap_or(i64::MAX));
        h
    }

    fn step(&self, first: u64, last: u64) -> Step {
        if last < self.next_id {
            Step::Old
        } else if first == self.next_id || (!self.bridged && first < self.next_id) {
            Step::Apply
        } else {
            Step::Gap
        }
    }

    /// Handles one diff; emits the book after it when it is applied, or a
    /// stale top of book when it reveals a gap.
    pub fn on_diff(
        &mut self,
        diff: &DepthUpdate<'_>,
        recv_ts: Nanos,
        mut emit: impl FnMut(BookUpdate),
    ) -> DiffOutcome {
        let (first, last) = (diff.first_update_id, diff.final_update_id);
        if self.state == SyncState::WaitingSnapshot {
            self.buffer(diff, recv_ts);
            return DiffOutcome::Buffered;
        }
        let header = self.header(last, diff.event_time, recv_ts);
        match self.step(first, last) {
            Step::Old => {
                self.stats.diffs_old += 1;
                DiffOutcome::Old
            }
            Step::Apply => {
                let levels = diff
                    .bids
                    .iter()
                    .map(|(p, q)| (Side::Buy, p, q))
                    .chain(diff.asks.iter().map(|(p, q)| (Side::Sell, p, q)));
                emit(self.apply(levels, last, &header));
                DiffOutcome::Applied
            }
            Step::Gap => {
                let expected = self.next_id;
                self.gap(&header, &mut emit);
                self.buffer(diff, recv_ts);
                DiffOutcome::Gap { expected, first }
            }
        }
    }

    /// Seeds the book from a REST snapshot, then applies the buffered diffs
    /// that follow it. Emits the seeded book (header flag SNAPSHOT, `seq` =
    /// `lastUpdateId`) and then one update per applied diff.
    pub fn on_snapshot(
        &mut self,
        snap: &Snapshot<'_>,
        recv_ts: Nanos,
        mut emit: impl FnMut(BookUpdate),
    ) -> SnapshotOutcome {
        let id = snap.last_update_id;
        if self.state == SyncState::Synced && id < self.next_id.saturating_sub(1) {
            self.stats.snapshots_ignored += 1;
            return SnapshotOutcome::Ignored;
        }
        self.ladder.clear();
        self.ladder.set_stale(false);
        let mut header = self.header(id, 0, recv_ts);
        header.venue_ts = Nanos::UNSET;
        header.flags |= header_flags::SNAPSHOT;
        let levels = snap
            .bids
            .iter()
            .map(|(p, q)| (Side::Buy, p, q))
            .chain(snap.asks.iter().map(|(p, q)| (Side::Sell, p, q)));
        for (side, price, qty) in levels {
            self.set(side, price, qty, &header);
        }
        emit(self.ladder.update(&header));
        self.stats.snapshots += 1;
        if std::mem::take(&mut self.gapped) {
            self.stats.resyncs += 1;
        }
        self.next_id = id.saturating_add(1);
        self.bridged = false;
        self.state = SyncState::Synced;
        while let Some(b) = self.pending.pop_front() {
            let header = self.header(b.last, b.event_time, b.recv_ts);
            match self.step(b.first, b.last) {
                Step::Old => self.stats.diffs_old += 1,
                Step::Apply => {
                    let update = self.apply(b.levels.iter().copied(), b.last, &header);
                    emit(update);
                }
                Step::Gap => {
                    self.pending.push_front(b);
                    self.gap(&header, &mut emit);
                    return SnapshotOutcome::Gap;
                }
            }
            self.recycle(b);
        }
        SnapshotOutcome::Synced
    }

    /// Applies one diff's levels and returns the book after them.
    #[inline]
    fn apply(
        &mut self,
        levels: impl Iterator<Item = (Side, Price, Qty)>,
        last: u64,
        header: &Header,
    ) -> BookUpdate {
        let mut out = None;
        for (side, price, qty) in levels {
            if let Some(u) = self.set(side, price, qty, header) {
                out = Some(u);
            }
        }
        self.next_id = last.saturating_add(1);
        self.bridged = true;
        self.stats.diffs_applied += 1;
        out.unwrap_or_else(|| self.ladder.update(header))
    }

    #[inline]
    fn set(&mut self, side: Side, price: Price, qty: Qty, header: &Header) -> Option<BookUpdate> {
        match self.ladder.set(side, price, qty, header) {
            Ok(u) => {
                self.stats.levels_applied += 1;
                Some(u)
            }
            Err(BookError::OffGrid(_)) => {
                self.stats.off_grid_levels += 1;
                None
            }
            Err(_) => {
                self.stats.rejected_levels += 1;
                None
            }
        }
    }

    fn gap(&mut self, header: &Header, emit: &mut impl FnMut(BookUpdate)) {
        self.stats.gaps += 1;
        self.gapped = true;
        self.ladder.set_stale(true);
        self.state = SyncState::WaitingSnapshot;
        let mut h = *header;
        h.flags |= header_flags::STALE;
        emit(self.ladder.update(&h));
    }

    /// Copies a diff into the buffer (slow path: may allocate).
    fn buffer(&mut self, diff: &DepthUpdate<'_>, recv_ts: Nanos) {
        if self.pending.len() >= self.max_buffered
            && let Some(old) = self.pending.pop_front()
        {
            self.stats.buffer_dropped += 1;
            self.recycle(old);
        }
        let mut levels = self.spare.pop().unwrap_or_default();
        levels.clear();
        levels.extend(diff.bids.iter().map(|(p, q)| (Side::Buy, p, q)));
        levels.extend(diff.asks.iter().map(|(p, q)| (Side::Sell, p, q)));
        self.pending.push_back(Buffered {
            first: diff.first_update_id,
            last: diff.final_update_id,
            event_time: diff.event_time,
            recv_ts,
            levels,
        });
        self.stats.diffs_buffered += 1;
    }

    fn recycle(&mut self, b: Buffered) {
        if self.spare.len() < self.max_buffered {
            self.spare.push(b.levels);
        }
    }
}
