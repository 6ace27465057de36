//! The pipeline runtime.
//!
//! A pipeline is a chain of pure [`Stage`]s. [`Pipeline::start`] places them
//! on threads by [`PipelineConfig`] (one pinned core per stage, named groups
//! of stages fused on one thread, or `auto`), linked by rtrb SPSC rings
//! ([`link`]), each thread waiting by its [`WaitStrategy`]. [`FusedRunner`]
//! runs the same stages on the caller's thread. Both execute stages through
//! one executor, so they emit identical outputs in identical order.
//!
//! After warm-up a stage thread takes no locks and allocates nothing: rings,
//! outboxes and histograms are allocated when the pipeline starts
//! (`engine/tests/zero_alloc.rs` proves it with a counting allocator).

mod counters;
mod fused;
mod group;
mod latency;
pub mod link;
mod placement;
mod stage;
pub mod synthetic;
mod threaded;
mod wait;

pub use counters::StageStats;
pub use fused::FusedRunner;
pub use latency::{LatencyReport, LatencySummary, MAX_TRACKABLE_NS, new_histogram};
pub use placement::{
    GroupSpec, PipelineConfig, PlacementError, PlacementMode, Plan, ThreadPlan, available_cores,
    resolve,
};
pub use stage::{Outbox, OutboxFull, PipelineEvent, STAMPED_STAGES, Stage};
pub use threaded::{MAX_BATCH, Pipeline, PipelineError, Shutdown};
pub use wait::{Backoff, WaitStrategy};
