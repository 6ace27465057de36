//! `pt-tools`: the engine process assembled from the crates (its config,
//! the decision graph it shares with `pt replay`, the live loop and the
//! operator's view), and the in-process simulator the demo runs against.
//! The `pt` binary's subcommands are built on it.

#![forbid(unsafe_code)]

pub mod engine;
pub mod local_sim;
