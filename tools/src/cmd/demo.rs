//! `pt demo`: the whole hot path on one machine with nothing else. A
//! simulator with twenty markets starts in this process; the engine
//! follows it in paper mode with `mm` quoting every market and `taker` fed
//! by a synthetic signal source that writes into the commands journal, as
//! `pt signal` would; a view refreshed in place shows what happens.

use crate::engine::commands::CommandWriter;
use crate::engine::run::{COMMANDS, Engine, session};
use crate::engine::view::Snapshot;
use crate::local_sim::LocalSim;
use anyhow::Context as _;
use pt_engine::model::{InstrumentId, Nanos, Price};
use pt_engine::strategy::Signal;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Stop after this many seconds; 0 runs until Ctrl-C.
    #[arg(long, default_value_t = 0)]
    seconds: u64,
    /// Markets of the simulator, all quoted by `mm`.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=500))]
    markets: u64,
    /// Market-data messages per second of the simulator.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    rate: u64,
    /// Milliseconds between synthetic signals (0: none).
    #[arg(long, default_value_t = 500)]
    signal_every_ms: u64,
    /// Where the journals go; a new folder under ./pt-demo by default.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Run the feed and the decision path on threads of their own, joined
    /// by the md ring (`[placement] mode = "threads"`), instead of fused on
    /// this thread.
    #[arg(long)]
    threads: bool,
    /// With --threads: pin them to cores and busy-spin (needs two free cores).
    #[arg(long, requires = "threads")]
    pin: bool,
    /// With --threads: slots of the md ring (a power of two). A ring that
    /// stays full drops market data, counts it and marks the books stale,
    /// which then resynchronise; a tiny ring shows it happen.
    #[arg(long, requires = "threads", value_name = "SLOTS")]
    md_ring: Option<u32>,
    /// Print a status line per second instead of the view refreshed in
    /// place (the default when stdout is not a terminal).
    #[arg(long)]
    plain: bool,
}

fn default_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PathBuf::from("pt-demo").join(format!("run-{secs}"))
}

/// The synthetic signal source: every `every`, one market's probability a
/// few cents away from its mid, written into `commands/`.
fn signals(dir: PathBuf, mids: Arc<Vec<AtomicI64>>, every: Duration, stop: Arc<AtomicBool>) {
    let mut w = match CommandWriter::open(&dir) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("signal source: {e:#}");
            return;
        }
    };
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let cent = Price::ONE.raw() / 100;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        let i = (next() % mids.len() as u64) as usize;
        let mid = mids[i].load(Ordering::Relaxed);
        if mid <= 0 {
            continue;
        }
        let away = (3 + (next() % 10) as i64) * cent;
        let p = if next().is_multiple_of(2) {
            mid + away
        } else {
            mid - away
        };
        let now = Nanos::now();
        let s = Signal {
            instrument: InstrumentId(i as u32),
            probability: Price::from_raw(p.clamp(2 * cent, 98 * cent)),
            confidence: Price::from_raw((50 + (next() % 40) as i64) * cent),
            generated_at: now,
            ttl_ns: 2_000_000_000,
            source: 1,
        };
        if let Err(e) = w.send(&s.to_command(now), now) {
            eprintln!("signal source: {e:#}");
            return;
        }
    }
}

fn count(dir: &Path) -> u64 {
    pt_journal::info(dir).map_or(0, |i| i.next_seq - i.first_seq.unwrap_or(i.next_seq))
}

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<()> {
    let stop = super::engine::stop_on_signals()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the simulator's runtime")?;
    let sim = runtime.block_on(LocalSim::start(
        args.markets as usize,
        args.rate,
        &[],
        "pt-demo",
    ))?;
    let dir = args.data_dir.clone().unwrap_or_else(default_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let placement = match (args.threads, args.pin) {
        (false, _) => "mode = \"fused\"",
        (true, false) => "mode = \"threads\"",
        (true, true) => "mode = \"threads\"\npin = true",
    };
    let mut placement = placement.to_owned();
    if let Some(n) = args.md_ring {
        placement.push_str(&format!("\nmd_ring = {n}"));
    }
    let config = sim.write_engine_config(&dir, &placement)?;
    let mut engine = Engine::open(&config, sim.feed_config(session(&sim.tickers))?)?;
    eprintln!(
        "pt demo: simulator on {} with {} markets at {} messages/s; journals in {}",
        sim.running.ws_url(),
        sim.tickers.len(),
        args.rate,
        dir.display()
    );

    let mids: Arc<Vec<AtomicI64>> =
        Arc::new((0..sim.tickers.len()).map(|_| AtomicI64::new(0)).collect());
    let source = (args.signal_every_ms > 0).then(|| {
        let (d, m, s) = (dir.clone(), mids.clone(), stop.clone());
        let every = Duration::from_millis(args.signal_every_ms);
        std::thread::spawn(move || signals(d, m, every, s))
    });

    let live_view = !args.plain && std::io::stdout().is_terminal();
    let refresh = Duration::from_millis(if live_view { 250 } else { 1000 });
    let started = Instant::now();
    let mut next = started + refresh;
    let (mut last_events, mut last_at) = (0u64, started);
    let mut out = std::io::stdout();
    let kinds: Vec<&'static str> = config.strategies.iter().map(|s| s.kind()).collect();
    let title = "pt demo: paper trading against the local simulator   (Ctrl-C ends it)";
    loop {
        engine.turn(Duration::from_millis(10));
        let done = stop.load(Ordering::Relaxed)
            || (args.seconds > 0 && started.elapsed() >= Duration::from_secs(args.seconds));
        if Instant::now() >= next || done {
            next = Instant::now() + refresh;
            let s = Snapshot::of(&engine, &sim.tickers, &kinds, started.elapsed());
            for (m, row) in mids.iter().zip(&s.markets) {
                if let (Some(b), Some(a)) = (row.bid, row.ask) {
                    m.store((b.raw() + a.raw()) / 2, Ordering::Relaxed);
                }
            }
            let events = s.loop_counters.market_events;
            let rate = (events - last_events) as f64 / last_at.elapsed().as_secs_f64().max(1e-3);
            (last_events, last_at) = (events, Instant::now());
            if live_view {
                write!(out, "\x1b[H\x1b[J{}", s.render(title, rate))?;
            } else {
                writeln!(out, "{}", s.line(rate))?;
            }
            out.flush()?;
        }
        if done {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    let stopped = engine.stop(Duration::from_secs(3))?;
    let s = Snapshot::read(
        &stopped.board,
        stopped.frames,
        &stopped.stats,
        &sim.tickers,
        &kinds,
        started.elapsed(),
    );
    let rate = s.loop_counters.market_events as f64 / secs;
    println!();
    println!("{}", s.render(title, rate));
    if let Some(t) = source {
        let _ = t.join();
    }
    runtime.block_on(sim.running.shutdown());
    let open = stopped.open.len();
    let d = dir.display();
    println!(
        "Summary: {:.0} s, {} market events ({rate:.0}/s), {} orders, {} fills, PnL {} after {} fees; {open} orders left open.",
        secs,
        s.loop_counters.market_events,
        s.approved,
        s.fills,
        crate::engine::view::usd(s.pnl),
        crate::engine::view::usd(s.fees)
    );
    println!(
        "Journals in {d}: md/ {} records (every input, in order), orders/ {} (every intent and report), commands/ {} (signals).",
        count(&dir.join("md")),
        count(&dir.join("orders")),
        count(&dir.join(COMMANDS))
    );
    for o in &stopped.open {
        println!("  still open: {o}");
    }
    println!("Look at them:");
    println!("  pt journal info {d}/orders");
    println!("  pt journal dump {d}/orders | head -40");
    println!(
        "  pt replay {d}        # feeds md/ through the same code; checks orders/ byte for byte"
    );
    Ok(())
}
