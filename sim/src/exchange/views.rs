//! Read-only views of the exchange: markets, books, a user's orders, fills,
//! positions and cash.

use super::*;

impl Exchange {
    /// Whether trading is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The fee rates in force.
    pub fn fee_schedule(&self) -> FeeModel {
        self.fees
    }

    /// Every market with its statistics, by ticker.
    pub fn markets(&self) -> impl Iterator<Item = (&MarketSpec, MarketStats)> {
        self.markets
            .values()
            .map(|m| (&m.spec, m.stats(&self.orders, self.paused)))
    }

    /// One market with its statistics.
    pub fn market(&self, ticker: &str) -> Option<(&MarketSpec, MarketStats)> {
        self.markets
            .get(ticker)
            .map(|m| (&m.spec, m.stats(&self.orders, self.paused)))
    }

    /// The aggregated book, `depth` levels a side (0 = all).
    pub fn book(&self, ticker: &str, depth: usize) -> Option<BookView> {
        let market = self.markets.get(ticker)?;
        let depth = if depth == 0 { usize::MAX } else { depth };
        let side = |side| {
            market
                .levels(side)
                .take(depth)
                .map(|(p, q)| Level {
                    price: *p,
                    count: Market::level_total(q, &self.orders),
                })
                .collect()
        };
        Some(BookView {
            bids: side(BookSide::Bid),
            asks: side(BookSide::Ask),
        })
    }

    /// Contracts ahead of `user`'s resting order `order_id` in its level's
    /// price-time queue (`None` for an order that is not resting).
    pub fn queue_position(&self, user: UserId, order_id: &str) -> Option<Qty> {
        let idx = self.orders.find(order_id)?;
        let o = self.orders.get(idx).filter(|o| o.user == user)?;
        if o.status != OrderStatus::Resting {
            return None;
        }
        let market = self.markets.get(&o.ticker)?;
        let level = match o.side {
            BookSide::Bid => market.bids.get(&o.price)?,
            BookSide::Ask => market.asks.get(&o.price)?,
        };
        let ahead = level
            .iter()
            .take_while(|&&i| i != idx)
            .filter_map(|&i| self.orders.get(i))
            .map(|x| x.remaining_count.raw())
            .sum();
        Some(Qty::from_raw(ahead))
    }

    /// One of `user`'s orders (for an ephemeral user, only a resting one).
    pub fn order(&self, user: UserId, order_id: &str) -> Option<&Order> {
        let idx = self.orders.find(order_id)?;
        self.orders.get(idx).filter(|o| o.user == user)
    }

    /// All of `user`'s orders, newest first (for an ephemeral user, its
    /// resting ones).
    pub fn orders(&self, user: UserId) -> Vec<&Order> {
        if self.orders.is_ephemeral(user) {
            // Not indexed by user: a scan of what is stored, which is
            // rare and bounded by the resting orders.
            let mut mine: Vec<&Entry> = self
                .orders
                .iter()
                .map(|(_, e)| e)
                .filter(|e| e.order.user == user)
                .collect();
            mine.sort_unstable_by_key(|e| Reverse(e.seq));
            return mine.into_iter().map(|e| &e.order).collect();
        }
        self.orders.by_user.get(&user).map_or_else(Vec::new, |ids| {
            ids.iter()
                .rev()
                .filter_map(|&i| self.orders.get(i))
                .collect()
        })
    }

    /// All of `user`'s fills, newest first (none for an ephemeral user).
    pub fn fills(&self, user: UserId) -> Vec<&Fill> {
        self.ledger
            .fills
            .get(&user)
            .map_or_else(Vec::new, |fills| fills.iter().rev().collect())
    }

    /// `user`'s positions, by ticker, in every market where they traded.
    pub fn positions(&self, user: UserId) -> Vec<(&str, &Position)> {
        self.markets
            .values()
            .filter_map(|m| m.positions.get(&user).map(|p| (m.spec.ticker.as_str(), p)))
            .collect()
    }

    /// `user`'s cash (0 without an account).
    pub fn balance(&self, user: UserId) -> Money {
        self.ledger.accounts.get(&user).copied().unwrap_or(0)
    }

    /// Fees charged so far.
    pub fn fees_collected(&self) -> Money {
        self.ledger.fees_collected
    }

    /// Slots in the order store (stored orders plus free slots).
    #[cfg(test)]
    pub(crate) fn order_slots(&self) -> usize {
        self.orders.slots.len()
    }

    /// Sum of every account's cash, [`HOUSE`]'s included (which may be
    /// negative).
    pub fn total_cash(&self) -> Money {
        saturate(self.ledger.accounts.values().map(|&c| i128::from(c)).sum())
    }
}
