//! The live Kalshi venue: V2 order entry over the engine's own HTTP/1.1
//! client, order state and fills from the WebSocket channels.
//!
//! - [`wire`]: request bodies and response bodies, exact fixed-point.
//! - [`codes`]: the venue's refusal codes as reject codes.
//! - [`venue`]: [`KalshiVenue`], the gateway's live [`crate::Venue`].

pub mod codes;
pub mod venue;
pub mod wire;

pub use venue::{KalshiConfig, KalshiCounters, KalshiVenue};
