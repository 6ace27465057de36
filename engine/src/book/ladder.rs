//! The L2 ladder and the binary-market book built on it.

use crate::instrument::PriceGrid;
use crate::model::{
    BookUpdate, EventKind, Header, InstrumentId, Nanos, Price, Qty, Side, book_flags,
};

/// Why a change was not applied. The book is unchanged when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookError {
    /// The price is not on the instrument's grid.
    OffGrid(Price),
    /// A quantity below zero was set, or a delta took a level below zero.
    NegativeQty {
        /// The price of the level.
        price: Price,
        /// The quantity it would have had.
        qty: Qty,
    },
}

impl core::fmt::Display for BookError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BookError::OffGrid(p) => write!(f, "price {p} is not on the instrument's price grid"),
            BookError::NegativeQty { price, qty } => {
                write!(
                    f,
                    "level {price} would hold {qty}; a level cannot go below zero"
                )
            }
        }
    }
}

impl std::error::Error for BookError {}

/// Sentinel for "no level".
const NONE: u32 = u32::MAX;

/// An L2 book: one quantity per grid price and side, best levels tracked.
#[derive(Clone, Debug)]
pub struct Ladder {
    grid: PriceGrid,
    instrument: InstrumentId,
    bids: Vec<i64>,
    asks: Vec<i64>,
    best_bid: u32,
    best_ask: u32,
    stale: bool,
    version: u64,
    /// Changes after which the book was crossed or locked.
    pub crossed_count: u64,
}

impl Ladder {
    /// An empty book over `grid`.
    pub fn new(instrument: InstrumentId, grid: PriceGrid) -> Ladder {
        let n = grid.len() as usize;
        Ladder {
            grid,
            instrument,
            bids: vec![0; n],
            asks: vec![0; n],
            best_bid: NONE,
            best_ask: NONE,
            stale: false,
            version: 0,
            crossed_count: 0,
        }
    }

    /// Empties both sides (a snapshot follows).
    pub fn clear(&mut self) {
        self.bids.iter_mut().for_each(|q| *q = 0);
        self.asks.iter_mut().for_each(|q| *q = 0);
        self.best_bid = NONE;
        self.best_ask = NONE;
    }

    /// Empties one side.
    pub fn clear_side(&mut self, side: Side, header: &Header) -> BookUpdate {
        match side {
            Side::Buy => {
                self.bids.iter_mut().for_each(|q| *q = 0);
                self.best_bid = NONE;
            }
            Side::Sell => {
                self.asks.iter_mut().for_each(|q| *q = 0);
                self.best_ask = NONE;
            }
        }
        self.version += 1;
        self.update(header)
    }

    /// Marks the book stale (a gap was seen) or whole again.
    pub fn set_stale(&mut self, stale: bool) {
        self.stale = stale;
    }

    /// Whether the book missed data.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Changes applied so far.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn index(&self, price: Price) -> Result<u32, BookError> {
        self.grid.index_of(price).ok_or(BookError::OffGrid(price))
    }

    fn level(&self, side: Side, i: u32) -> Option<(Price, Qty)> {
        if i == NONE {
            return None;
        }
        let q = match side {
            Side::Buy => self.bids[i as usize],
            Side::Sell => self.asks[i as usize],
        };
        Some((self.grid.price_at(i)?, Qty::from_raw(q)))
    }

    /// Best bid price and size.
    pub fn best_bid(&self) -> Option<(Price, Qty)> {
        self.level(Side::Buy, self.best_bid)
    }

    /// Best ask price and size.
    pub fn best_ask(&self) -> Option<(Price, Qty)> {
        self.level(Side::Sell, self.best_ask)
    }

    /// Quantity at `price` on `side` (zero off the grid).
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        match (self.grid.index_of(price), side) {
            (Some(i), Side::Buy) => Qty::from_raw(self.bids[i as usize]),
            (Some(i), Side::Sell) => Qty::from_raw(self.asks[i as usize]),
            (None, _) => Qty::ZERO,
        }
    }

    /// Sets a level to an absolute quantity (zero removes it).
    pub fn set(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
        header: &Header,
    ) -> Result<BookUpdate, BookError> {
        if qty.raw() < 0 {
            return Err(BookError::NegativeQty { price, qty });
        }
        let i = self.index(price)?;
        Ok(self.store(side, i, qty.raw(), header))
    }

    /// Changes a level by a signed amount.
    pub fn apply_delta(
        &mut self,
        side: Side,
        price: Price,
        delta: Qty,
        header: &Header,
    ) -> Result<BookUpdate, BookError> {
        let i = self.index(price)?;
        let now = match side {
            Side::Buy => self.bids[i as usize],
            Side::Sell => self.asks[i as usize],
        }
        .saturating_add(delta.raw());
        if now < 0 {
            return Err(BookError::NegativeQty {
                price,
                qty: Qty::from_raw(now),
            });
        }
        Ok(self.store(side, i, now, header))
    }

    /// Removes every level on `side` better than `price` (they are known to
    /// be empty: `price` is the new best), then sets `price` to `qty`.
    pub fn reset_best(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
        header: &Header,
    ) -> Result<BookUpdate, BookError> {
        if qty.raw() < 0 {
            return Err(BookError::NegativeQty { price, qty });
        }
        let i = self.index(price)?;
        // Levels beyond the best are already empty: clear only the ones
        // between the new best and the old.
        match side {
            Side::Buy if self.best_bid != NONE && self.best_bid > i => {
                self.bids[i as usize + 1..=self.best_bid as usize]
                    .iter_mut()
                    .for_each(|q| *q = 0);
                self.best_bid = NONE;
            }
            Side::Sell if self.best_ask != NONE && self.best_ask < i => {
                self.asks[self.best_ask as usize..i as usize]
                    .iter_mut()
                    .for_each(|q| *q = 0);
                self.best_ask = NONE;
            }
            _ => {}
        }
        if self.best_bid == NONE {
            self.best_bid = self.scan_bid(i);
        }
        if self.best_ask == NONE {
            self.best_ask = self.scan_ask(i);
        }
        Ok(self.store(side, i, qty.raw(), header))
    }

    /// The highest non-empty bid at or below `from`.
    fn scan_bid(&self, from: u32) -> u32 {
        let from = (from as usize).min(self.bids.len().saturating_sub(1));
        self.bids[..=from]
            .iter()
            .rposition(|&q| q > 0)
            .map_or(NONE, |i| i as u32)
    }

    /// The lowest non-empty ask at or above `from`.
    fn scan_ask(&self, from: u32) -> u32 {
        let from = from as usize;
        self.asks
            .get(from..)
            .and_then(|rest| rest.iter().position(|&q| q > 0))
            .map_or(NONE, |i| (from + i) as u32)
    }

    fn store(&mut self, side: Side, i: u32, qty: i64, header: &Header) -> BookUpdate {
        match side {
            Side::Buy => {
                self.bids[i as usize] = qty;
                if qty > 0 && (self.best_bid == NONE || i > self.best_bid) {
                    self.best_bid = i;
                } else if qty == 0 && i == self.best_bid {
                    self.best_bid = if i == 0 { NONE } else { self.scan_bid(i - 1) };
                }
            }
            Side::Sell => {
                self.asks[i as usize] = qty;
                if qty > 0 && (self.best_ask == NONE || i < self.best_ask) {
                    self.best_ask = i;
                } else if qty == 0 && i == self.best_ask {
                    self.best_ask = self.scan_ask(i + 1);
                }
            }
        }
        self.version += 1;
        let mut update = self.update(header);
        update.changed_price = self.grid.price_at(i).unwrap_or(Price::ZERO);
        update.changed_qty = Qty::from_raw(qty);
        update.changed_side = side;
        if update.book_flags & book_flags::CROSSED != 0 {
            self.crossed_count += 1;
        }
        update
    }

    /// The current top of book as a record carrying `header`'s source fields.
    pub fn update(&self, header: &Header) -> BookUpdate {
        let mut flags = 0;
        let bid = self.best_bid();
        let ask = self.best_ask();
        if bid.is_none() {
            flags |= book_flags::NO_BID;
        }
        if ask.is_none() {
            flags |= book_flags::NO_ASK;
        }
        if let (Some(b), Some(a)) = (bid, ask)
            && b.0 >= a.0
        {
            flags |= book_flags::CROSSED;
        }
        if self.stale {
            flags |= book_flags::STALE;
        }
        let mut h = *header;
        h.kind = EventKind::BookUpdate;
        h.instrument = self.instrument;
        let (best_bid, best_bid_qty) = bid.unwrap_or((Price::ZERO, Qty::ZERO));
        let (best_ask, best_ask_qty) = ask.unwrap_or((Price::ZERO, Qty::ZERO));
        BookUpdate {
            header: h,
            best_bid,
            best_bid_qty,
            best_ask,
            best_ask_qty,
            book_flags: flags,
            version: self.version,
            ..BookUpdate::default()
        }
    }

    /// The best `n` levels of a side, best first, into `out` (cleared first).
    pub fn top_n(&self, side: Side, n: usize, out: &mut Vec<(Price, Qty)>) {
        out.clear();
        let mut push = |i: usize, q: i64| {
            if q > 0
                && out.len() < n
                && let Some(p) = self.grid.price_at(i as u32)
            {
                out.push((p, Qty::from_raw(q)));
            }
        };
        match side {
            Side::Buy => self
                .bids
                .iter()
                .enumerate()
                .rev()
                .for_each(|(i, &q)| push(i, q)),
            Side::Sell => self.asks.iter().enumerate().for_each(|(i, &q)| push(i, q)),
        }
    }
}

/// A binary market's book: YES bids and NO bids on one YES-price ladder. A
/// NO bid at p is a YES ask at 1 − p.
#[derive(Clone, Debug)]
pub struct BinaryBook {
    /// The YES-price ladder (bids = YES bids, asks = NO bids at 1 − p).
    pub ladder: Ladder,
}

impl BinaryBook {
    /// An empty book on a YES-price grid.
    pub fn new(instrument: InstrumentId, grid: PriceGrid) -> BinaryBook {
        BinaryBook {
            ladder: Ladder::new(instrument, grid),
        }
    }

    /// The YES-price side and price of a level given as (`yes` side?, price
    /// in that side's own terms).
    pub fn to_yes(yes_side: bool, price: Price) -> (Side, Price) {
        if yes_side {
            (Side::Buy, price)
        } else {
            (Side::Sell, Price::from_raw(Price::ONE.raw() - price.raw()))
        }
    }

    /// Applies a Kalshi-style delta: `yes_side` true for the YES bids,
    /// false for the NO bids, `price` in that side's own terms (NO price for
    /// NO bids, as Kalshi sends by default).
    pub fn apply_delta(
        &mut self,
        yes_side: bool,
        price: Price,
        delta: Qty,
        header: &Header,
    ) -> Result<BookUpdate, BookError> {
        let (side, p) = Self::to_yes(yes_side, price);
        self.ladder.apply_delta(side, p, delta, header)
    }

    /// Sets a level (snapshots), same conventions as [`BinaryBook::apply_delta`].
    pub fn set(
        &mut self,
        yes_side: bool,
        price: Price,
        qty: Qty,
        header: &Header,
    ) -> Result<BookUpdate, BookError> {
        let (side, p) = Self::to_yes(yes_side, price);
        self.ladder.set(side, p, qty, header)
    }
}

/// A header for book changes that have no market event behind them (tests,
/// importers).
pub fn plain_header(instrument: InstrumentId, seq: u64) -> Header {
    Header::new(EventKind::BookUpdate, instrument, seq, Nanos(0))
}
