//! `pt-engine`: the hot path's building blocks.
//!
//! - [`model`]: identifiers, fixed-point [`model::Price`] and [`model::Qty`],
//!   timestamps and the 128-byte event records.
//! - [`instrument`]: the instrument registry loaded from TOML.
//! - [`pipeline`]: pure [`pipeline::Stage`]s connected by SPSC rings on pinned
//!   threads, or fused on one thread, with counters and latency histograms.
//! - [`config`]: TOML loading with errors that name the key and line.
#![forbid(unsafe_code)]

pub mod book;
pub mod config;
pub mod contract;
pub mod graph;
pub mod instrument;
pub mod model;
pub mod pipeline;
pub mod strategy;
