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
//!   A gap the feed's session reported, it is already resyncing; a gap that
//!   is a graph's stale mark (its market-data link overflowed, the header
//!   carries [`header_flags::STALE`]) the feed does not know of, so that
//!   update also carries [`book_flags::RESYNC`].
//! - A change the book refuses (off the grid, a level below zero) is
//!   counted, and the book goes stale the same way: it no longer matches
//!   the venue's. Its update carries [`book_flags::RESYNC`], which the
//!   market-data loop (a link back to the feed edge) turns into a snapshot
//!   request. The book's stale flag is the one answer to "can this book be
//!   traded on"; nothing else keeps one.
//! - Trades and other statuses pass through unchanged for the strategy.

use super::Ladder;
use crate::instrument::PriceGrid;
use crate::model::{
    BookUpdate, Event, EventKind, Header, InstrumentId, MarketEvent, MarketStatus, Nanos, Price,
    Qty, Side, book_flags, header_flags,
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
    /// Snapshots asked of the feed ([`book_flags::RESYNC`] updates).
    pub resyncs: u64,
}

#[derive(Debug)]
struct Slot {
    book: Ladder,
    /// A snapshot has begun and not yet ended.
    loading: bool,
}

/// The book stage: one ladder per configured instrument.
#[derive(Debug)]
pub struct BookStage {
    books: Vec<Slot>,
    /// Instrument id → index into `books`, `u32::MAX` when none.
    index: Vec<u32>,
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
                let mut update = slot.book.update(&header);
                if m.header.flags & header_flags::STALE != 0 {
                    update.book_flags |= book_flags::RESYNC;
                    c.resyncs += 1;
                }
                Ok(Some(update))
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
                c.resyncs += 1;
                let mut update = slot.book.update(&header);
                update.book_flags |= book_flags::RESYNC;
                Some(update)
            }
        }
    }
}

impl BookStage {
    /// What one event gives: an update, the market event passed through
    /// (trades, statuses other than a gap), or nothing.
    fn output(&mut self, event: &Event) -> Option<Event> {
        let Event::Market(m) = event else { return None };
        match m.header.kind {
            EventKind::Trade => Some(*event),
            EventKind::Status if m.status != MarketStatus::Gap => Some(*event),
            _ => self.apply(m).map(Event::Book),
        }
    }
}

/// Whether `event` is a book update asking its feed for a snapshot: what
/// the market-data loop's link back to the feed carries.
pub fn is_resync(event: &Event) -> bool {
    matches!(event, Event::Book(u) if u.book_flags & book_flags::RESYNC != 0)
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
        if let Some(e) = self.output(event) {
            // One output at most, which `max_outputs` makes room for.
            let _ = out.push(e);
        }
    }
}

impl crate::graph::Node<Event> for BookStage {
    fn name(&self) -> &str {
        "book"
    }

    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut crate::graph::Out<Event>) {
        if let Some(e) = self.output(event) {
            out.push(e);
        }
    }

    fn expected_outputs(&self) -> usize {
        1
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
