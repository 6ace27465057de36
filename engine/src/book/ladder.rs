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

/// One side's quantities, with a two-level bitmap of the non-empty levels so
/// that finding the next best level, emptying the side and walking the top
/// levels cost a few word operations instead of a scan over empty prices.
#[derive(Clone, Debug)]
struct Levels {
    qty: Vec<i64>,
    /// Bit `i` set: level `i` holds a quantity.
    words: Vec<u64>,
    /// Bit `w` set: `words[w]` is not zero.
    summary: Vec<u64>,
}

impl Levels {
    fn new(n: usize) -> Levels {
        let words = n.div_ceil(64);
        Levels {
            qty: vec![0; n],
            words: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
        }
    }

    #[inline]
    fn get(&self, i: u32) -> i64 {
        self.qty.get(i as usize).copied().unwrap_or(0)
    }

    #[inline]
    fn put(&mut self, i: u32, q: i64) {
        let i = i as usize;
        self.qty[i] = q;
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        if q > 0 {
            self.words[w] |= bit;
            self.summary[w / 64] |= 1 << (w % 64);
        } else {
            self.words[w] &= !bit;
            if self.words[w] == 0 {
                self.summary[w / 64] &= !(1 << (w % 64));
            }
        }
    }

    /// Empties every level, touching only the non-empty ones.
    fn clear(&mut self) {
        for s in 0..self.summary.len() {
            let mut sw = core::mem::take(&mut self.summary[s]);
            while sw != 0 {
                let w = s * 64 + sw.trailing_zeros() as usize;
                sw &= sw - 1;
                let mut bits = core::mem::take(&mut self.words[w]);
                while bits != 0 {
                    self.qty[w * 64 + bits.trailing_zeros() as usize] = 0;
                    bits &= bits - 1;
                }
            }
        }
    }

    /// The highest non-empty level at or below `from`.
    #[inline]
    fn highest_at_or_below(&self, from: u32) -> u32 {
        let from = from as usize;
        if from >= self.qty.len() {
            return match self.qty.len() {
                0 => NONE,
                n => self.highest_at_or_below(n as u32 - 1),
            };
        }
        let w = from / 64;
        let bits = self.words[w] & (u64::MAX >> (63 - from % 64));
        if bits != 0 {
            return (w * 64 + 63 - bits.leading_zeros() as usize) as u32;
        }
        // Words below `w` that hold levels.
        let mut s = w / 64;
        let mut sw = self.summary[s] & ((1u64 << (w % 64)) - 1);
        loop {
            if sw != 0 {
                let w = s * 64 + 63 - sw.leading_zeros() as usize;
                let bits = self.words[w];
                return (w * 64 + 63 - bits.leading_zeros() as usize) as u32;
            }
            if s == 0 {
                return NONE;
            }
            s -= 1;
            sw = self.summary[s];
        }
    }

    /// The lowest non-empty level at or above `from`.
    #[inline]
    fn lowest_at_or_above(&self, from: u32) -> u32 {
        let from = from as usize;
        if from >= self.qty.len() {
            return NONE;
        }
        let w = from / 64;
        let bits = self.words[w] & (u64::MAX << (from % 64));
        if bits != 0 {
            return (w * 64 + bits.trailing_zeros() as usize) as u32;
        }
        let mut s = w / 64;
        let next = w % 64 + 1;
        let mut sw = if next == 64 {
            0
        } else {
            self.summary[s] & (u64::MAX << next)
        };
        loop {
            if sw != 0 {
                let w = s * 64 + sw.trailing_zeros() as usize;
                return (w * 64 + self.words[w].trailing_zeros() as usize) as u32;
            }
            s += 1;
            match self.summary.get(s) {
                Some(&next) => sw = next,
                None => return NONE,
            }
        }
    }

    /// Non-empty levels from the highest down.
    fn iter_down(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        let mut at = self.highest_at_or_below(u32::MAX);
        core::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let here = at;
            at = if here == 0 {
                NONE
            } else {
                self.highest_at_or_below(here - 1)
            };
            Some((here, self.get(here)))
        })
    }

    /// Non-empty levels from the lowest up.
    fn iter_up(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        let mut at = self.lowest_at_or_above(0);
        core::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let here = at;
            at = self.lowest_at_or_above(here + 1);
            Some((here, self.get(here)))
        })
    }
}

/// An L2 book: one quantity per grid price and side, best levels tracked.
#[derive(Clone, Debug)]
pub struct Ladder {
    grid: PriceGrid,
    instrument: InstrumentId,
    bids: Levels,
    asks: Levels,
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
            bids: Levels::new(n),
            asks: Levels::new(n),
            best_bid: NONE,
            best_ask: NONE,
            stale: false,
            version: 0,
            crossed_count: 0,
        }
    }

    /// Empties both sides (a snapshot follows).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.best_bid = NONE;
        self.best_ask = NONE;
    }

    /// Empties one side.
    pub fn clear_side(&mut self, side: Side, header: &Header) -> BookUpdate {
        match side {
            Side::Buy => {
                self.bids.clear();
                self.best_bid = NONE;
            }
            Side::Sell => {
                self.asks.clear();
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

    /// The prices this book can hold.
    pub fn grid(&self) -> &PriceGrid {
        &self.grid
    }

    /// The instrument this book is for.
    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// Whether the book missed data.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Changes applied so far.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// One side's levels.
    #[inline]
    fn side(&self, side: Side) -> &Levels {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    #[inline]
    fn index(&self, price: Price) -> Result<u32, BookError> {
        self.grid.index_of(price).ok_or(BookError::OffGrid(price))
    }

    #[inline]
    fn level(&self, side: Side, i: u32) -> Option<(Price, Qty)> {
        if i == NONE {
            return None;
        }
        let q = self.side(side).get(i);
        Some((self.grid.price_at(i)?, Qty::from_raw(q)))
    }

    /// Best bid price and size.
    #[inline]
    pub fn best_bid(&self) -> Option<(Price, Qty)> {
        self.level(Side::Buy, self.best_bid)
    }

    /// Best ask price and size.
    #[inline]
    pub fn best_ask(&self) -> Option<(Price, Qty)> {
        self.level(Side::Sell, self.best_ask)
    }

    /// Quantity at `price` on `side` (zero off the grid).
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        self.grid
            .index_of(price)
            .map_or(Qty::ZERO, |i| Qty::from_raw(self.side(side).get(i)))
    }

    /// Sets a level to an absolute quantity (zero removes it).
    #[inline]
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
    #[inline]
    pub fn apply_delta(
        &mut self,
        side: Side,
        price: Price,
        delta: Qty,
        header: &Header,
    ) -> Result<BookUpdate, BookError> {
        let i = self.index(price)?;
        let now = self.side(side).get(i).saturating_add(delta.raw());
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
                let mut at = self.best_bid;
                while at != NONE && at > i {
                    self.bids.put(at, 0);
                    at = self.bids.highest_at_or_below(at - 1);
                }
                self.best_bid = NONE;
            }
            Side::Sell if self.best_ask != NONE && self.best_ask < i => {
                let mut at = self.best_ask;
                while at < i {
                    self.asks.put(at, 0);
                    at = self.asks.lowest_at_or_above(at + 1);
                }
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

    /// Keeps the best `keep` levels of `side` and empties the rest; returns
    /// how many levels were emptied. For a feed that shows only the top
    /// levels: what lies beyond them may have changed unseen.
    pub fn retain_best(&mut self, side: Side, keep: usize) -> usize {
        let mut removed = 0;
        match side {
            Side::Buy => {
                let mut at = self.best_bid;
                for _ in 0..keep {
                    if at == NONE || at == 0 {
                        return 0;
                    }
                    at = self.bids.highest_at_or_below(at - 1);
                }
                while at != NONE {
                    self.bids.put(at, 0);
                    removed += 1;
                    at = if at == 0 {
                        NONE
                    } else {
                        self.bids.highest_at_or_below(at - 1)
                    };
                }
                if keep == 0 {
                    self.best_bid = NONE;
                }
            }
            Side::Sell => {
                let mut at = self.best_ask;
                for _ in 0..keep {
                    if at == NONE {
                        return 0;
                    }
                    at = self.asks.lowest_at_or_above(at + 1);
                }
                while at != NONE {
                    self.asks.put(at, 0);
                    removed += 1;
                    at = self.asks.lowest_at_or_above(at + 1);
                }
                if keep == 0 {
                    self.best_ask = NONE;
                }
            }
        }
        if removed > 0 {
            self.version += 1;
        }
        removed
    }

    /// The highest non-empty bid at or below `from`.
    fn scan_bid(&self, from: u32) -> u32 {
        self.bids.highest_at_or_below(from)
    }

    /// The lowest non-empty ask at or above `from`.
    fn scan_ask(&self, from: u32) -> u32 {
        self.asks.lowest_at_or_above(from)
    }

    #[inline]
    fn store(&mut self, side: Side, i: u32, qty: i64, header: &Header) -> BookUpdate {
        match side {
            Side::Buy => {
                self.bids.put(i, qty);
                if qty > 0 && (self.best_bid == NONE || i > self.best_bid) {
                    self.best_bid = i;
                } else if qty == 0 && i == self.best_bid {
                    self.best_bid = if i == 0 { NONE } else { self.scan_bid(i - 1) };
                }
            }
            Side::Sell => {
                self.asks.put(i, qty);
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
    #[inline]
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
        let mut push = |(i, q): (u32, i64)| {
            if let Some(p) = self.grid.price_at(i) {
                out.push((p, Qty::from_raw(q)));
            }
        };
        match side {
            Side::Buy => self.bids.iter_down().take(n).for_each(&mut push),
            Side::Sell => self.asks.iter_up().take(n).for_each(&mut push),
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
