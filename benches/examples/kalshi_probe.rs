//! Decodes one Kalshi frame many times, for `valgrind --tool=callgrind`
//! (instruction counts are repeatable on a noisy host).
//!
//! `cargo build --release -p pt-benches --example kalshi_probe`
//! `valgrind --tool=callgrind target/release/examples/kalshi_probe ours 100000`
//! (`serde` for serde_json; `pipeline N` runs N generated deltas through
//! decode, session and book stage, as the `book` bench does; `frames N`
//! decodes the bench's 10,000 generated deltas N times over, for `perf`).

use pt_benches::kalshi::serde_peer;
use pt_feed::kalshi::{Msg, decode};
use std::hint::black_box;

const DELTA: &str = r#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","price_dollars":"0.9600","delta_fp":"-54.00","side":"yes","ts":"2022-11-22T20:44:01Z","ts_ms":1669149841000}}"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "ours".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    if which == "frames" {
        // The bench's generated deltas decoded over and over (for perf).
        let (bytes, ends) = pt_benches::kalshi::contiguous(10_000);
        let mut acc = 0i64;
        for _ in 0..n {
            let mut start = 0;
            for &end in &ends {
                if let Ok(e) = decode(black_box(&bytes[start..end]))
                    && let Msg::OrderbookDelta(d) = e.msg
                {
                    acc += d.price.raw() + d.delta.raw();
                }
                start = end;
            }
        }
        println!("{acc}");
        return;
    }
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
            _ => serde_peer::delta(f),
        };
    }
    println!("{acc}");
}
