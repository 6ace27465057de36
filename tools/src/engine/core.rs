//! The decision path as one deterministic graph: the book stage, the
//! strategy stage and the gateway with its paper venue. The live engine and
//! `pt replay` both drive it through [`Core::market`] and
//! [`Core::command`], with the time of each input, so that the same inputs
//! give the same orders.
//!
//! ```text
//!  owner ──md-gw──────────────────────────────► gateway ──exec-out──► owner
//!  owner ──md──► book ──books-gw──────────────►   ▲  │
//!                 │ └──books──► strategy ──intents─┘  │
//!                 │               ▲ └───exec──────────┘ (back-edge)
//!  owner ──cmd-st─────────────────┘        owner ──cmd-gw──► gateway
//!                 └──resync──► owner (snapshot requests for the feed)
//! ```
//!
//! Market data reaches the gateway before the books, as a venue matches
//! data as it happens and our reaction comes after; the gateway takes the
//! book update before the strategy, so the gate judges an intent against
//! the book the strategy saw. Before each input the gateway is polled at
//! the input's time, which releases what its venues have due.

use super::config::{EngineConfig, StrategySpec};
use anyhow::Context as _;
use pt_engine::book::{BookStage, is_resync};
use pt_engine::contract::{FeeModel, FeeType};
use pt_engine::graph::{FusedGraph, GraphSpec, LinkId};
use pt_engine::instrument::Registry;
use pt_engine::model::ExecReport;
use pt_engine::model::StrategyId;
use pt_engine::model::{Command, Event, Family, InstrumentId, MarketEvent, Mono, Nanos, Price};
use pt_engine::strategy::mm::MarketMaker;
use pt_engine::strategy::probe::Probe;
use pt_engine::strategy::taker::Taker;
use pt_engine::strategy::{self, Strategy, StrategyStage};
use pt_gateway::kalshi::KalshiVenue;
use pt_gateway::venue::{Approved, Venue};
use pt_gateway::{
    Disconnected, Gateway, GatewayConfig, GatewayNode, Markets, PaperVenue, RiskPolicy,
    VenueConfig, WriteAhead,
};

/// The gateway the engine runs: the paper venue, and Kalshi's when the
/// engine runs in shadow or live mode.
pub type EngineGateway<J> = Gateway<PaperVenue, LiveVenue, J>;
/// It as a graph node.
pub type EngineGatewayNode<J> = GatewayNode<PaperVenue, LiveVenue, J>;

/// The live venue: none in paper mode (and in replays), Kalshi's (or
/// `pt sim`'s) in shadow and live mode, where shadow reads the account and
/// writes nothing.
#[derive(Debug)]
pub enum LiveVenue {
    /// No live venue: every live order is refused (`no_venue`).
    Off(Disconnected),
    /// The Kalshi venue edge.
    Kalshi(Box<KalshiVenue>),
}

impl LiveVenue {
    /// The Kalshi edge, when there is one.
    pub fn kalshi(&self) -> Option<&KalshiVenue> {
        match self {
            LiveVenue::Off(_) => None,
            LiveVenue::Kalshi(k) => Some(k),
        }
    }
}

impl Venue for LiveVenue {
    fn send(&mut self, order: Approved<'_>, now: Nanos, reports: &mut Vec<ExecReport>) {
        match self {
            LiveVenue::Off(v) => v.send(order, now, reports),
            LiveVenue::Kalshi(v) => v.send(order, now, reports),
        }
    }

    fn poll(&mut self, now: Nanos, reports: &mut Vec<ExecReport>) {
        if let LiveVenue::Kalshi(v) = self {
            v.poll(now, reports);
        }
    }

    fn connected(&self) -> bool {
        match self {
            LiveVenue::Off(v) => v.connected(),
            LiveVenue::Kalshi(v) => v.connected(),
        }
    }

    fn resume(&mut self, record: &Event) {
        if let LiveVenue::Kalshi(v) = self {
            v.resume(record);
        }
    }

    fn external_writes(&self) -> u64 {
        match self {
            LiveVenue::Off(v) => v.external_writes(),
            LiveVenue::Kalshi(v) => v.external_writes(),
        }
    }
}

/// The venue every market of the engine is on.
pub const VENUE: &str = "kalshi";

/// The instrument registry for the followed tickers: binary contracts on a
/// one-cent grid, ids in the order of `feed.markets`.
pub fn registry(tickers: &[String]) -> anyhow::Result<Registry> {
    let mut text = format!("[[venue]]\nname = \"{VENUE}\"\n");
    for t in tickers {
        if t.is_empty()
            || !t
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            anyhow::bail!("feed.markets: {t:?} is not a market ticker");
        }
        text.push_str(&format!(
            "\n[[instrument]]\nsymbol = \"{t}\"\nvenue = \"{VENUE}\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{{ start = \"0.01\", end = \"0.99\", step = \"0.01\" }}]\n"
        ));
    }
    Registry::from_toml(&text, "feed.markets").map_err(|e| anyhow::anyhow!("feed.markets: {e}"))
}

/// The fee schedule of every market (Kalshi's quadratic schedule; the
/// series' own comes from the venue in a later version).
pub fn fees() -> FeeModel {
    FeeModel::kalshi(FeeType::Quadratic, Price::ONE)
}

/// The decision graph and its input and output links.
pub struct Core<J> {
    graph: FusedGraph<Event>,
    md: LinkId,
    md_gw: LinkId,
    cmd_st: LinkId,
    cmd_gw: LinkId,
    resync: LinkId,
    /// Snapshot requests the books made during the last input.
    pub resyncs: Vec<pt_engine::model::BookUpdate>,
    /// Execution reports the gateway emitted during the last input.
    pub reports: Vec<pt_engine::model::ExecReport>,
    journal: std::marker::PhantomData<fn() -> J>,
}

const GATEWAY: &str = pt_gateway::node::NAME;

impl<J: WriteAhead + Send + 'static> Core<J> {
    /// Builds the graph for `config`, journaling orders into `journal`;
    /// `recovered` is the orders journal so far (empty on a first run), from
    /// which the gateway's state (and the live venue's) and each strategy's
    /// next order id come; `policies` are the risk policy versions it may
    /// have switched to ([`pt_gateway::PolicyVersions`]).
    pub fn new(
        config: &EngineConfig,
        journal: J,
        recovered: &[(Event, Nanos)],
        policies: &[(i64, RiskPolicy)],
        live: LiveVenue,
    ) -> anyhow::Result<Core<J>> {
        let registry = registry(&config.feed.markets)?;
        let markets = Markets::new(&registry, |_| fees());
        let gw_config = GatewayConfig {
            strategies: config.strategies.len() + 1,
            venues: vec![VenueConfig {
                mode: config.mode,
                live_enabled: config.live_enabled,
            }],
            ..GatewayConfig::default()
        };
        let paper = PaperVenue::new(&registry, &markets, config.paper);
        let mut gateway = Gateway::new(markets, config.policy, &gw_config, paper, live, journal);
        // Every version written so far, so that the switches in `recovered`
        // fall where they fell.
        for (version, policy) in policies {
            gateway.stage_policy(*version, *policy);
        }
        gateway.recover(recovered.iter().map(|(e, t)| (e, *t)));
        let mut strategies: Vec<(Box<dyn Strategy>, u64)> = Vec::new();
        for (i, spec) in config.strategies.iter().enumerate() {
            let id = StrategyId(u16::try_from(i + 1).context("too many strategies")?);
            let next = gateway.oms().next_id(id).counter();
            let ids = |tickers: &Option<Vec<String>>| -> Vec<InstrumentId> {
                let all = &config.feed.markets;
                registry
                    .instruments()
                    .iter()
                    .filter(|m| tickers.as_ref().is_none_or(|t| t.contains(&m.symbol)))
                    .filter(|m| all.contains(&m.symbol))
                    .map(|m| m.id)
                    .collect()
            };
            let s: Box<dyn Strategy> = match spec {
                StrategySpec::Mm(p, t) => Box::new(MarketMaker::new(*p, fees(), &ids(t))),
                StrategySpec::Taker(p, t) => Box::new(Taker::new(*p, fees(), &ids(t))),
                StrategySpec::Probe(p, t) => Box::new(Probe::new(*p, &ids(t))),
            };
            strategies.push((s, next));
        }
        let books = BookStage::new(
            registry
                .instruments()
                .iter()
                .map(|i| (i.id, i.grid.clone())),
        )
        .map_err(|e| anyhow::anyhow!("books: {e}"))?;

        let mut stage = StrategyStage::new(strategies);
        // A strategy the operator stopped stays stopped across a restart.
        for id in 1..=config.strategies.len() {
            let id = StrategyId(id as u16);
            if gateway.strategy_stopped(id) {
                stage.stop(id);
            }
        }
        let mut spec = GraphSpec::new();
        spec.node(Box::new(books))
            .node(Box::new(stage))
            .node(Box::new(GatewayNode::new(gateway)));
        let (book, strat) = ("book", strategy::NAME);
        let md = spec.input("md", Family::Market, book);
        let md_gw = spec.input("md-gw", Family::Market, GATEWAY);
        let cmd_st = spec.input("cmd-st", Family::Command, strat);
        let cmd_gw = spec.input("cmd-gw", Family::Command, GATEWAY);
        // The gateway takes each book update before the strategy does.
        spec.link("books-gw", Family::Book, book, GATEWAY);
        spec.link("books", Family::Book, book, strat);
        // The statuses (and trades) the books pass through: a market closing
        // pulls its quotes.
        spec.link("market", Family::Market, book, strat);
        let resync = spec.output("resync", Family::Book, book);
        spec.only(resync, is_resync);
        spec.link("intents", Family::Intent, strat, GATEWAY);
        spec.link("exec", Family::Exec, GATEWAY, strat);
        spec.output("exec-out", Family::Exec, GATEWAY);
        let graph = FusedGraph::new(spec).context("the decision graph")?;
        Ok(Core {
            graph,
            md,
            md_gw,
            cmd_st,
            cmd_gw,
            resync,
            resyncs: Vec::with_capacity(64),
            reports: Vec::with_capacity(1024),
            journal: std::marker::PhantomData,
        })
    }

    fn run(&mut self, inputs: [(LinkId, Event); 2], now: Nanos, at: Mono) {
        self.resyncs.clear();
        self.reports.clear();
        let (resync, resyncs, reports) = (self.resync, &mut self.resyncs, &mut self.reports);
        let mut take = |link: LinkId, e: Event| match e {
            Event::Book(u) if link == resync => resyncs.push(u),
            Event::Exec(r) => reports.push(r),
            _ => {}
        };
        self.graph.poll(now, at, &mut take);
        for (link, e) in inputs {
            // The links are the graph's own inputs: a refusal cannot happen.
            let _ = self.graph.send(link, e, now, at, &mut take);
        }
    }

    /// One market event at `now`; `at` stamps it for tick-to-trade
    /// ([`Mono::UNSET`] in replay).
    pub fn market(&mut self, m: MarketEvent, now: Nanos, at: Mono) {
        let e = Event::Market(m);
        self.run([(self.md_gw, e), (self.md, e)], now, at);
    }

    /// One command at `now` (a heartbeat, a signal, an operator's command).
    pub fn command(&mut self, c: Command, now: Nanos, at: Mono) {
        let e = Event::Command(c);
        self.run([(self.cmd_gw, e), (self.cmd_st, e)], now, at);
    }

    /// Offers risk policy `version` to the gateway, for a `ReloadRisk`
    /// command naming it.
    pub fn stage_policy(&mut self, version: i64, policy: RiskPolicy) {
        self.graph
            .node_mut::<EngineGatewayNode<J>>(GATEWAY)
            .expect("the graph has the gateway")
            .gateway_mut()
            .stage_policy(version, policy);
    }

    /// The gateway node.
    pub fn gateway_node(&self) -> &EngineGatewayNode<J> {
        self.graph
            .node::<EngineGatewayNode<J>>(GATEWAY)
            .expect("the graph has the gateway")
    }

    /// The gateway.
    pub fn gateway(&self) -> &EngineGateway<J> {
        self.gateway_node().gateway()
    }

    /// The strategies.
    pub fn strategies(&self) -> &StrategyStage {
        self.graph
            .node::<StrategyStage>(strategy::NAME)
            .expect("the graph has the strategies")
    }

    /// The books.
    pub fn books(&self) -> &BookStage {
        self.graph
            .node::<BookStage>("book")
            .expect("the graph has the books")
    }

    /// The graph's counters.
    pub fn stats(&self) -> pt_engine::graph::GraphStats {
        self.graph.stats()
    }
}

impl<J> core::fmt::Debug for Core<J> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Core").finish_non_exhaustive()
    }
}
