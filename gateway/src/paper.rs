//! The paper venue: orders fill against the engine's own view of the book,
//! with a queue-position model, latency and the venue's fees. Shadow mode
//! is this venue fed by real market data. It writes nothing anywhere.
//!
//! **Crossing.** An arriving order walks the visible opposite levels up to
//! its limit, best first, taking what it can (partial fills). What it took
//! stays taken until the feed reports that level anew, so two of our
//! orders cannot take the same contracts.
//!
//! **Queue.** A resting order joins the back of its level: the contracts
//! ahead of it are the level's visible quantity when it arrives. A public
//! trade at its price consumes the queue ahead first and fills the order
//! with the rest; a trade through its price fills it outright. A level that
//! shrinks by more than the trades there explain lost the difference to
//! cancels, applied by [`CancelRule`]: from the back (the queue ahead only
//! shrinks when the level falls below it), or pro rata (the queue ahead
//! shrinks by its share of the level). Either way the queue ahead never
//! exceeds the level. Kalshi reports `queue_position_fp` for real orders;
//! the rule can be calibrated against it.
//!
//! **Fees.** The venue's model ([`pt_engine::contract`]), with the order's
//! rounding accumulator. The rounding of a fill is computed on its cost
//! alone: what netting pays is whole cents for any count the venue allows,
//! so it does not change the rounding.

use crate::markets::Markets;
use crate::oms::IdMap;
use crate::venue::{Approved, Venue};
use pt_engine::book::BookStage;
use pt_engine::contract::{FeeAccumulator, FeeModel, leg_cost};
use pt_engine::instrument::Registry;
use pt_engine::model::{
    ClientOrderId, Event, EventKind, ExecReport, InstrumentId, Liquidity, MarketEvent,
    MarketStatus, Money, Nanos, OrderIntent, Price, Qty, RejectCode, Side, TimeInForce,
    order_flags,
};
use std::collections::VecDeque;

/// How cancels at a level move the queue ahead of a resting order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CancelRule {
    /// Cancels come from behind us; only a level below our queue shrinks it.
    #[default]
    Back,
    /// Cancels come from everywhere in proportion: ahead shrinks by its share.
    ProRata,
}

/// Latency and queue settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperConfig {
    /// From send to the order reaching the venue (ns).
    pub arrival_ns: i64,
    /// From the venue acting to its report reaching us (ns).
    pub report_ns: i64,
    /// The queue rule for cancels.
    pub cancel_rule: CancelRule,
}

#[derive(Clone, Copy, Debug)]
struct Resting {
    intent: OrderIntent,
    leaves: i64,
    cum: i64,
    ahead: i64,
    fees: FeeAccumulator,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperCounters {
    /// Market events taken.
    pub events: u64,
    /// Fills made.
    pub fills: u64,
    /// Orders resting now.
    pub resting: u64,
}

/// The paper venue.
pub struct PaperVenue {
    config: PaperConfig,
    books: BookStage,
    fees: Vec<FeeModel>,
    resting: IdMap<ClientOrderId, Resting>,
    by_instrument: Vec<Vec<ClientOrderId>>,
    taken: IdMap<u64, i64>,
    traded: Vec<(Side, i64, i64)>,
    arriving: VecDeque<(i64, OrderIntent)>,
    outbox: VecDeque<(i64, ExecReport)>,
    levels: Vec<(Price, Qty)>,
    seq: u64,
    counters: PaperCounters,
}

impl core::fmt::Debug for PaperVenue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PaperVenue")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl PaperVenue {
    /// A paper venue over the registry's instruments with `markets`' fees.
    pub fn new(registry: &Registry, markets: &Markets, config: PaperConfig) -> PaperVenue {
        let books = BookStage::new(
            registry
                .instruments()
                .iter()
                .map(|i| (i.id, i.grid.clone())),
        )
        .expect("registry ids are dense and unique");
        let n = markets.slots();
        let mut resting = IdMap::default();
        resting.reserve(1024);
        let mut taken = IdMap::default();
        taken.reserve(1024);
        PaperVenue {
            config,
            books,
            fees: (0..n)
                .map(|i| {
                    markets
                        .get(InstrumentId(i as u32))
                        .map_or_else(FeeModel::default, |m| m.fees)
                })
                .collect(),
            resting,
            by_instrument: (0..n).map(|_| Vec::with_capacity(16)).collect(),
            taken,
            traded: vec![(Side::Buy, 0, 0); n],
            arriving: VecDeque::with_capacity(256),
            outbox: VecDeque::with_capacity(1024),
            levels: Vec::with_capacity(64),
            seq: 0,
            counters: PaperCounters::default(),
        }
    }

    /// Marks an instrument's book whole without a snapshot (simulated feeds).
    pub fn set_whole(&mut self, instrument: InstrumentId) {
        self.books.set_whole(instrument);
    }

    /// Counters.
    pub fn counters(&self) -> PaperCounters {
        PaperCounters {
            resting: self.resting.len() as u64,
            ..self.counters
        }
    }

    /// Contracts ahead of a resting order in its level's queue.
    pub fn queue_ahead(&self, id: ClientOrderId) -> Option<Qty> {
        self.resting.get(&id).map(|r| Qty::from_raw(r.ahead))
    }

    fn key(instrument: InstrumentId, side: Side, price: Price) -> u64 {
        (u64::from(instrument.0) << 40)
            ^ ((side as u64) << 39)
            ^ (price.raw() as u64 & ((1 << 39) - 1))
    }

    fn report(&mut self, kind: EventKind, o: &OrderIntent, at: i64) -> ExecReport {
        self.seq += 1;
        let mut header = o.header.derived(kind);
        header.seq = self.seq;
        header.venue_ts = Nanos(at);
        let mut venue_ref = [0u8; 16];
        venue_ref[..8].copy_from_slice(&self.seq.to_le_bytes());
        ExecReport {
            header,
            client_order_id: o.client_order_id,
            venue_ref,
            price: o.price,
            qty: o.qty,
            side: o.side,
            requested_mode: o.requested_mode,
            effective_mode: o.effective_mode,
            ..ExecReport::default()
        }
    }

    fn emit(&mut self, r: ExecReport, at: i64) {
        self.outbox.push_back((at + self.config.report_ns, r));
    }

    fn fill(&mut self, r: &mut Resting, n: i64, price: Price, liquidity: Liquidity, at: i64) {
        let fees = self
            .fees
            .get(r.intent.header.instrument.0 as usize)
            .copied()
            .unwrap_or_default();
        let cost = leg_cost(r.intent.side, Qty::from_raw(n), price);
        let fee = fees.fill_fee(
            liquidity,
            Qty::from_raw(n),
            price,
            Money::from_raw(-cost.raw()),
            &mut r.fees,
        );
        r.leaves -= n;
        r.cum += n;
        let mut report = self.report(EventKind::Fill, &r.intent, at);
        report.price = price;
        report.qty = Qty::from_raw(n);
        report.cum_qty = Qty::from_raw(r.cum);
        report.fee = fee.net();
        report.liquidity = liquidity;
        self.counters.fills += 1;
        self.emit(report, at);
    }

    /// Walks the opposite levels up to the limit; returns what it could take
    /// without taking it when `dry`.
    fn cross(&mut self, r: &mut Resting, dry: bool, at: i64) -> i64 {
        let id = r.intent.header.instrument;
        let opposite = r.intent.side.opposite();
        let Some(book) = self.books.book(id) else {
            return 0;
        };
        book.top_n(opposite, 64, &mut self.levels);
        let mut available = 0;
        let mut want = r.leaves;
        for k in 0..self.levels.len() {
            let (price, qty) = self.levels[k];
            let crosses = match r.intent.side {
                Side::Buy => price.raw() <= r.intent.price.raw(),
                Side::Sell => price.raw() >= r.intent.price.raw(),
            };
            if !crosses || want == 0 {
                break;
            }
            let key = Self::key(id, opposite, price);
            let taken = self.taken.get(&key).copied().unwrap_or(0);
            let n = (qty.raw() - taken).max(0).min(want);
            if n == 0 {
                continue;
            }
            available += n;
            want -= n;
            if !dry {
                *self.taken.entry(key).or_insert(0) += n;
                self.fill(r, n, price, Liquidity::Taker, at);
            }
        }
        available
    }

    fn arrive(&mut self, o: OrderIntent, at: i64, reports: &mut Vec<ExecReport>) {
        match o.header.kind {
            EventKind::OrderNew => self.arrive_new(o, at),
            EventKind::OrderCancel => {
                let target = o.target;
                match self.remove(target) {
                    Some(r) => {
                        let mut rep = self.report(EventKind::Cancelled, &r.intent, at);
                        rep.cum_qty = Qty::from_raw(r.cum);
                        self.emit(rep, at);
                    }
                    None => {
                        let mut rep = self.report(EventKind::CancelRejected, &o, at);
                        rep.client_order_id = target;
                        self.emit(rep, at);
                    }
                }
            }
            _ => self.arrive_replace(o, at),
        }
        self.release(at, reports);
    }

    fn arrive_new(&mut self, o: OrderIntent, at: i64) {
        let mut r = Resting {
            intent: o,
            leaves: o.qty.raw(),
            cum: 0,
            ahead: 0,
            fees: FeeAccumulator::default(),
        };
        let post_only = o.order_flags & order_flags::POST_ONLY != 0;
        let crossable = self.cross(&mut r, true, at);
        if post_only && crossable > 0 {
            let mut rep = self.report(EventKind::Reject, &o, at);
            rep.reject_code = RejectCode(RejectCode::VENUE.0 + 1);
            self.emit(rep, at);
            return;
        }
        if o.time_in_force == TimeInForce::FillOrKill && crossable < r.leaves {
            let ack = self.report(EventKind::Ack, &o, at);
            self.emit(ack, at);
            let rep = self.report(EventKind::Cancelled, &o, at);
            self.emit(rep, at);
            return;
        }
        let ack = self.report(EventKind::Ack, &o, at);
        self.emit(ack, at);
        self.cross(&mut r, false, at);
        if r.leaves == 0 {
            return;
        }
        if o.time_in_force != TimeInForce::GoodTillCancelled {
            let mut rep = self.report(EventKind::Cancelled, &o, at);
            rep.cum_qty = Qty::from_raw(r.cum);
            self.emit(rep, at);
            return;
        }
        r.ahead = self.level(o.header.instrument, o.side, o.price);
        self.rest(r);
    }

    fn arrive_replace(&mut self, o: OrderIntent, at: i64) {
        let Some(mut r) = self.remove(o.target) else {
            let mut rep = self.report(EventKind::ReplaceRejected, &o, at);
            rep.client_order_id = o.target;
            self.emit(rep, at);
            return;
        };
        let new_total = o.qty.raw();
        let loses_queue = o.price != r.intent.price || new_total > r.intent.qty.raw();
        r.intent.price = o.price;
        r.intent.qty = o.qty;
        r.leaves = (new_total - r.cum).max(0);
        if loses_queue {
            r.ahead = self.level(o.header.instrument, r.intent.side, o.price);
        }
        let mut rep = self.report(EventKind::Replaced, &r.intent, at);
        rep.cum_qty = Qty::from_raw(r.cum);
        self.emit(rep, at);
        self.cross(&mut r, false, at);
        if r.leaves > 0 {
            self.rest(r);
        }
    }

    fn level(&self, id: InstrumentId, side: Side, price: Price) -> i64 {
        self.books
            .book(id)
            .map_or(0, |b| b.qty_at(side, price).raw())
    }

    fn rest(&mut self, r: Resting) {
        let id = r.intent.client_order_id;
        if let Some(list) = self
            .by_instrument
            .get_mut(r.intent.header.instrument.0 as usize)
        {
            list.push(id);
        }
        self.resting.insert(id, r);
    }

    fn remove(&mut self, id: ClientOrderId) -> Option<Resting> {
        let r = self.resting.remove(&id)?;
        if let Some(list) = self
            .by_instrument
            .get_mut(r.intent.header.instrument.0 as usize)
            && let Some(at) = list.iter().position(|&x| x == id)
        {
            list.swap_remove(at);
        }
        Some(r)
    }

    /// A public trade: the aggressor took the other side at `price`.
    fn on_trade(&mut self, m: &MarketEvent, at: i64) {
        let id = m.header.instrument;
        let hit = m.side.opposite();
        if let Some(t) = self.traded.get_mut(id.0 as usize) {
            *t = (hit, m.price.raw(), m.qty.raw());
        }
        self.each_resting(id, |venue, r| {
            if r.intent.side != hit {
                return false;
            }
            let (ours, traded) = (r.intent.price.raw(), m.price.raw());
            let through = match hit {
                Side::Buy => traded < ours,
                Side::Sell => traded > ours,
            };
            let fill = if through {
                r.leaves.min(m.qty.raw())
            } else if traded == ours {
                let past = (m.qty.raw() - r.ahead).max(0);
                r.ahead = (r.ahead - m.qty.raw()).max(0);
                r.leaves.min(past)
            } else {
                0
            };
            if fill > 0 {
                let price = r.intent.price;
                venue.fill(r, fill, price, Liquidity::Maker, at);
            }
            true
        });
    }

    /// Runs `f` on each of `id`'s resting orders (a copy, which `f` may
    /// change); puts back those for which it returns `true`, or drops them
    /// when filled.
    fn each_resting(
        &mut self,
        id: InstrumentId,
        mut f: impl FnMut(&mut Self, &mut Resting) -> bool,
    ) {
        let at = id.0 as usize;
        let mut k = 0;
        while k < self.by_instrument.get(at).map_or(0, Vec::len) {
            let oid = self.by_instrument[at][k];
            k += 1;
            let Some(mut r) = self.resting.get(&oid).copied() else {
                continue;
            };
            if f(self, &mut r) {
                self.store(oid, r, &mut k);
            }
        }
    }

    /// Puts a resting order back, or drops it when filled (adjusting the
    /// scan position `k` for the swap-remove).
    fn store(&mut self, id: ClientOrderId, r: Resting, k: &mut usize) {
        if r.leaves == 0 {
            self.remove(id);
            *k -= 1;
        } else {
            self.resting.insert(id, r);
        }
    }

    /// A level changed from `before` to `after`: cancels move the queues at
    /// it; our resting orders the opposite side now crosses fill.
    fn on_level(&mut self, m: &MarketEvent, before: i64, at: i64) {
        let id = m.header.instrument;
        let after = self.level(id, m.side, m.price);
        self.taken.remove(&Self::key(id, m.side, m.price));
        let mut cancelled = (before - after).max(0);
        if let Some(t) = self.traded.get_mut(id.0 as usize)
            && t.0 == m.side
            && t.1 == m.price.raw()
        {
            let by_trade = cancelled.min(t.2);
            t.2 -= by_trade;
            cancelled -= by_trade;
        }
        let rule = self.config.cancel_rule;
        self.each_resting(id, |venue, r| {
            if r.intent.side == m.side && r.intent.price == m.price {
                if cancelled > 0 && rule == CancelRule::ProRata && before > 0 {
                    r.ahead -=
                        (i128::from(cancelled) * i128::from(r.ahead) / i128::from(before)) as i64;
                }
                r.ahead = r.ahead.min(after).max(0);
            }
            // The opposite side moved through our price: its sellers trade with us.
            if r.intent.side != m.side {
                let crossed = match r.intent.side {
                    Side::Buy => m.price.raw() <= r.intent.price.raw(),
                    Side::Sell => m.price.raw() >= r.intent.price.raw(),
                };
                let key = Self::key(id, m.side, m.price);
                let avail = after - venue.taken.get(&key).copied().unwrap_or(0);
                if crossed && avail > 0 {
                    let n = avail.min(r.leaves);
                    *venue.taken.entry(key).or_insert(0) += n;
                    let price = r.intent.price;
                    venue.fill(r, n, price, Liquidity::Maker, at);
                }
            }
            true
        });
    }

    fn close_market(&mut self, id: InstrumentId, at: i64) {
        while let Some(&oid) = self.by_instrument.get(id.0 as usize).and_then(|l| l.last()) {
            if let Some(r) = self.remove(oid) {
                let mut rep = self.report(EventKind::Cancelled, &r.intent, at);
                rep.cum_qty = Qty::from_raw(r.cum);
                self.emit(rep, at);
            }
        }
    }

    fn release(&mut self, now: i64, reports: &mut Vec<ExecReport>) {
        while let Some(&(due, r)) = self.outbox.front() {
            if due > now {
                break;
            }
            self.outbox.pop_front();
            reports.push(r);
        }
    }

    fn arrivals(&mut self, now: i64, reports: &mut Vec<ExecReport>) {
        while let Some(&(due, o)) = self.arriving.front() {
            if due > now {
                break;
            }
            self.arriving.pop_front();
            self.arrive(o, due, reports);
        }
        self.release(now, reports);
    }
}

impl Venue for PaperVenue {
    fn send(&mut self, order: Approved<'_>, now: Nanos, reports: &mut Vec<ExecReport>) {
        let o = *order.intent();
        if self.config.arrival_ns == 0 {
            self.arrivals(now.0, reports);
            self.arrive(o, now.0, reports);
        } else {
            self.arriving.push_back((now.0 + self.config.arrival_ns, o));
            self.arrivals(now.0, reports);
        }
    }

    fn on_market(&mut self, event: &Event, now: Nanos, reports: &mut Vec<ExecReport>) {
        self.arrivals(now.0, reports);
        let Event::Market(m) = event else { return };
        self.counters.events += 1;
        match m.header.kind {
            EventKind::Trade => self.on_trade(m, now.0),
            EventKind::Status => {
                if matches!(m.status, MarketStatus::Closed | MarketStatus::Settled) {
                    self.close_market(m.header.instrument, now.0);
                }
                let _ = self.books.apply(m);
            }
            EventKind::LevelDelta | EventKind::LevelSet | EventKind::SnapshotLevel => {
                let before = self.level(m.header.instrument, m.side, m.price);
                let _ = self.books.apply(m);
                self.on_level(m, before, now.0);
            }
            _ => {
                let _ = self.books.apply(m);
            }
        }
        self.release(now.0, reports);
    }

    fn poll(&mut self, now: Nanos, reports: &mut Vec<ExecReport>) {
        self.arrivals(now.0, reports);
    }

    fn external_writes(&self) -> u64 {
        0
    }
}
