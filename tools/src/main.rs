//! `pt`: the PredictionTrader command line.
//!
//! Until the engine lands, `pt` runs the parts that exist: the feed
//! follower, the instrument registry checker, the journal inspector and the
//! venue simulator (`pt-bench` measures the runtime).

#![forbid(unsafe_code)]

mod cmd;

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
    /// Measure the venue simulator on this host (`pt-bench` measures the
    /// rings, the pipeline and the journal).
    #[command(subcommand)]
    Bench(cmd::bench::Bench),
    /// Follow a Kalshi WebSocket feed into books and show them: the built-in
    /// simulator by default, or --venue HOST:PORT / --kalshi with --markets.
    Feed(cmd::feed::FeedArgs),
    /// Check an instrument registry file and list what it defines.
    Instruments(cmd::instruments::Instruments),
    /// Inspect a journal: info, dump, tail, verify.
    #[command(subcommand)]
    Journal(cmd::journal::Journal),
    /// Run a Kalshi-compatible exchange on loopback (REST, WebSocket, TLS), or make API keys.
    #[command(subcommand)]
    Sim(cmd::sim::Sim),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(bench) => cmd::bench::run(bench),
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
