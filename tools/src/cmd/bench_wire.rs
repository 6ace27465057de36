//! `pt bench wire`: wire-to-wire latency through the local simulator over
//! loopback TLS. The engine runs live with the `probe` strategy, which
//! answers every Nth book update with an immediate-or-cancel order that
//! never fills; the simulator (its latency probe on) stamps each
//! market-data frame as it hands it to the socket and each order as its
//! request arrives. Each order is paired with the frame that caused it by
//! the frame's sequence number, which the order's header carries.
//!
//! Three legs per run: wire-to-wire (frame sent by the simulator → order
//! arrived at it), the market-data leg (frame sent → the engine's socket
//! read), and the engine's share (socket read → the order's request bytes
//! written), so the simulator's part is visible.

use super::bench_ttt::{Run, placement_section, plot, write_hgrm};
use crate::engine::config::EngineConfig;
use crate::engine::run::{Engine, ORDERS, read_events, session};
use crate::local_sim::{LocalSim, RISK_POLICY};
use anyhow::Context as _;
use hdrhistogram::Histogram;
use pt_engine::model::{Event, EventKind, Mode};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `pt bench wire`.
#[derive(Debug, clap::Args)]
pub(crate) struct WireArgs {
    /// Placements to run, comma-separated: fused, threads, pinned.
    #[arg(long, default_value = "fused,threads", value_delimiter = ',')]
    placements: Vec<String>,
    /// Market-data rates of the simulator, messages/s, comma-separated.
    #[arg(long, default_value = "1000,5000", value_delimiter = ',')]
    rates: Vec<u64>,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Markets followed.
    #[arg(long, default_value_t = 8)]
    markets: usize,
    /// Orders per second the probe aims at (it answers every Nth update,
    /// N = rate / this).
    #[arg(long, default_value_t = 100)]
    orders_per_s: u64,
    /// Where the .hgrm files, the plot and each run's journals go.
    #[arg(long, default_value = "bench-wire", value_name = "DIR")]
    out: PathBuf,
}

struct Legs {
    name: String,
    events_per_s: f64,
    orders: u64,
    wire: Histogram<u64>,
    md: Histogram<u64>,
    engine: Histogram<u64>,
}

fn config_text(port: u16, tickers: &[String], placement: &str, every: u64) -> String {
    let markets: Vec<String> = tickers.iter().map(|t| format!("{t:?}")).collect();
    format!(
        r#"# Written by `pt bench wire`: the engine live against the local simulator.
data_dir = "."
mode = "live"
live_enabled = true
heartbeat_ms = 100
risk_policy = "risk.toml"

[feed]
host = "127.0.0.1"
port = {port}
ca = "sim-ca.pem"
key_id = "pt-bench"
key_file = "sim-key.pem"
markets = [{}]

[placement]
{placement}

[[strategy]]
kind = "probe"
every = "{every}"
"#,
        markets.join(", ")
    )
}

fn one(
    runtime: &tokio::runtime::Runtime,
    args: &WireArgs,
    placement: &str,
    rate: u64,
) -> anyhow::Result<Legs> {
    let name = format!("{placement}-{rate}");
    let dir = args.out.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let sim = runtime.block_on(LocalSim::start_probed(
        args.markets,
        rate,
        &[],
        "pt-bench",
        true,
    ))?;
    sim.write_credentials(&dir)?;
    let every = (rate / args.orders_per_s.max(1)).max(1);
    let text = config_text(
        sim.running.addr.port(),
        &sim.tickers,
        placement_section(placement)?,
        every,
    );
    std::fs::write(dir.join("pt.toml"), &text)?;
    std::fs::write(dir.join("risk.toml"), RISK_POLICY)?;
    let config = EngineConfig::load(&dir.join("pt.toml"))?;
    // Book deltas only: their one subscription's sequence numbers name each
    // frame (a trade channel would number its own from 1 too).
    let mut feed_session = session(&sim.tickers);
    feed_session.trades = false;
    let mut engine = Engine::open(&config, sim.feed_config(feed_session)?)?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(args.seconds) {
        engine.turn(Duration::from_millis(50));
    }
    let secs = started.elapsed().as_secs_f64();
    let stopped = engine.stop(Duration::from_secs(3))?;
    let events = stopped
        .board
        .counter(crate::engine::board::Counter::MarketEvents);
    // The simulator's stamps, then the journal's orders.
    let (frames, arrivals) = match &sim.running.shared.probe {
        Some(p) => {
            // The book-delta stream of the feed's connection is the one
            // with the most frames (the venue edge's channels have few).
            let all = pt_sim::server::lock(&p.frames);
            let mut streams: HashMap<(u64, u64), usize> = HashMap::new();
            for &(conn, sid, _) in all.keys() {
                *streams.entry((conn, sid)).or_default() += 1;
            }
            let book = streams.into_iter().max_by_key(|&(_, n)| n).map(|(k, _)| k);
            let frames: HashMap<u64, i64> = all
                .iter()
                .filter(|((conn, sid, _), _)| Some((*conn, *sid)) == book)
                .map(|(&(_, _, seq), &ns)| (seq, ns))
                .collect();
            (frames, pt_sim::server::lock(&p.orders).clone())
        }
        None => anyhow::bail!("the simulator's probe is off"),
    };
    runtime.block_on(sim.running.shutdown());
    let mut wire = pt_engine::pipeline::new_histogram();
    let mut md = pt_engine::pipeline::new_histogram();
    let mut orders = 0;
    for (e, _) in read_events(&dir.join(ORDERS))? {
        let Event::Intent(i) = e else { continue };
        if i.header.kind != EventKind::OrderNew || i.effective_mode != Mode::Live {
            continue;
        }
        orders += 1;
        let Some(&sent) = frames.get(&i.header.seq) else {
            continue;
        };
        if let Some(&arrived) = arrivals.get(&i.client_order_id.to_string()) {
            wire.saturating_record((arrived - sent).max(1) as u64);
        }
        md.saturating_record((i.header.recv_ts.0 - sent).max(1) as u64);
    }
    Ok(Legs {
        name,
        events_per_s: events as f64 / secs,
        orders,
        wire,
        md,
        engine: stopped.wire_share,
    })
}

pub(crate) fn run(args: &WireArgs) -> anyhow::Result<()> {
    for p in &args.placements {
        placement_section(p)?;
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the simulator's runtime")?;
    println!(
        "{:<16} {:>9} {:>7} {:>7} | {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8}   (µs)",
        "run", "events/s", "orders", "paired", "wire p50", "p99", "md p50", "p99", "eng p50", "p99"
    );
    let mut curves = Vec::new();
    for placement in &args.placements {
        for &rate in &args.rates {
            eprintln!(
                "running {placement} at {rate} messages/s for {} s…",
                args.seconds
            );
            let r = one(&runtime, args, placement, rate)?;
            let q = |h: &Histogram<u64>, x: f64| h.value_at_quantile(x) as f64 / 1000.0;
            println!(
                "{:<16} {:>9.0} {:>7} {:>7} | {:>8.1} {:>8.1} | {:>8.1} {:>8.1} | {:>8.1} {:>8.1}",
                r.name,
                r.events_per_s,
                r.orders,
                r.wire.len(),
                q(&r.wire, 0.5),
                q(&r.wire, 0.99),
                q(&r.md, 0.5),
                q(&r.md, 0.99),
                q(&r.engine, 0.5),
                q(&r.engine, 0.99),
            );
            write_hgrm(&args.out.join(format!("{}-wire.hgrm", r.name)), &r.wire)?;
            write_hgrm(&args.out.join(format!("{}-md.hgrm", r.name)), &r.md)?;
            write_hgrm(&args.out.join(format!("{}-engine.hgrm", r.name)), &r.engine)?;
            for (leg, h) in [("wire", r.wire), ("engine", r.engine)] {
                curves.push(Run {
                    name: format!("{} {leg}", r.name),
                    events_per_s: r.events_per_s,
                    orders: r.orders,
                    h,
                });
            }
        }
    }
    let png = args.out.join("wire.png");
    let labelled = plot(
        &png,
        "wire-to-wire through pt sim (frame sent → order arrived) and the engine's share",
        &curves,
    )?;
    println!(
        "percentile distributions: {}/<run>-{{wire,md,engine}}.hgrm; plot: {}{}",
        args.out.display(),
        png.display(),
        if labelled {
            ""
        } else {
            " (no font found on this host: curves without labels)"
        }
    );
    Ok(())
}
