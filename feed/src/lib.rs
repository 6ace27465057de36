//! `pt-feed`: market data from venues into engine events.
//!
//! This crate will hold the non-blocking network stack (`net`: mio, rustls,
//! WebSocket), the venue protocols (`kalshi`, `binance`, `polymarket`) and the
//! importers of recorded data (`lobster`). Each decoder turns bytes into the
//! fixed-size records of [`pt_engine::model`] and never panics on bad input.
//!
//! Built so far: the LOBSTER importer ([`lobster`]).
#![forbid(unsafe_code)]

pub mod auth;
pub mod binance;
pub mod json;
pub mod kalshi;
pub mod lobster;
pub mod net;
pub mod polymarket;
