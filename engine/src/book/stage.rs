//! The book stage: market events in, top-of-book updates out.
//!
//! One [`Ladder`] per instrument, all built when the stage is. Feeds hand it
//! events already in book terms: for a binary market the decoder has turned
//! NO bids into YES asks (see [`super::BinaryBook::to_yes`]), so every book
//! here is a plain L2 ladder.
//!
//! - `SnapshotBegin` empties the book and marks it loading; `SnapshotLevel`s
//!   set levels silently; `SnapshotEnd` makes it whole (no longer stale) and
//!   emits one update. A snapshot replaces; it never merges.
//! - `LevelDelta` and `LevelSet` change one level and emit the update.
//! - `Status` with [`MarketStatus::Gap`] marks the book stale: it emits one
//!   update carrying [`book_flags::STALE`] and ignores level changes until
//!   the next snapshot, since they would apply to a book that missed data.
//! - A change the book refuses (off the grid, a level below zero) is
//!   counted, and the book goes stale the same way: it no longer matches
//!   the venue's. The feed learns of it from [`BookStage::take_resync`]
//!   and asks the venue for a fresh snapshot.
//! - Trades and other statuses pass through unchanged for the strategy.

use super::Ladder;
use crate::instrument::PriceGrid;
use crate::model::{
    BookUpdate, Event, EventKind, Header, InstrumentId, MarketEvent, MarketStatus, Nanos, Price,
    Qty, Side, book_flags,
};
use crate::pipeline::{Outbox, Stage};

/// Instruments are looked up by id in a table this long at most.
pub const MAX_INSTRUMENT_ID: u32 = 1 << 20;

/// What the book stage has seen, for the operator and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookStageCounters {
    /// Level changes applied.
    pub applied: u64,
    /// Snapshots completed.
    pub snapshots: u64,
    /// Gaps reported by the feed.
    pub gaps: u64,
    /// Level changes ignored because the book was stale.
    pub ignored_while_stale: u64,
    /// Prices not on the instrument's grid.
    pub off_grid: u64,
    /// Changes that would take a level below zero.
    pub negative: u64,
    /// Events for instruments the stage has no book for.
    pub unknown_instrument: u64,
    /// Snapshot levels or ends with no snapshot begun.
    pub orphan_snapshot_parts: u64,
    /// Updates after which the book was crossed or locked.
    pub crossed: u64,
}

#[derive(Debug)]
struct Slot {
    book: Ladder,
    /// A snapshot has begun and not yet ended.
    loading: bool,
    /// The book refused a change; the feed has not yet been told.
    resync: bool,
}

/// The book stage: one ladder per configured instrument.
#[derive(Debug)]
pub struct BookStage {
    books: Vec<Slot>,
    /// Instrument id → index into `books`, `u32::MAX` when none.
    index: Vec<u32>,
    /// Books with `resync` set.
    resyncs_pending: usize,
    counters: BookStageCounters,
}

/// The instrument list given to [`BookStage::new`] is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookStageError {
    /// The id is above [`MAX_INSTRUMENT_ID`].
    IdTooLarge(InstrumentId),
    /// The id appears twice.
    Duplicate(InstrumentId),
}

impl core::fmt::Display for BookStageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BookStageError::IdTooLarge(id) => write!(
                f,
                "instrument id {} is above the book stage's limit of {MAX_INSTRUMENT_ID}",
                id.0
            ),
            BookStageError::Duplicate(id) => {
                write!(f, "instrument id {} is given two books", id.0)
            }
        }
    }
}

impl std::error::Error for BookStageError {}

const NO_BOOK: u32 = u32::MAX;

impl BookStage {
    /// A stage with an empty, stale book for each instrument: every book
    /// waits for its first snapshot (or, for feeds without snapshots, its
    /// first change; see [`BookStage::set_whole`]).
    pub fn new(
        instruments: impl IntoIterator<Item = (InstrumentId, PriceGrid)>,
    ) -> Result<BookStage, BookStageError> {
        let mut stage = BookStage {
            books: Vec::new(),
            index: Vec::new(),
            resyncs_pending: 0,
            counters: BookStageCounters::default(),
        };
        for (id, grid) in instruments {
            if id.0 > MAX_INSTRUMENT_ID {
                return Err(BookStageError::IdTooLarge(id));
            }
            let at = id.0 as usize;
            if stage.index.len() <= at {
                stage.index.resize(at + 1, NO_BOOK);
            }
            if stage.index[at] != NO_BOOK {
                return Err(BookStageError::Duplicate(id));
            }
            stage.index[at] = stage.books.len() as u32;
            let mut book = Ladder::new(id, grid);
            book.set_stale(true);
            stage.books.push(Slot {
                book,
                loading: false,
                resync: false,
            });
        }
        Ok(stage)
    }

    /// Marks a book whole without a snapshot: for feeds that start from an
    /// empty book (simulations, LOBSTER seeded by levels).
    pub fn set_whole(&mut self, instrument: InstrumentId) {
        if let Some(slot) = self.slot_mut(instrument) {
            slot.book.set_stale(false);
        }
    }

    /// The book of `instrument`.
    pub fn book(&self, instrument: InstrumentId) -> Option<&Ladder> {
        let i = *self.index.get(instrument.0 as usize)?;
        self.books.get(i as usize).map(|s| &s.book)
    }

    /// The best `n` levels of one side of `instrument`'s book, best first,
    /// into `out`: top-N on request.
    pub fn top_n(
        &self,
        instrument: InstrumentId,
        side: Side,
        n: usize,
        out: &mut Vec<(Price, Qty)>,
    ) {
        out.clear();
        if let Some(book) = self.book(instrument) {
            book.top_n(side, n, out);
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> BookStageCounters {
        self.counters
    }

    /// An instrument whose book refused a change since the last call (and
    /// has had no snapshot since): the feed should ask the venue for a
    /// fresh snapshot of it. Each refusal is handed out once; call until
    /// `None`. Costs nothing while none is pending.
    pub fn take_resync(&mut self) -> Option<InstrumentId> {
        if self.resyncs_pending == 0 {
            return None;
        }
        let slot = self.books.iter_mut().find(|s| s.resync)?;
        slot.resync = false;
        self.resyncs_pending -= 1;
        Some(slot.book.instrument())
    }

    fn slot_mut(&mut self, instrument: InstrumentId) -> Option<&mut Slot> {
        let i = *self.index.get(instrument.0 as usize)?;
        self.books.get_mut(i as usize)
    }

    /// Applies one market event; returns the update to emit, if any.
    pub fn apply(&mut self, m: &MarketEvent) -> Option<BookUpdate> {
        let kind = m.header.kind;
        if matches!(kind, EventKind::Trade) {
            return None;
        }
        let Some(i) = self
            .index
            .get(m.header.instrument.0 as usize)
            .copied()
            .filter(|&i| i != NO_BOOK)
        else {
            self.counters.unknown_instrument += 1;
            return None;
        };
        let c = &mut self.counters;
        let slot = &mut self.books[i as usize];
        let header = m.header.derived(EventKind::BookUpdate);
        let result = match kind {
            EventKind::SnapshotBegin => {
                slot.book.clear();
                slot.book.set_stale(true);
                slot.loading = true;
                // A snapshot is coming anyway: no need to ask for one.
                if core::mem::take(&mut slot.resync) {
                    self.resyncs_pending -= 1;
                }
                return None;
            }
            EventKind::SnapshotLevel if slot.loading => {
                slot.book.set(m.side, m.price, m.qty, &header).map(|_| None)
            }
            EventKind::SnapshotEnd if slot.loading => {
                slot.loading = false;
                slot.book.set_stale(false);
                c.snapshots += 1;
                Ok(Some(slot.book.update(&header)))
            }
            EventKind::SnapshotLevel | EventKind::SnapshotEnd => {
                c.orphan_snapshot_parts += 1;
                return None;
            }
            EventKind::Status if m.status == MarketStatus::Gap => {
                c.gaps += 1;
                slot.loading = false;
                slot.book.set_stale(true);
                Ok(Some(slot.book.update(&header)))
            }
            EventKind::LevelDelta | EventKind::LevelSet if slot.book.is_stale() => {
                c.ignored_while_stale += 1;
                return None;
            }
            EventKind::LevelDelta => slot
                .book
                .apply_delta(m.side, m.price, m.qty, &header)
                .map(Some),
            EventKind::LevelSet => slot.book.set(m.side, m.price, m.qty, &header).map(Some),
            _ => return None,
        };
        match result {
            Ok(Some(update)) => {
                if matches!(kind, EventKind::LevelDelta | EventKind::LevelSet) {
                    c.applied += 1;
                }
                if update.book_flags & book_flags::CROSSED != 0 {
                    c.crossed += 1;
                }
                Some(update)
            }
            Ok(None) => None,
            Err(e) => {
                match e {
                    super::BookError::OffGrid(_) => c.off_grid += 1,
                    super::BookError::NegativeQty { .. } => c.negative += 1,
                }
                // The book no longer matches the venue's: stale until the
                // next snapshot, and the strategy is told so.
                slot.loading = false;
                slot.book.set_stale(true);
                if !core::mem::replace(&mut slot.resync, true) {
                    self.resyncs_pending += 1;
                }
                Some(slot.book.update(&header))
            }
        }
    }
}

impl Stage<Event> for BookStage {
    fn name(&self) -> &str {
        "book"
    }

    fn max_outputs(&self) -> usize {
        // An update, or the market event passed through.
        1
    }

    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Outbox<Event>) {
        let Event::Market(m) = event else { return };
        match m.header.kind {
            EventKind::Trade => {
                let _ = out.push(*event);
            }
            EventKind::Status if m.status != MarketStatus::Gap => {
                let _ = out.push(*event);
            }
            _ => {
                if let Some(update) = self.apply(m) {
                    let _ = out.push(Event::Book(update));
                }
            }
        }
    }
}

/// A market event of `kind` for tests and importers.
pub fn market_event(
    kind: EventKind,
    instrument: InstrumentId,
    seq: u64,
    side: Side,
    price: Price,
    qty: Qty,
) -> MarketEvent {
    MarketEvent {
        header: Header::new(kind, instrument, seq, Nanos(0)),
        side,
        price,
        qty,
        ..MarketEvent::default()
    }
}
