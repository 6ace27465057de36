//! Order books: an L2 price ladder array-indexed over an instrument's
//! [`PriceGrid`], and the binary-market book that keeps YES bids and NO bids
//! on one YES-price ladder.
//!
//! Both are pure and allocation-free after construction: a level change is
//! an array store plus, when the best level empties, a scan to the next
//! non-empty level. Each change returns the [`BookUpdate`] the book stage
//! emits.

mod ladder;
mod stage;

pub use ladder::{BinaryBook, BookError, Ladder, plain_header};
pub use stage::{
    BookStage, BookStageCounters, BookStageError, MAX_INSTRUMENT_ID, is_resync, market_event,
};

#[cfg(test)]
mod tests;

#[cfg(test)]
use crate::instrument::PriceGrid;
use crate::model::{BookUpdate, Price, Qty};

/// Top of book as plain values (for tests and callers that do not need the
/// whole record).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Top {
    /// Best bid, if any.
    pub bid: Option<(Price, Qty)>,
    /// Best ask, if any.
    pub ask: Option<(Price, Qty)>,
}

impl Top {
    /// The top of a [`BookUpdate`].
    pub fn of(update: &BookUpdate) -> Top {
        use crate::model::book_flags::{NO_ASK, NO_BID};
        Top {
            bid: (update.book_flags & NO_BID == 0)
                .then_some((update.best_bid, update.best_bid_qty)),
            ask: (update.book_flags & NO_ASK == 0)
                .then_some((update.best_ask, update.best_ask_qty)),
        }
    }
}
