//! One module per subcommand.

pub(crate) mod bench;
pub(crate) mod bench_control;
pub(crate) mod bench_ingest;
pub(crate) mod bench_sim;
pub(crate) mod bench_ttt;
pub(crate) mod bench_wire;
pub(crate) mod ctl;
pub(crate) mod ctl_admin;
mod ctl_tls;
pub(crate) mod demo;
pub(crate) mod engine;
pub(crate) mod feed;
pub(crate) mod instruments;
pub(crate) mod journal;
pub(crate) mod param;
pub(crate) mod replay;
pub(crate) mod run;
pub(crate) mod signal;
pub(crate) mod sim;
