//! `pt bench`: measurements of the venue simulator. The runtime's own
//! (rings, pipeline, journal) are in `pt-bench`, which links their peers.

/// What to measure.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Bench {
    /// The venue simulator: the market model's output at target rates,
    /// market-data frame latency to a WebSocket client and order arrival
    /// latency, over TLS on loopback (uses the latency probe).
    Sim(super::bench_sim::SimArgs),
}

pub(crate) fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Sim(args) => super::bench_sim::run(&args),
    }
}
