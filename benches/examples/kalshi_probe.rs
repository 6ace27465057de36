//! Decodes one Kalshi frame many times, for `valgrind --tool=callgrind`
//! (instruction counts are repeatable on a noisy host).
//!
//! `cargo build --release -p pt-benches --example kalshi_probe`
//! `valgrind --tool=callgrind target/release/examples/kalshi_probe ours 100000`
//! (`serde` for serde_json; `pipeline N` runs N generated deltas through
//! decode, session and book stage, as the `book` bench does).

use pt_engine::model::{Price, Qty};
use pt_feed::kalshi::{Msg, decode};
use serde::Deserialize;
use std::hint::black_box;

// The serde_json peer, as in `benches/kalshi_decode.rs`.
#[derive(Deserialize)]
struct Env<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    sid: Option<u64>,
    seq: Option<u64>,
    #[serde(borrow)]
    msg: SDelta<'a>,
}

#[derive(Deserialize)]
struct SDelta<'a> {
    market_ticker: &'a str,
    market_id: Option<&'a str>,
    price_dollars: &'a str,
    delta_fp: &'a str,
    side: &'a str,
    ts_ms: Option<i64>,
}

const DELTA: &str = r#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","price_dollars":"0.9600","delta_fp":"-54.00","side":"yes","ts":"2022-11-22T20:44:01Z","ts_ms":1669149841000}}"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "ours".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    if which == "pipeline" {
        let (bytes, ends) = pt_benches::kalshi::contiguous(n as usize);
        let mut p = pt_benches::kalshi::Pipeline::new();
        println!("{}", p.run(&bytes, &ends));
        return;
    }
    let mut acc = 0i64;
    for _ in 0..n {
        let f = black_box(DELTA);
        acc += match which.as_str() {
            "ours" => match decode(f.as_bytes()) {
                Ok(e) => match e.msg {
                    Msg::OrderbookDelta(d) => d.price.raw() + d.delta.raw() + d.ts.0,
                    _ => 0,
                },
                Err(_) => -1,
            },
            _ => match serde_json::from_str::<Env<'_>>(f) {
                Ok(e) => {
                    let m = e.msg;
                    Price::parse_bytes(m.price_dollars.as_bytes()).map_or(0, Price::raw)
                        + Qty::parse_bytes(m.delta_fp.as_bytes()).map_or(0, Qty::raw)
                        + i64::from(m.side == "yes")
                        + m.ts_ms.unwrap_or(0)
                        + (m.market_ticker.len() + m.market_id.map_or(0, str::len) + e.kind.len())
                            as i64
                        + e.sid.unwrap_or(0) as i64
                        + e.seq.unwrap_or(0) as i64
                }
                Err(_) => -1,
            },
        };
    }
    println!("{acc}");
}
