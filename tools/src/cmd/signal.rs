//! `pt signal`: writes one external signal into a running engine's
//! commands journal.

use crate::engine::commands::CommandWriter;
use crate::engine::config::EngineConfig;
use pt_engine::model::{InstrumentId, Nanos, Price};
use pt_engine::strategy::Signal;
use std::path::PathBuf;
use std::time::Duration;

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

/// A signal for `market` from now for `ttl`, checked; also what the
/// control plane's SendSignal uses.
pub(crate) fn signal(
    config: &EngineConfig,
    market: &str,
    probability: &str,
    confidence: &str,
    ttl: Duration,
    source: u64,
    now: Nanos,
) -> anyhow::Result<Signal> {
    let Some(i) = config.feed.markets.iter().position(|t| t == market) else {
        anyhow::bail!(
            "market {market:?}: not one of the engine's feed.markets ({})",
            config.feed.markets.join(", ")
        );
    };
    let number = |name: &str, text: &str| {
        Price::parse(text)
            .map_err(|e| anyhow::anyhow!("{name} {text:?}: {e}; expected a number such as 0.62"))
    };
    let signal = Signal {
        instrument: InstrumentId(i as u32),
        probability: number("probability", probability)?,
        confidence: number("confidence", confidence)?,
        generated_at: now,
        ttl_ns: i64::try_from(ttl.as_nanos()).unwrap_or(i64::MAX),
        source,
    };
    signal.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(signal)
}

pub(crate) fn run(args: SignalArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&args.config)?;
    let now = Nanos::now();
    let signal = signal(
        &config,
        &args.market,
        &args.probability,
        &args.confidence,
        Duration::from_secs(args.ttl),
        args.source,
        now,
    )?;
    let mut w = CommandWriter::open(&config.data_dir)?;
    let seq = w.send(&signal.to_command(now), now)?;
    let dir = w.dir().to_path_buf();
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
