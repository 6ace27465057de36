//! `pt replay DIR`: feeds a run's `md/` journal (every input its decision
//! path took, with the time it took it) through the same books, strategies
//! and gateway, and checks that the orders it journals are the run's
//! `orders/`, byte for byte.

use crate::engine::config::EngineConfig;
use crate::engine::core::Core;
use crate::engine::run::{MD, ORDERS, read_events};
use anyhow::Context as _;
use pt_engine::model::{Event, Mono, Nanos};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// The run's data directory (holding md/, orders/ and pt.toml).
    dir: PathBuf,
    /// The engine's config (default: DIR/pt.toml, the copy the run saved).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| args.dir.join("pt.toml"));
    let config = EngineConfig::load(&config_path)
        .with_context(|| format!("the run's config {}", config_path.display()))?;
    let md = args.dir.join(MD);
    if !md.exists() {
        anyhow::bail!(
            "{}: no md/ journal; give a data directory `pt engine` or `pt demo` wrote",
            args.dir.display()
        );
    }
    let started = Instant::now();
    let inputs = read_events(&md)?;
    let recorded = read_events(&args.dir.join(ORDERS))?;
    let mut core = Core::new(
        &config,
        Vec::<(Event, Nanos)>::with_capacity(recorded.len()),
        &[],
    )?;
    let mut other = 0u64;
    for (k, (e, now)) in inputs.iter().enumerate() {
        match e {
            Event::Market(m) => core.market(*m, *now, Mono::UNSET),
            Event::Command(c) => core.command(*c, *now, Mono::UNSET),
            _ => other += 1,
        }
        if k > 0 && k % 1_000_000 == 0 {
            eprintln!("  {k} of {} inputs", inputs.len());
        }
    }
    let replayed = core.gateway().journal();
    println!(
        "replayed {} inputs ({} not inputs, passed over) in {:.2} s: {} orders records, the run journaled {}",
        inputs.len(),
        other,
        started.elapsed().as_secs_f64(),
        replayed.len(),
        recorded.len()
    );
    for (i, (a, b)) in replayed.iter().zip(&recorded).enumerate() {
        if a.0.to_bytes() != b.0.to_bytes() || a.1 != b.1 {
            anyhow::bail!(
                "orders record {i} differs:\n  replay: {:?} at {}\n  run:    {:?} at {}",
                a.0,
                a.1,
                b.0,
                b.1
            );
        }
    }
    if replayed.len() != recorded.len() {
        anyhow::bail!(
            "the replay journaled {} orders records, the run {}; the first {} agree (a run that was restarted, or whose journal was cut, cannot be replayed from md/ alone)",
            replayed.len(),
            recorded.len(),
            replayed.len().min(recorded.len())
        );
    }
    println!(
        "identical: every intent, report and command in orders/, byte for byte and at the same times"
    );
    Ok(())
}
