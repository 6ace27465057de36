//! One Binance `depthUpdate` frame (spot, or futures with `pu`) to a
//! checksum of its fixed-point fields, two ways, for the decode benches:
//! our decoder plus iterating every level, and the peer, serde_json into
//! `#[derive(Deserialize)]` structs borrowing the strings, then
//! `Price`/`Qty` parsing of every level. Both give the same checksum for
//! the same frame (the benches assert it), 0 for anything else.

use pt_engine::model::{Price, Qty};
use pt_feed::binance::{Msg, decode};
use serde::Deserialize;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: DepthData<'a>,
}

#[derive(Deserialize)]
struct DepthData<'a> {
    #[serde(rename = "E")]
    event_time: u64,
    #[serde(rename = "s", borrow)]
    symbol: &'a str,
    #[serde(rename = "U")]
    first: u64,
    #[serde(rename = "u")]
    last: u64,
    /// Futures only.
    #[serde(rename = "pu", default)]
    prev: Option<u64>,
    #[serde(rename = "b", borrow)]
    bids: Vec<[&'a str; 2]>,
    #[serde(rename = "a", borrow)]
    asks: Vec<[&'a str; 2]>,
}

/// The peer's checksum of a combined-stream depth frame.
pub fn serde_depth(frame: &str) -> i64 {
    let Ok(env) = serde_json::from_str::<Envelope<'_>>(frame) else {
        return 0;
    };
    let d = env.data;
    let ids = d.event_time + d.first + d.last + d.prev.unwrap_or(0);
    let mut acc = ids as i64 + d.symbol.len() as i64;
    for [p, q] in d.bids.iter().chain(&d.asks) {
        let (Ok(p), Ok(q)) = (Price::parse(p), Qty::parse(q)) else {
            return 0;
        };
        acc = acc.wrapping_add(p.raw() ^ q.raw());
    }
    acc
}

/// Our decoder's checksum of the same frame.
pub fn scanner_depth(frame: &str) -> i64 {
    let Ok(Msg::DepthUpdate(d)) = decode(frame.as_bytes()) else {
        return 0;
    };
    let ids =
        d.event_time + d.first_update_id + d.final_update_id + d.prev_final_update_id.unwrap_or(0);
    let mut acc = ids as i64 + d.symbol.len() as i64;
    for (p, q) in d.bids.iter().chain(d.asks.iter()) {
        acc = acc.wrapping_add(p.raw() ^ q.raw());
    }
    acc
}
