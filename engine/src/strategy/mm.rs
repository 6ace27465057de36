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
//! stale, crossed or one-sided, and on a kill.

use super::config::StrategyFile;
use super::{Ctx, QuoteSlot, Signal, SlotState, Strategy, ceil_to, floor_to};
use crate::config::{ConfigError, Reader};
use crate::contract::FeeModel;
use crate::model::{
    BookUpdate, EventKind, ExecReport, InstrumentId, Liquidity, Nanos, Price, Qty, Side,
    TimeInForce, book_flags,
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

impl Default for MmParams {
    fn default() -> Self {
        let p = |s: &str| Price::parse(s).expect("valid default");
        MmParams {
            size: Qty::parse("5").expect("valid default"),
            max_position: Qty::parse("50").expect("valid default"),
            half_spread: p("0.02"),
            min_edge: p("0.01"),
            skew: p("0.001"),
            requote_ticks: 1,
            reject_backoff_ns: 250_000_000,
            tick: p("0.01"),
        }
    }
}

impl MmParams {
    /// Reads the parameters of entry `index`, defaults for those absent.
    pub fn read(r: &Reader<'_>, f: &StrategyFile, index: usize) -> Result<MmParams, ConfigError> {
        let d = MmParams::default();
        let key = |k: &str| format!("strategy[{index}].{k}");
        let one = Price::ONE.raw();
        let fraction = "a price from 0 to 1 such as \"0.02\"";
        let contracts = "a positive number of contracts such as \"5\"";
        let tick = r.decimal_in(&key("tick"), &f.tick, "0.01", 1..=one / 2, fraction)?;
        Ok(MmParams {
            size: Qty::from_raw(r.decimal(&key("size"), &f.size, "5", 1, contracts)?),
            max_position: Qty::from_raw(r.decimal(
                &key("max_position"),
                &f.max_position,
                "50",
                1,
                contracts,
            )?),
            half_spread: Price::from_raw(r.decimal_in(
                &key("half_spread"),
                &f.half_spread,
                "0.02",
                0..=one,
                fraction,
            )?),
            min_edge: Price::from_raw(r.decimal_in(
                &key("min_edge"),
                &f.min_edge,
                "0.01",
                0..=one,
                fraction,
            )?),
            skew: Price::from_raw(r.decimal_in(
                &key("skew"),
                &f.skew,
                "0.001",
                0..=one,
                fraction,
            )?),
            requote_ticks: r.count(&key("requote_ticks"), &f.requote_ticks, d.requote_ticks, 1)?,
            reject_backoff_ns: i64::from(r.count(
                &key("reject_backoff_ms"),
                &f.reject_backoff_ms,
                250,
                0,
            )?) * 1_000_000,
            tick: Price::from_raw(tick),
        })
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
}

/// The market maker.
#[derive(Debug)]
pub struct MarketMaker {
    params: MmParams,
    fees: FeeModel,
    /// By instrument id; `None` for markets it does not trade.
    markets: Vec<Option<Market>>,
    halted: bool,
    counters: MmCounters,
}

impl MarketMaker {
    /// Quotes `instruments`, paying `fees`.
    pub fn new(params: MmParams, fees: FeeModel, instruments: &[InstrumentId]) -> MarketMaker {
        let len = instruments
            .iter()
            .map(|i| i.0 as usize + 1)
            .max()
            .unwrap_or(0);
        let mut markets = vec![None; len];
        for i in instruments {
            markets[i.0 as usize] = Some(Market::default());
        }
        MarketMaker {
            params,
            fees,
            markets,
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
        self.markets.get(i.0 as usize)?.as_ref()
    }

    /// The bid and ask it wants in a market given its book, position and
    /// signal: `None` for a side it would not quote.
    fn targets(&self, m: &Market, now: Nanos) -> Option<[Option<(Price, Qty)>; 2]> {
        let u = m.last?;
        let one_sided = u.book_flags & (book_flags::NO_BID | book_flags::NO_ASK) != 0;
        let broken = u.book_flags & (book_flags::STALE | book_flags::CROSSED) != 0;
        if self.halted || one_sided || broken || u.best_bid >= u.best_ask {
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
        let Some(m) = self.markets.get(instrument.0 as usize).copied().flatten() else {
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
                (SlotState::Live, Some((px, qty))) => {
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
        self.markets[instrument.0 as usize] = Some(m);
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
        let Some(Some(m)) = self.markets.get_mut(book.header.instrument.0 as usize) else {
            return;
        };
        m.last = Some(*book);
        self.requote(book.header.instrument, ctx);
    }

    fn on_exec(&mut self, r: &ExecReport, ctx: &mut Ctx<'_>) {
        let backoff = self.params.reject_backoff_ns;
        let Some(Some(m)) = self.markets.get_mut(r.header.instrument.0 as usize) else {
            return;
        };
        for (slot, sign) in [(&mut m.bid, 1), (&mut m.ask, -1)] {
            if let Some(filled) = slot.on_report(r) {
                m.position += sign * filled.raw();
            }
        }
        match r.header.kind {
            EventKind::Fill => self.counters.fills += 1,
            // Wait before trying again: a refusal repeated at the rate of
            // book updates would only spend the order budget.
            EventKind::Reject => {
                self.counters.rejects += 1;
                m.retry_at = Nanos(ctx.now().0.saturating_add(backoff));
            }
            _ => {}
        }
    }

    fn on_signal(&mut self, signal: &Signal, ctx: &mut Ctx<'_>) {
        let Some(Some(m)) = self.markets.get_mut(signal.instrument.0 as usize) else {
            return;
        };
        m.signal = Some(*signal);
        self.requote(signal.instrument, ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        for i in 0..self.markets.len() {
            let expired = match &mut self.markets[i] {
                Some(m) => m.signal.is_some_and(|s| !s.is_fresh(ctx.now())),
                None => false,
            };
            if expired {
                if let Some(m) = &mut self.markets[i] {
                    m.signal = None;
                }
                self.requote(InstrumentId(i as u32), ctx);
            }
        }
    }

    fn on_halt(&mut self, halted: bool, ctx: &mut Ctx<'_>) {
        self.halted = halted;
        self.pull_all(ctx);
    }
}
