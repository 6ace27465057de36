//! `pt bench tick-to-trade`: the engine in paper mode on the local
//! simulator's feed, for each placement and message rate: tick-to-trade
//! percentiles on stdout, an `.hgrm` percentile distribution per run and a
//! PNG plot of them all.
//!
//! Tick-to-trade is the gateway's: from the moment the feed took a frame
//! off the TLS socket to the hand-over of an order it caused to the venue.

use crate::engine::run::{Engine, session};
use crate::local_sim::LocalSim;
use anyhow::Context as _;
use hdrhistogram::Histogram;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of `pt bench tick-to-trade`.
#[derive(Debug, clap::Args)]
pub(crate) struct TickToTradeArgs {
    /// Placements to run, comma-separated: fused, threads.
    #[arg(long, default_value = "fused,threads", value_delimiter = ',')]
    placements: Vec<String>,
    /// Market-data rates of the simulator, messages/s, comma-separated.
    #[arg(long, default_value = "1000,10000", value_delimiter = ',')]
    rates: Vec<u64>,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Markets, all quoted by `mm`.
    #[arg(long, default_value_t = 20)]
    markets: usize,
    /// Where the .hgrm files, the plot and each run's journals go.
    #[arg(long, default_value = "bench-tick-to-trade", value_name = "DIR")]
    out: PathBuf,
}

pub(crate) struct Run {
    pub(crate) name: String,
    pub(crate) events_per_s: f64,
    pub(crate) orders: u64,
    pub(crate) h: Histogram<u64>,
}

pub(crate) fn placement_section(name: &str) -> anyhow::Result<&'static str> {
    match name {
        "fused" => Ok("mode = \"fused\""),
        "threads" => Ok("mode = \"threads\""),
        "pinned" => Ok("mode = \"threads\"\npin = true"),
        other => anyhow::bail!("--placements: {other:?}; expected fused, threads or pinned"),
    }
}

fn one(
    runtime: &tokio::runtime::Runtime,
    args: &TickToTradeArgs,
    placement: &str,
    rate: u64,
) -> anyhow::Result<Run> {
    let name = format!("{placement}-{rate}");
    let dir = args.out.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let sim = runtime.block_on(LocalSim::start(args.markets, rate, &[], "pt-bench"))?;
    let config = sim.write_engine_config(&dir, placement_section(placement)?)?;
    let mut engine = Engine::open(&config, sim.feed_config(session(&sim.tickers))?)?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(args.seconds) {
        engine.turn(Duration::from_millis(50));
    }
    let secs = started.elapsed().as_secs_f64();
    let stopped = engine.stop(Duration::from_secs(3))?;
    runtime.block_on(sim.running.shutdown());
    let b = &stopped.board;
    let events = b.counter(crate::engine::board::Counter::MarketEvents);
    let orders = b.counter(crate::engine::board::Counter::Approved);
    write_hgrm(
        &args.out.join(format!("{name}.hgrm")),
        &stopped.tick_to_trade,
    )?;
    Ok(Run {
        name,
        events_per_s: events as f64 / secs,
        orders,
        h: stopped.tick_to_trade,
    })
}

/// HdrHistogram's percentile distribution text, values in microseconds.
pub(crate) fn write_hgrm(path: &Path, h: &Histogram<u64>) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    writeln!(
        f,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    for v in h.iter_quantiles(5) {
        let q = v.quantile_iterated_to();
        let inverse = if q < 1.0 {
            format!("{:>14.2}", 1.0 / (1.0 - q))
        } else {
            String::new()
        };
        writeln!(
            f,
            "{:>12.3} {:>14.12} {:>10} {inverse}",
            v.value_iterated_to() as f64 / 1000.0,
            q,
            v.count_since_last_iteration()
        )?;
    }
    writeln!(
        f,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    )?;
    writeln!(
        f,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        h.max() as f64 / 1000.0,
        h.len()
    )?;
    Ok(())
}

/// A font for the plot's labels, if the host has a common one.
fn font() -> Option<&'static [u8]> {
    const CANDIDATES: [&str; 4] = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    ];
    let bytes = CANDIDATES.iter().find_map(|p| std::fs::read(p).ok())?;
    Some(Box::leak(bytes.into_boxed_slice()))
}

/// The percentile curves, latency (µs, log) against 1/(1 − percentile) (log).
pub(crate) fn plot(path: &Path, title: &str, runs: &[Run]) -> anyhow::Result<bool> {
    use plotters::prelude::*;
    let labelled = match font() {
        Some(bytes) => {
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
        }
        None => false,
    };
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    let top = runs.iter().map(|r| r.h.max()).max().unwrap_or(1).max(1) as f64 / 1000.0 * 2.0;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if labelled {
        builder
            .caption(title, ("sans-serif", 22))
            .x_label_area_size(45)
            .y_label_area_size(70);
    }
    let mut chart = builder
        .build_cartesian_2d((1.0f64..100_000.0).log_scale(), (0.1f64..top).log_scale())
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    if labelled {
        chart
            .configure_mesh()
            .x_desc("1 / (1 − percentile): 10 = p90, 100 = p99, 1000 = p99.9")
            .y_desc("µs")
            .draw()
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    } else {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .x_labels(0)
            .y_labels(0)
            .draw()
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    }
    for (k, r) in runs.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let points: Vec<(f64, f64)> =
            r.h.iter_quantiles(5)
                .filter(|v| v.quantile_iterated_to() < 0.99999)
                .map(|v| {
                    (
                        1.0 / (1.0 - v.quantile_iterated_to()),
                        (v.value_iterated_to() as f64 / 1000.0).max(0.1),
                    )
                })
                .collect();
        let series = chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
        if labelled {
            let name = r.name.clone();
            series
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    }
    root.present().map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    Ok(labelled)
}

pub(crate) fn run(args: &TickToTradeArgs) -> anyhow::Result<()> {
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
    let mut runs = Vec::new();
    println!(
        "{:<16} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}   (µs)",
        "run", "events/s", "orders", "p50", "p90", "p99", "p99.9", "max"
    );
    for placement in &args.placements {
        for &rate in &args.rates {
            eprintln!(
                "running {placement} at {rate} messages/s for {} s…",
                args.seconds
            );
            let r = one(&runtime, args, placement, rate)?;
            let q = |x: f64| r.h.value_at_quantile(x) as f64 / 1000.0;
            println!(
                "{:<16} {:>10.0} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                r.name,
                r.events_per_s,
                r.orders,
                q(0.5),
                q(0.9),
                q(0.99),
                q(0.999),
                r.h.max() as f64 / 1000.0
            );
            runs.push(r);
        }
    }
    let png = args.out.join("tick-to-trade.png");
    let labelled = plot(
        &png,
        "pt engine tick-to-trade (frame off the socket → order to the venue)",
        &runs,
    )?;
    println!(
        "percentile distributions: {}/<run>.hgrm; plot: {}{}",
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
