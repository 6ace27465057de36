//! `taker`: acts on external signals by crossing the book.
//!
//! When a fresh signal's probability is above the best ask (or below the
//! best bid) by more than the taker fee plus `threshold`, it sends an
//! immediate-or-cancel order at that best price, sized by a fractional
//! Kelly stake: `kelly_fraction × confidence × f*` of `bankroll`, where
//! `f* = (p − ask) / (1 − ask)` for buying YES and `(bid − p) / bid` for
//! selling it, capped by `max_qty`, the size shown and `max_position`.
//! Each signal trades at most once.

use super::config::{Param, ParamError, Params};
use super::{Ctx, PerMarket, QuoteSlot, Signal, Strategy};
use crate::contract::FeeModel;
use crate::model::{
    BookUpdate, EventKind, ExecReport, InstrumentId, Liquidity, Money, Price, Qty, Side,
    TimeInForce, book_flags,
};

/// The taker's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakerParams {
    /// Edge per contract beyond the fee needed to trade.
    pub threshold: Price,
    /// The share of the Kelly stake to bet (0 to 1).
    pub kelly_fraction: Price,
    /// The capital the stake is a fraction of, in dollars.
    pub bankroll: Money,
    /// Largest order, in contracts.
    pub max_qty: Qty,
    /// Largest position either way, in contracts.
    pub max_position: Qty,
}

const ONE: i64 = Price::ONE.raw();
const FRACTION: &str = "a number from 0 to 1 such as \"0.25\"";
const CONTRACTS: &str = "a positive number of contracts such as \"20\"";

impl Params for TakerParams {
    const TABLE: &'static [Param] = &[
        Param {
            name: "threshold",
            default: "0.02",
            min: 0,
            max: ONE,
            whole: false,
            expected: FRACTION,
        },
        Param {
            name: "kelly_fraction",
            default: "0.25",
            min: 0,
            max: ONE,
            whole: false,
            expected: FRACTION,
        },
        Param {
            name: "bankroll",
            default: "1000",
            min: 1,
            max: i64::MAX,
            whole: false,
            expected: "a positive dollar amount such as \"1000\"",
        },
        Param {
            name: "max_qty",
            default: "20",
            min: ONE,
            max: i64::MAX,
            whole: false,
            expected: CONTRACTS,
        },
        Param {
            name: "max_position",
            default: "50",
            min: ONE,
            max: i64::MAX,
            whole: false,
            expected: CONTRACTS,
        },
    ];

    fn zero() -> Self {
        TakerParams {
            threshold: Price::ZERO,
            kelly_fraction: Price::ZERO,
            bankroll: Money::ZERO,
            max_qty: Qty::ZERO,
            max_position: Qty::ZERO,
        }
    }

    fn apply(&mut self, name: &str, raw: i64) {
        match name {
            "threshold" => self.threshold = Price::from_raw(raw),
            "kelly_fraction" => self.kelly_fraction = Price::from_raw(raw),
            "bankroll" => self.bankroll = Money::from_raw(raw),
            "max_qty" => self.max_qty = Qty::from_raw(raw),
            "max_position" => self.max_position = Qty::from_raw(raw),
            _ => {}
        }
    }
}

impl Default for TakerParams {
    fn default() -> Self {
        TakerParams::defaults()
    }
}

/// What the taker counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakerCounters {
    /// Orders sent.
    pub orders: u64,
    /// Contracts filled.
    pub filled: u64,
    /// Signals that found no edge worth the fee and threshold.
    pub no_edge: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Market {
    order: QuoteSlot,
    position: i64,
    last: Option<BookUpdate>,
    /// The signal not yet traded on.
    signal: Option<Signal>,
}

/// The signal taker.
#[derive(Debug)]
pub struct Taker {
    params: TakerParams,
    fees: FeeModel,
    markets: PerMarket<Market>,
    halted: bool,
    counters: TakerCounters,
}

impl Taker {
    /// Trades `instruments`, paying `fees`.
    pub fn new(params: TakerParams, fees: FeeModel, instruments: &[InstrumentId]) -> Taker {
        Taker {
            params,
            fees,
            markets: PerMarket::new(instruments),
            halted: false,
            counters: TakerCounters::default(),
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> TakerCounters {
        self.counters
    }

    /// The order to send for a signal against a book: side, price, count.
    fn decide(&self, m: &Market, s: &Signal) -> Option<(Side, Price, Qty)> {
        let u = m.last?;
        if u.book_flags & (book_flags::STALE | book_flags::CROSSED) != 0 {
            return None;
        }
        let p = &self.params;
        let one = i128::from(Price::ONE.raw());
        let prob = i128::from(s.probability.raw());
        let fee = |px: Price| i128::from(self.fees.trade_fee(Liquidity::Taker, Qty::ONE, px).raw());
        let threshold = i128::from(p.threshold.raw());
        let buy = u.book_flags & book_flags::NO_ASK == 0 && {
            let ask = i128::from(u.best_ask.raw());
            prob - ask > fee(u.best_ask) + threshold
        };
        let sell = u.book_flags & book_flags::NO_BID == 0 && {
            let bid = i128::from(u.best_bid.raw());
            bid - prob > fee(u.best_bid) + threshold
        };
        // Kelly: the fraction of capital f*; cost is what one contract puts at risk.
        let (side, price, shown, f_star, cost, room) = if buy {
            let ask = i128::from(u.best_ask.raw());
            let room = p.max_position.raw() - m.position;
            (
                Side::Buy,
                u.best_ask,
                u.best_ask_qty,
                (prob - ask) * one / (one - ask),
                ask,
                room,
            )
        } else if sell {
            let bid = i128::from(u.best_bid.raw());
            let room = p.max_position.raw() + m.position;
            (
                Side::Sell,
                u.best_bid,
                u.best_bid_qty,
                (bid - prob) * one / bid,
                one - bid,
                room,
            )
        } else {
            return None;
        };
        let fraction = f_star * i128::from(p.kelly_fraction.raw()) / one
            * i128::from(s.confidence.raw())
            / one;
        let stake = i128::from(p.bankroll.raw()) * fraction / one;
        let unit = i128::from(Qty::ONE.raw());
        let whole = stake / cost.max(1);
        let count = i64::try_from(whole)
            .unwrap_or(i64::MAX)
            .min(p.max_qty.raw() / unit as i64)
            .min(shown.raw() / unit as i64)
            .min(room / unit as i64);
        (count > 0).then(|| (side, price, Qty::from_raw(count * unit as i64)))
    }

    fn try_take(&mut self, instrument: InstrumentId, ctx: &mut Ctx<'_>) {
        let Some(mut m) = self.markets.get(instrument).copied() else {
            return;
        };
        let Some(s) = m.signal else { return };
        if !s.is_fresh(ctx.now()) {
            m.signal = None;
        } else if !self.halted && m.order.is_settled() && m.order.state == Default::default() {
            match self.decide(&m, &s) {
                Some((side, price, qty)) => {
                    m.order.place(
                        ctx,
                        instrument,
                        side,
                        price,
                        qty,
                        TimeInForce::ImmediateOrCancel,
                    );
                    m.signal = None;
                    self.counters.orders += 1;
                }
                None if m.last.is_some() => {
                    self.counters.no_edge += 1;
                    m.signal = None;
                }
                None => {}
            }
        }
        if let Some(slot) = self.markets.get_mut(instrument) {
            *slot = m;
        }
    }
}

impl Strategy for Taker {
    fn kind(&self) -> &'static str {
        "taker"
    }

    fn on_book(&mut self, book: &BookUpdate, ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get_mut(book.header.instrument) else {
            return;
        };
        m.last = Some(*book);
        if m.signal.is_some() {
            self.try_take(book.header.instrument, ctx);
        }
    }

    fn on_exec(&mut self, r: &ExecReport, _ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get_mut(r.header.instrument) else {
            return;
        };
        let sign = if r.side == Side::Sell { -1 } else { 1 };
        if let Some(filled) = m.order.on_report(r)
            && r.header.kind == EventKind::Fill
        {
            m.position += sign * filled.raw();
            self.counters.filled += (filled.raw() / Qty::ONE.raw()) as u64;
        }
    }

    fn on_signal(&mut self, signal: &Signal, ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get_mut(signal.instrument) else {
            return;
        };
        m.signal = Some(*signal);
        self.try_take(signal.instrument, ctx);
    }

    fn set_param(&mut self, name: &str, value: i64) -> Result<(), ParamError> {
        self.params.set(name, value)
    }

    fn on_halt(&mut self, halted: bool, _ctx: &mut Ctx<'_>) {
        // Its orders are immediate: nothing rests to pull.
        self.halted = halted;
    }
}
