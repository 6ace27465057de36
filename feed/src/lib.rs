//! `pt-feed`: market data from venues into engine events.
//!
//! - [`kalshi`]: WebSocket v2 decoders, the subscription session with
//!   sequence recovery, and the connection ([`kalshi::feed`]).
//! - [`binance`]: spot depth, bookTicker and trade decoding and the `U`/`u`
//!   depth synchronisation (driven by recorded data for now).
//! - [`polymarket`]: `book` events.
//! - [`lobster`]: the LOBSTER importer.
//! - [`kinds`]: message kinds a decoder passes over, counted by name.
//!
//! Each decoder turns bytes into the fixed-size records of
//! [`pt_engine::model`] and never panics on bad input: a typed error and a
//! counter instead, and a fuzz target each. A message kind it does not
//! handle is counted under its name ([`kinds::UnknownKinds`]), not only in
//! a total.
#![forbid(unsafe_code)]

pub mod binance;
pub mod json;
pub mod kalshi;
pub mod kinds;
pub mod lobster;
pub mod market_data;
pub mod polymarket;
