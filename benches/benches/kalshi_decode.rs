//! Kalshi WebSocket v2 decoding, per message: `pt_feed::kalshi::decode`
//! (plus iterating every snapshot level) against serde_json into
//! `#[derive(Deserialize)]` structs borrowing the strings, extracting the
//! same fields and parsing the same decimal strings to `Price`/`Qty`.
//! serde_json is told the message type up front (one struct per type);
//! ours finds it in the frame.
//!
//! Inputs: `orderbook_delta` and `orderbook_snapshot` (10 levels a side)
//! in the documented current shape with `type` first, as Kalshi sends;
//! `orderbook_delta` also with `msg` first and keys sorted (as `pt sim`
//! sends, which makes ours scan the body twice); `ticker` and `trade` are
//! the recorded production lines (../shared/data/kalshi) when present, else
//! generated lines of the same shape.
//!
//! `cargo bench -p pt-benches --bench kalshi_decode`
//!
//! Results (2-core shared VM, noisy): see the table in
//! `feed/src/kalshi/mod.rs` and BENCHMARKS.md; `orderbook_delta` 3.6–4.3×
//! faster than serde_json in the documented order (the fast path),
//! 2.3–2.9× with sorted keys; the others 0.6–0.9×.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pt_benches::kalshi::serde_peer;
use pt_engine::model::Qty;
use pt_feed::kalshi::{Msg, decode};
use std::hint::black_box;
use std::path::PathBuf;

const DELTA: &str = r#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","price_dollars":"0.9600","delta_fp":"-54.00","side":"yes","ts":"2022-11-22T20:44:01Z","ts_ms":1669149841000}}"#;
const DELTA_SORTED: &str = r#"{"msg":{"delta_fp":"-54.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","market_ticker":"FED-23DEC-T3.00","price_dollars":"0.9600","side":"yes","ts":"2022-11-22T20:44:01.000Z","ts_ms":1669149841000},"seq":3,"sid":2,"type":"orderbook_delta"}"#;

fn snapshot() -> String {
    let side = |from: u32| {
        (0..10)
            .map(|i| format!(r#"["0.{:02}00","{}.00"]"#, from + i * 2, 100 + i * 37))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"type":"orderbook_snapshot","sid":2,"seq":2,"msg":{{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","yes_dollars_fp":[{}],"no_dollars_fp":[{}]}}}}"#,
        side(20),
        side(41)
    )
}

fn recorded(name: &str, fallback: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/kalshi")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(t) => t
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(_) => {
            println!("{} not found: using generated lines", path.display());
            vec![fallback.to_owned(); 10]
        }
    }
}

const TICKER: &str = r#"{"type":"ticker","sid":1,"msg":{"market_id":"6a958fdf-4723-4333-9531-57111fbc51d3","market_ticker":"KXXRP-26FEB1317-B1.3899500","price":14,"yes_bid":4,"yes_ask":95,"price_dollars":"0.1400","yes_bid_dollars":"0.0400","yes_ask_dollars":"0.9500","volume":13446,"volume_fp":"13446.00","open_interest":892,"open_interest_fp":"892.00","dollar_volume":6723,"dollar_open_interest":446,"yes_bid_size_fp":"14.00","yes_ask_size_fp":"84.00","last_trade_size_fp":"0.00","ts":1770897976,"Clock":13281241747}}"#;
const TRADE: &str = r#"{"type":"trade","sid":2,"seq":10,"msg":{"trade_id":"f851595a-6d92-424e-09f8-0d2669de70ae","market_ticker":"KXSOLD-26FEB1217-T79.9999","yes_price":77,"no_price":23,"yes_price_dollars":"0.7700","no_price_dollars":"0.2300","count":75,"count_fp":"75.00","taker_side":"yes","ts":1770897981}}"#;

/// Ours: decode, then touch the same fields (iterating snapshot levels).
fn ours(f: &str) -> i64 {
    let e = decode(f.as_bytes()).expect("decode");
    let env = e.sid.unwrap_or(0) as i64 + e.seq.unwrap_or(0) as i64;
    env + match e.msg {
        Msg::OrderbookDelta(d) => {
            d.price.raw() + d.delta.raw() + d.ts.0 + d.market_ticker.len() as i64
        }
        Msg::OrderbookSnapshot(s) => {
            let mut acc = s.market_ticker.len() as i64;
            for (p, q) in s.yes.iter().chain(s.no.iter()) {
                acc += p.raw() + q.raw();
            }
            acc
        }
        Msg::Ticker(t) => {
            t.price.raw()
                + t.yes_bid.raw()
                + t.yes_ask.raw()
                + t.volume.map_or(0, Qty::raw)
                + t.yes_bid_size.map_or(0, Qty::raw)
                + t.ts.0
        }
        Msg::Trade(t) => t.yes_price.raw() + t.no_price.raw() + t.count.raw() + t.ts.0,
        _ => 0,
    }
}

/// A bench case: name, frames, the serde_json peer.
type Case = (&'static str, Vec<String>, fn(&str) -> i64);

fn bench(c: &mut Criterion) {
    let snap = snapshot();
    let tickers = recorded("ssmd_kalshi_ticker.jsonl", TICKER);
    let trades = recorded("ssmd_kalshi_trade.jsonl", TRADE);
    let cases: [Case; 5] = [
        ("orderbook_delta", vec![DELTA.to_owned()], serde_peer::delta),
        (
            "orderbook_delta_msg_first",
            vec![DELTA_SORTED.to_owned()],
            serde_peer::delta,
        ),
        ("orderbook_snapshot_10x2", vec![snap], serde_peer::snapshot),
        ("ticker", tickers, serde_peer::ticker),
        ("trade", trades, serde_peer::trade),
    ];
    for (name, frames, peer) in cases {
        // Both sides must agree that every frame is valid before timing.
        for f in &frames {
            black_box((ours(f), peer(f)));
        }
        let mut g = c.benchmark_group(format!("kalshi_decode/{name}"));
        g.throughput(Throughput::Elements(frames.len() as u64));
        g.bench_function("pt_feed", |b| {
            b.iter(|| frames.iter().map(|f| ours(black_box(f))).sum::<i64>())
        });
        g.bench_function("serde_json", |b| {
            b.iter(|| frames.iter().map(|f| peer(black_box(f))).sum::<i64>())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
