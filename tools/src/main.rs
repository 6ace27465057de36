//! `pt`: the PredictionTrader command line: the demo, the engine, replay,
//! signals, the feed follower, the instrument registry checker, the journal
//! inspector and the venue simulator (`pt-bench` measures the runtime).

#![forbid(unsafe_code)]

mod cmd;

use pt_tools::{engine, local_sim};

use clap::{Parser, Subcommand};

/// PredictionTrader: a low-latency trading engine for prediction markets and crypto.
#[derive(Debug, Parser)]
#[command(
    name = "pt",
    version,
    about = "PredictionTrader: a low-latency trading engine for prediction markets and crypto",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure the venue simulator and the engine's tick-to-trade on this
    /// host (`pt-bench` measures the rings, the pipeline and the journal).
    #[command(subcommand)]
    Bench(cmd::bench::Bench),
    /// The operator's console to a running `pt run` (gRPC): status,
    /// positions, orders, mode, kill, resume, flatten, signal, param,
    /// latency, tail; the token from $PT_TOKEN or --token-file.
    Ctl(cmd::ctl::CtlArgs),
    /// The whole engine on this machine: a simulator with 20 markets, the
    /// engine in paper mode with a market maker on every market and a
    /// signal taker, and a live view; --seconds N or Ctrl-C ends it.
    Demo(cmd::demo::DemoArgs),
    /// Run the engine: feed, books, strategies and gateway from --config.
    Engine(cmd::engine::EngineArgs),
    /// Follow a Kalshi WebSocket feed into books and show them: the built-in
    /// simulator by default, or --venue HOST:PORT / --kalshi with --markets.
    Feed(cmd::feed::FeedArgs),
    /// Check an instrument registry file and list what it defines.
    Instruments(cmd::instruments::Instruments),
    /// Inspect a journal: info, dump, tail, verify.
    #[command(subcommand)]
    Journal(cmd::journal::Journal),
    /// Change a running strategy's parameters (NAME=VALUE, as the config's keys).
    Param(cmd::param::ParamArgs),
    /// Feed a run's md/ journal through the same code and check that it
    /// journals the same orders, byte for byte.
    Replay(cmd::replay::ReplayArgs),
    /// Run the engine supervised (restarted if it crashes or stops beating),
    /// with its journals stored in SQLite and the control server
    /// (/health, /metrics, /api/v1) on loopback.
    Run(cmd::run::RunArgs),
    /// Send an external signal (a market's probability) to a running engine.
    Signal(cmd::signal::SignalArgs),
    /// Run a Kalshi-compatible exchange on loopback (REST, WebSocket, TLS), or make API keys.
    #[command(subcommand)]
    Sim(cmd::sim::Sim),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(bench) => cmd::bench::run(bench),
        Command::Ctl(args) => cmd::ctl::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Engine(args) => cmd::engine::run(args),
        Command::Param(args) => cmd::param::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Signal(args) => cmd::signal::run(args),
        Command::Feed(args) => cmd::feed::run(args),
        Command::Instruments(args) => cmd::instruments::run(&args),
        Command::Journal(command) => cmd::journal::run(command),
        Command::Sim(command) => cmd::sim::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
