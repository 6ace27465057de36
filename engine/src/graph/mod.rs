//! The graph runtime: edges and stages joined by named, typed links.
//!
//! - **Nodes** ([`Node`]) are stages (pure: events and the time in, events
//!   out) or edges (they own I/O, the feed socket, the venue socket, the
//!   journal writer, the clock, and are polled). A node may have several
//!   inputs (the strategy reads books, execution reports and commands) and
//!   its outputs are routed by record family.
//! - **Links** are named and carry one record family each, with an overflow
//!   policy ([`Overflow`]): orders, execution reports and commands block;
//!   market data drops, counts, and marks the instrument stale. A link to an
//!   earlier node is a back-edge (gateway → strategy).
//! - **Runners**: [`FusedGraph`] runs every node on the caller's thread from
//!   one FIFO event queue, breadth-first and without recursion, so a graph
//!   with a back-edge gives the same outputs every time (replay, backtest).
//!   [`ThreadedGraph`] places contiguous runs of nodes on threads by the
//!   same [`crate::pipeline::PipelineConfig`] the linear pipeline uses; links
//!   between threads are SPSC rings, links within one go through that
//!   thread's queue. Both deliver through one executor. Given the same
//!   order of inputs at each node, they give identical outputs; fed one
//!   input at a time ([`ThreadedGraph::wait_idle`] between), they are
//!   identical to the fused runner, which `engine/tests/graph.rs` proves on
//!   a graph with a back-edge.
//! - **Stamps**: each node that takes an event stamps it with its id and the
//!   monotonic time; the time since the previous stamp goes into that node's
//!   latency histogram. An input the owner sends is first stamped by the
//!   owner ([`OWNER_STAMP`]), so the first node's histogram holds the time
//!   it waited; a record a node derives from another keeps its cause's
//!   stamps, so an intent carries the times of the market event behind it.
//!
//! After warm-up the executor allocates nothing: queues and output buffers
//! are allocated when the graph starts and only grow (counted) when a
//! fan-out exceeds anything before it.

mod core;
mod fused;
mod node;
mod rings;
mod spec;
mod stats;
mod threaded;

pub use fused::{FusedGraph, NotAnInput};
pub use node::{GraphEvent, Node, NodeKind, Out, Polled, StageNode};
pub use spec::{GraphError, GraphSpec, LinkId, MAX_NODES, OWNER_STAMP, Overflow};
pub use stats::{GraphStats, LinkStats, NodeStats};
pub use threaded::{GraphShutdown, StartError, ThreadedGraph};
