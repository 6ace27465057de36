//! `pt-sim`: a Kalshi-compatible exchange on loopback, run by `pt sim` and
//! by the tests of every client of it.
//!
//! It speaks Kalshi's published Trade API v2 (REST and WebSocket, the
//! fixed-point `*_dollars` / `*_fp` shapes and the V2 order endpoints) over
//! TLS, so a client that works against it works against Kalshi. The pieces:
//!
//! - [`exchange`]: the pure matching engine, accounts, fees and settlement;
//! - [`auth`]: API keys and RSA-PSS request signatures;
//! - [`state`]: the shared state (configuration, the exchange behind a
//!   mutex, the published change stream);
//! - [`server`]: the TLS listener, the routes, start and stop;
//! - [`access`]: signature checks and error responses both APIs use;
//! - [`rest`] and [`ws`]: the REST and WebSocket APIs, and `/sim/admin`;
//! - [`render`] and [`wire`]: Kalshi's JSON shapes and number formats;
//! - [`model`]: the seeded background makers and takers;
//! - [`faults`]: injected faults and Kalshi's token-bucket rate limits;
//! - [`tls`]: the certificate made at start;
//! - [`client`]: a client for tests and benches.

#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod client;
pub mod exchange;
pub mod faults;
pub mod model;
pub mod render;
pub mod rest;
mod rest_groups;
pub mod server;
pub mod state;
pub mod tls;
pub mod wire;
pub mod ws;
