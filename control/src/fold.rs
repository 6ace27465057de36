//! What the journals' records become in the store: a pure fold from
//! `(journal, seq, time, event)` to row changes.
//!
//! The fold keeps the same order book, OMS and ledgers the engine keeps (the
//! gateway's own [`Oms`] and [`Ledger`], so a position here is the engine's
//! position to the unit), and says after each record which rows it adds or
//! changes. It is deterministic: the same journals give the same changes,
//! which is what lets the ingest read the journals from the start after a
//! restart and write only what the store does not have yet.

use hdrhistogram::Histogram;
use pt_engine::book::BookStage;
use pt_engine::instrument::Registry;
use pt_engine::model::heartbeat::{Beat, Connectivity, MdRing};
use pt_engine::model::{
    Command, CommandAction, Event, EventKind, ExecReport, InstrumentId, Liquidity, MarketStatus,
    Mode, OrderIntent, OrderState, RejectCode, Scope, Side,
};
use pt_gateway::oms::Applied;
use pt_gateway::{Ledger, Markets, Oms, Order};
use std::collections::BTreeMap;

pub use crate::rows::{
    Change, FillRow, MarketRow, OrderEventRow, OrderRow, PnlRow, PositionRow, Source,
};

/// Counts over everything the fold has read (what metrics show).
#[derive(Clone, Debug)]
pub struct FoldStats {
    /// Records read from each journal.
    pub orders_records: u64,
    pub md_records: u64,
    /// Records that are not engine events.
    pub foreign_records: u64,
    pub heartbeats: u64,
    /// The newest heartbeat's journal time, and the engine process that wrote it.
    pub last_heartbeat_ns: i64,
    pub last_heartbeat_pid: u32,
    pub intents: u64,
    pub fills: u64,
    /// The global kill switch as commanded: active, halted or reducing.
    pub trading: &'static str,
    /// The mode last set by command, if any.
    pub mode_set: Option<Mode>,
    /// The risk policy version the gateway switched to last (0: the
    /// configured one).
    pub risk_version: i64,
    /// The engine's `md` ring as its last heartbeat carried it.
    pub md_ring: MdRing,
    /// The venue as the last heartbeat saw it; `None` before a heartbeat
    /// that says.
    pub venue: Option<Connectivity>,
    /// Strategies stopped by command (and not started since).
    pub stopped: std::collections::BTreeSet<u16>,
    /// Orders not final.
    pub open_orders: u32,
    /// The latest PnL of each mode that traded.
    pub pnl: Vec<PnlRow>,
    /// Rejects by reason name (with the venue's code numbers apart).
    pub rejects: BTreeMap<String, u64>,
    /// Tick-to-trade of new orders: their market event's receive time to
    /// the gateway's journal write, in nanoseconds (wall clock, one host).
    pub tick_to_trade: Histogram<u64>,
}

/// The fold's settings.
#[derive(Clone, Copy, Debug)]
pub struct FoldConfig {
    /// A market's top of book is stored at most this often (journal time).
    pub sample_ns: i64,
    /// PnL is stored at the first heartbeat this long after the last.
    pub pnl_every_ns: i64,
}

/// The state the fold keeps between records.
#[derive(Debug)]
pub struct Fold {
    config: FoldConfig,
    oms: Oms,
    ledgers: [Ledger; 3],
    traded: [bool; 3],
    markets: Markets,
    books: BookStage,
    last_sample: Vec<i64>,
    last_pnl: i64,
    stats: FoldStats,
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn liquidity(l: Liquidity) -> &'static str {
    match l {
        Liquidity::Unknown => "unknown",
        Liquidity::Maker => "maker",
        Liquidity::Taker => "taker",
    }
}

/// A state's name, as the store and the API write it.
pub const fn state_name(s: OrderState) -> &'static str {
    match s {
        OrderState::PendingNew => "pending_new",
        OrderState::Acked => "acked",
        OrderState::PartiallyFilled => "partially_filled",
        OrderState::Filled => "filled",
        OrderState::PendingCancel => "pending_cancel",
        OrderState::Cancelled => "cancelled",
        OrderState::Rejected => "rejected",
        OrderState::Expired => "expired",
        OrderState::Unknown => "unknown",
    }
}

/// A kind's name in snake case.
pub fn kind_name(k: EventKind) -> &'static str {
    match k {
        EventKind::OrderNew => "order_new",
        EventKind::OrderCancel => "order_cancel",
        EventKind::OrderReplace => "order_replace",
        EventKind::Ack => "ack",
        EventKind::Reject => "reject",
        EventKind::Fill => "fill",
        EventKind::Cancelled => "cancelled",
        EventKind::Expired => "expired",
        EventKind::CancelRejected => "cancel_rejected",
        EventKind::Replaced => "replaced",
        EventKind::ReplaceRejected => "replace_rejected",
        EventKind::OrderStatus => "order_status",
        EventKind::OrderUnknown => "order_unknown",
        EventKind::Command => "command",
        _ => "market",
    }
}

/// A reject code's reason: the gateway's name, or `venue_<code>`.
pub fn reason(code: RejectCode) -> String {
    if code.0 >= RejectCode::VENUE.0 {
        format!("venue_{}", code.0)
    } else {
        code.name().to_owned()
    }
}

fn hex(b: [u8; 16]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Fold {
    /// A fold over the markets of `registry` (`markets` built from it) with
    /// strategies numbered below `strategies`.
    pub fn new(
        registry: &Registry,
        markets: Markets,
        strategies: usize,
        config: FoldConfig,
    ) -> anyhow::Result<Fold> {
        let books = BookStage::new(
            registry
                .instruments()
                .iter()
                .map(|i| (i.id, i.grid.clone())),
        )
        .map_err(|e| anyhow::anyhow!("books: {e}"))?;
        let ledger = Ledger::new(&markets, strategies);
        let event_of = (0..markets.slots())
            .map(|i| markets.get(InstrumentId(i as u32)).map_or(0, |m| m.event.0))
            .collect();
        Ok(Fold {
            config,
            oms: Oms::new(event_of, 1 << 16),
            ledgers: [ledger.clone(), ledger.clone(), ledger],
            traded: [false; 3],
            last_sample: vec![i64::MIN; markets.slots()],
            markets,
            books,
            last_pnl: i64::MIN,
            stats: FoldStats {
                orders_records: 0,
                md_records: 0,
                foreign_records: 0,
                heartbeats: 0,
                last_heartbeat_ns: 0,
                last_heartbeat_pid: 0,
                intents: 0,
                fills: 0,
                trading: "active",
                mode_set: None,
                risk_version: 0,
                md_ring: MdRing::default(),
                venue: None,
                stopped: Default::default(),
                open_orders: 0,
                pnl: Vec::new(),
                rejects: BTreeMap::new(),
                tick_to_trade: Histogram::new_with_bounds(1, 60_000_000_000, 3)
                    .expect("valid bounds"),
            },
        })
    }

    /// What the fold has counted.
    pub fn stats(&self) -> &FoldStats {
        &self.stats
    }

    /// A record that is not an engine event (counted, otherwise ignored).
    pub fn foreign(&mut self) {
        self.stats.foreign_records += 1;
    }

    /// One record of `source`, appending the rows it changes to `out`.
    pub fn record(
        &mut self,
        source: Source,
        seq: u64,
        ts_ns: i64,
        event: &Event,
        out: &mut Vec<Change>,
    ) {
        match source {
            Source::Orders => self.orders(seq, ts_ns, event, out),
            Source::Md => self.md(seq, ts_ns, event, out),
        }
    }

    fn orders(&mut self, seq: u64, ts: i64, event: &Event, out: &mut Vec<Change>) {
        self.stats.orders_records += 1;
        match event {
            Event::Intent(i) => self.intent(seq, ts, i, out),
            Event::Exec(r) => self.report(seq, ts, r, out),
            Event::Market(m) if m.status == MarketStatus::Settled => {
                let yes = m.price == pt_engine::model::Price::ONE;
                for mode in [Mode::Paper, Mode::Shadow, Mode::Live] {
                    let l = &mut self.ledgers[mode as usize];
                    l.settle(m.header.instrument, yes);
                    out.push(position(l, mode, m.header.instrument, ts));
                }
            }
            Event::Command(c) => self.command(c),
            Event::Market(_) | Event::Book(_) => {}
        }
        self.stats.open_orders = self.oms.open();
    }

    /// The gateway journals each command it acts on.
    fn command(&mut self, c: &Command) {
        match (c.action, c.scope) {
            (CommandAction::TripKillSwitch, Scope::Global) => self.stats.trading = "halted",
            (CommandAction::ResetKillSwitch, Scope::Global) => self.stats.trading = "active",
            (CommandAction::SetReducing | CommandAction::Flatten, Scope::Global) => {
                self.stats.trading = "reducing";
            }
            (CommandAction::ReloadRisk, _) => self.stats.risk_version = c.arg,
            (CommandAction::SetRunning, _) if c.arg == 0 => {
                self.stats.stopped.insert(c.strategy.0);
            }
            (CommandAction::SetRunning, _) => {
                self.stats.stopped.remove(&c.strategy.0);
            }
            (CommandAction::SetMode, _) => {
                self.stats.mode_set = Some(match c.arg {
                    1 => Mode::Shadow,
                    2 => Mode::Live,
                    _ => Mode::Paper,
                });
            }
            _ => {}
        }
    }

    fn intent(&mut self, seq: u64, ts: i64, i: &OrderIntent, out: &mut Vec<Change>) {
        self.stats.intents += 1;
        let kind = i.header.kind;
        let target = (kind != EventKind::OrderNew).then(|| i.target.to_string());
        out.push(Change::OrderEvent(OrderEventRow {
            seq,
            ts_ns: ts,
            kind: kind_name(kind),
            order_id: i.client_order_id.raw(),
            client_order_id: i.client_order_id.to_string(),
            target,
            strategy: i.strategy.0,
            instrument: i.header.instrument.0,
            side: side(i.side),
            price: i.price.raw(),
            qty: i.qty.raw(),
            cum_qty: 0,
            fee: 0,
            reject_code: 0,
            reject_reason: None,
            venue_ref: None,
            requested_mode: i.requested_mode.name(),
            effective_mode: i.effective_mode.name(),
        }));
        let changed = match kind {
            EventKind::OrderNew => {
                self.oms.open_order(i, ts);
                // Journaled when the gateway approved it: the journal's
                // time less the market event's receive time.
                let received = i.header.recv_ts;
                if received.is_set() && ts > received.0 {
                    let _ = self.stats.tick_to_trade.record((ts - received.0) as u64);
                }
                i.client_order_id
            }
            EventKind::OrderCancel => {
                self.oms
                    .request_change(i.client_order_id, i.target, true, ts);
                i.target
            }
            _ => {
                self.oms
                    .request_change(i.client_order_id, i.target, false, ts);
                i.target
            }
        };
        if let Some(o) = self.oms.get(changed).copied() {
            out.push(Change::Order(order_row(&o, seq, ts, None)));
        }
    }

    fn report(&mut self, seq: u64, ts: i64, r: &ExecReport, out: &mut Vec<Change>) {
        let kind = r.header.kind;
        let venue_ref = (r.venue_ref != [0; 16]).then(|| hex(r.venue_ref));
        let rejected = kind == EventKind::Reject;
        if rejected {
            *self.stats.rejects.entry(reason(r.reject_code)).or_insert(0) += 1;
        }
        out.push(Change::OrderEvent(OrderEventRow {
            seq,
            ts_ns: ts,
            kind: kind_name(kind),
            order_id: r.client_order_id.raw(),
            client_order_id: r.client_order_id.to_string(),
            target: None,
            strategy: r.strategy().0,
            instrument: r.header.instrument.0,
            side: side(r.side),
            price: r.price.raw(),
            qty: r.qty.raw(),
            cum_qty: r.cum_qty.raw(),
            fee: r.fee.raw(),
            reject_code: r.reject_code.0,
            reject_reason: rejected.then(|| r.reject_code.name()),
            venue_ref: venue_ref.clone(),
            requested_mode: r.requested_mode.name(),
            effective_mode: r.effective_mode.name(),
        }));
        // The gate's own refusals made no order at the OMS (as in the
        // gateway); the store still shows the refused order.
        let applied = if rejected && r.reject_code.0 < RejectCode::VENUE.0 {
            Applied::Orphan
        } else {
            self.oms.on_report(r)
        };
        match applied {
            Applied::Moved { order, .. } => {
                let venue = (kind == EventKind::Ack)
                    .then_some(venue_ref.clone())
                    .flatten();
                out.push(Change::Order(order_row(&order, seq, ts, venue)));
            }
            Applied::Orphan if rejected => {
                out.push(Change::Order(OrderRow {
                    seq,
                    ts_ns: ts,
                    id: r.client_order_id.raw(),
                    client_order_id: r.client_order_id.to_string(),
                    strategy: r.strategy().0,
                    instrument: r.header.instrument.0,
                    side: side(r.side),
                    price: r.price.raw(),
                    qty: r.qty.raw(),
                    cum_qty: 0,
                    fees: 0,
                    state: state_name(OrderState::Rejected),
                    requested_mode: r.requested_mode.name(),
                    mode: r.effective_mode.name(),
                    venue_order_id: None,
                }));
            }
            Applied::Orphan | Applied::Ignored => {}
        }
        if kind == EventKind::Fill {
            self.stats.fills += 1;
            let mode = match applied {
                Applied::Moved { order, .. } => order.mode,
                _ => r.effective_mode,
            };
            let instrument = r.header.instrument;
            let mark = self.markets.get(instrument).map_or(r.price, |m| m.mark());
            let l = &mut self.ledgers[mode as usize];
            l.fill(r, mark);
            self.traded[mode as usize] = true;
            out.push(Change::Fill(FillRow {
                seq,
                ts_ns: ts,
                client_order_id: r.client_order_id.to_string(),
                strategy: r.strategy().0,
                instrument: instrument.0,
                side: side(r.side),
                price: r.price.raw(),
                qty: r.qty.raw(),
                fee: r.fee.raw(),
                liquidity: liquidity(r.liquidity),
                trade_id: r.trade_id().map(hex),
                mode: mode.name(),
            }));
            out.push(position(l, mode, instrument, ts));
        }
    }

    fn md(&mut self, seq: u64, ts: i64, event: &Event, out: &mut Vec<Change>) {
        self.stats.md_records += 1;
        match event {
            Event::Market(m) => {
                if m.header.kind == EventKind::Status {
                    let _ = self.markets.on_status(m);
                }
                let Some(b) = self.books.apply(m) else { return };
                self.markets.on_book(&b);
                let i = b.header.instrument.0 as usize;
                let Some(last) = self.last_sample.get_mut(i) else {
                    return;
                };
                if ts >= last.saturating_add(self.config.sample_ns) {
                    *last = ts;
                    let top = pt_engine::book::Top::of(&b);
                    out.push(Change::Market(MarketRow {
                        seq,
                        ts_ns: ts,
                        instrument: i as u32,
                        bid: top.bid.map(|(p, q)| (p.raw(), q.raw())),
                        ask: top.ask.map(|(p, q)| (p.raw(), q.raw())),
                        stale: b.book_flags & pt_engine::model::book_flags::STALE != 0,
                    }));
                }
            }
            Event::Command(c) if c.action == CommandAction::Heartbeat => {
                self.heartbeat(seq, ts, c, out);
            }
            _ => {}
        }
    }

    fn heartbeat(&mut self, seq: u64, ts: i64, c: &Command, out: &mut Vec<Change>) {
        self.stats.heartbeats += 1;
        self.stats.last_heartbeat_ns = ts;
        let beat = Beat::read(c).unwrap_or_default();
        self.stats.last_heartbeat_pid = beat.pid;
        self.stats.md_ring = beat.md_ring;
        self.stats.venue = beat.venue;
        if ts < self.last_pnl.saturating_add(self.config.pnl_every_ns) {
            return;
        }
        self.last_pnl = ts;
        for mode in [Mode::Paper, Mode::Shadow, Mode::Live] {
            if !self.traded[mode as usize] {
                continue;
            }
            let l = &mut self.ledgers[mode as usize];
            let held: Vec<InstrumentId> = l.holdings().map(|(i, _)| i).collect();
            for i in held {
                if let Some(m) = self.markets.get(i) {
                    l.remark(i, m.mark());
                }
            }
            let t = l.totals();
            let row = PnlRow {
                seq,
                ts_ns: ts,
                mode: mode.name(),
                realized: t.realized.raw(),
                unrealized: t.unrealized.raw(),
                fees: l.fees.raw(),
                cash: l.cash.raw(),
                total: l.total_pnl().raw(),
            };
            self.stats.pnl.retain(|p| p.mode != row.mode);
            self.stats.pnl.push(row.clone());
            out.push(Change::Pnl(row));
        }
    }

    /// A mode's ledger (for checks against the venue and the engine).
    pub fn ledger(&self, mode: Mode) -> &Ledger {
        &self.ledgers[mode as usize]
    }
}

fn order_row(o: &Order, seq: u64, ts: i64, venue_order_id: Option<String>) -> OrderRow {
    OrderRow {
        seq,
        ts_ns: ts,
        id: o.id.raw(),
        client_order_id: o.id.to_string(),
        strategy: o.id.strategy().0,
        instrument: o.instrument.0,
        side: side(o.side),
        price: o.price.raw(),
        qty: o.qty.raw(),
        cum_qty: o.cum_qty.raw(),
        fees: o.fees.raw(),
        state: state_name(o.state),
        requested_mode: o.requested_mode.name(),
        mode: o.mode.name(),
        venue_order_id,
    }
}

fn position(l: &Ledger, mode: Mode, instrument: InstrumentId, ts: i64) -> Change {
    let p = l.position(instrument);
    Change::Position(PositionRow {
        ts_ns: ts,
        mode: mode.name(),
        instrument: instrument.0,
        qty: p.qty.raw(),
        cost_basis: p.cost_basis.raw(),
        realized: p.realized.raw(),
        traded: p.traded.raw(),
    })
}
