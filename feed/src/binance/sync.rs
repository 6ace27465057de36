//! Keeping a local L2 book in step with Binance's `depth` diff stream.
//!
//! Binance's procedure for a local order book: buffer the diffs, fetch a
//! REST snapshot, drop the diffs it already covers, bridge it with the
//! first diff that straddles it, then check that every diff joins the one
//! before. Spot and USD-M futures differ in the checks
//! ([`SyncRules`]):
//!
//! | | spot | futures |
//! |---|---|---|
//! | dropped before the bridge | `u <= lastUpdateId` | `u < lastUpdateId` |
//! | the first diff applied | `U <= lastUpdateId + 1 <= u` | `U <= lastUpdateId <= u` |
//! | each later diff | `U == previous u + 1` | `pu == previous u` |
//!
//! A futures diff whose `pu` is `lastUpdateId` also bridges the snapshot
//! (it follows the last update the snapshot includes); one without `pu` is
//! checked by the spot rule instead.
//! Quantities are absolute; zero removes a level.
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
//! After the bridge, a diff that ends at or before the book's last id (a
//! repeat) is dropped as old, not treated as a gap: it carries nothing the
//! book lacks. A diff that overlaps the book's last id without joining it
//! is a gap, as Binance's rules read.
//!
//! The ladder covers the instrument's whole grid when it has at most
//! [`SyncConfig::max_window`] prices, and otherwise a window of that many
//! around the best prices, placed at each snapshot; levels outside it are
//! kept in a bounded store (see the `window` module). When the best price
//! of a side moves out of the window, the top of book cannot be read from
//! the ladder: the book turns stale and asks for a snapshot, which places
//! the window again ([`DiffOutcome::OutOfWindow`]).
//!
//! One [`BookUpdate`] is emitted per applied diff, after all its levels:
//! a diff is atomic at the venue, so the top of book between two of its
//! levels never existed and is not published. Its header carries `seq = u`,
//! the venue time `E` and the local receive time.

use super::config::{DiffOutcome, SnapshotOutcome, SyncConfig, SyncRules, SyncState, SyncStats};
use super::decode::{DepthUpdate, Snapshot};
use super::window::{self, Overflow};
use pt_engine::book::{BookError, Ladder};
use pt_engine::instrument::{Instrument, PriceGrid};
use pt_engine::model::{
    BookUpdate, EventKind, Header, InstrumentId, Nanos, Price, Qty, Side, header_flags,
};
use std::collections::VecDeque;

/// An owned copy of a diff, waiting for a snapshot.
#[derive(Clone, Debug)]
struct Buffered {
    first: u64,
    last: u64,
    prev: Option<u64>,
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
    /// The instrument's whole grid; the ladder's is a window of it when
    /// `windowed`.
    grid: PriceGrid,
    windowed: bool,
    /// The window's first and last index in `grid`, once placed.
    window: Option<(u32, u32)>,
    overflow: Overflow,
    rules: SyncRules,
    max_window: u32,
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
    /// A spot book over the whole of `grid`, waiting for its first
    /// snapshot; at most `max_buffered` diffs (at least one) are kept while
    /// waiting.
    pub fn new(instrument: InstrumentId, grid: PriceGrid, max_buffered: usize) -> DepthSync {
        let config = SyncConfig {
            max_buffered,
            max_window: u32::MAX,
            overflow: 0,
            ..SyncConfig::SPOT
        };
        DepthSync::with_config(instrument, grid, config)
    }

    /// A book for a registry instrument: its id, and its grid for the
    /// ticks.
    pub fn for_instrument(instrument: &Instrument, config: SyncConfig) -> DepthSync {
        DepthSync::with_config(instrument.id, instrument.grid.clone(), config)
    }

    /// A book over `grid` (the instrument's valid prices), waiting for its
    /// first snapshot.
    pub fn with_config(instrument: InstrumentId, grid: PriceGrid, config: SyncConfig) -> DepthSync {
        let max_buffered = config.max_buffered.max(1);
        let windowed = grid.len() > config.max_window;
        let ladder_grid = if windowed {
            // A one-price placeholder until the first snapshot places it.
            grid.window(0, 0).unwrap_or_else(|_| grid.clone())
        } else {
            grid.clone()
        };
        DepthSync {
            ladder: Ladder::new(instrument, ladder_grid),
            grid,
            windowed,
            window: None,
            overflow: Overflow::new(if windowed { config.overflow } else { 0 }),
            rules: config.rules,
            max_window: config.max_window,
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

    /// The sequence rules followed.
    pub fn rules(&self) -> SyncRules {
        self.rules
    }

    /// The best bid: the ladder's, unless a level outside the window is
    /// better (then the book is stale and waiting for a snapshot).
    pub fn best_bid(&self) -> Option<(Price, Qty)> {
        self.best(Side::Buy)
    }

    /// The best ask, as [`DepthSync::best_bid`].
    pub fn best_ask(&self) -> Option<(Price, Qty)> {
        self.best(Side::Sell)
    }

    fn best(&self, side: Side) -> Option<(Price, Qty)> {
        self.better_outside(side).or(match side {
            Side::Buy => self.ladder.best_bid(),
            Side::Sell => self.ladder.best_ask(),
        })
    }

    /// The side's best level in the overflow store when it beats the
    /// ladder's (or the ladder's side is empty).
    #[inline]
    fn better_outside(&self, side: Side) -> Option<(Price, Qty)> {
        let o = self.overflow.best(side)?;
        let beats = match side {
            Side::Buy => self.ladder.best_bid().is_none_or(|i| o.0 > i.0),
            Side::Sell => self.ladder.best_ask().is_none_or(|i| o.0 < i.0),
        };
        beats.then_some(o)
    }

    /// Levels held outside the ladder's window, lowest price first.
    pub fn outside_window(&self, side: Side) -> &[(Price, Qty)] {
        self.overflow.side(side)
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

    fn step(&self, first: u64, last: u64, prev: Option<u64>) -> Step {
        // The last update id the book includes.
        let book = self.next_id.saturating_sub(1);
        match (self.rules, prev) {
            (SyncRules::Futures, _) if !self.bridged => {
                if last < book {
                    Step::Old
                } else if first <= book || prev == Some(book) {
                    Step::Apply
                } else {
                    Step::Gap
                }
            }
            (SyncRules::Futures, Some(prev)) => {
                if prev == book {
                    Step::Apply
                } else if last <= book {
                    Step::Old
                } else {
                    Step::Gap
                }
            }
            _ => {
                if last < self.next_id {
                    Step::Old
                } else if first == self.next_id || (!self.bridged && first < self.next_id) {
                    Step::Apply
                } else {
                    Step::Gap
                }
            }
        }
    }

    /// Whether a side's best price lies outside the window, so the ladder
    /// cannot show the top of book.
    #[inline]
    fn top_outside(&self) -> bool {
        !self.overflow.is_empty()
            && (self.better_outside(Side::Buy).is_some()
                || self.better_outside(Side::Sell).is_some())
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
        match self.step(first, last, diff.prev_final_update_id) {
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
                let update = self.apply(levels, last, &header);
                if self.windowed && self.top_outside() {
                    self.stats.out_of_window += 1;
                    self.gap(&header, &mut emit);
                    // Kept: the next snapshot may be older than this diff.
                    self.buffer(diff, recv_ts);
                    return DiffOutcome::OutOfWindow;
                }
                emit(update);
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
        if self.windowed {
            self.place_window(snap);
        }
        self.ladder.clear();
        self.overflow.clear();
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
            match self.step(b.first, b.last, b.prev) {
                Step::Old => self.stats.diffs_old += 1,
                Step::Apply => {
                    let update = self.apply(b.levels.iter().copied(), b.last, &header);
                    if self.windowed && self.top_outside() {
                        self.stats.out_of_window += 1;
                        self.recycle(b);
                        self.gap(&header, &mut emit);
                        return SnapshotOutcome::Gap;
                    }
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
                if self.windowed && self.grid.index_of(price).is_some() {
                    self.stats.outside_window_levels += 1;
                    if !self.overflow.set(side, price, qty) {
                        self.stats.overflow_full += 1;
                    }
                } else {
                    self.stats.off_grid_levels += 1;
                }
                None
            }
            Err(_) => {
                self.stats.rejected_levels += 1;
                None
            }
        }
    }

    /// Places the window around the snapshot's best prices, unless every
    /// level on the grid already lies inside the window it has (slow path:
    /// a new window allocates its ladder).
    fn place_window(&mut self, snap: &Snapshot<'_>) {
        let on_grid = |(p, _): (Price, Qty)| self.grid.index_of(p);
        let mut indices = snap.bids.iter().chain(snap.asks.iter()).filter_map(on_grid);
        let fits = self
            .window
            .is_some_and(|(lo, hi)| indices.all(|i| (lo..=hi).contains(&i)));
        if fits {
            return;
        }
        // Centre between the best bid and ask (either alone when the other
        // side is empty); a snapshot lists each side best first.
        let bid = snap.bids.iter().find_map(on_grid);
        let ask = snap.asks.iter().find_map(on_grid);
        let Some(centre) = (match (bid, ask) {
            (Some(b), Some(a)) => Some(b / 2 + a / 2 + (b % 2 + a % 2) / 2),
            (b, a) => b.or(a),
        }) else {
            return;
        };
        let (first, last) = window::place(&self.grid, self.max_window, centre);
        if self.window == Some((first, last)) {
            return;
        }
        let Ok(grid) = self.grid.window(first, last) else {
            return;
        };
        let crossed = self.ladder.crossed_count;
        self.ladder = Ladder::new(self.instrument, grid);
        self.ladder.crossed_count = crossed;
        self.window = Some((first, last));
        self.stats.windows_placed += 1;
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
            prev: diff.prev_final_update_id,
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
