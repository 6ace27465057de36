//! `pt bench`: measurements of the venue simulator and of the engine's
//! tick-to-trade. The runtime's own
//! (rings, pipeline, journal) are in `pt-bench`, which links their peers.

/// What to measure.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Bench {
    /// The venue simulator: the market model's output at target rates,
    /// market-data frame latency to a WebSocket client and order arrival
    /// latency, over TLS on loopback (uses the latency probe).
    Sim(super::bench_sim::SimArgs),
    /// The engine in paper mode on the local simulator's feed, per
    /// placement and message rate: tick-to-trade percentiles, an .hgrm file
    /// per run and a PNG plot.
    TickToTrade(super::bench_ttt::TickToTradeArgs),
    /// Wire-to-wire through the local simulator over loopback TLS: the
    /// engine live with a probe strategy, the simulator stamping each frame
    /// sent and each order arrived; the engine's own share split out.
    Wire(super::bench_wire::WireArgs),
    /// `pt run`'s store: a synthetic orders journal ingested into SQLite,
    /// against one blob row per record in the same run.
    Ingest(super::bench_ingest::IngestArgs),
    /// Whether `pt run` slows the engine: tick-to-trade alone and under
    /// `pt run` on the same simulator, the store's lag, gRPC Status latency.
    Control(super::bench_control::ControlArgs),
}

pub(crate) fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Sim(args) => super::bench_sim::run(&args),
        Bench::TickToTrade(args) => super::bench_ttt::run(&args),
        Bench::Wire(args) => super::bench_wire::run(&args),
        Bench::Ingest(args) => super::bench_ingest::run(&args),
        Bench::Control(args) => super::bench_control::run(&args),
    }
}
