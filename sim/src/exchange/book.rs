//! One market's book: a YES-price ladder of FIFO queues of order slots.

use super::*;

/// One side of a book: price → queue of order indices, oldest first.
pub(crate) type Ladder = BTreeMap<Price, VecDeque<usize>>;

/// A side's levels, best first (without boxing the iterator).
pub(crate) enum Levels<'a> {
    Bids(core::iter::Rev<btree_map::Iter<'a, Price, VecDeque<usize>>>),
    Asks(btree_map::Iter<'a, Price, VecDeque<usize>>),
}

impl<'a> Iterator for Levels<'a> {
    type Item = (&'a Price, &'a VecDeque<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Levels::Bids(it) => it.next(),
            Levels::Asks(it) => it.next(),
        }
    }
}

/// A listed market and its book.
#[derive(Debug, Clone)]
pub(crate) struct Market {
    pub(crate) spec: MarketSpec,
    pub(crate) bids: Ladder,
    pub(crate) asks: Ladder,
    pub(crate) positions: BTreeMap<UserId, Position>,
    pub(crate) last_price: Option<Price>,
    pub(crate) volume: Qty,
    pub(crate) outcome: Option<Outcome>,
}

impl Market {
    #[cfg(test)]
    pub(crate) fn ladder(&self, side: BookSide) -> &Ladder {
        match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        }
    }

    pub(crate) fn ladder_mut(&mut self, side: BookSide) -> &mut Ladder {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }

    /// The side's levels, best first.
    pub(crate) fn levels(&self, side: BookSide) -> Levels<'_> {
        match side {
            BookSide::Bid => Levels::Bids(self.bids.iter().rev()),
            BookSide::Ask => Levels::Asks(self.asks.iter()),
        }
    }

    /// The best price of a side and the oldest order there.
    pub(crate) fn best_front(&self, side: BookSide) -> Option<(Price, usize)> {
        let best = match side {
            BookSide::Bid => self.bids.last_key_value(),
            BookSide::Ask => self.asks.first_key_value(),
        };
        best.and_then(|(p, q)| q.front().map(|&i| (*p, i)))
    }

    /// Whether an order on `side` at `price` would trade with the book.
    pub(crate) fn would_cross(&self, side: BookSide, price: Price) -> bool {
        self.best_front(side.opposite())
            .is_some_and(|(best, _)| side.crosses(price, best))
    }

    pub(crate) fn link(&mut self, side: BookSide, price: Price, idx: usize) {
        self.ladder_mut(side)
            .entry(price)
            .or_default()
            .push_back(idx);
    }

    pub(crate) fn unlink(&mut self, side: BookSide, price: Price, idx: usize) {
        let ladder = self.ladder_mut(side);
        if let Some(queue) = ladder.get_mut(&price) {
            if let Some(at) = queue.iter().position(|&i| i == idx) {
                queue.remove(at);
            }
            if queue.is_empty() {
                ladder.remove(&price);
            }
        }
    }

    /// Indices of every resting order, bids then asks.
    pub(crate) fn resting(&self) -> Vec<usize> {
        self.bids
            .values()
            .chain(self.asks.values())
            .flatten()
            .copied()
            .collect()
    }

    pub(crate) fn open_interest(&self) -> Qty {
        Qty::from_raw(
            self.positions
                .values()
                .map(|p| p.position.raw().max(0))
                .fold(0i64, i64::saturating_add),
        )
    }

    pub(crate) fn closed(&self, now_ms: i64) -> bool {
        self.outcome.is_some() || self.spec.close_time_ms <= now_ms
    }

    pub(crate) fn level_total(queue: &VecDeque<usize>, orders: &OrderStore) -> Qty {
        queue
            .iter()
            .filter_map(|&i| orders.get(i))
            .fold(Qty::ZERO, |sum, o| qty_add(sum, o.remaining_count))
    }

    pub(crate) fn stats(&self, orders: &OrderStore, paused: bool) -> MarketStats {
        let best = |side| {
            self.levels(side).next().map(|(p, q)| Level {
                price: *p,
                count: Market::level_total(q, orders),
            })
        };
        MarketStats {
            last_price: self.last_price,
            volume: self.volume,
            open_interest: self.open_interest(),
            best_bid: best(BookSide::Bid),
            best_ask: best(BookSide::Ask),
            outcome: self.outcome,
            paused,
        }
    }
}
