//! `pt param`: changes a running strategy's parameters through the
//! engine's commands journal; checked here against the strategy's kind
//! first, and applied by the strategy between two events.

use crate::engine::commands::CommandWriter;
use crate::engine::config::{EngineConfig, StrategySpec};
use pt_engine::model::{Nanos, Qty, StrategyId};
use pt_engine::strategy::ParamChange;
use pt_engine::strategy::config::{Param, Params, find};
use pt_engine::strategy::mm::MmParams;
use pt_engine::strategy::taker::TakerParams;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct ParamArgs {
    /// The engine's config; the change goes into its data directory's commands/.
    #[arg(long, default_value = "pt.toml", value_name = "FILE")]
    config: PathBuf,
    /// The strategy's number (its place among the config's [[strategy]] entries, from 1).
    #[arg(long)]
    strategy: u16,
    /// Changes, NAME=VALUE (e.g. size=3 half_spread=0.03), as the config's keys.
    #[arg(required = true, value_name = "NAME=VALUE")]
    changes: Vec<String>,
}

/// Strategy `strategy`'s parameter change `name` = `value`, checked
/// against the strategy's kind; also what the control plane's
/// SetStrategyParam uses.
pub(crate) fn change(
    config: &EngineConfig,
    strategy: u16,
    name: &str,
    value: &str,
) -> anyhow::Result<ParamChange> {
    let n = config.strategies.len();
    let Some(spec) = (strategy as usize)
        .checked_sub(1)
        .and_then(|k| config.strategies.get(k))
    else {
        anyhow::bail!("strategy {strategy}: the config has strategies 1 to {n}");
    };
    let table: &[Param] = match spec {
        StrategySpec::Mm(..) => MmParams::TABLE,
        StrategySpec::Taker(..) => TakerParams::TABLE,
        StrategySpec::Probe(..) => pt_engine::strategy::probe::ProbeParams::TABLE,
    };
    let names: Vec<&str> = table.iter().map(|p| p.name).collect();
    let param = find(table, name).map_err(|_| {
        anyhow::anyhow!(
            "{name:?}: a {} strategy has no such parameter; it has {}",
            spec.kind(),
            names.join(", ")
        )
    })?;
    let raw = Qty::parse(value)
        .ok()
        .and_then(|v| param.check(v.raw()).ok())
        .ok_or_else(|| anyhow::anyhow!("{name} = {value:?}: expected {}", param.expected))?;
    ParamChange::new(StrategyId(strategy), name, raw)
        .ok_or_else(|| anyhow::anyhow!("{name:?}: not a parameter name"))
}

pub(crate) fn run(args: ParamArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&args.config)?;
    let mut changes = Vec::with_capacity(args.changes.len());
    for c in &args.changes {
        let Some((name, value)) = c.split_once('=') else {
            anyhow::bail!("{c:?}: expected NAME=VALUE, e.g. size=3");
        };
        changes.push(change(&config, args.strategy, name, value)?);
    }
    let kind = config.strategies[args.strategy as usize - 1].kind();
    let mut w = CommandWriter::open(&config.data_dir)?;
    for change in changes {
        let now = Nanos::now();
        let seq = w.send(&change.to_command(now), now)?;
        println!(
            "change {seq} written to {}: strategy {} ({}) {} = {}",
            w.dir().display(),
            args.strategy,
            kind,
            change.name(),
            Qty::from_raw(change.value)
        );
    }
    Ok(())
}
