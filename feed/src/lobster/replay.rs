//! Replaying LOBSTER messages on a [`Ladder`] that shows the top N levels.
//!
//! A LOBSTER file at depth N lists only the events inside the top N levels
//! of either side, so the book beyond the N-th level changes unseen. The
//! replay seeds all N levels from the first orderbook row and then derives
//! every level from the messages alone, with one exception: when a message
//! empties a level inside the view, the level that moves up into the N-th
//! place comes from beyond it, where the book may have changed unseen, so
//! it is taken from the orderbook row after the message. Before it is
//! taken, every level the replay remembers past the N−1 it keeps is
//! dropped: those were pushed out of view earlier and may be stale.
//!
//! At depth 1 this is the top-of-book rule: when the best level empties,
//! the new best comes from the row.

use super::{BookRow, Message, MessageType};
use pt_engine::book::{BookError, Ladder, plain_header};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{BookUpdate, Header, InstrumentId, Qty, Side};

/// A book driven by LOBSTER messages. See the module documentation.
#[derive(Debug)]
pub struct Replay {
    /// The book.
    pub book: Ladder,
    /// Levels a side the orderbook file shows.
    depth: usize,
    /// Messages applied.
    pub applied: u64,
    /// Levels taken from an orderbook row because they came into view
    /// from beyond the N-th.
    pub refills: u64,
    /// Remembered levels beyond the view dropped before a refill.
    pub dropped_hidden: u64,
    /// Times the whole book was reseeded from a row (after a skipped line).
    pub reseeds: u64,
}

impl Replay {
    /// A book over `grid` holding all of `seed`'s levels; the view is
    /// `seed.depth` levels a side.
    pub fn new(
        instrument: InstrumentId,
        grid: PriceGrid,
        seed: &BookRow,
    ) -> Result<Replay, BookError> {
        let mut replay = Replay {
            book: Ladder::new(instrument, grid),
            depth: seed.depth.max(1),
            applied: 0,
            refills: 0,
            dropped_hidden: 0,
            reseeds: 0,
        };
        replay.seed(seed, &plain_header(instrument, 0))?;
        replay.reseeds = 0;
        Ok(replay)
    }

    /// Levels a side in view.
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn seed(&mut self, row: &BookRow, h: &Header) -> Result<BookUpdate, BookError> {
        self.book.clear();
        for side in [Side::Buy, Side::Sell] {
            for &(p, q) in row.side(side) {
                self.book.set(side, p, q, h)?;
            }
        }
        self.reseeds += 1;
        Ok(self.book.update(h))
    }

    /// Replaces the whole book with `row` (after a message was lost, say).
    pub fn reseed(&mut self, row: &BookRow) -> Result<BookUpdate, BookError> {
        let h = plain_header(self.book.instrument(), self.applied);
        self.seed(row, &h)
    }

    /// Applies one message, then takes from `after` (the orderbook row for
    /// this message) a level that came into view. Returns the book's top.
    pub fn apply(&mut self, m: &Message, after: &BookRow) -> Result<BookUpdate, BookError> {
        self.applied += 1;
        let mut h = plain_header(self.book.instrument(), self.applied);
        h.venue_ts = m.time;
        let (update, emptied) = match m.kind {
            MessageType::Submit => (self.book.apply_delta(m.side, m.price, m.size, &h)?, false),
            MessageType::PartialCancel | MessageType::Delete | MessageType::Execute => {
                let have = self.book.qty_at(m.side, m.price);
                // Never below zero: the file only lists the visible part.
                let take = m.size.raw().min(have.raw());
                let update = self
                    .book
                    .apply_delta(m.side, m.price, Qty::from_raw(-take), &h)?;
                (update, have.raw() > 0 && take == have.raw())
            }
            MessageType::ExecuteHidden | MessageType::Cross | MessageType::Halt => {
                (self.book.update(&h), false)
            }
        };
        if !emptied {
            return Ok(update);
        }
        // Was the emptied level in view? Then the row's N-th level is new.
        let row = after.side(m.side);
        let in_view = match row.get(self.depth - 1) {
            None => true,
            Some(&(last, _)) => match m.side {
                Side::Buy => m.price > last,
                Side::Sell => m.price < last,
            },
        };
        if !in_view {
            return Ok(update);
        }
        self.dropped_hidden += self.book.retain_best(m.side, self.depth - 1) as u64;
        let mut update = self.book.update(&h);
        for &(p, q) in row.iter().skip(self.depth - 1) {
            update = self.book.set(m.side, p, q, &h)?;
            self.refills += 1;
        }
        Ok(update)
    }
}
