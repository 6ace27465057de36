//! `pt instruments FILE`: load a registry and print it, or say what is wrong.

use anyhow::Context;
use pt_engine::instrument::Registry;
use std::path::PathBuf;

/// Arguments of `pt instruments`.
#[derive(Debug, clap::Args)]
pub(crate) struct Instruments {
    /// The registry file (TOML with [[venue]] and [[instrument]] tables).
    file: PathBuf,
}

pub(crate) fn run(args: &Instruments) -> anyhow::Result<()> {
    let registry = Registry::load(&args.file)
        .with_context(|| format!("invalid instrument registry {}", args.file.display()))?;
    println!(
        "{} venues, {} instruments",
        registry.venues().len(),
        registry.instruments().len()
    );
    println!(
        "{:>4}  {:<10} {:<32} {:<9} {:>8} {:>12} {:>12} {:>10}",
        "id", "venue", "symbol", "kind", "prices", "min", "max", "qty_step"
    );
    for i in registry.instruments() {
        let venue = registry
            .venues()
            .get(i.venue.0 as usize)
            .map_or("?", |v| v.name.as_str());
        let min = i.grid.min().map(|p| p.to_string()).unwrap_or_default();
        let max = i.grid.max().map(|p| p.to_string()).unwrap_or_default();
        println!(
            "{:>4}  {:<10} {:<32} {:<9} {:>8} {:>12} {:>12} {:>10}",
            i.id.0,
            venue,
            i.symbol,
            format!("{:?}", i.kind).to_lowercase(),
            i.grid.len(),
            min,
            max,
            i.qty_step.to_string()
        );
    }
    Ok(())
}
