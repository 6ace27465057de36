//! The risk gate: every intent, in every mode, is approved or refused with
//! a reason code here before anything reaches a venue.
//!
//! Checks, in order (the first failure is the reason): the instrument is
//! known; the id is fresh; the mode is allowed; the kill switches; the
//! quantity and price; per-order size and notional; the market open and its
//! book whole; the price collar; crossing our own orders; reduce-only; the
//! instrument's and the event's position and exposure; open orders per
//! strategy and in all; the venue's order-rate budget. Risk-reducing orders
//! skip the position and exposure limits (they lower both).

use crate::core::Gateway;
use crate::kill::{Cause, Trading};
use crate::policy::RateLimit;
use crate::venue::{Venue, WriteAhead};
use pt_engine::contract::leg_cost;
use pt_engine::graph::Out;
use pt_engine::model::{
    Event, EventKind, MarketStatus, Mode, Nanos, OrderIntent, Price, Qty, RejectCode, Side, UNIT,
    order_flags,
};

/// A venue's order-rate budget: tokens refill continuously up to the
/// capacity; an order takes its cost or is refused. Counted in
/// thousandths of a token so that refills between close events add up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    milli: i64,
    capacity: i64,
    refill_per_second: i64,
    order_cost: i64,
    cancel_cost: i64,
    last: i64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: &RateLimit) -> TokenBucket {
        let capacity = i64::from(rate.capacity) * 1000;
        TokenBucket {
            milli: capacity,
            capacity,
            refill_per_second: i64::from(rate.refill_per_second),
            order_cost: i64::from(rate.order_cost) * 1000,
            cancel_cost: i64::from(rate.cancel_cost) * 1000,
            last: i64::MIN,
        }
    }

    /// Takes a new policy's rates, keeping the tokens (up to the capacity).
    pub fn resize(&mut self, rate: &RateLimit) {
        let milli = self.milli;
        *self = TokenBucket {
            last: self.last,
            ..TokenBucket::new(rate)
        };
        self.milli = milli.min(self.capacity);
    }

    fn refill(&mut self, now: i64) {
        if self.last != i64::MIN && now > self.last {
            let gained =
                i128::from(now - self.last) * i128::from(self.refill_per_second) / 1_000_000;
            self.milli = (i128::from(self.milli) + gained).min(i128::from(self.capacity)) as i64;
        }
        if now > self.last {
            self.last = now;
        }
    }

    /// Takes an order's tokens, or `false` when too few are left.
    pub fn take_order(&mut self, now: i64) -> bool {
        self.refill(now);
        if self.milli < self.order_cost {
            return false;
        }
        self.milli -= self.order_cost;
        true
    }

    /// Takes a cancel's tokens; a cancel is never refused (the bucket stays
    /// at zero at worst), since refusing one keeps risk on.
    pub fn take_cancel(&mut self, now: i64) {
        self.refill(now);
        self.milli = (self.milli - self.cancel_cost).max(0);
    }

    /// Whole tokens left.
    pub fn tokens(&self) -> i64 {
        self.milli / 1000
    }
}

impl<P: Venue, L: Venue, J: WriteAhead> Gateway<P, L, J> {
    /// Takes one intent: approve (journal, apply, send) or refuse (report).
    pub fn on_intent(&mut self, intent: &OrderIntent, now: Nanos, out: &mut Out<Event>) {
        self.counters.intents += 1;
        let venue = self.markets.get(intent.header.instrument).map(|m| m.venue);
        let requested = venue.map_or(Mode::Paper, |v| self.mode(v));
        let decision = match intent.header.kind {
            EventKind::OrderNew => self.gate_new(intent, requested, now),
            EventKind::OrderCancel => self.gate_change(intent, true, now),
            EventKind::OrderReplace => self.gate_change(intent, false, now),
            _ => Err(RejectCode::BAD_PRICE),
        };
        match decision {
            Ok(mode) => {
                let mut approved = *intent;
                approved.requested_mode = requested;
                approved.effective_mode = mode;
                if !self.record(&Event::Intent(approved), now) {
                    self.reject(intent, RejectCode::JOURNAL, requested, now, out);
                    return;
                }
                self.counters.approved[mode as usize] += 1;
                self.send(&approved, now, out);
            }
            Err(code) => self.reject(intent, code, requested, now, out),
        }
    }

    /// The effective mode of an order asked for in `requested`, or why live is refused.
    fn mode_for(
        &self,
        requested: Mode,
        venue: pt_engine::model::VenueId,
    ) -> Result<Mode, RejectCode> {
        if requested != Mode::Live {
            return Ok(requested);
        }
        let config = self
            .venues
            .get(venue.0 as usize)
            .map(|v| v.config)
            .unwrap_or_default();
        if !config.live_enabled {
            return Err(RejectCode::LIVE_DISABLED);
        }
        if self.loaded.is_none() {
            return Err(RejectCode::NO_RISK_POLICY);
        }
        if !self.kill.healthy(venue) {
            return Err(RejectCode::KILL_SWITCH);
        }
        if !self.live().connected() {
            return Err(RejectCode::NO_VENUE);
        }
        Ok(Mode::Live)
    }

    fn gate_new(
        &mut self,
        i: &OrderIntent,
        requested: Mode,
        now: Nanos,
    ) -> Result<Mode, RejectCode> {
        let id = i.header.instrument;
        let m = self.markets.get(id).ok_or(RejectCode::UNKNOWN_INSTRUMENT)?;
        if !self.oms.is_fresh(i.client_order_id) || i.client_order_id.strategy() != i.strategy {
            return Err(RejectCode::DUPLICATE_ID);
        }
        let mode = self.mode_for(requested, m.venue)?;
        let ledger = &self.ledgers[mode as usize];
        let position = ledger.position(id);
        let held = position.qty.raw();
        let working_same = self.oms.working(id, i.side).raw();
        let reduces = match i.side {
            Side::Buy => held < 0 && i.qty.raw() + working_same <= -held,
            Side::Sell => held > 0 && i.qty.raw() + working_same <= held,
        };
        match self.kill.state(m.venue, i.strategy) {
            Trading::Halted => {
                let loss = self.kill.strategy(i.strategy).1 == Cause::DailyLoss;
                return Err(if loss {
                    RejectCode::DAILY_LOSS
                } else {
                    RejectCode::KILL_SWITCH
                });
            }
            Trading::Reducing if !reduces => return Err(RejectCode::REDUCING_ONLY),
            _ => {}
        }
        let step = m.qty_step.raw().max(1);
        if i.qty.raw() <= 0 || i.qty.raw() % step != 0 {
            return Err(RejectCode::BAD_QTY);
        }
        if i.price.raw() <= 0 || i.price.raw() >= UNIT {
            return Err(RejectCode::BAD_PRICE);
        }
        let tick = m.grid.index_of(i.price).ok_or(RejectCode::OFF_GRID)?;
        let policy = self.policy();
        let o = &policy.order;
        if i.qty.raw() > o.max_qty.raw() {
            return Err(RejectCode::MAX_QTY);
        }
        let cost = leg_cost(i.side, i.qty, i.price).raw();
        if cost > o.max_notional.raw() {
            return Err(RejectCode::MAX_NOTIONAL);
        }
        if m.status != MarketStatus::Open || m.settled.is_some() {
            return Err(RejectCode::MARKET_NOT_OPEN);
        }
        if m.stale {
            return Err(RejectCode::BOOK_STALE);
        }
        // The collar: how far the limit reaches through the opposite best.
        let opposite = match i.side {
            Side::Buy => m.ask,
            Side::Sell => m.bid,
        };
        if let Some((best, _)) = opposite {
            let through = match i.side {
                Side::Buy => i.price.raw() - best.raw(),
                Side::Sell => best.raw() - i.price.raw(),
            };
            if through > 0 {
                let ticks = m.grid.index_of(best).map_or(0, |b| tick.abs_diff(b));
                if o.collar_ticks > 0 && ticks > o.collar_ticks {
                    return Err(RejectCode::PRICE_COLLAR);
                }
                let pct_limit =
                    i128::from(best.raw()) * i128::from(o.collar_pct.raw()) / i128::from(UNIT);
                if o.collar_pct.raw() > 0 && i128::from(through) > pct_limit {
                    return Err(RejectCode::PRICE_COLLAR);
                }
            }
        }
        if !o.allow_self_cross {
            for other in self.oms.of_instrument(id) {
                if let Some(x) = self.oms.get(*other)
                    && x.side != i.side
                    && x.leaves().raw() > 0
                    && match i.side {
                        Side::Buy => x.price.raw() <= i.price.raw(),
                        Side::Sell => x.price.raw() >= i.price.raw(),
                    }
                {
                    return Err(RejectCode::SELF_CROSS);
                }
            }
        }
        if i.order_flags & order_flags::REDUCE_ONLY != 0 && !reduces {
            return Err(RejectCode::REDUCE_ONLY);
        }
        if !reduces {
            let projected = match i.side {
                Side::Buy => held + working_same + i.qty.raw(),
                Side::Sell => held - working_same - i.qty.raw(),
            };
            if projected.saturating_abs() > policy.instrument.max_position.raw() {
                return Err(RejectCode::POSITION_LIMIT);
            }
            let working = self.oms.instrument_working(id);
            let exposure = position.cost_basis.raw() + working.cost + cost;
            if exposure > policy.instrument.max_exposure.raw() {
                return Err(RejectCode::EXPOSURE_LIMIT);
            }
            let event = self.oms.event_working(id);
            let event_qty = event.qty[0] + event.qty[1];
            if ledger.event_position(m.event).raw() + event_qty + i.qty.raw()
                > policy.event.max_position.raw()
            {
                return Err(RejectCode::EVENT_POSITION_LIMIT);
            }
            if ledger.event_exposure(m.event).raw() + event.cost + cost
                > policy.event.max_exposure.raw()
            {
                return Err(RejectCode::EVENT_EXPOSURE_LIMIT);
            }
        }
        if self.oms.open_of(i.strategy) >= policy.strategy.max_open_orders {
            return Err(RejectCode::STRATEGY_OPEN_ORDERS);
        }
        if self.oms.open() >= policy.global.max_open_orders {
            return Err(RejectCode::GLOBAL_OPEN_ORDERS);
        }
        let venue = m.venue.0 as usize;
        let v = self.venues.get_mut(venue).ok_or(RejectCode::NO_VENUE)?;
        if v.bucket.take_order(now.0) {
            Ok(mode)
        } else {
            Err(RejectCode::RATE_LIMIT)
        }
    }

    /// A cancel or replace: its target must be open and in a state for it;
    /// a cancel passes every kill switch.
    fn gate_change(
        &mut self,
        i: &OrderIntent,
        cancel: bool,
        now: Nanos,
    ) -> Result<Mode, RejectCode> {
        if !self.oms.is_fresh(i.client_order_id) {
            return Err(RejectCode::DUPLICATE_ID);
        }
        let target = match self.oms.changeable(i.target, cancel) {
            Ok(o) => *o,
            Err(false) => return Err(RejectCode::UNKNOWN_ORDER),
            Err(true) => return Err(RejectCode::NOT_CANCELLABLE),
        };
        let m = self
            .markets
            .get(target.instrument)
            .ok_or(RejectCode::UNKNOWN_INSTRUMENT)?;
        let venue = m.venue;
        if !cancel {
            // A replace adds risk like a new order where it raises the quantity.
            if self.kill.state(venue, target.id.strategy()) != Trading::Active
                && i.qty.raw() > target.qty.raw()
            {
                return Err(RejectCode::KILL_SWITCH);
            }
            if i.qty.raw() <= target.cum_qty.raw() || i.qty.raw() % m.qty_step.raw().max(1) != 0 {
                return Err(RejectCode::BAD_QTY);
            }
            m.grid.index_of(i.price).ok_or(RejectCode::OFF_GRID)?;
            if Qty::from_raw(i.qty.raw() - target.cum_qty.raw()).raw()
                > self.policy().order.max_qty.raw()
            {
                return Err(RejectCode::MAX_QTY);
            }
            if i.price == Price::ZERO {
                return Err(RejectCode::BAD_PRICE);
            }
        }
        let bucket = &mut self
            .venues
            .get_mut(venue.0 as usize)
            .ok_or(RejectCode::NO_VENUE)?
            .bucket;
        if cancel {
            bucket.take_cancel(now.0);
        } else if !bucket.take_order(now.0) {
            return Err(RejectCode::RATE_LIMIT);
        }
        Ok(target.mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_at_its_rate_and_never_refuses_a_cancel() {
        let rate = RateLimit {
            capacity: 20,
            refill_per_second: 10,
            order_cost: 10,
            cancel_cost: 2,
        };
        let mut b = TokenBucket::new(&rate);
        assert!(b.take_order(0) && b.take_order(0));
        assert!(!b.take_order(0));
        b.take_cancel(0);
        assert_eq!(b.tokens(), 0);
        // 10 tokens a second: one order's worth after a second.
        assert!(!b.take_order(999_000_000));
        assert!(b.take_order(1_000_000_000));
        assert_eq!(b.tokens(), 0);
    }
}
