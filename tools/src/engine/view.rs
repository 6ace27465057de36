//! What the operator sees of a running engine: a snapshot of its state,
//! shown as a view refreshed in place on a terminal, as one status line per
//! refresh otherwise, and as the summary at the end.

use super::core::Core;
use super::run::{Engine, LoopCounters};
use pt_engine::model::{EventKind, InstrumentId, Mode, Money, Price, RejectCode, Side, StrategyId};
use pt_engine::strategy::StrategyCounters;
use std::fmt::Write as _;
use std::time::Duration;

/// One market's line.
#[derive(Clone, Debug, Default)]
pub struct MarketRow {
    pub ticker: String,
    pub bid: Option<Price>,
    pub ask: Option<Price>,
    pub stale: bool,
    pub our_bid: Option<Price>,
    pub our_ask: Option<Price>,
    pub position: i64,
}

/// The engine at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub elapsed: Duration,
    pub loop_counters: LoopCounters,
    pub markets: Vec<MarketRow>,
    pub open_orders: u32,
    pub approved: u64,
    pub fills: u64,
    pub contracts_filled: i64,
    pub realized: Money,
    pub unrealized: Money,
    pub fees: Money,
    pub pnl: Money,
    pub rejects: Vec<(&'static str, u64)>,
    pub strategies: Vec<(StrategyId, &'static str, Money)>,
    pub strategy_counters: StrategyCounters,
    pub tick_to_trade: Option<(u64, u64, u64)>,
    pub md_overflows: u64,
    pub frames: u64,
}

/// Tallies of the execution reports seen so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub fills: u64,
    pub contracts: i64,
}

impl Tally {
    /// Counts the reports of the last input.
    pub fn take<J>(&mut self, core: &Core<J>)
    where
        J: pt_gateway::WriteAhead + Send + 'static,
    {
        for r in &core.reports {
            if r.header.kind == EventKind::Fill {
                self.fills += 1;
                self.contracts += r.qty.raw() / pt_engine::model::Qty::ONE.raw();
            }
        }
    }
}

impl Snapshot {
    /// Reads the engine.
    pub fn of(engine: &Engine, tickers: &[String], elapsed: Duration) -> Snapshot {
        let tally = engine.tally;
        let core = &engine.core;
        let gw = core.gateway();
        let ledger = gw.ledger(Mode::Paper);
        let books = core.books();
        let markets = tickers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let id = InstrumentId(i as u32);
                let book = books.book(id);
                let mut row = MarketRow {
                    ticker: t.clone(),
                    bid: book.and_then(|b| b.best_bid()).map(|(p, _)| p),
                    ask: book.and_then(|b| b.best_ask()).map(|(p, _)| p),
                    stale: book.is_none_or(|b| b.is_stale()),
                    position: ledger.position(id).qty.raw() / pt_engine::model::Qty::ONE.raw(),
                    ..MarketRow::default()
                };
                for o in gw
                    .oms()
                    .of_instrument(id)
                    .iter()
                    .filter_map(|k| gw.oms().get(*k))
                {
                    match o.side {
                        Side::Buy => row.our_bid = row.our_bid.max(Some(o.price)),
                        Side::Sell => {
                            row.our_ask = Some(row.our_ask.map_or(o.price, |a| a.min(o.price)))
                        }
                    }
                }
                row
            })
            .collect();
        let mut p = pt_gateway::ledger::StrategyPnl::default();
        let mut strategies = Vec::new();
        for (id, kind) in core.strategies().strategies() {
            let s = ledger.pnl(id);
            strategies.push((id, kind, s.total()));
            p.realized = Money::from_raw(p.realized.raw() + s.realized.raw());
            p.unrealized = Money::from_raw(p.unrealized.raw() + s.unrealized.raw());
            p.fees = Money::from_raw(p.fees.raw() + s.fees.raw());
        }
        let c = gw.counters();
        let rejects = (1..32u16)
            .chain([0])
            .map(|k| {
                let code = if k == 0 {
                    RejectCode::VENUE
                } else {
                    RejectCode(k)
                };
                (
                    if k == 0 { "venue" } else { code.name() },
                    c.rejects[k as usize],
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let h = core.gateway_node().tick_to_trade();
        let stats = core.stats();
        Snapshot {
            elapsed,
            loop_counters: engine.counters,
            markets,
            open_orders: gw.oms().open(),
            approved: c.approved.iter().sum(),
            fills: tally.fills,
            contracts_filled: tally.contracts,
            realized: p.realized,
            unrealized: p.unrealized,
            fees: p.fees,
            pnl: p.total(),
            rejects,
            strategies,
            strategy_counters: core.strategies().counters(),
            tick_to_trade: (!h.is_empty())
                .then(|| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.len())),
            md_overflows: stats.links.iter().map(|l| l.dropped).sum(),
            frames: engine.feed().session_counters().frames,
        }
    }
}

fn px(p: Option<Price>) -> String {
    p.map_or_else(
        || "  -  ".to_owned(),
        |p| format!("{:.2}", p.raw() as f64 / 1e8),
    )
}

/// Dollars with two decimals, for display only (the ledger stays exact).
pub fn usd(m: Money) -> String {
    let raw = m.raw();
    let sign = if raw < 0 { "-" } else { "" };
    let cents = (raw.unsigned_abs() + 500_000) / 1_000_000;
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

fn micros(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}

impl Snapshot {
    /// The headline numbers on one line.
    pub fn line(&self, rate: f64) -> String {
        let ttt = self.tick_to_trade.map_or_else(
            || "-".to_owned(),
            |(p50, p99, _)| format!("p50 {} p99 {}", micros(p50), micros(p99)),
        );
        format!(
            "{:>4}s  {:>7.0} events/s  orders {} open {}  fills {} ({} contracts)  PnL {} (fees {})  tick-to-trade {}  rejects {}",
            self.elapsed.as_secs(),
            rate,
            self.approved,
            self.open_orders,
            self.fills,
            self.contracts_filled,
            usd(self.pnl),
            usd(self.fees),
            ttt,
            self.rejects.iter().map(|(_, n)| n).sum::<u64>()
        )
    }

    /// The whole view.
    pub fn render(&self, rate: f64) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pt demo: paper trading against the local simulator   (Ctrl-C ends it)"
        );
        let _ = writeln!(s, "{}", self.line(rate));
        let l = &self.loop_counters;
        let sc = &self.strategy_counters;
        let _ = writeln!(
            s,
            "      market events {}  frames {}  heartbeats {}  commands {}  signals {} (expired {})  resyncs {}  md overflow {}",
            l.market_events,
            self.frames,
            l.heartbeats,
            l.commands,
            sc.signals,
            sc.expired_signals,
            l.resyncs,
            self.md_overflows
        );
        let _ = writeln!(
            s,
            "      realized {}  unrealized {}  fees {}  by strategy: {}",
            usd(self.realized),
            usd(self.unrealized),
            usd(self.fees),
            self.strategies
                .iter()
                .map(|(id, kind, pnl)| format!("{} #{} {}", kind, id.0, usd(*pnl)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rejects = if self.rejects.is_empty() {
            "none".to_owned()
        } else {
            self.rejects
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "      rejects by reason: {rejects}");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  {:<22} {:>6} {:>6}   {:>7} {:>7}   {:>8}",
            "market", "bid", "ask", "our bid", "our ask", "position"
        );
        for m in &self.markets {
            let _ = writeln!(
                s,
                "  {:<22} {:>6} {:>6}   {:>7} {:>7}   {:>8}{}",
                m.ticker,
                px(m.bid),
                px(m.ask),
                px(m.our_bid),
                px(m.our_ask),
                m.position,
                if m.stale { "  stale" } else { "" }
            );
        }
        s
    }
}
