//! `pt signal`: writes one external signal into a running engine's
//! commands journal.

use crate::engine::config::EngineConfig;
use crate::engine::run::COMMANDS;
use anyhow::Context as _;
use pt_engine::model::journal_kind::journal_kind;
use pt_engine::model::{Event, InstrumentId, Nanos, Price};
use pt_engine::strategy::Signal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct SignalArgs {
    /// The engine's config; the signal goes into its data directory's commands/.
    #[arg(long, default_value = "pt.toml", value_name = "FILE")]
    config: PathBuf,
    /// The market's ticker (one of feed.markets).
    #[arg(long)]
    market: String,
    /// The probability that YES wins, strictly between 0 and 1 (e.g. 0.62).
    #[arg(long)]
    probability: String,
    /// How much to trust it, from 0 to 1.
    #[arg(long, default_value = "1")]
    confidence: String,
    /// Seconds it stays valid after now.
    #[arg(long, default_value_t = 30)]
    ttl: u64,
    /// Who sends it (a number of your choosing, recorded with it).
    #[arg(long, default_value_t = 0)]
    source: u64,
}

pub(crate) fn run(args: SignalArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&args.config)?;
    let Some(i) = config.feed.markets.iter().position(|t| *t == args.market) else {
        anyhow::bail!(
            "--market {:?}: not one of the engine's feed.markets ({})",
            args.market,
            config.feed.markets.join(", ")
        );
    };
    let number = |name: &str, text: &str| {
        Price::parse(text)
            .map_err(|e| anyhow::anyhow!("--{name} {text:?}: {e}; expected a number such as 0.62"))
    };
    let now = Nanos::now();
    let signal = Signal {
        instrument: InstrumentId(i as u32),
        probability: number("probability", &args.probability)?,
        confidence: number("confidence", &args.confidence)?,
        generated_at: now,
        ttl_ns: i64::try_from(Duration::from_secs(args.ttl).as_nanos()).unwrap_or(i64::MAX),
        source: args.source,
    };
    signal.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = config.data_dir.join(COMMANDS);
    let wc = pt_journal::WriterConfig {
        segment_size: 1 << 20,
        ..pt_journal::WriterConfig::default()
    };
    // Another writer (the operator's console) may hold it for a moment.
    let until = Instant::now() + Duration::from_secs(2);
    let mut w = loop {
        match pt_journal::Writer::open(&dir, wc) {
            Ok((w, _)) => break w,
            Err(e) if Instant::now() >= until => {
                return Err(e).with_context(|| format!("opening {}", dir.display()));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let e = Event::Command(signal.to_command(now));
    let seq = w.append(journal_kind(e.kind()), now.0, &e.to_bytes())?;
    println!(
        "signal {seq} written to {}: {} probability {} confidence {} for {} s",
        dir.display(),
        args.market,
        signal.probability,
        signal.confidence,
        args.ttl
    );
    Ok(())
}
