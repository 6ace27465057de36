//! `mm`: a market maker for binary contracts.
//!
//! For each market it quotes a bid and an ask around a fair value: the
//! microprice of the top of book, or a fresh signal's probability. The
//! quotes lean against the position (`skew` per contract held), keep at
//! least `min_edge` after the maker fee from the fair value and at least
//! `half_spread` from it, never cross the book (they are post-only), and
//! stay within `max_position`. A quote moves only when its target is
//! `requote_ticks` away, by an amend (a decrease keeps its queue place)
//! rather than a cancel and a new order. Quotes are pulled when the book is
//! stale, crossed or one-sided, while the market is paused, closed or
//! settled, and on a kill.

use super::config::{Param, ParamError, Params};
use super::{Ctx, PerMarket, QuoteSlot, Signal, SlotState, Strategy, ceil_to, floor_to};
use crate::contract::FeeModel;
use crate::model::{
    BookUpdate, EventKind, ExecReport, InstrumentId, Liquidity, MarketEvent, MarketStatus, Nanos,
    Price, Qty, Side, TimeInForce, book_flags,
};

/// The market maker's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmParams {
    /// Contracts per quote.
    pub size: Qty,
    /// Largest position either way, in contracts.
    pub max_position: Qty,
    /// Least distance of a quote from the fair value.
    pub half_spread: Price,
    /// Least edge per contract after the maker fee.
    pub min_edge: Price,
    /// Fair-value shift per contract held (leans the quotes to unwind).
    pub skew: Price,
    /// Ticks a target must move before a quote follows.
    pub requote_ticks: u32,
    /// After a refused order, how long before quoting that market again (ns).
    pub reject_backoff_ns: i64,
    /// The price grid's step.
    pub tick: Price,
}

const ONE: i64 = Price::ONE.raw();
const FRACTION: &str = "a price from 0 to 1 such as \"0.02\"";
const CONTRACTS: &str = "a positive number of contracts such as \"5\"";

impl Params for MmParams {
    const TABLE: &'static [Param] = &[
        Param {
            name: "size",
            default: "5",
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
        Param {
            name: "half_spread",
            default: "0.02",
            min: 0,
            max: ONE,
            whole: false,
            expected: FRACTION,
        },
        Param {
            name: "min_edge",
            default: "0.01",
            min: 0,
            max: ONE,
            whole: false,
            expected: FRACTION,
        },
        Param {
            name: "skew",
            default: "0.001",
            min: 0,
            max: ONE,
            whole: false,
            expected: FRACTION,
        },
        Param {
            name: "requote_ticks",
            default: "1",
            min: ONE,
            max: 1_000 * ONE,
            whole: true,
            expected: "a whole number of ticks from 1 to 1000",
        },
        Param {
            name: "reject_backoff_ms",
            default: "250",
            min: 0,
            max: 3_600_000 * ONE,
            whole: true,
            expected: "a whole number of milliseconds",
        },
        Param {
            name: "tick",
            default: "0.01",
            min: 1,
            max: ONE / 2,
            whole: false,
            expected: FRACTION,
        },
    ];

    fn zero() -> Self {
        MmParams {
            size: Qty::ZERO,
            max_position: Qty::ZERO,
            half_spread: Price::ZERO,
            min_edge: Price::ZERO,
            skew: Price::ZERO,
            requote_ticks: 0,
            reject_backoff_ns: 0,
            tick: Price::ZERO,
        }
    }

    fn apply(&mut self, name: &str, raw: i64) {
        let whole = raw / ONE;
        match name {
            "size" => self.size = Qty::from_raw(raw),
            "max_position" => self.max_position = Qty::from_raw(raw),
            "half_spread" => self.half_spread = Price::from_raw(raw),
            "min_edge" => self.min_edge = Price::from_raw(raw),
            "skew" => self.skew = Price::from_raw(raw),
            "requote_ticks" => self.requote_ticks = u32::try_from(whole).unwrap_or(u32::MAX),
            "reject_backoff_ms" => self.reject_backoff_ns = whole.saturating_mul(1_000_000),
            "tick" => self.tick = Price::from_raw(raw),
            _ => {}
        }
    }
}

impl Default for MmParams {
    fn default() -> Self {
        MmParams::defaults()
    }
}

/// What the market maker counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmCounters {
    /// New quotes placed.
    pub placed: u64,
    /// Quotes moved by an amend or decrease.
    pub moved: u64,
    /// Quotes cancelled (pulled or out of room).
    pub pulled: u64,
    /// Fills received.
    pub fills: u64,
    /// Refusals received.
    pub rejects: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Market {
    bid: QuoteSlot,
    ask: QuoteSlot,
    /// Contracts held (raw), YES positive.
    position: i64,
    last: Option<BookUpdate>,
    signal: Option<Signal>,
    retry_at: Nanos,
    /// Paused, closed or settled, as the venue last said.
    closed: bool,
}

/// The market maker.
#[derive(Debug)]
pub struct MarketMaker {
    params: MmParams,
    fees: FeeModel,
    markets: PerMarket<Market>,
    halted: bool,
    counters: MmCounters,
}

impl MarketMaker {
    /// Quotes `instruments`, paying `fees`.
    pub fn new(params: MmParams, fees: FeeModel, instruments: &[InstrumentId]) -> MarketMaker {
        MarketMaker {
            params,
            fees,
            markets: PerMarket::new(instruments),
            halted: false,
            counters: MmCounters::default(),
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> MmCounters {
        self.counters
    }

    /// The position held in `instrument` (contracts, YES positive).
    pub fn position(&self, instrument: InstrumentId) -> Qty {
        self.market(instrument)
            .map_or(Qty::ZERO, |m| Qty::from_raw(m.position))
    }

    /// The bid and ask working in `instrument`.
    pub fn quotes(&self, instrument: InstrumentId) -> Option<(QuoteSlot, QuoteSlot)> {
        self.market(instrument).map(|m| (m.bid, m.ask))
    }

    fn market(&self, i: InstrumentId) -> Option<&Market> {
        self.markets.get(i)
    }

    /// The bid and ask it wants in a market given its book, position and
    /// signal: `None` for a side it would not quote.
    fn targets(&self, m: &Market, now: Nanos) -> Option<[Option<(Price, Qty)>; 2]> {
        let u = m.last?;
        let one_sided = u.book_flags & (book_flags::NO_BID | book_flags::NO_ASK) != 0;
        let broken = u.book_flags & (book_flags::STALE | book_flags::CROSSED) != 0;
        if self.halted || m.closed || one_sided || broken || u.best_bid >= u.best_ask {
            return None;
        }
        let p = &self.params;
        let (bid, ask) = (i128::from(u.best_bid.raw()), i128::from(u.best_ask.raw()));
        let (bq, aq) = (
            i128::from(u.best_bid_qty.raw()),
            i128::from(u.best_ask_qty.raw()),
        );
        let fair = match m.signal {
            Some(s) if s.is_fresh(now) => i128::from(s.probability.raw()),
            // The microprice: the side with less size is the likelier to go.
            _ if bq + aq > 0 => (bid * aq + ask * bq) / (bq + aq),
            _ => (bid + ask) / 2,
        };
        let fair = i64::try_from(fair).ok()?;
        let skewed = fair
            - (i128::from(m.position) * i128::from(p.skew.raw()) / i128::from(Qty::ONE.raw()))
                as i64;
        let fee = self
            .fees
            .trade_fee(Liquidity::Maker, Qty::ONE, Price::from_raw(fair))
            .raw();
        let half = p.half_spread.raw().max(p.min_edge.raw() + fee);
        let tick = p.tick.raw();
        let (low, high) = (tick, Price::ONE.raw() - tick);
        let bid_px = floor_to(skewed - half, tick).min(u.best_ask.raw() - tick);
        let ask_px = ceil_to(skewed + half, tick).max(u.best_bid.raw() + tick);
        let room_buy = p.max_position.raw() - m.position;
        let room_sell = p.max_position.raw() + m.position;
        let side = |px: i64, room: i64| {
            let qty = p.size.raw().min(room);
            ((low..=high).contains(&px) && qty > 0)
                .then(|| (Price::from_raw(px), Qty::from_raw(qty)))
        };
        Some([side(bid_px, room_buy), side(ask_px, room_sell)])
    }

    fn requote(&mut self, instrument: InstrumentId, ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get(instrument).copied() else {
            return;
        };
        let targets = self.targets(&m, ctx.now()).unwrap_or([None, None]);
        let may_place = ctx.now() >= m.retry_at;
        let requote = i64::from(self.params.requote_ticks) * self.params.tick.raw();
        let mut m = m;
        for (slot, side, target) in [
            (&mut m.bid, Side::Buy, targets[0]),
            (&mut m.ask, Side::Sell, targets[1]),
        ] {
            match (slot.state, target) {
                (SlotState::Empty, Some((px, qty))) if may_place => {
                    slot.place(
                        ctx,
                        instrument,
                        side,
                        px,
                        qty,
                        TimeInForce::GoodTillCancelled,
                    );
                    self.counters.placed += 1;
                }
                (SlotState::Live, None) => {
                    slot.cancel(ctx, instrument);
                    self.counters.pulled += 1;
                }
                (SlotState::Live, Some((px, qty))) if may_place => {
                    let moved = (px.raw() - slot.price.raw()).abs() >= requote;
                    let smaller = qty.raw() < slot.leaves().raw();
                    if moved || smaller {
                        slot.replace(ctx, instrument, px, qty);
                        self.counters.moved += 1;
                    }
                }
                _ => {}
            }
        }
        if let Some(slot) = self.markets.get_mut(instrument) {
            *slot = m;
        }
    }

    fn pull_all(&mut self, ctx: &mut Ctx<'_>) {
        for i in 0..self.markets.len() {
            self.requote(InstrumentId(i as u32), ctx);
        }
    }
}

impl Strategy for MarketMaker {
    fn kind(&self) -> &'static str {
        "mm"
    }

    fn on_book(&mut self, book: &BookUpdate, ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get_mut(book.header.instrument) else {
            return;
        };
        m.last = Some(*book);
        self.requote(book.header.instrument, ctx);
    }

    fn on_exec(&mut self, r: &ExecReport, ctx: &mut Ctx<'_>) {
        let backoff = self.params.reject_backoff_ns;
        let Some(m) = self.markets.get_mut(r.header.instrument) else {
            return;
        };
        for (slot, sign) in [(&mut m.bid, 1), (&mut m.ask, -1)] {
            if let Some(filled) = slot.on_report(r) {
                m.position += sign * filled.raw();
            }
        }
        match r.header.kind {
            EventKind::Fill => self.counters.fills += 1,
            // Wait before trying again (a new quote or a move; a cancel
            // never waits): a refusal repeated at the rate of book updates
            // would only spend the order budget.
            EventKind::Reject | EventKind::ReplaceRejected => {
                self.counters.rejects += 1;
                m.retry_at = Nanos(ctx.now().0.saturating_add(backoff));
            }
            _ => {}
        }
    }

    fn on_status(&mut self, status: &MarketEvent, ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get_mut(status.header.instrument) else {
            return;
        };
        // A gap is the feed's, not the venue's: the stale book pulls quotes.
        m.closed = match status.status {
            MarketStatus::Open => false,
            MarketStatus::Paused | MarketStatus::Closed | MarketStatus::Settled => true,
            MarketStatus::Gap => m.closed,
        };
        self.requote(status.header.instrument, ctx);
    }

    fn on_signal(&mut self, signal: &Signal, ctx: &mut Ctx<'_>) {
        let Some(m) = self.markets.get_mut(signal.instrument) else {
            return;
        };
        m.signal = Some(*signal);
        self.requote(signal.instrument, ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        for k in 0..self.markets.len() {
            let i = InstrumentId(k as u32);
            let Some(m) = self.markets.get_mut(i) else {
                continue;
            };
            if m.signal.is_some_and(|s| !s.is_fresh(ctx.now())) {
                m.signal = None;
                self.requote(i, ctx);
            }
        }
    }

    fn set_param(&mut self, name: &str, value: i64) -> Result<(), ParamError> {
        self.params.set(name, value)
    }

    fn on_halt(&mut self, halted: bool, ctx: &mut Ctx<'_>) {
        self.halted = halted;
        self.pull_all(ctx);
    }
}
