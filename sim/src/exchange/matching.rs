//! Matching: one market's book, orders and ledger borrowed together while
//! an order crosses, rests, or is taken off.

use super::*;

/// Everything one market's matching touches, borrowed apart from the
/// exchange so the book, orders and ledger can change together.
pub(crate) struct Ctx<'a> {
    pub(crate) market: &'a mut Market,
    pub(crate) orders: &'a mut OrderStore,
    pub(crate) ledger: &'a mut Ledger,
    pub(crate) ids: &'a mut IdGen,
    pub(crate) fees: FeeModel,
    pub(crate) now_ms: i64,
    pub(crate) events: &'a mut Vec<Event>,
    /// The order the request is about: kept even once done, so the caller
    /// can return its final state (then [`OrderStore::conclude`]).
    pub(crate) subject: Option<usize>,
}

impl Ctx<'_> {
    pub(crate) fn book_delta(&mut self, side: BookSide, price: Price, delta: i64, cause: usize) {
        let Some(o) = self.orders.get(cause) else {
            return;
        };
        self.events.push(Event::BookDelta {
            ticker: self.market.spec.ticker.clone(),
            side,
            price,
            delta: Qty::from_raw(delta),
            user: o.user,
            client_order_id: o.client_order_id.clone(),
            ts_ms: self.now_ms,
        });
    }

    /// Reports order `idx`'s state. An ephemeral user's order that no
    /// longer rests is released here, and moved into the event.
    pub(crate) fn order_event(&mut self, idx: usize) {
        if self.subject != Some(idx)
            && let Some(o) = self.orders.release_if_done(idx)
        {
            self.events.push(Event::Order(o));
        } else if let Some(o) = self.orders.get(idx) {
            self.events.push(Event::Order(o.clone()));
        }
    }

    /// Takes resting order `idx` off the book as canceled; returns the count
    /// removed.
    pub(crate) fn cancel_resting(&mut self, idx: usize) -> Qty {
        let Some(o) = self.orders.get_mut(idx) else {
            return Qty::ZERO;
        };
        if o.status != OrderStatus::Resting {
            return Qty::ZERO;
        }
        let (side, price, removed) = (o.side, o.price, o.remaining_count);
        o.canceled_count = qty_add(o.canceled_count, removed);
        o.remaining_count = Qty::ZERO;
        o.status = OrderStatus::Canceled;
        o.last_update_ms = self.now_ms;
        self.market.unlink(side, price, idx);
        self.orders.forget_client_id(idx);
        if removed.raw() > 0 {
            self.book_delta(side, price, -removed.raw(), idx);
        }
        self.order_event(idx);
        removed
    }

    /// How much of `taker`'s remaining count could trade right now, after
    /// self-trade prevention (for fill-or-kill).
    pub(crate) fn fillable(&self, taker: usize) -> Qty {
        let Some(t) = self.orders.get(taker) else {
            return Qty::ZERO;
        };
        let mut total = 0i64;
        for (&price, queue) in self.market.levels(t.side.opposite()) {
            if !t.side.crosses(t.price, price) {
                break;
            }
            for o in queue.iter().filter_map(|&i| self.orders.get(i)) {
                if o.user == t.user {
                    match t.self_trade_prevention {
                        SelfTradePrevention::TakerAtCross => return Qty::from_raw(total),
                        SelfTradePrevention::Maker => continue,
                    }
                }
                total = total.saturating_add(o.remaining_count.raw());
                if total >= t.remaining_count.raw() {
                    return Qty::from_raw(total);
                }
            }
        }
        Qty::from_raw(total)
    }

    /// Matches `taker` against the opposite side; returns whether self-trade
    /// prevention stopped it (its remainder must then be canceled).
    pub(crate) fn match_taker(&mut self, taker: usize) -> bool {
        let Some(t) = self.orders.get(taker) else {
            return false;
        };
        let (side, limit, user, stp) = (t.side, t.price, t.user, t.self_trade_prevention);
        loop {
            let remaining = self
                .orders
                .get(taker)
                .map_or(0, |t| t.remaining_count.raw());
            if remaining <= 0 {
                return false;
            }
            let Some((price, maker)) = self.market.best_front(side.opposite()) else {
                return false;
            };
            if !side.crosses(limit, price) {
                return false;
            }
            let Some(m) = self.orders.get(maker) else {
                // An index with no order: drop it rather than loop.
                self.market.unlink(side.opposite(), price, maker);
                continue;
            };
            if m.user == user {
                match stp {
                    SelfTradePrevention::TakerAtCross => return true,
                    SelfTradePrevention::Maker => {
                        self.cancel_resting(maker);
                        continue;
                    }
                }
            }
            if m.status != OrderStatus::Resting || m.remaining_count.raw() <= 0 {
                self.market.unlink(side.opposite(), price, maker);
                continue;
            }
            let n = Qty::from_raw(remaining.min(m.remaining_count.raw()));
            self.execute(taker, maker, n, price);
        }
    }

    /// One trade of `n` at the maker's `price`.
    pub(crate) fn execute(&mut self, taker: usize, maker: usize, n: Qty, price: Price) {
        let trade_id = self.ids.uuid();
        let taker_side = self.orders.get(taker).map_or(BookSide::Bid, |o| o.side);
        self.events.push(Event::Trade(Trade {
            trade_id: trade_id.clone(),
            ticker: self.market.spec.ticker.clone(),
            yes_price: price,
            count: n,
            taker_side,
            ts_ms: self.now_ms,
        }));
        let taker_fee = self.apply_fill(taker, n, price, true, &trade_id);
        let maker_fee = self.apply_fill(maker, n, price, false, &trade_id);
        self.ledger.fees_collected = self
            .ledger
            .fees_collected
            .saturating_add(taker_fee)
            .saturating_add(maker_fee);
        self.market.volume = qty_add(self.market.volume, n);
        self.market.last_price = Some(price);
        // The maker's level shrinks; the taker caused it.
        self.book_delta(taker_side.opposite(), price, -n.raw(), taker);
        if let Some(m) = self.orders.get(maker)
            && m.remaining_count.raw() <= 0
        {
            self.market.unlink(m.side, m.price, maker);
            self.orders.sync_client_id(maker);
        }
        self.order_event(maker);
    }

    /// Books one side of a trade: order, position, cash, fill record;
    /// returns the fee charged.
    pub(crate) fn apply_fill(
        &mut self,
        idx: usize,
        n: Qty,
        price: Price,
        is_taker: bool,
        trade_id: &str,
    ) -> Money {
        let Some(Some(Entry {
            order: o,
            ephemeral,
            fee_acc,
            ..
        })) = self.orders.slots.get_mut(idx)
        else {
            return 0;
        };
        let pos = self.market.positions.entry(o.user).or_default();
        let cash = book_fill(pos, o.side, n, price, self.now_ms);
        let liquidity = if is_taker {
            Liquidity::Taker
        } else {
            Liquidity::Maker
        };
        let fee = self
            .fees
            .fill_fee(liquidity, n, price, cash.revenue(), fee_acc)
            .net()
            .raw();
        let cost = cash.cost.raw();
        o.fill_count = qty_add(o.fill_count, n);
        o.remaining_count = qty_sub(o.remaining_count, n);
        if o.remaining_count.raw() <= 0 {
            o.status = OrderStatus::Executed;
        }
        if is_taker {
            o.taker_fill_cost = o.taker_fill_cost.saturating_add(cost);
            o.taker_fees = o.taker_fees.saturating_add(fee);
        } else {
            o.maker_fill_cost = o.maker_fill_cost.saturating_add(cost);
            o.maker_fees = o.maker_fees.saturating_add(fee);
        }
        o.last_update_ms = self.now_ms;
        pos.fees_paid = pos.fees_paid.saturating_add(fee);
        let fill = Fill {
            fill_id: self.ids.uuid(),
            trade_id: trade_id.to_owned(),
            order_id: o.order_id.clone(),
            client_order_id: o.client_order_id.clone(),
            user: o.user,
            ticker: o.ticker.clone(),
            side: o.side,
            yes_price: price,
            count: n,
            is_taker,
            fee,
            ts_ms: self.now_ms,
            post_position: pos.position,
        };
        self.ledger
            .credit(o.user, cash.revenue().raw().saturating_sub(fee));
        if !*ephemeral {
            self.ledger
                .fills
                .entry(fill.user)
                .or_default()
                .push(fill.clone());
        }
        self.events.push(Event::Fill(fill));
        fee
    }

    /// After matching: rests `idx`'s remainder, or cancels it when
    /// `cancel_rest`; sets the final status and reports the order.
    pub(crate) fn finish(&mut self, idx: usize, cancel_rest: bool) {
        let now_ms = self.now_ms;
        let Some(Some(Entry { order: o, seq, .. })) = self.orders.slots.get_mut(idx) else {
            return;
        };
        let seq = *seq;
        o.last_update_ms = now_ms;
        let remaining = o.remaining_count;
        let mut rested = None;
        if remaining.raw() <= 0 {
            o.status = OrderStatus::Executed;
        } else if cancel_rest {
            o.canceled_count = qty_add(o.canceled_count, remaining);
            o.remaining_count = Qty::ZERO;
            o.status = OrderStatus::Canceled;
        } else {
            o.status = OrderStatus::Resting;
            rested = Some((o.side, o.price, o.expiration_ts));
        }
        if let Some((side, price, expiration)) = rested {
            self.market.link(side, price, idx);
            if let Some(ts) = expiration {
                self.orders
                    .expiries
                    .push(Reverse((ts.saturating_mul(1000), seq, idx)));
            }
            self.book_delta(side, price, remaining.raw(), idx);
        }
        self.orders.sync_client_id(idx);
        self.order_event(idx);
    }
}
