//! `pt-bench`: the runtime's own measurements on this host, each against
//! its peers in the same run: the pipeline link against raw rtrb,
//! crossbeam, std and the disruptor crate; the pipeline; the journal
//! against a buffered file. A binary of its own, so the peers are never
//! linked into `pt`.

#![forbid(unsafe_code)]

mod cmd;

use clap::Parser;

/// Measure this host: the pipeline's rings against their peers, the
/// pipeline, the journal.
#[derive(Debug, Parser)]
#[command(name = "pt-bench", version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    bench: cmd::Bench,
}

fn main() -> std::process::ExitCode {
    match cmd::run(Cli::parse().bench) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
