//! `pt-control`: the slow path, run by `pt run`.
//!
//! - [`supervisor`]: spawns `pt engine`, performs the start-up handshake
//!   (readiness line with a nonce, secrets on stdin), watches its
//!   heartbeats and restarts it with backoff;
//! - [`ingest`] and [`fold`]: tail the engine's journals read-only into the
//!   [`store`] (SQLite, or PostgreSQL by URL; [`db`]) as [`rows`], idempotently by (journal, sequence);
//! - [`http`]: `/health`, `/metrics` and the REST API over the store;
//! - [`grpc`] and [`auth`]: the control service, with tokens and roles
//!   (`grpc_admin`: its risk policy and strategy start/stop calls);
//! - [`tls`]: TLS for both servers when they listen off loopback, and for
//!   `pt ctl`.
//!
//! Nothing here is on the hot path: the engine shares only its journals and
//! the start-up contract with this process.
#![deny(unsafe_code)]

pub mod auth;
pub mod commands;
pub mod config;
pub mod db;
pub mod fold;
pub mod grpc;
mod grpc_admin;
pub mod http;
pub mod ingest;
pub mod rows;
pub mod schema;
pub mod service;
pub mod store;
pub mod supervisor;
pub mod synth;
pub mod tls;
mod write;

/// The generated gRPC types and stubs of `pt.control.v1`.
#[allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all
)]
pub mod pb {
    tonic::include_proto!("pt.control.v1");
    /// The protos' descriptor set, for server reflection.
    pub const DESCRIPTOR: &[u8] = tonic::include_file_descriptor_set!("control_descriptor");
}
