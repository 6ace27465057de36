//! The live engine: the feed edge and the decision edge in one graph,
//! fused on the caller's thread or each on a thread of its own (config
//! `[placement]`), joined by the `md` link (market data: when its ring
//! stays full the data is dropped, counted, and the instruments are marked
//! stale, so their books resynchronise) and the `resync` link back.
//!
//! ```text
//!  feed ──md (overflow marks stale)──► decision ──► Core (books, strategies, gateway)
//!   ▲                                  │  ▲
//!   └──resync (snapshot requests)──────┘  └── control (the owner's stop and cancel-all)
//! ```
//!
//! The decision edge takes each market event at the wall-clock time it
//! reads, journals it into `md/` and hands it to the `Core` at that time;
//! when polled it takes the commands written into `commands/` since (a
//! signal, a kill), copies each into `md/` and hands it over, and every
//! `heartbeat_ms` journals and hands over a clock tick and publishes the
//! [`Board`]. `md/` is therefore every input the decision path took, in
//! order, with its time: what `pt replay` feeds back.

use super::board::{Board, Counter};
use super::config::{EngineConfig, OnStop, Placement};
use super::core::{Core, LiveVenue};
use anyhow::Context as _;
use pt_engine::book::is_resync;
use pt_engine::graph::{
    FusedGraph, GraphSpec, GraphStats, LinkId, Node, NodeKind, Out, Polled, ThreadedGraph,
};
use pt_engine::model::heartbeat::{Beat, MdRing};
use pt_engine::model::journal_kind::journal_kind;
use pt_engine::model::{
    Command, CommandAction, Event, EventKind, Family, Header, InstrumentId, Mono, Nanos, Scope,
    VenueId,
};
use pt_engine::pipeline::{PipelineConfig, PlacementMode, WaitStrategy};
use pt_feed::kalshi::feed::{FeedConfig, KalshiFeed};
use pt_feed::kalshi::session::{Market, SessionConfig};
use pt_feed::market_data::{FEED, FeedEdge, FeedMonitor};
use pt_gateway::venue::unstamped;
use pt_gateway::{PolicyVersions, RiskPolicy};
use pt_journal::{StartAt, Tailer, Writer, WriterConfig};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The journals' folders inside the data directory.
pub const MD: &str = "md";
/// The gateway's write-ahead journal.
pub const ORDERS: &str = "orders";
/// Commands to the engine, written by others.
pub const COMMANDS: &str = pt_control::commands::COMMANDS;
/// The engine's saved place in `commands/`.
const COMMANDS_TAILER: &str = "engine";
/// The decision edge's node name.
pub const DECISION: &str = "decision";

/// What the decision edge counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopCounters {
    /// Market events taken.
    pub market_events: u64,
    /// Commands taken from `commands/`.
    pub commands: u64,
    /// Heartbeats.
    pub heartbeats: u64,
    /// Records of `commands/` that are not commands.
    pub bad_commands: u64,
    /// `md/` appends that failed.
    pub md_failures: u64,
    /// Snapshot requests passed to the feed.
    pub resyncs: u64,
    /// `ReloadRisk` commands whose policy version would not load (the
    /// gateway keeps the policy in force).
    pub bad_policies: u64,
}

/// The feed session for the configured markets: ids in their order.
pub fn session(tickers: &[String]) -> SessionConfig {
    SessionConfig {
        markets: tickers
            .iter()
            .enumerate()
            .map(|(i, t)| Market {
                ticker: t.clone(),
                instrument: InstrumentId(i as u32),
            })
            .collect(),
        venue: VenueId(0),
        trades: true,
        ticker: false,
    }
}

fn writer(dir: &Path) -> anyhow::Result<Writer> {
    let config = WriterConfig {
        segment_size: 16 << 20,
        ..WriterConfig::default()
    };
    let (w, recovery) = Writer::open(dir, config)
        .with_context(|| format!("opening the journal {}", dir.display()))?;
    if recovery.cut.is_some() || recovery.stale_lock_pid.is_some() {
        eprintln!("journal {}: {recovery}", dir.display());
    }
    Ok(w)
}

/// Every record of the journal in `dir` that is an engine event, with its time.
pub fn read_events(dir: &Path) -> anyhow::Result<Vec<(Event, Nanos)>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut t = Tailer::open(dir, StartAt::Beginning)
        .with_context(|| format!("reading the journal {}", dir.display()))?;
    while let Some(r) = t.next()? {
        let e = Event::from_bytes(r.payload)
            .map_err(|e| anyhow::anyhow!("{} record {}: {e:?}", dir.display(), r.seq))?;
        out.push((e, Nanos(r.timestamp)));
    }
    Ok(out)
}

/// A command of `action` for everything, at `now`.
pub fn global(action: CommandAction, now: Nanos) -> Command {
    Command {
        header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
        action,
        scope: Scope::Global,
        ..Command::default()
    }
}

/// Every risk policy version in `versions`; one that does not load stops
/// the engine, as the orders journal may have switched to it.
pub fn policy_versions(versions: &PolicyVersions) -> anyhow::Result<Vec<(i64, RiskPolicy)>> {
    let (good, bad) = versions.load_all().map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(e) = bad.first() {
        anyhow::bail!(
            "risk policy version {e}; the engine may have switched to it, so it must load (restore it from the control plane's config_versions table)"
        );
    }
    Ok(good)
}

/// The decision path as an edge of the engine's graph: it owns the `md/`
/// writer, the `commands/` tailer and the clock of the heartbeats.
pub struct Decision {
    core: Core<Writer>,
    md: Writer,
    commands: Tailer,
    policies: PolicyVersions,
    heartbeat: Duration,
    next_beat: Instant,
    counters: LoopCounters,
    fills: (u64, i64),
    board: Arc<Board>,
}

impl core::fmt::Debug for Decision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decision")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Decision {
    /// The decision graph.
    pub fn core(&self) -> &Core<Writer> {
        &self.core
    }

    fn journal_input(&mut self, e: &Event, now: Nanos) {
        let bytes = unstamped(e).to_bytes();
        if self
            .md
            .append(journal_kind(e.kind()), now.0, &bytes)
            .is_err()
        {
            self.counters.md_failures += 1;
        }
    }

    fn tally(&mut self) {
        for r in &self.core.reports {
            if r.header.kind == EventKind::Fill {
                self.fills.0 += 1;
                self.fills.1 += r.qty.raw() / pt_engine::model::Qty::ONE.raw();
            }
        }
    }

    fn command(&mut self, c: Command, now: Nanos) {
        // The policy a reload names is read here, at the edge, from the
        // file the control plane wrote before it sent the command.
        if c.action == CommandAction::ReloadRisk {
            match self.policies.load(c.arg) {
                Ok(p) => self.core.stage_policy(c.arg, p),
                Err(_) => self.counters.bad_policies += 1,
            }
        }
        self.journal_input(&Event::Command(c), now);
        self.core.command(c, now, Mono::UNSET);
        self.tally();
    }

    fn publish(&self) {
        self.board.publish(&self.core, &self.counters, self.fills);
    }
}

impl Node<Event> for Decision {
    fn name(&self) -> &str {
        DECISION
    }

    fn kind(&self) -> NodeKind {
        NodeKind::Edge
    }

    fn on_event(&mut self, event: &Event, _: Nanos, out: &mut Out<Event>) {
        // The time it takes the input, read here: what md/ records and
        // what the decision path sees.
        let now = Nanos::now();
        match event {
            Event::Market(m) => {
                self.journal_input(event, now);
                self.core.market(*m, now, Mono::UNSET);
                self.counters.market_events += 1;
                self.tally();
                for k in 0..self.core.resyncs.len() {
                    self.counters.resyncs += 1;
                    out.push(Event::Book(self.core.resyncs[k]));
                }
            }
            Event::Command(c) => {
                self.command(*c, now);
                self.publish();
            }
            _ => {}
        }
    }

    fn poll(&mut self, _: Nanos, _out: &mut Out<Event>) -> Polled {
        let now = Nanos::now();
        let mut taken = 0;
        loop {
            let next = match self.commands.next() {
                Ok(Some(r)) => Event::from_bytes(r.payload),
                Ok(None) => break,
                // A damaged record: counted, and read again next poll.
                Err(_) => {
                    self.counters.bad_commands += 1;
                    break;
                }
            };
            match next {
                Ok(Event::Command(c)) => {
                    self.counters.commands += 1;
                    if c.action == CommandAction::Shutdown {
                        self.board.stop_requested.store(true, Ordering::Relaxed);
                    }
                    self.command(c, now);
                }
                _ => self.counters.bad_commands += 1,
            }
            taken += 1;
            let _ = self.commands.save();
        }
        if Instant::now() >= self.next_beat {
            self.next_beat += self.heartbeat;
            if self.next_beat < Instant::now() {
                self.next_beat = Instant::now() + self.heartbeat;
            }
            self.counters.heartbeats += 1;
            let mut beat = global(CommandAction::Heartbeat, now);
            // Whose heartbeat it is (a supervisor tells its own engine's
            // from those of one still stopping after its supervisor died),
            // with the md ring and the venue, for the operator.
            Beat {
                pid: std::process::id(),
                md_ring: self.board.md_ring(),
                venue: Some(self.board.connectivity()),
            }
            .write(&mut beat);
            self.command(beat, now);
            self.publish();
            taken += 1;
        }
        if taken > 0 {
            // Emits nothing on its links, but did work: poll again soon.
            Polled::Emitted(0)
        } else {
            Polled::Idle
        }
    }

    fn expected_outputs(&self) -> usize {
        64
    }
}

enum Runner {
    Fused(FusedGraph<Event>),
    Threaded(ThreadedGraph<Event>),
}

/// The running engine.
pub struct Engine {
    runner: Option<Runner>,
    control: LinkId,
    board: Arc<Board>,
    feed: Arc<FeedMonitor>,
    on_stop: OnStop,
    next_ring_sample: Instant,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// What a stopped engine leaves.
#[derive(Debug)]
pub struct Stopped {
    /// Orders still open, described.
    pub open: Vec<String>,
    /// The graph's final counters.
    pub stats: GraphStats,
    /// The decision path's last state.
    pub board: Arc<Board>,
    /// Frames the feed received.
    pub frames: u64,
    /// Tick-to-trade of every order the gate approved (ns).
    pub tick_to_trade: hdrhistogram::Histogram<u64>,
    /// Market event received → order bytes written, per live create (ns;
    /// empty without a live venue).
    pub wire_share: hdrhistogram::Histogram<u64>,
}

/// The live venue for `config`'s mode: none in paper mode; in shadow and
/// live mode Kalshi's at the feed's host, with the feed's TLS and key (its
/// orders and account reads are signed like the feed's upgrade).
pub fn live_venue(config: &EngineConfig, feed: &FeedConfig) -> anyhow::Result<LiveVenue> {
    if config.mode == pt_engine::model::Mode::Paper {
        return Ok(LiveVenue::Off(pt_gateway::Disconnected));
    }
    let signer = feed.signer.clone().with_context(|| {
        format!(
            "mode = {:?} trades or reads the account at the venue: set feed.key_id and the key \
             (feed.key_file, or --stdin-secrets)",
            config.mode
        )
    })?;
    let rest = pt_net::HttpTarget::resolve(&feed.host, feed.port, feed.tls.as_ref())
        .with_context(|| format!("the venue's REST API at {}:{}", feed.host, feed.port))?;
    let mut ws = pt_net::WsConfig::new(&feed.host, feed.port, pt_net::auth::WS_PATH);
    ws.tls = feed.tls.clone();
    let kalshi = pt_gateway::kalshi::KalshiVenue::connect(
        pt_gateway::kalshi::KalshiConfig {
            rest,
            ws,
            tickers: config.feed.markets.clone(),
            presign: pt_net::presign::PresignConfig::default(),
            max_in_flight: 32,
            foreign: config.foreign_orders,
            order_groups: config
                .order_group_contracts
                .map(|n| (config.strategies.len() as u16, n)),
        },
        signer,
    )
    .with_context(|| format!("connecting to the venue at {}:{}", feed.host, feed.port))?;
    Ok(LiveVenue::Kalshi(Box::new(kalshi)))
}

impl Engine {
    /// Opens the journals in the data directory (recovering the gateway from
    /// `orders/`), the feed, and starts the graph as `[placement]` says.
    pub fn open(config: &EngineConfig, feed: FeedConfig) -> anyhow::Result<Engine> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        let recovered = read_events(&dir.join(ORDERS))?;
        let orders = writer(&dir.join(ORDERS))?;
        let md = writer(&dir.join(MD))?;
        // `commands/` belongs to whoever commands the engine; make it exist
        // so that they and this engine can open it.
        let commands_dir = dir.join(COMMANDS);
        if !commands_dir.exists() {
            drop(writer(&commands_dir)?);
        }
        let commands = Tailer::open_named(&commands_dir, COMMANDS_TAILER, StartAt::Beginning)
            .with_context(|| format!("following {}", commands_dir.display()))?;
        let policies = PolicyVersions::in_data_dir(dir);
        let staged = policy_versions(&policies)?;
        let core = Core::new(
            config,
            orders,
            &recovered,
            &staged,
            live_venue(config, &feed)?,
        )?;
        let board = Arc::new(Board::new(
            config.feed.markets.len(),
            config.strategies.len(),
        ));
        let decision = Decision {
            core,
            md,
            commands,
            policies,
            heartbeat: config.heartbeat,
            next_beat: Instant::now(),
            counters: LoopCounters::default(),
            fills: (0, 0),
            board: board.clone(),
        };
        let kalshi = KalshiFeed::new(feed).map_err(|e| anyhow::anyhow!("feed.markets: {e}"))?;
        // Fused, the feed waits for the network inside its poll: 1 ms keeps
        // the commands and heartbeats prompt. On a thread of its own it spins.
        let wait = match config.placement {
            Placement::Fused => Duration::from_millis(1),
            Placement::Threads { .. } => Duration::ZERO,
        };
        let edge = FeedEdge::new(kalshi, wait);
        let monitor = edge.monitor();
        let mut spec = GraphSpec::new();
        spec.node(Box::new(edge)).node(Box::new(decision));
        let md_link = spec.link("md", Family::Market, FEED, DECISION);
        if let Some(slots) = config.md_ring {
            spec.capacity(md_link, slots);
        }
        let resync = spec.link("resync", Family::Book, DECISION, FEED);
        spec.only(resync, is_resync);
        let control = spec.input("control", Family::Command, DECISION);
        let runner = match config.placement {
            Placement::Fused => Runner::Fused(FusedGraph::new(spec).context("the engine's graph")?),
            Placement::Threads { pin } => {
                let pc = PipelineConfig {
                    placement: PlacementMode::OnePerStage,
                    wait: Some(if pin {
                        WaitStrategy::BusySpin
                    } else {
                        WaitStrategy::SpinYield
                    }),
                    pin,
                    ..PipelineConfig::default()
                };
                Runner::Threaded(
                    ThreadedGraph::start(spec, &pc).context("starting the engine's threads")?,
                )
            }
        };
        Ok(Engine {
            runner: Some(runner),
            control,
            board,
            feed: monitor,
            on_stop: config.on_stop,
            next_ring_sample: Instant::now(),
        })
    }

    /// What the decision path last published.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// The feed's counters.
    pub fn feed(&self) -> &FeedMonitor {
        &self.feed
    }

    /// Whether a Shutdown command came through `commands/`.
    pub fn stop_requested(&self) -> bool {
        self.board.stop_requested.load(Ordering::Relaxed)
    }

    /// The graph's counters: the `md` link's drops and stale marks.
    pub fn stats(&self) -> GraphStats {
        match &self.runner {
            Some(Runner::Fused(g)) => g.stats(),
            Some(Runner::Threaded(g)) => g.stats(),
            None => GraphStats::default(),
        }
    }

    /// Runs for up to about `budget`: fused, the graph's turns; threaded,
    /// the threads run on and this waits.
    pub fn turn(&mut self, budget: Duration) {
        match &mut self.runner {
            Some(Runner::Fused(g)) => {
                let until = Instant::now() + budget;
                loop {
                    g.poll(Nanos::now(), Mono::now(), &mut |_, _| {});
                    if Instant::now() >= until {
                        break;
                    }
                }
            }
            Some(Runner::Threaded(g)) => {
                g.drain(&mut |_, _| {});
                std::thread::sleep(budget);
            }
            None => {}
        }
        // The md ring's counters, for the heartbeats; read at most four
        // times a second, as reading them builds the graph's statistics.
        if Instant::now() >= self.next_ring_sample {
            self.next_ring_sample = Instant::now() + Duration::from_millis(250);
            self.board
                .feed_open
                .store(self.feed.status().open, Ordering::Relaxed);
            if let Some(l) = self.stats().link("md") {
                self.board.set_md_ring(MdRing {
                    dropped: l.dropped,
                    stale_marks: l.stale_marks,
                    max_depth: l.max_depth,
                    depth: l.sent.saturating_sub(l.received),
                });
            }
        }
    }

    /// Sends a command to the decision path, as if from `commands/` but
    /// not written there (the engine's own stop); it is journaled in `md/`.
    fn command(&mut self, c: Command) {
        let e = Event::Command(c);
        let at = c.header.recv_ts;
        match &mut self.runner {
            Some(Runner::Fused(g)) => {
                let _ = g.send(self.control, e, at, Mono::UNSET, &mut |_, _| {});
            }
            Some(Runner::Threaded(g)) => {
                let _ = g.send(self.control, e, &mut |_, _| {});
            }
            None => {}
        }
    }

    /// A clean stop: the strategies stop and, unless `on_stop = "leave"`,
    /// every open order is cancelled; the feed keeps running until the
    /// venue has answered or `grace` passes.
    pub fn stop(mut self, grace: Duration) -> anyhow::Result<Stopped> {
        self.command(global(CommandAction::Shutdown, Nanos::now()));
        if self.on_stop == OnStop::Cancel {
            self.command(global(CommandAction::CancelAll, Nanos::now()));
            let until = Instant::now() + grace;
            let (mut again, mut tries) = (Instant::now(), 0);
            loop {
                self.turn(Duration::from_millis(5));
                if self.board.counter(Counter::OpenOrders) == 0 || Instant::now() >= until {
                    break;
                }
                // An order unacknowledged at the first cancel-all can be
                // cancelled once its acknowledgement arrives.
                if again.elapsed() >= Duration::from_millis(100) && tries < 10 {
                    (again, tries) = (Instant::now(), tries + 1);
                    self.command(global(CommandAction::CancelAll, Nanos::now()));
                }
            }
        }
        let (nodes, stats) = match self.runner.take() {
            Some(Runner::Fused(g)) => {
                let stats = g.stats();
                (g.into_nodes(), stats)
            }
            Some(Runner::Threaded(g)) => {
                let done = g.shutdown(&mut |_, _| {});
                (done.nodes, done.stats)
            }
            None => (Vec::new(), GraphStats::default()),
        };
        let mut open = Vec::new();
        let mut tick_to_trade = pt_engine::pipeline::new_histogram();
        let mut wire_share = pt_engine::pipeline::new_histogram();
        for node in nodes {
            let node: Box<dyn std::any::Any> = node;
            if let Ok(mut d) = node.downcast::<Decision>() {
                d.publish();
                d.md.flush().context("flushing md/")?;
                tick_to_trade = d.core.gateway_node().tick_to_trade().clone();
                if let Some(k) = d.core.gateway().live().kalshi() {
                    wire_share = k.wire_share().clone();
                }
                let oms = d.core.gateway().oms();
                open = oms
                    .iter()
                    .map(|o| {
                        format!(
                            "{} ({:?}, {:?} {} at {}, {} filled)",
                            o.id, o.state, o.side, o.qty, o.price, o.cum_qty
                        )
                    })
                    .collect();
                open.sort();
            }
        }
        let frames = self.feed.status().frames;
        Ok(Stopped {
            open,
            stats,
            board: self.board.clone(),
            frames,
            tick_to_trade,
            wire_share,
        })
    }
}
