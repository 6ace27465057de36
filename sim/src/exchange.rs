//! The pure matching engine of `pt sim`: books, accounts, fees and settlement.
//!
//! # Model
//!
//! Every market is a binary contract that pays $1 if it settles YES. It has
//! one book on the YES price: bids buy YES at `p`, asks sell YES at `p`, which
//! is the same as buying NO at `1 − p` (the server translates Kalshi's "NO bid
//! at q" into a YES ask at `1 − q` before it gets here). Orders match by
//! price-time priority and every trade is at the resting (maker) order's price.
//!
//! Cash moves per fill, exactly, in fixed point at 1e-8 dollars ([`Money`]):
//!
//! - a bid fill of `n` at `p` pays `n × p` and adds `+n` to the position;
//! - an ask fill of `n` at `p` pays `n × (1 − p)` (the NO leg) and adds `−n`;
//! - when a fill reduces an opposite position, each netted YES/NO pair pays
//!   out $1 at once;
//! - fees are charged per trade (per match) and go to [`Exchange::fees_collected`].
//!
//! Both legs of a trade together pay exactly `n` dollars, so at any moment
//! `total_cash + fees_collected + Σ open_interest × $1` equals the cash that
//! was deposited; settlement pays out the open interest and closes the market.
//! The [`HOUSE`] account provides background liquidity and is never
//! balance-checked; its cash may go negative.
//!
//! Order quantities follow Kalshi: `remaining_count` is what still rests on the
//! book (zero once the order is canceled or executed), `fill_count` what
//! traded, and [`Order::canceled_count`] what was taken off without trading
//! (cancel, decrease, expiry, self-trade prevention, IOC/FOK remainders), so
//! `fill_count + remaining_count + canceled_count == initial_count` always.
//!
//! Nothing here does I/O or reads a clock: callers pass `now_ms`, and every
//! state change is reported as [`Event`]s appended to the caller's vector, in
//! the order it happened. Order, fill and trade ids are UUID-shaped strings
//! from a seeded generator, so a run is reproducible from its seed.
//!
//! # Memory
//!
//! The exchange keeps every order and fill of ordinary users, so they can be
//! read back. A user marked with [`Exchange::set_ephemeral`] (the background
//! model's accounts) leaves no history: its orders are forgotten as soon as
//! they stop resting and its fills are only reported as events, so a
//! simulator that runs for days holds only what rests on its books.

use core::fmt;
use core::hash::{BuildHasherDefault, Hasher};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque, btree_map};

use pt_engine::instrument::PriceGrid;
use pt_engine::model::{Liquidity, Price, Qty, UNIT};
use serde::{Deserialize, Serialize};

mod book;
mod fees;
mod groups;
mod ids;
mod ledger;
mod matching;
mod modify;
mod orders;
#[cfg(test)]
mod tests;
mod types;
mod views;

use book::*;
use fees::*;
use ids::*;
use ledger::*;
use matching::*;
use orders::*;
pub use pt_engine::contract::{FeeAccumulator, FeeModel, FeeType};
pub use types::*;

/// Money in dollars at 1e-8 (same scale as [`Price`]).
pub type Money = i64;
/// An account.
pub type UserId = u32;
/// The background liquidity account: never balance-checked.
pub const HOUSE: UserId = 0;

/// The largest count one order may have: a billion contracts. It keeps every
/// fee and cost computation far inside `i128`.
pub const MAX_COUNT: Qty = Qty::from_raw(1_000_000_000 * UNIT);

/// Counts are whole hundredths of a contract: raw units per hundredth.
const COUNT_STEP: i64 = 1_000_000;

/// Checks an order count: positive, at most two decimals, at most [`MAX_COUNT`].
fn check_count(field: &str, count: Qty) -> Result<(), Reject> {
    if count.raw() <= 0 || count.raw() % COUNT_STEP != 0 || count > MAX_COUNT {
        return Err(Reject::new(
            400,
            "invalid_count",
            format!(
                "{field} {count} is invalid; expected a positive number of contracts with at most 2 decimals, at most {MAX_COUNT}"
            ),
        ));
    }
    Ok(())
}

/// Checks a price: strictly inside (0, 1) and on the market's grid.
fn check_price(spec: &MarketSpec, price: Price) -> Result<(), Reject> {
    if price.raw() <= 0 || price >= Price::ONE || spec.grid.index_of(price).is_none() {
        let range = match (spec.grid.min(), spec.grid.max()) {
            (Some(lo), Some(hi)) => format!(" ({lo} to {hi})"),
            _ => String::new(),
        };
        return Err(Reject::new(
            400,
            "invalid_price",
            format!(
                "price {price} is invalid for {}; expected a price strictly between 0 and 1 on the market's tick grid{range}",
                spec.ticker
            ),
        ));
    }
    Ok(())
}

/// The exchange: markets, accounts, and every order and fill of users that
/// keep history (see [`Exchange::set_ephemeral`]).
#[derive(Debug, Clone)]
pub struct Exchange {
    pub(crate) fees: FeeModel,
    pub(crate) ids: IdGen,
    pub(crate) paused: bool,
    pub(crate) markets: BTreeMap<String, Market>,
    pub(crate) orders: OrderStore,
    pub(crate) ledger: Ledger,
    /// Order groups by id.
    pub(crate) groups: BTreeMap<String, groups::OrderGroup>,
    /// The group of each order placed in one.
    pub(crate) group_of: HashMap<String, String>,
}

impl Exchange {
    /// An empty exchange. `seed` makes the generated ids deterministic.
    pub fn new(fees: FeeModel, seed: u64) -> Exchange {
        Exchange {
            fees,
            ids: IdGen(seed),
            paused: false,
            markets: BTreeMap::new(),
            orders: OrderStore::default(),
            ledger: Ledger::default(),
            groups: BTreeMap::new(),
            group_of: HashMap::new(),
        }
    }

    /// Lists a market; a duplicate ticker is rejected.
    pub fn add_market(&mut self, spec: MarketSpec) -> Result<(), Reject> {
        if self.markets.contains_key(&spec.ticker) {
            return Err(Reject::new(
                409,
                "market_already_exists",
                format!(
                    "ticker {:?} is already listed; expected a new ticker",
                    spec.ticker
                ),
            ));
        }
        self.markets.insert(
            spec.ticker.clone(),
            Market {
                spec,
                bids: Ladder::new(),
                asks: Ladder::new(),
                positions: BTreeMap::new(),
                last_price: None,
                volume: Qty::ZERO,
                outcome: None,
            },
        );
        Ok(())
    }

    /// Opens (or resets) an account with `balance`. [`HOUSE`] needs none.
    pub fn open_account(&mut self, user: UserId, balance: Money) {
        self.ledger.accounts.insert(user, balance);
    }

    /// The exchange keeps no history for `user`: its orders are forgotten
    /// once they no longer rest and its fills are not stored, so
    /// [`Exchange::order`] and [`Exchange::orders`] see only its resting
    /// orders and [`Exchange::fills`] nothing. Its account, positions, fees
    /// and the public events are unaffected. For the background liquidity
    /// accounts, which place orders forever: memory stays bounded by what
    /// rests. History the user already has is dropped.
    pub fn set_ephemeral(&mut self, user: UserId) {
        let orders = &mut self.orders;
        if orders.is_ephemeral(user) {
            return;
        }
        orders.ephemeral.push(user);
        for idx in orders.by_user.remove(&user).unwrap_or_default() {
            if let Some(Some(e)) = orders.slots.get_mut(idx) {
                e.ephemeral = true;
            }
            orders.release_if_done(idx);
        }
        self.ledger.fills.remove(&user);
    }

    fn ctx<'a>(
        &'a mut self,
        ticker: &str,
        now_ms: i64,
        events: &'a mut Vec<Event>,
    ) -> Result<Ctx<'a>, Reject> {
        let market = self
            .markets
            .get_mut(ticker)
            .ok_or_else(|| Reject::market_not_found(ticker))?;
        Ok(Ctx {
            market,
            orders: &mut self.orders,
            ledger: &mut self.ledger,
            ids: &mut self.ids,
            fees: self.fees,
            now_ms,
            events,
            subject: None,
        })
    }

    fn open_market(&self, ticker: &str, now_ms: i64) -> Result<&Market, Reject> {
        let market = self
            .markets
            .get(ticker)
            .ok_or_else(|| Reject::market_not_found(ticker))?;
        if self.paused {
            return Err(Reject::new(
                409,
                "trading_is_paused",
                "trading is paused; expected orders only after it resumes".to_owned(),
            ));
        }
        if market.closed(now_ms) {
            return Err(Reject::new(
                409,
                "market_closed",
                format!("ticker {ticker:?} is closed to trading"),
            ));
        }
        Ok(market)
    }

    /// The worst-case fee of trading `count` from `side` at `limit`: the
    /// trade fee at the fillable price nearest 0.50, where `P × (1 − P)` is
    /// largest, plus at most one step of the account's precision of
    /// rounding.
    fn worst_fee(&self, side: BookSide, count: Qty, limit: Price, post_only: bool) -> Money {
        let (low, high) = match side {
            BookSide::Bid => (Price::ZERO, limit),
            BookSide::Ask => (limit, Price::ONE),
        };
        let worst = |liquidity| self.fees.worst_trade_fee(liquidity, count, low, high).raw();
        let fee = if post_only {
            worst(Liquidity::Maker)
        } else {
            worst(Liquidity::Maker).max(worst(Liquidity::Taker))
        };
        fee.saturating_add(self.fees.precision.raw())
    }

    /// Rejects unless `user` can pay for `count` at `price`; the part that
    /// only closes an opposite position (worth its own payout) costs nothing.
    fn check_balance(
        &self,
        market: &Market,
        user: UserId,
        side: BookSide,
        count: Qty,
        price: Price,
        post_only: bool,
    ) -> Result<(), Reject> {
        if user == HOUSE {
            return Ok(());
        }
        let position = market.positions.get(&user).map_or(0, |p| p.position.raw());
        let closing = side.reducible(position).min(count.raw());
        let opening = Qty::from_raw(count.raw() - closing);
        let needed = leg_cost(side, opening, price)
            .saturating_add(self.worst_fee(side, count, price, post_only));
        let balance = self.balance(user);
        if balance < needed {
            return Err(Reject::new(
                400,
                "insufficient_balance",
                format!(
                    "balance ${} is below the ${} this order may cost (count {count} at {price} plus fees)",
                    dollars(balance),
                    dollars(needed)
                ),
            ));
        }
        Ok(())
    }

    fn own_resting(&self, user: UserId, order_id: &str) -> Result<usize, Reject> {
        let idx = self
            .orders
            .find(order_id)
            .ok_or_else(|| Reject::order_not_found(order_id))?;
        let o = self
            .orders
            .get(idx)
            .filter(|o| o.user == user)
            .ok_or_else(|| Reject::order_not_found(order_id))?;
        if o.status != OrderStatus::Resting {
            return Err(Reject::new(
                404,
                "not_found",
                format!(
                    "order_id {order_id:?} is {:?}, not resting; only resting orders can change",
                    o.status
                ),
            ));
        }
        Ok(idx)
    }

    fn check_client_id(
        &self,
        user: UserId,
        cid: Option<&str>,
        except: Option<usize>,
    ) -> Result<(), Reject> {
        match cid {
            Some(cid) if self.orders.client_id_taken(user, cid, except) => Err(Reject::new(
                409,
                "order_already_exists",
                format!(
                    "client_order_id {cid:?} is already used by a resting order; expected a new id"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Places an order and matches it; returns its state afterwards. Orders
    /// whose expiration has passed are expired first.
    pub fn place(
        &mut self,
        order: NewOrder,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        self.expire(now_ms, events);
        let market = self.open_market(&order.ticker, now_ms)?;
        check_count("count", order.count)?;
        check_price(&market.spec, order.price)?;
        if order.expiration_ts.is_some() && order.time_in_force != TimeInForce::GoodTillCanceled {
            return Err(Reject::new(
                400,
                "invalid_parameters",
                format!(
                    "expiration_ts {:?} cannot be combined with time_in_force {:?}; expected no expiration for IOC and FOK orders",
                    order.expiration_ts, order.time_in_force
                ),
            ));
        }
        self.check_client_id(order.user, order.client_order_id.as_deref(), None)?;
        let mut count = order.count;
        if order.reduce_only {
            let position = market
                .positions
                .get(&order.user)
                .map_or(0, |p| p.position.raw());
            let reducible = order.side.reducible(position);
            if reducible == 0 {
                return Err(Reject::new(
                    409,
                    "reduce_only_no_position",
                    format!(
                        "reduce_only {:?} order in {} would not reduce the position {}; expected a position on the other side",
                        order.side,
                        order.ticker,
                        Qty::from_raw(position)
                    ),
                ));
            }
            count = count.min(Qty::from_raw(reducible));
        }
        if order.post_only && market.would_cross(order.side, order.price) {
            return Err(Reject::new(
                409,
                "post_only_cross",
                format!(
                    "post_only {:?} at price {} would cross the book; expected a price that rests",
                    order.side, order.price
                ),
            ));
        }
        self.check_balance(
            market,
            order.user,
            order.side,
            count,
            order.price,
            order.post_only,
        )?;

        let expired_on_arrival = order
            .expiration_ts
            .is_some_and(|ts| ts.saturating_mul(1000) <= now_ms);
        let fok = order.time_in_force == TimeInForce::FillOrKill;
        let cancel_rest =
            order.time_in_force != TimeInForce::GoodTillCanceled || expired_on_arrival;
        let (key, order_id) = self.ids.uuid_with_key();
        // The market by field, so the ticker can move into the order.
        let market = self
            .markets
            .get_mut(&order.ticker)
            .ok_or_else(|| Reject::market_not_found(&order.ticker))?;
        let idx = self.orders.insert(
            Order {
                order_id,
                user: order.user,
                client_order_id: order.client_order_id,
                ticker: order.ticker,
                side: order.side,
                price: order.price,
                initial_count: count,
                fill_count: Qty::ZERO,
                remaining_count: count,
                canceled_count: Qty::ZERO,
                status: OrderStatus::Resting,
                time_in_force: order.time_in_force,
                self_trade_prevention: order.self_trade_prevention,
                post_only: order.post_only,
                reduce_only: order.reduce_only,
                expiration_ts: order.expiration_ts,
                taker_fees: 0,
                maker_fees: 0,
                taker_fill_cost: 0,
                maker_fill_cost: 0,
                created_ms: now_ms,
                last_update_ms: now_ms,
                cancel_order_on_pause: order.cancel_order_on_pause,
            },
            key,
        );

        let mut ctx = Ctx {
            market,
            orders: &mut self.orders,
            ledger: &mut self.ledger,
            ids: &mut self.ids,
            fees: self.fees,
            now_ms,
            events,
            subject: Some(idx),
        };
        let events_from = ctx.events.len();
        if fok && ctx.fillable(idx) < count {
            ctx.finish(idx, true);
        } else {
            let stopped = ctx.match_taker(idx);
            ctx.finish(idx, cancel_rest || stopped);
        }
        let placed = self
            .orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(""));
        // Resting orders in groups that this one traded with.
        // (The order's own fills are counted by `place_in_group`.)
        if let Ok(p) = &placed {
            let taker = p.order_id.clone();
            self.count_group_fills(events_from, events, now_ms, &|id| id != taker);
        }
        placed
    }

    /// Cancels a resting order of `user`; returns its state and the count
    /// taken off the book.
    pub fn cancel(
        &mut self,
        user: UserId,
        order_id: &str,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<(Order, Qty), Reject> {
        let idx = self.own_resting(user, order_id)?;
        let ticker = self.orders[idx].ticker.clone();
        let mut ctx = self.ctx(&ticker, now_ms, events)?;
        ctx.subject = Some(idx);
        let reduced = ctx.cancel_resting(idx);
        let order = self
            .orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(order_id))?;
        Ok((order, reduced))
    }

    /// Cancels resting orders whose `expiration_ts × 1000 <= now_ms`.
    pub fn expire(&mut self, now_ms: i64, events: &mut Vec<Event>) {
        while let Some(&Reverse((at, seq, idx))) = self.orders.expiries.peek() {
            if at > now_ms {
                break;
            }
            self.orders.expiries.pop();
            let Some(e) = self.orders.entry(idx) else {
                continue;
            };
            if e.seq != seq || e.order.status != OrderStatus::Resting {
                continue;
            }
            let ticker = e.order.ticker.clone();
            if let Ok(mut ctx) = self.ctx(&ticker, now_ms, events) {
                ctx.cancel_resting(idx);
            }
        }
    }

    /// Settles a market: cancels its resting orders, pays $1 per YES
    /// contract (`Yes`) or per NO contract (`No`), zeroes the positions and
    /// closes the market.
    pub fn settle(
        &mut self,
        ticker: &str,
        outcome: Outcome,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let mut ctx = self.ctx(ticker, now_ms, events)?;
        if ctx.market.outcome.is_some() {
            return Err(Reject::new(
                409,
                "market_closed",
                format!("ticker {ticker:?} is already settled"),
            ));
        }
        for idx in ctx.market.resting() {
            ctx.cancel_resting(idx);
        }
        for (&user, pos) in ctx.market.positions.iter_mut() {
            let mut holding = holding_of(pos);
            let payout = holding.settle(outcome == Outcome::Yes).raw();
            set_holding(pos, &holding);
            pos.last_updated_ms = now_ms;
            ctx.ledger.credit(user, payout);
        }
        ctx.market.outcome = Some(outcome);
        ctx.events.push(Event::Settled {
            ticker: ticker.to_owned(),
            outcome,
            ts_ms: now_ms,
        });
        Ok(())
    }

    /// Pauses or resumes trading on every market. Pausing cancels the
    /// resting orders placed with `cancel_order_on_pause`.
    pub fn set_paused(&mut self, paused: bool, now_ms: i64, events: &mut Vec<Event>) {
        self.paused = paused;
        if !paused {
            return;
        }
        let tickers: Vec<String> = self.markets.keys().cloned().collect();
        for ticker in tickers {
            let Ok(mut ctx) = self.ctx(&ticker, now_ms, events) else {
                continue;
            };
            for idx in ctx.market.resting() {
                if ctx.orders.get(idx).is_some_and(|o| o.cancel_order_on_pause) {
                    ctx.cancel_resting(idx);
                }
            }
        }
    }
}
