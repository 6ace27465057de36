//! The live engine: the feed edge, the decision graph and the journals on
//! this thread (the default placement: one core for the hot path, the
//! simulator or the operator's tools on the other).
//!
//! Each turn polls the feed, journals every market event into `md/` and
//! hands it to the decision graph at the turn's time; takes the commands
//! written into `commands/` since the last turn (a signal, a kill), copies
//! each into `md/` and hands it over; and every `heartbeat_ms` journals and
//! hands over a clock tick. `md/` is therefore every input the decision
//! path took, in order, with its time: what `pt replay` feeds back.

use super::config::{EngineConfig, OnStop};
use super::core::Core;
use super::view::Tally;
use anyhow::Context as _;
use pt_engine::model::journal_kind::journal_kind;
use pt_engine::model::{Command, CommandAction, Event, EventKind, Header, InstrumentId};
use pt_engine::model::{MarketEvent, Mono, Nanos, Scope, VenueId};
use pt_feed::kalshi::feed::{FeedConfig, KalshiFeed};
use pt_feed::kalshi::session::{Market, SessionConfig};
use pt_journal::{StartAt, Tailer, Writer, WriterConfig};
use std::path::Path;
use std::time::{Duration, Instant};

/// The journals' folders inside the data directory.
pub const MD: &str = "md";
pub const ORDERS: &str = "orders";
pub const COMMANDS: &str = "commands";
/// The engine's saved place in `commands/`.
const COMMANDS_TAILER: &str = "engine";

/// What the loop counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopCounters {
    pub market_events: u64,
    pub commands: u64,
    pub heartbeats: u64,
    /// Records of `commands/` that are not commands.
    pub bad_commands: u64,
    /// `md/` appends that failed.
    pub md_failures: u64,
    pub resyncs: u64,
}

/// The running engine.
pub struct Engine {
    pub core: Core<Writer>,
    md: Writer,
    commands: Tailer,
    feed: KalshiFeed,
    heartbeat: Duration,
    next_beat: Instant,
    on_stop: OnStop,
    batch: Vec<MarketEvent>,
    pub counters: LoopCounters,
    pub tally: Tally,
    stop_requested: bool,
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

impl Engine {
    /// Opens the journals in the data directory (recovering the gateway from
    /// `orders/`), and the feed.
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
        let core = Core::new(config, orders, &recovered)?;
        let feed = KalshiFeed::new(feed).map_err(|e| anyhow::anyhow!("feed.markets: {e}"))?;
        Ok(Engine {
            core,
            md,
            commands,
            feed,
            heartbeat: config.heartbeat,
            next_beat: Instant::now(),
            on_stop: config.on_stop,
            batch: Vec::with_capacity(4096),
            counters: LoopCounters::default(),
            tally: Tally::default(),
            stop_requested: false,
        })
    }

    /// The feed.
    pub fn feed(&self) -> &KalshiFeed {
        &self.feed
    }

    fn journal_input(&mut self, e: &Event, now: Nanos) {
        if self
            .md
            .append(journal_kind(e.kind()), now.0, &e.to_bytes())
            .is_err()
        {
            self.counters.md_failures += 1;
        }
    }

    fn command(&mut self, c: Command, now: Nanos) {
        self.journal_input(&Event::Command(c), now);
        self.core.command(c, now, Mono::UNSET);
        self.tally.take(&self.core);
    }

    /// Whether a Shutdown command came through `commands/`.
    pub fn stop_requested(&self) -> bool {
        self.stop_requested
    }

    /// One turn, waiting up to `timeout` for market data.
    pub fn turn(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let mut batch = std::mem::take(&mut self.batch);
        self.feed.poll(timeout, &mut |m| batch.push(m));
        let now = Nanos::now();
        let at = Mono::now();
        let mut i = 0;
        while i < batch.len() {
            let m = batch[i];
            i += 1;
            self.journal_input(&Event::Market(m), now);
            self.core.market(m, now, at);
            self.tally.take(&self.core);
            self.counters.market_events += 1;
            for k in 0..self.core.resyncs.len() {
                let instrument = self.core.resyncs[k];
                self.counters.resyncs += 1;
                self.feed.resync(instrument, &mut |m| batch.push(m));
            }
        }
        batch.clear();
        self.batch = batch;
        while let Some(r) = self.commands.next()? {
            match Event::from_bytes(r.payload) {
                Ok(Event::Command(c)) => {
                    self.counters.commands += 1;
                    self.stop_requested |= c.action == CommandAction::Shutdown;
                    self.command(c, now);
                }
                _ => self.counters.bad_commands += 1,
            }
            self.commands.save()?;
        }
        if Instant::now() >= self.next_beat {
            self.next_beat += self.heartbeat;
            if self.next_beat < Instant::now() {
                self.next_beat = Instant::now() + self.heartbeat;
            }
            self.counters.heartbeats += 1;
            self.command(global(CommandAction::Heartbeat, now), now);
        }
        Ok(())
    }

    /// The orders still open, described (at most `n`).
    pub fn open_orders(&self, n: usize) -> Vec<String> {
        let oms = self.core.gateway().oms();
        let mut out: Vec<String> = oms
            .iter()
            .take(n)
            .map(|o| {
                format!(
                    "{} ({:?}, {:?} {} at {}, {} filled)",
                    o.id, o.state, o.side, o.qty, o.price, o.cum_qty
                )
            })
            .collect();
        out.sort();
        out
    }

    /// A clean stop: the strategies stop and, unless `on_stop = "leave"`,
    /// every open order is cancelled; the feed keeps running until the
    /// venue has answered or `grace` passes. Returns the orders still open.
    pub fn stop(&mut self, grace: Duration) -> anyhow::Result<u32> {
        let now = Nanos::now();
        self.command(global(CommandAction::Shutdown, now), now);
        if self.on_stop == OnStop::Leave {
            return Ok(self.core.gateway().oms().open());
        }
        self.command(global(CommandAction::CancelAll, now), now);
        let until = Instant::now() + grace;
        let (mut again, mut tries) = (Instant::now(), 0);
        while self.core.gateway().oms().open() > 0 && Instant::now() < until {
            self.turn(Duration::from_millis(1))?;
            // An order still unacknowledged at the first cancel-all can be
            // cancelled once its acknowledgement arrives.
            if again.elapsed() >= Duration::from_millis(100) && tries < 10 {
                (again, tries) = (Instant::now(), tries + 1);
                let now = Nanos::now();
                self.command(global(CommandAction::CancelAll, now), now);
            }
        }
        self.md.flush()?;
        Ok(self.core.gateway().oms().open())
    }
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}
