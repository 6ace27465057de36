//! `pt feed`: follow a Kalshi WebSocket feed, build the books and show them.
//!
//! The feed (mio, rustls, the WebSocket client, the decoders and the
//! session) and the engine's book stage run on this thread, as on the
//! engine's feed core. Without `--venue`, a simulator is started in this
//! process on a loopback port with a key made for the run, so the command
//! works on a fresh machine.

use crate::local_sim::LocalSim;
use anyhow::{Context as _, bail};
use pt_engine::book::BookStage;
use pt_engine::graph::{FusedGraph, GraphSpec, ThreadedGraph};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{
    BookUpdate, Event, InstrumentId, Mono, Nanos, Price, Qty, VenueId, book_flags,
};
use pt_engine::pipeline::{PipelineConfig, PlacementMode, WaitStrategy};
use pt_feed::kalshi::feed::{FeedConfig, KalshiFeed};
use pt_feed::kalshi::session::{Market, SessionConfig};
use pt_feed::market_data::{FEED, FeedEdge, FeedStatus, add_market_data};
use pt_net::auth::Signer;
use pt_net::tls;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Where Kalshi serves its WebSocket API.
const KALSHI_HOST: &str = "api.elections.kalshi.com:443";

#[derive(Debug, clap::Args)]
pub(crate) struct FeedArgs {
    /// The venue's WebSocket host and port, e.g. api.elections.kalshi.com:443
    /// (the path is /trade-api/ws/v2). Without it, a simulator is started in
    /// this process on a loopback port and followed.
    #[arg(long, value_name = "HOST:PORT")]
    venue: Option<String>,
    /// Follow Kalshi itself (the same as --venue api.elections.kalshi.com:443).
    #[arg(long, conflicts_with = "venue")]
    kalshi: bool,
    /// Trust this CA certificate (PEM) instead of the standard web roots, e.g.
    /// sim/ca.pem written by `pt sim run`.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// API key id (sent as KALSHI-ACCESS-KEY) to sign the connection with.
    #[arg(long, requires = "key_file")]
    key_id: Option<String>,
    /// The API key's private key (RSA PEM file). Read once; never printed.
    #[arg(long, requires = "key_id", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Market tickers to follow, comma-separated. Required with --venue or
    /// --kalshi; the simulator's markets otherwise.
    #[arg(long, value_delimiter = ',', value_name = "TICKER,...")]
    markets: Vec<String>,
    /// Also follow trades and tickers (counted in the status line).
    #[arg(long)]
    trades: bool,
    /// Stop after this many seconds; 0 runs until Ctrl-C.
    #[arg(long, default_value_t = 0)]
    seconds: u64,
    /// Run the feed and the book stage on threads of their own joined by
    /// the engine's SPSC rings (the graph runtime, one node per thread), as
    /// the engine can, and report the feed → book latency; without it both
    /// run fused on this thread.
    #[arg(long)]
    threads: bool,
    /// With --threads: pin the book thread to a core.
    #[arg(long, requires = "threads")]
    pin: bool,
    /// Seconds between status lines.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    every: u64,
    /// Markets of the built-in simulator.
    #[arg(long, default_value_t = 4)]
    sim_markets: usize,
    /// A fault the built-in simulator injects, KEY=VALUE, repeatable (as
    /// `pt sim run --fault`): e.g. skip_seq=0.01 or corrupt_delta=0.001 to
    /// watch the feed recover.
    #[arg(long = "sim-fault", value_name = "KEY=VALUE")]
    sim_faults: Vec<String>,
    /// Market-data messages per second of the built-in simulator.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    sim_rate: u64,
}

pub(crate) fn run(args: FeedArgs) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    {
        let stop = stop.clone();
        runtime.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::Relaxed);
            }
        });
    }
    let venue = if args.kalshi {
        Some(KALSHI_HOST.to_owned())
    } else {
        args.venue.clone()
    };
    let (config, sim) = match venue {
        Some(_) if !args.sim_faults.is_empty() => {
            bail!(
                "--sim-fault is for the built-in simulator; a venue named with --venue or --kalshi injects none"
            )
        }
        Some(v) => (remote(&args, &v)?, None),
        None if args.ca.is_some() || args.key_id.is_some() => {
            bail!(
                "--ca, --key-id and --key-file are for a venue named with --venue or --kalshi; the built-in simulator needs none"
            )
        }
        None => {
            let (config, sim) = runtime.block_on(embedded(&args))?;
            (config, Some(sim))
        }
    };
    let outcome = follow(config, &args, &stop);
    if let Some(sim) = sim {
        runtime.block_on(sim.shutdown());
    }
    outcome
}

/// A venue named on the command line.
fn remote(args: &FeedArgs, venue: &str) -> anyhow::Result<FeedConfig> {
    let (host, port) = venue
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .filter(|(h, _)| !h.is_empty())
        .with_context(|| {
            format!("--venue: {venue:?} is not HOST:PORT, e.g. api.elections.kalshi.com:443")
        })?;
    if args.markets.is_empty() {
        bail!("--markets: which markets to follow? Give their tickers, comma-separated");
    }
    let mut config = FeedConfig::new(host, port, session(&args.markets, args.trades));
    config.tls = Some(match &args.ca {
        Some(ca) => {
            tls::client_config_from_ca_file(ca).with_context(|| format!("--ca {}", ca.display()))?
        }
        None => tls::client_config_web_roots().context("the standard web roots")?,
    });
    if let (Some(id), Some(file)) = (&args.key_id, &args.key_file) {
        let signer =
            Signer::from_pem_file(id, file).map_err(|e| anyhow::anyhow!("--key-file: {e}"))?;
        config.signer = Some(Arc::new(signer));
    } else {
        eprintln!(
            "note: no --key-id/--key-file: the connection is not signed (Kalshi refuses unsigned connections)"
        );
    }
    Ok(config)
}

/// Starts the simulator on a loopback port with a key made for this run.
async fn embedded(args: &FeedArgs) -> anyhow::Result<(FeedConfig, pt_sim::server::Running)> {
    let sim = LocalSim::start(args.sim_markets, args.sim_rate, &args.sim_faults, "pt-feed").await?;
    let tickers: Vec<String> = if args.markets.is_empty() {
        sim.tickers.clone()
    } else {
        args.markets.clone()
    };
    eprintln!(
        "simulator on {} ({} markets, {} messages/s)",
        sim.running.ws_url(),
        args.sim_markets.max(1),
        args.sim_rate
    );
    let fc = sim.feed_config(session(&tickers, args.trades))?;
    Ok((fc, sim.running))
}

fn session(tickers: &[String], trades: bool) -> SessionConfig {
    SessionConfig {
        markets: tickers
            .iter()
            .enumerate()
            .map(|(i, t)| Market {
                ticker: t.clone(),
                instrument: InstrumentId(i as u32 + 1),
            })
            .collect(),
        venue: VenueId(1),
        trades,
        ticker: trades,
    }
}

/// One market's top of book, for the status lines.
#[derive(Clone, Copy, Debug, Default)]
struct Top {
    bid: Option<(Price, Qty)>,
    ask: Option<(Price, Qty)>,
    stale: bool,
}

impl Top {
    fn of_update(u: &BookUpdate) -> Top {
        let side = |no: u8, p: Price, q: Qty| (u.book_flags & no == 0).then_some((p, q));
        Top {
            bid: side(book_flags::NO_BID, u.best_bid, u.best_bid_qty),
            ask: side(book_flags::NO_ASK, u.best_ask, u.best_ask_qty),
            stale: u.book_flags & book_flags::STALE != 0,
        }
    }
}

/// Status every `--every` seconds until `--seconds` pass or Ctrl-C.
struct Clock {
    started: Instant,
    next: Instant,
    every: u64,
    seconds: u64,
}

impl Clock {
    fn new(args: &FeedArgs) -> Clock {
        let started = Instant::now();
        Clock {
            started,
            next: started + Duration::from_secs(args.every),
            every: args.every,
            seconds: args.seconds,
        }
    }

    /// `(print now, stop after printing)`.
    fn tick(&mut self, stop: &AtomicBool) -> (bool, bool) {
        let now = Instant::now();
        let done = stop.load(Ordering::Relaxed)
            || (self.seconds > 0 && now - self.started >= Duration::from_secs(self.seconds));
        let print = now >= self.next || done;
        if print {
            self.next += Duration::from_secs(self.every);
        }
        (print, done)
    }
}

fn grid() -> anyhow::Result<PriceGrid> {
    // Kalshi's binary markets: one-cent ticks from $0.01 to $0.99. (A
    // market on a finer grid is refused level by level and counted.)
    let cent = Price::from_raw(1_000_000);
    PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent)
        .map_err(|e| anyhow::anyhow!("price grid: {e:?}"))
}

/// The market-data loop (the feed edge and the book stage, as the engine
/// runs them), printing a status line every `--every` seconds until
/// `--seconds` pass or Ctrl-C: fused on this thread, or with `--threads`
/// the feed and the books on threads of their own behind the engine's rings.
fn follow(config: FeedConfig, args: &FeedArgs, stop: &AtomicBool) -> anyhow::Result<()> {
    let tickers: Vec<String> = config
        .session
        .markets
        .iter()
        .map(|m| m.ticker.clone())
        .collect();
    let grid = grid()?;
    let books =
        BookStage::new((0..tickers.len()).map(|i| (InstrumentId(i as u32 + 1), grid.clone())))
            .map_err(|e| anyhow::anyhow!("books: {e}"))?;
    let feed = KalshiFeed::new(config).map_err(|e| anyhow::anyhow!("--markets: {e}"))?;
    // The feed waits for the network inside its poll; 2 ms keeps the loop
    // responsive to Ctrl-C and the books' snapshot requests.
    let edge = FeedEdge::new(feed, Duration::from_millis(2));
    let monitor = edge.monitor();
    let mut spec = GraphSpec::new();
    add_market_data(&mut spec, Box::new(edge), books, None);
    let mut view = View {
        tops: vec![Top::default(); tickers.len()],
        updates: 0,
    };
    let mut clock = Clock::new(args);
    let mut last = 0;
    if !args.threads {
        let mut graph = FusedGraph::new(spec).context("the market-data loop")?;
        loop {
            graph.poll(Nanos::now(), Mono::UNSET, &mut |_, e| view.take(e));
            let (print, done) = clock.tick(stop);
            if print {
                let kinds = graph
                    .node::<FeedEdge<KalshiFeed>>(FEED)
                    .map(|f| f.feed().session().unhandled_kinds().to_string());
                print_status(&clock, &monitor.status(), kinds, &tickers, &view, &mut last);
            }
            if done {
                break;
            }
        }
        let edge = graph
            .node::<FeedEdge<KalshiFeed>>(FEED)
            .context("the feed edge")?;
        return finish(edge.feed());
    }
    let config = PipelineConfig {
        placement: PlacementMode::OnePerStage,
        // This thread and, by default, the simulator share the host: the
        // loop's threads yield while they have nothing to do.
        wait: Some(WaitStrategy::SpinYield),
        pin: args.pin,
        ..PipelineConfig::default()
    };
    let mut graph =
        ThreadedGraph::start(spec, &config).context("starting the feed and book threads")?;
    let cores: Vec<Option<usize>> = graph.plan().threads.iter().map(|t| t.core).collect();
    loop {
        if graph.drain(&mut |_, e| view.take(e)) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (print, done) = clock.tick(stop);
        if print {
            print_status(&clock, &monitor.status(), None, &tickers, &view, &mut last);
        }
        if done {
            break;
        }
    }
    let done = graph.shutdown(&mut |_, e| view.take(e));
    let book_thread = cores.get(1).copied().flatten();
    match book_thread {
        Some(c) if done.pinned.get(1) == Some(&true) => {
            println!("book thread on core {c}; feed → book latency, ns:")
        }
        Some(c) => println!("book thread (pinning to core {c} failed); feed → book latency, ns:"),
        None => println!("book thread (not pinned); feed → book latency, ns:"),
    }
    println!(
        "  {:<12} {:>10} {:>8} {:>8} {:>8} {:>10}",
        "stage", "events", "p50", "p99", "p99.9", "max"
    );
    for s in done.latency.summaries().iter().filter(|s| s.count > 0) {
        println!(
            "  {:<12} {:>10} {:>8} {:>8} {:>8} {:>10}",
            s.stage, s.count, s.p50, s.p99, s.p999, s.max
        );
    }
    let feed = done.nodes.into_iter().next().context("the feed edge")?;
    let feed: Box<dyn std::any::Any> = feed;
    let edge = feed
        .downcast::<FeedEdge<KalshiFeed>>()
        .map_err(|_| anyhow::anyhow!("the first node is not the feed edge"))?;
    println!("unknown kinds {}", edge.feed().session().unhandled_kinds());
    finish(edge.feed())
}

/// What the operator sees of the books: the latest update of each market.
struct View {
    tops: Vec<Top>,
    updates: u64,
}

impl View {
    fn take(&mut self, e: Event) {
        if let Event::Book(u) = e {
            self.updates += 1;
            let i = (u.header.instrument.0 as usize).wrapping_sub(1);
            if let Some(t) = self.tops.get_mut(i) {
                *t = Top::of_update(&u);
            }
        }
    }
}

/// The run's outcome: an error when nothing ever arrived.
fn finish(feed: &KalshiFeed) -> anyhow::Result<()> {
    if feed.session_counters().frames == 0 {
        let why = feed
            .last_error()
            .map_or_else(|| "nothing arrived".to_owned(), |e| e.to_string());
        bail!("no frame received from the venue: {why}");
    }
    Ok(())
}

/// One status line, then one line per market. `unknown kinds` (last: it
/// may hold spaces) lists the frames the session passed over for their
/// type, by type (`brand_new=3 fill=1`), or `none`; with the feed on
/// another thread, their count (by type at exit).
fn print_status(
    clock: &Clock,
    c: &FeedStatus,
    kinds: Option<String>,
    tickers: &[String],
    view: &View,
    last_frames: &mut u64,
) {
    let kinds = match kinds {
        Some(k) => k,
        None if c.unknown_frames == 0 => "none".to_owned(),
        None => format!("{} frames (by type at exit)", c.unknown_frames),
    };
    println!(
        "{:>5}s  {}  frames {} ({}/s)  deltas {}  book updates {}  trades {}  gaps {}  resyncs {}  decode errors {}  reconnects {}  stale {}/{}  unknown kinds {}",
        clock.started.elapsed().as_secs(),
        if c.open { "open" } else { "closed" },
        c.frames,
        (c.frames - *last_frames) / clock.every,
        c.deltas,
        view.updates,
        c.trades,
        c.gaps,
        c.resyncs,
        c.decode_errors,
        c.reconnects,
        view.tops.iter().filter(|t| t.stale).count(),
        tickers.len(),
        kinds,
    );
    *last_frames = c.frames;
    for (t, top) in tickers.iter().zip(&view.tops) {
        let show = |l: Option<(Price, Qty)>| {
            l.map_or_else(
                || "-".to_owned(),
                |(p, q)| format!("{} x {}", fixed(p.raw(), 4), fixed(q.raw(), 2)),
            )
        };
        println!(
            "        {t:<28} bid {:>16}  ask {:>16}{}",
            show(top.bid),
            show(top.ask),
            if top.stale { "  (stale)" } else { "" }
        );
    }
}

/// A 1e-8 fixed-point value with `decimals` places (prices as Kalshi shows
/// them, `0.4500`; sizes `12.00`), truncated beyond them.
fn fixed(raw: i64, decimals: u32) -> String {
    let unit = 100_000_000i64;
    let scale = 10i64.pow(8 - decimals.min(8));
    let sign = if raw < 0 { "-" } else { "" };
    let (whole, frac) = (
        raw.unsigned_abs() / unit as u64,
        raw.unsigned_abs() % unit as u64,
    );
    format!(
        "{sign}{whole}.{:0width$}",
        frac / scale as u64,
        width = decimals as usize
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_point_values_print_with_their_places() {
        use super::fixed;
        assert_eq!(fixed(45_000_000, 4), "0.4500");
        assert_eq!(fixed(100_000_000, 4), "1.0000");
        assert_eq!(fixed(1_200_000_000, 2), "12.00");
        assert_eq!(fixed(-250_000_000, 2), "-2.50");
        assert_eq!(fixed(1, 4), "0.0000");
    }
}
