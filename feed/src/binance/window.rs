//! The price window a [`DepthSync`](super::DepthSync)'s ladder covers, and
//! the levels that lie outside it.
//!
//! A ladder holds one slot per grid price (16 bytes each), so an
//! instrument whose grid is larger than [`SyncConfig::max_window`]
//! (a coin quoted at 0.00001 from 0.00001 to 100 has ten million prices)
//! gets a window of that many prices instead, placed around the best
//! prices of each snapshot. Levels on the grid but outside the window go to
//! an [`Overflow`] store of fixed capacity, so nothing the venue sent is
//! dropped unless the store is full (counted).
//!
//! [`SyncConfig::max_window`]: super::SyncConfig::max_window

use pt_engine::instrument::PriceGrid;
use pt_engine::model::{Price, Qty, Side};

/// Levels outside the window, one price-sorted array per side, allocated
/// once: setting a level never allocates.
#[derive(Clone, Debug)]
pub(super) struct Overflow {
    bids: Vec<(Price, Qty)>,
    asks: Vec<(Price, Qty)>,
    capacity: usize,
}

impl Overflow {
    pub(super) fn new(capacity: usize) -> Overflow {
        Overflow {
            bids: Vec::with_capacity(capacity),
            asks: Vec::with_capacity(capacity),
            capacity,
        }
    }

    pub(super) fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    fn side_mut(&mut self, side: Side) -> &mut Vec<(Price, Qty)> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// One side's levels, lowest price first.
    pub(super) fn side(&self, side: Side) -> &[(Price, Qty)] {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// Sets a level's absolute quantity (zero removes it). `false` when the
    /// level is new and the side is full: it was not stored.
    pub(super) fn set(&mut self, side: Side, price: Price, qty: Qty) -> bool {
        let capacity = self.capacity;
        let levels = self.side_mut(side);
        match levels.binary_search_by_key(&price, |l| l.0) {
            Ok(i) if qty.raw() == 0 => {
                levels.remove(i);
            }
            Ok(i) => levels[i].1 = qty,
            Err(_) if qty.raw() == 0 => {}
            Err(i) if levels.len() < capacity => levels.insert(i, (price, qty)),
            Err(_) => return false,
        }
        true
    }

    /// The best level of a side held here: the highest bid, the lowest ask.
    pub(super) fn best(&self, side: Side) -> Option<(Price, Qty)> {
        match side {
            Side::Buy => self.bids.last().copied(),
            Side::Sell => self.asks.first().copied(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }
}

/// The indices (first, last) of a window of at most `max` prices of `grid`
/// centred on index `centre`, moved inward where it would pass an end.
pub(super) fn place(grid: &PriceGrid, max: u32, centre: u32) -> (u32, u32) {
    let len = grid.len();
    let max = max.clamp(1, len.max(1));
    let first = centre.saturating_sub(max / 2).min(len.saturating_sub(max));
    (first, first + max - 1)
}
