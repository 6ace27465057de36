//! `pt-net`: the engine's own non-blocking network stack, shared by the
//! feed and the gateway (a leaf: it depends on no other `pt` crate): TCP via mio, TLS via rustls,
//! the HTTP/1.1 upgrade and RFC 6455 WebSocket client framing.
//!
//! One [`WsClient`] is one connection, driven from one (pinned) thread by
//! [`WsClient::poll`]: no locks, no async runtime, no threads of its own.
//! Each poll waits for readiness, drains the socket until `WouldBlock` (mio is
//! edge-triggered), decodes every complete frame and hands text and binary
//! messages to the caller as slices borrowed from a reusable read buffer.
//! Pings are answered and the close handshake is completed inside `poll`.
//!
//! Layers, one file per concern:
//! - [`tls`]: rustls client configurations (a PEM CA file, or the web roots).
//! - [`record`]: the TLS record layer after the handshake. rustls does the
//!   handshake, then hands over the traffic keys; records are decrypted in
//!   place and TLS 1.3 records sealed without allocating.
//! - [`http`]: the upgrade request and response check, with the SHA-1 and
//!   base64 that `Sec-WebSocket-Accept` needs.
//! - [`ws`]: the frame codec and message reassembly (pure, fuzzed).
//! - [`http1`]: HTTP/1.1 keep-alive REST connections (pipelined, on the
//!   caller's poll), for order entry and account reads.
//! - `transport`: the only place that does socket and TLS I/O.
//! - [`conn`]: the connection state machine tying them together.
//! - [`backoff`]: jittered exponential reconnect delays.
//! - [`auth`] and [`presign`]: request signing, and signatures made ahead
//!   of use on a housekeeping thread so none is on the order path.
//!
//! Allocation, measured by `tests/net_alloc.rs`: 10,000 messages after
//! warm-up, 12,000 frames with fragments, 200 pings answered. The client
//! allocates nothing (0), over plain TCP and over TLS alike. rustls 0.23's
//! own connections, buffered or unbuffered, copy each received record into a
//! fresh `Vec` (about 12,250 allocations on the same run), which is why the
//! records after the handshake are ours.
#![forbid(unsafe_code)]

pub mod auth;
pub mod backoff;
pub mod conn;
mod error;
pub mod http;
pub mod http1;
pub mod presign;
pub mod record;
mod rng;
pub mod tls;
mod transport;
pub mod ws;

pub use backoff::{Backoff, Jitter};
pub use conn::{PollOutcome, WsClient, WsConfig};
pub use error::NetError;
pub use http1::{HttpConn, HttpTarget, Pumped, Response};
pub use record::TlsStats;
pub use ws::{ProtocolError, WsMessage};
