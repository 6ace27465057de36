//! The live Kalshi venue: V2 order entry over the engine's own HTTP/1.1
//! client, order state and fills from the WebSocket channels.
//!
//! - [`wire`]: request bodies and response bodies, exact fixed-point.
//! - [`codes`]: the venue's refusal codes as reject codes.
//! - [`reads`]: the account reads reconciliation makes.
//! - `state`: orders, requests in flight and trades seen; responses and
//!   channel messages into reports.
//! - `reconcile`: rebuilding from the journal and matching the venue's
//!   orders and fills at start and after any unknown outcome.
//! - [`venue`]: [`KalshiVenue`], the gateway's live [`crate::Venue`].

pub mod codes;
pub mod reads;
mod reconcile;
mod state;
pub mod venue;
pub mod wire;

pub use venue::{ForeignOrders, KalshiConfig, KalshiCounters, KalshiVenue};
