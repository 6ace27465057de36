//! What the operator sees of a running engine: a snapshot of what the
//! decision path last published on its [`Board`](super::board::Board),
//! shown as a view refreshed in place on a terminal, as one status line per
//! refresh otherwise, and as the summary at the end.

use super::board::{Amount, Board, Counter, reject_name};
use super::run::{Engine, LoopCounters};
use pt_engine::graph::GraphStats;
use pt_engine::model::heartbeat::OrderVenue;
use pt_engine::model::{Money, Price};
use std::fmt::Write as _;
use std::time::Duration;

/// One market's line.
#[derive(Clone, Debug, Default)]
pub struct MarketRow {
    /// Its ticker.
    pub ticker: String,
    /// Best bid.
    pub bid: Option<Price>,
    /// Best ask.
    pub ask: Option<Price>,
    /// Whether its book is stale.
    pub stale: bool,
    /// Our best bid.
    pub our_bid: Option<Price>,
    /// Our best ask.
    pub our_ask: Option<Price>,
    /// Contracts held (YES positive).
    pub position: i64,
}

/// The engine at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Since the start.
    pub elapsed: Duration,
    /// The decision path's counters.
    pub loop_counters: LoopCounters,
    /// Every market.
    pub markets: Vec<MarketRow>,
    /// The risk policy version in force (0: the configured one).
    pub risk_version: u64,
    /// Orders open.
    pub open_orders: u64,
    /// Orders the gate approved.
    pub approved: u64,
    /// Fill reports.
    pub fills: u64,
    /// Contracts filled.
    pub contracts_filled: u64,
    /// Realized PnL, fees excluded.
    pub realized: Money,
    /// Unrealized PnL.
    pub unrealized: Money,
    /// Fees paid.
    pub fees: Money,
    /// Realized + unrealized − fees.
    pub pnl: Money,
    /// Refusals by reason, those above zero.
    pub rejects: Vec<(&'static str, u64)>,
    /// The live venue's state and counters, when there is one: state,
    /// writes, rate-limited, unknown, reconciliations, foreign cancelled.
    pub venue: Option<(&'static str, [u64; 5])>,
    /// Each strategy's number, kind and PnL.
    pub strategies: Vec<(usize, &'static str, Money)>,
    /// Signals delivered, and expired on arrival.
    pub signals: (u64, u64),
    /// Tick-to-trade p50 and p99 (ns) and samples.
    pub tick_to_trade: Option<(u64, u64, u64)>,
    /// Market data the `md` link dropped, and the stale marks it sent.
    pub md_overflow: (u64, u64),
    /// Frames the feed received.
    pub frames: u64,
}

fn price(raw: i64) -> Option<Price> {
    (raw != 0).then(|| Price::from_raw(raw))
}

impl Snapshot {
    /// Reads the engine; `kinds` are the strategies' kinds in order.
    pub fn of(
        engine: &Engine,
        tickers: &[String],
        kinds: &[&'static str],
        elapsed: Duration,
    ) -> Snapshot {
        let frames = engine.feed().status().frames;
        Snapshot::read(
            engine.board(),
            frames,
            &engine.stats(),
            tickers,
            kinds,
            elapsed,
        )
    }

    /// Reads a board, the feed's frame count and the graph's counters.
    pub fn read(
        b: &Board,
        frames: u64,
        stats: &GraphStats,
        tickers: &[String],
        kinds: &[&'static str],
        elapsed: Duration,
    ) -> Snapshot {
        let markets = tickers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let m = b.market(i);
                MarketRow {
                    ticker: t.clone(),
                    bid: price(m.bid),
                    ask: price(m.ask),
                    stale: m.stale,
                    our_bid: price(m.our_bid),
                    our_ask: price(m.our_ask),
                    position: m.position,
                }
            })
            .collect();
        let rejects = b.rejects();
        let mut by_reason: Vec<(&'static str, u64)> = (1..32)
            .chain([0])
            .map(|k| (reject_name(k), rejects[k]))
            .filter(|(_, n)| *n > 0)
            .collect();
        // The venue's refusals by its own code, in place of the gate's one
        // "venue" count, when the venue edge counts them.
        let venue = b.venue_rejects();
        if venue.iter().any(|&n| n > 0) {
            by_reason.retain(|(name, _)| *name != reject_name(0));
        }
        by_reason.extend((0..32).filter(|&k| venue[k] > 0).map(|k| {
            let code = pt_engine::model::RejectCode(1000 + k as u16);
            (pt_gateway::kalshi::codes::venue_code_name(code), venue[k])
        }));
        by_reason.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let md = stats.link("md");
        let count = b.counter(Counter::TickToTradeCount);
        Snapshot {
            elapsed,
            loop_counters: LoopCounters {
                market_events: b.counter(Counter::MarketEvents),
                commands: b.counter(Counter::Commands),
                heartbeats: b.counter(Counter::Heartbeats),
                bad_commands: b.counter(Counter::BadCommands),
                md_failures: b.counter(Counter::MdFailures),
                resyncs: b.counter(Counter::Resyncs),
                bad_policies: b.counter(Counter::BadPolicies),
            },
            risk_version: b.counter(Counter::RiskVersion),
            markets,
            open_orders: b.counter(Counter::OpenOrders),
            approved: b.counter(Counter::Approved),
            fills: b.counter(Counter::Fills),
            contracts_filled: b.counter(Counter::Contracts),
            realized: Money::from_raw(b.amount(Amount::Realized)),
            unrealized: Money::from_raw(b.amount(Amount::Unrealized)),
            fees: Money::from_raw(b.amount(Amount::Fees)),
            pnl: Money::from_raw(b.amount(Amount::Pnl)),
            rejects: by_reason,
            venue: match b.counter(Counter::VenueState) {
                0 => None,
                state => Some((
                    OrderVenue::from_number(state).name(),
                    [
                        b.counter(Counter::VenueWrites),
                        b.counter(Counter::VenueRateLimited),
                        b.counter(Counter::VenueUnknown),
                        b.counter(Counter::Reconciliations),
                        b.counter(Counter::ForeignCancelled),
                    ],
                )),
            },
            strategies: kinds
                .iter()
                .enumerate()
                .map(|(k, kind)| (k + 1, *kind, Money::from_raw(b.strategy_pnl(k))))
                .collect(),
            signals: (
                b.counter(Counter::Signals),
                b.counter(Counter::ExpiredSignals),
            ),
            tick_to_trade: (count > 0).then(|| {
                (
                    b.counter(Counter::TickToTradeP50),
                    b.counter(Counter::TickToTradeP99),
                    count,
                )
            }),
            md_overflow: md.map_or((0, 0), |l| (l.dropped, l.stale_marks)),
            frames,
        }
    }
}

fn px(p: Option<Price>) -> String {
    p.map_or_else(
        || "  -  ".to_owned(),
        |p| {
            let cents = p.raw() / 1_000_000;
            format!("{}.{:02}", cents / 100, cents % 100)
        },
    )
}

/// Dollars with two decimals, for display only (the ledger stays exact).
pub fn usd(m: Money) -> String {
    let raw = m.raw();
    let sign = if raw < 0 { "-" } else { "" };
    let cents = (raw.unsigned_abs() + 500_000) / 1_000_000;
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

/// The three commonest refusal reasons, `" (a 5, b 2)"`; empty for none.
fn top_reasons(rejects: &[(&'static str, u64)]) -> String {
    if rejects.is_empty() {
        return String::new();
    }
    let top: Vec<String> = rejects
        .iter()
        .take(3)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    format!(" ({})", top.join(", "))
}

fn micros(ns: u64) -> String {
    format!("{}.{} µs", ns / 1000, (ns % 1000) / 100)
}

impl Snapshot {
    /// The headline numbers on one line.
    pub fn line(&self, rate: f64) -> String {
        let ttt = self.tick_to_trade.map_or_else(
            || "-".to_owned(),
            |(p50, p99, _)| format!("p50 {} p99 {}", micros(p50), micros(p99)),
        );
        let reasons = top_reasons(&self.rejects);
        let venue = self.venue.map_or_else(String::new, |(state, [writes, limited, unknown, rec, _])| {
            format!("  venue {state} ({writes} writes, {limited} rate-limited, {unknown} unknown, {rec} reconciliations)")
        });
        format!(
            "{:>4}s  {:>7.0} events/s  orders {} open {}  fills {} ({} contracts)  PnL {} (fees {})  tick-to-trade {}  rejects {}{reasons}{venue}",
            self.elapsed.as_secs(),
            rate,
            self.approved,
            self.open_orders,
            self.fills,
            self.contracts_filled,
            usd(self.pnl),
            usd(self.fees),
            ttt,
            self.rejects.iter().map(|(_, n)| n).sum::<u64>(),
        )
    }

    /// The whole view.
    pub fn render(&self, title: &str, rate: f64) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{title}");
        let _ = writeln!(s, "{}", self.line(rate));
        if let Some((state, [writes, limited, unknown, reconciled, foreign])) = self.venue {
            let _ = writeln!(
                s,
                "      venue {state}: {writes} writes, {limited} rate-limited, {unknown} unknown outcomes, {reconciled} reconciliations, {foreign} foreign orders cancelled"
            );
        }
        let l = &self.loop_counters;
        let _ = writeln!(
            s,
            "      market events {}  frames {}  heartbeats {}  commands {}  signals {} (expired {})  resyncs {}  md overflow {} dropped, {} stale marks",
            l.market_events,
            self.frames,
            l.heartbeats,
            l.commands,
            self.signals.0,
            self.signals.1,
            l.resyncs,
            self.md_overflow.0,
            self.md_overflow.1
        );
        let _ = writeln!(
            s,
            "      realized {}  unrealized {}  fees {}  by strategy: {}",
            usd(self.realized),
            usd(self.unrealized),
            usd(self.fees),
            self.strategies
                .iter()
                .map(|(id, kind, pnl)| format!("{kind} #{id} {}", usd(*pnl)))
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
        let policy = match (self.risk_version, self.loop_counters.bad_policies) {
            (0, 0) => String::new(),
            (0, bad) => format!("the configured one ({bad} reloads would not load)"),
            (v, 0) => format!("version {v}"),
            (v, bad) => format!("version {v} ({bad} reloads would not load)"),
        };
        if !policy.is_empty() {
            let _ = writeln!(s, "      risk policy: {policy}");
        }
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
