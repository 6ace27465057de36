//! The engine's state for the operator, published by the decision path at
//! every heartbeat with relaxed atomic stores (no lock, no allocation, no
//! wait) and read from any thread: what the view, the status lines and the
//! summary show, wherever the decision path runs.

use super::core::Core;
use super::run::LoopCounters;
use pt_engine::model::heartbeat::{Connectivity, MdRing, OrderVenue};
use pt_engine::model::{InstrumentId, Mode, Qty, RejectCode, Side};
use pt_gateway::WriteAhead;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

/// Per market: best bid, best ask, stale, our best bid, our best ask,
/// position (prices raw, 0 for none).
const MARKET_FIELDS: usize = 6;

/// Indices of the counters.
#[derive(Clone, Copy, Debug)]
#[repr(usize)]
pub enum Counter {
    /// Market events taken.
    MarketEvents,
    /// Commands taken from `commands/`.
    Commands,
    /// Heartbeats.
    Heartbeats,
    /// Records of `commands/` that were not commands.
    BadCommands,
    /// `md/` appends that failed.
    MdFailures,
    /// Snapshot requests passed to the feed.
    Resyncs,
    /// Fill reports.
    Fills,
    /// Contracts filled.
    Contracts,
    /// Orders open.
    OpenOrders,
    /// Orders the gate approved.
    Approved,
    /// Signals delivered to the strategies.
    Signals,
    /// Signals expired on arrival.
    ExpiredSignals,
    /// Tick-to-trade p50, ns.
    TickToTradeP50,
    /// Tick-to-trade p99, ns.
    TickToTradeP99,
    /// Tick-to-trade samples.
    TickToTradeCount,
    /// The live venue: 0 none, 1 connecting, 2 reconciling, 3 ready.
    VenueState,
    /// Requests written to the venue that change the account.
    VenueWrites,
    /// `429`s, and creates held back after one.
    VenueRateLimited,
    /// Outcomes the venue left unknown (5xx, 409 on a resend, lost requests).
    VenueUnknown,
    /// Reconciliations completed.
    Reconciliations,
    /// Orders at the venue that were not ours, cancelled.
    ForeignCancelled,
    /// `ReloadRisk` commands whose policy would not load.
    BadPolicies,
    /// The risk policy version in force (0: the configured one).
    RiskVersion,
}

const COUNTERS: usize = Counter::RiskVersion as usize + 1;

/// Money fields, raw.
#[derive(Clone, Copy, Debug)]
#[repr(usize)]
pub enum Amount {
    /// Realized PnL, fees excluded.
    Realized,
    /// Unrealized PnL at the latest marks.
    Unrealized,
    /// Fees paid.
    Fees,
    /// Realized + unrealized − fees.
    Pnl,
}

/// The board.
#[derive(Debug)]
pub struct Board {
    markets: Vec<[AtomicI64; MARKET_FIELDS]>,
    counters: [AtomicU64; COUNTERS],
    amounts: [AtomicI64; 4],
    rejects: [AtomicU64; 32],
    venue_rejects: [AtomicU64; 32],
    strategy_pnl: Vec<AtomicI64>,
    /// Set once a Shutdown command came through `commands/`.
    pub stop_requested: AtomicBool,
    /// The `md` ring from the feed ([`MdRing`]), as the engine last
    /// sampled it.
    md_ring: [AtomicU64; 4],
    /// Whether the market-data session is open, as last sampled.
    pub feed_open: AtomicBool,
}

/// One market as the board holds it.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarketTop {
    /// Best bid, raw (0: none).
    pub bid: i64,
    /// Best ask, raw (0: none).
    pub ask: i64,
    /// Whether the book is stale.
    pub stale: bool,
    /// Our best bid, raw (0: none).
    pub our_bid: i64,
    /// Our best ask, raw (0: none).
    pub our_ask: i64,
    /// Contracts held.
    pub position: i64,
}

impl Board {
    /// A board for `markets` markets and `strategies` strategies.
    pub fn new(markets: usize, strategies: usize) -> Board {
        Board {
            markets: (0..markets).map(|_| Default::default()).collect(),
            counters: Default::default(),
            amounts: Default::default(),
            rejects: Default::default(),
            venue_rejects: Default::default(),
            strategy_pnl: (0..strategies).map(|_| AtomicI64::new(0)).collect(),
            stop_requested: AtomicBool::new(false),
            md_ring: Default::default(),
            feed_open: AtomicBool::new(false),
        }
    }

    /// Records the `md` ring's state.
    pub fn set_md_ring(&self, r: MdRing) {
        for (slot, v) in self
            .md_ring
            .iter()
            .zip([r.dropped, r.stale_marks, r.max_depth, r.depth])
        {
            slot.store(v, Relaxed);
        }
    }

    /// The venue's connectivity, for the heartbeats.
    pub fn connectivity(&self) -> Connectivity {
        Connectivity {
            market_data: self.feed_open.load(Relaxed),
            orders: OrderVenue::from_number(self.counter(Counter::VenueState)),
        }
    }

    /// The `md` ring's state as last recorded.
    pub fn md_ring(&self) -> MdRing {
        let v = |k: usize| self.md_ring[k].load(Relaxed);
        MdRing {
            dropped: v(0),
            stale_marks: v(1),
            max_depth: v(2),
            depth: v(3),
        }
    }

    /// A counter.
    pub fn counter(&self, c: Counter) -> u64 {
        self.counters[c as usize].load(Relaxed)
    }

    /// An amount, raw.
    pub fn amount(&self, a: Amount) -> i64 {
        self.amounts[a as usize].load(Relaxed)
    }

    /// Refusals by gateway reason code (index 0: the venue's).
    pub fn rejects(&self) -> [u64; 32] {
        core::array::from_fn(|k| self.rejects[k].load(Relaxed))
    }

    /// The live venue's refusals by venue code (index k: code 1000 + k).
    pub fn venue_rejects(&self) -> [u64; 32] {
        core::array::from_fn(|k| self.venue_rejects[k].load(Relaxed))
    }

    /// Strategy `k`'s PnL (0-based), raw.
    pub fn strategy_pnl(&self, k: usize) -> i64 {
        self.strategy_pnl.get(k).map_or(0, |p| p.load(Relaxed))
    }

    /// Market `i`.
    pub fn market(&self, i: usize) -> MarketTop {
        let Some(m) = self.markets.get(i) else {
            return MarketTop::default();
        };
        let f = |k: usize| m[k].load(Relaxed);
        MarketTop {
            bid: f(0),
            ask: f(1),
            stale: f(2) != 0,
            our_bid: f(3),
            our_ask: f(4),
            position: f(5),
        }
    }

    /// Markets on the board.
    pub fn markets(&self) -> usize {
        self.markets.len()
    }

    fn set(&self, c: Counter, v: u64) {
        self.counters[c as usize].store(v, Relaxed);
    }

    /// Publishes the decision path's state.
    pub fn publish<J: WriteAhead + Send + 'static>(
        &self,
        core: &Core<J>,
        loops: &LoopCounters,
        fills: (u64, i64),
    ) {
        let gw = core.gateway();
        // The ledger of the mode the orders ran in: live or shadow once any
        // order ran there, else the mode asked for (ledgers never mix).
        let approved = gw.counters().approved;
        let mode = if approved[2] > 0 {
            Mode::Live
        } else if approved[1] > 0 {
            Mode::Shadow
        } else {
            gw.mode(pt_engine::model::VenueId(0))
        };
        let ledger = gw.ledger(mode);
        let books = core.books();
        let unit = Qty::ONE.raw();
        for (i, m) in self.markets.iter().enumerate() {
            let id = InstrumentId(i as u32);
            let book = books.book(id);
            let (mut our_bid, mut our_ask) = (0i64, 0i64);
            for o in gw
                .oms()
                .of_instrument(id)
                .iter()
                .filter_map(|k| gw.oms().get(*k))
            {
                let p = o.price.raw();
                match o.side {
                    Side::Buy => our_bid = our_bid.max(p),
                    Side::Sell if our_ask == 0 || p < our_ask => our_ask = p,
                    Side::Sell => {}
                }
            }
            let values = [
                book.and_then(|b| b.best_bid()).map_or(0, |(p, _)| p.raw()),
                book.and_then(|b| b.best_ask()).map_or(0, |(p, _)| p.raw()),
                i64::from(book.is_none_or(|b| b.is_stale())),
                our_bid,
                our_ask,
                ledger.position(id).qty.raw() / unit,
            ];
            for (slot, v) in m.iter().zip(values) {
                slot.store(v, Relaxed);
            }
        }
        let (mut realized, mut unrealized, mut fees, mut pnl) = (0i64, 0i64, 0i64, 0i64);
        for (k, (id, _)) in core.strategies().strategies().enumerate() {
            let s = ledger.pnl(id);
            realized += s.realized.raw();
            unrealized += s.unrealized.raw();
            fees += s.fees.raw();
            pnl += s.total().raw();
            if let Some(slot) = self.strategy_pnl.get(k) {
                slot.store(s.total().raw(), Relaxed);
            }
        }
        for (a, v) in [
            (Amount::Realized, realized),
            (Amount::Unrealized, unrealized),
            (Amount::Fees, fees),
            (Amount::Pnl, pnl),
        ] {
            self.amounts[a as usize].store(v, Relaxed);
        }
        let c = gw.counters();
        for (slot, v) in self.rejects.iter().zip(c.rejects) {
            slot.store(v, Relaxed);
        }
        let sc = core.strategies().counters();
        let kalshi = gw.live().kalshi();
        let vc = kalshi.map(|k| k.counters()).unwrap_or_default();
        for (slot, v) in self.venue_rejects.iter().zip(vc.by_code) {
            slot.store(v, Relaxed);
        }
        let venue_state = match kalshi {
            None => 0,
            Some(k) if k.ready() && k.reconciled() => 3,
            Some(k) if k.ready() => 2,
            Some(_) => 1,
        };
        let h = core.gateway_node().tick_to_trade();
        let (p50, p99) = if h.is_empty() {
            (0, 0)
        } else {
            (h.value_at_quantile(0.5), h.value_at_quantile(0.99))
        };
        for (k, v) in [
            (Counter::MarketEvents, loops.market_events),
            (Counter::Commands, loops.commands),
            (Counter::Heartbeats, loops.heartbeats),
            (Counter::BadCommands, loops.bad_commands),
            (Counter::MdFailures, loops.md_failures),
            (Counter::Resyncs, loops.resyncs),
            (Counter::Fills, fills.0),
            (Counter::Contracts, fills.1.max(0) as u64),
            (Counter::OpenOrders, u64::from(gw.oms().open())),
            (Counter::Approved, c.approved.iter().sum()),
            (Counter::Signals, sc.signals),
            (Counter::ExpiredSignals, sc.expired_signals),
            (Counter::TickToTradeP50, p50),
            (Counter::TickToTradeP99, p99),
            (Counter::TickToTradeCount, h.len()),
            (Counter::VenueState, venue_state),
            (Counter::VenueWrites, vc.writes),
            (Counter::VenueRateLimited, vc.rate_limited + vc.throttled),
            (
                Counter::VenueUnknown,
                vc.server_errors + vc.already_placed + vc.lost_in_flight,
            ),
            (Counter::Reconciliations, vc.reconciliations),
            (Counter::ForeignCancelled, vc.foreign_cancelled),
            (Counter::BadPolicies, loops.bad_policies),
            (Counter::RiskVersion, gw.policy_version().max(0) as u64),
        ] {
            self.set(k, v);
        }
    }
}

/// The name of reject slot `k` of [`Board::rejects`].
pub fn reject_name(k: usize) -> &'static str {
    if k == 0 {
        "venue"
    } else {
        RejectCode(k as u16).name()
    }
}
