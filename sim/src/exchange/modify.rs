//! Changing a resting order: amend (price and/or count) and decrease.

use super::*;

impl Exchange {
    /// Changes a resting order's price and/or total count (`count` is the
    /// filled count plus the new resting count). A price change or a larger
    /// resting count re-enters the order: it loses time priority and may
    /// trade. A smaller count at the same price keeps its place. `ticker` and
    /// `side` must be the order's.
    #[allow(clippy::too_many_arguments)]
    pub fn amend(
        &mut self,
        user: UserId,
        order_id: &str,
        ticker: &str,
        side: BookSide,
        price: Price,
        count: Qty,
        updated_client_order_id: Option<String>,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        self.expire(now_ms, events);
        let idx = self.own_resting(user, order_id)?;
        let current = self.orders[idx].clone();
        if current.ticker != ticker || current.side != side {
            return Err(Reject::new(
                400,
                "invalid_parameters",
                format!(
                    "ticker {ticker:?} / side {side:?} do not match order {order_id:?}; expected {:?} / {:?}",
                    current.ticker, current.side
                ),
            ));
        }
        let market = self.open_market(ticker, now_ms)?;
        check_price(&market.spec, price)?;
        check_count("count", count)?;
        if count <= current.fill_count {
            return Err(Reject::new(
                400,
                "invalid_count",
                format!(
                    "count {count} must exceed the {} already filled; cancel the order instead",
                    current.fill_count
                ),
            ));
        }
        self.check_client_id(user, updated_client_order_id.as_deref(), Some(idx))?;
        let new_remaining = qty_sub(count, current.fill_count);
        let keeps_priority = price == current.price && new_remaining <= current.remaining_count;
        if !keeps_priority {
            if current.post_only && market.would_cross(side, price) {
                return Err(Reject::new(
                    409,
                    "post_only_cross",
                    format!(
                        "post_only order amended to price {price} would cross the book; expected a price that rests"
                    ),
                ));
            }
            self.check_balance(market, user, side, new_remaining, price, current.post_only)?;
        }

        // Accepted: apply.
        self.orders.forget_client_id(idx);
        let o = &mut self.orders[idx];
        if let Some(cid) = updated_client_order_id {
            o.client_order_id = Some(cid);
        }
        o.initial_count = count;
        o.canceled_count = Qty::ZERO;
        o.last_update_ms = now_ms;
        let mut ctx = self.ctx(ticker, now_ms, events)?;
        ctx.subject = Some(idx);
        if keeps_priority {
            let shrink = qty_sub(current.remaining_count, new_remaining);
            ctx.orders[idx].remaining_count = new_remaining;
            if shrink.raw() > 0 {
                ctx.book_delta(side, price, -shrink.raw(), idx);
            }
            ctx.orders.sync_client_id(idx);
            ctx.order_event(idx);
        } else {
            ctx.market.unlink(side, current.price, idx);
            ctx.book_delta(side, current.price, -current.remaining_count.raw(), idx);
            let o = &mut ctx.orders[idx];
            o.price = price;
            o.remaining_count = new_remaining;
            let stopped = ctx.match_taker(idx);
            ctx.finish(idx, stopped);
        }
        self.orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(order_id))
    }

    /// Reduces a resting order's remaining count by `reduce_by` or to
    /// `reduce_to` (exactly one); it keeps its time priority. Reducing to
    /// zero cancels it.
    pub fn decrease(
        &mut self,
        user: UserId,
        order_id: &str,
        reduce_by: Option<Qty>,
        reduce_to: Option<Qty>,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        let idx = self.own_resting(user, order_id)?;
        let remaining = self.orders[idx].remaining_count;
        let target = match (reduce_by, reduce_to) {
            (Some(by), None) => {
                check_count("reduce_by", by)?;
                qty_sub(remaining, by).max(Qty::ZERO)
            }
            (None, Some(to)) => {
                if to.raw() < 0 || to.raw() % COUNT_STEP != 0 || to > remaining {
                    return Err(Reject::new(
                        400,
                        "invalid_count",
                        format!(
                            "reduce_to {to} is invalid; expected a count with at most 2 decimals from 0 to the remaining {remaining}"
                        ),
                    ));
                }
                to
            }
            _ => {
                return Err(Reject::new(
                    400,
                    "invalid_parameters",
                    "reduce_by, reduce_to: expected exactly one of the two".to_owned(),
                ));
            }
        };
        let ticker = self.orders[idx].ticker.clone();
        let mut ctx = self.ctx(&ticker, now_ms, events)?;
        ctx.subject = Some(idx);
        if target.raw() == 0 {
            ctx.cancel_resting(idx);
        } else if target < remaining {
            let o = &mut ctx.orders[idx];
            let shrink = qty_sub(remaining, target);
            o.remaining_count = target;
            o.canceled_count = qty_add(o.canceled_count, shrink);
            o.last_update_ms = now_ms;
            let (side, price) = (o.side, o.price);
            ctx.book_delta(side, price, -shrink.raw(), idx);
            ctx.order_event(idx);
        }
        self.orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(order_id))
    }
}
