//! Binance USD-M futures, recorded (../shared/data/binance/BINANCE_FUTURES.*):
//! four symbols on one combined stream, each routed to its own book by a
//! [`Books`] that follows the futures sequence rules (`pu`).
//!
//! - `futures_decode`: one `depthUpdate` frame (with `pu`) to fixed-point
//!   levels, per frame, against serde_json into borrowing structs plus
//!   `Price`/`Qty` parsing of every level.
//! - `futures_pipeline`: every frame after the last REST snapshot (depth,
//!   bookTicker, aggTrade, kline), bytes to `BookUpdate` on one core:
//!   decode, route by symbol, `DepthSync` (futures rules), book.
//!
//! `cargo bench -p pt-benches --bench binance_futures`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pt_engine::instrument::Registry;
use pt_engine::model::{Nanos, Price, Qty};
use pt_feed::binance::{Books, DepthSync, Msg, SyncConfig, decode, snapshot_symbol};
use serde::Deserialize;
use std::hint::black_box;

/// The ticks of the recorded symbols, as an operator's registry lists them.
const REGISTRY: &str = r#"
[[venue]]
name = "binance-futures"

[[instrument]]
symbol = "SUSHIUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.001", end = "10000", step = "0.001" }]

[[instrument]]
symbol = "AKROUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.00001", end = "100", step = "0.00001" }]

[[instrument]]
symbol = "KEEPUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.0001", end = "1000", step = "0.0001" }]

[[instrument]]
symbol = "CTKUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.00001", end = "1000", step = "0.00001" }]
"#;

/// Receive time (as text, which sorts like the number it is only when the
/// widths agree, so it is parsed) and the input.
enum Input {
    Frame(String),
    Snapshot { symbol: String, json: String },
}

fn secs(ts: &str) -> f64 {
    ts.parse().unwrap_or(f64::MAX)
}

/// Both files merged by receive time; a snapshot received in the same
/// instant as a frame comes after it.
fn load() -> Option<Vec<Input>> {
    let ws = pt_benches::shared_text("binance/BINANCE_FUTURES.ws.1.0")?;
    let http = pt_benches::shared_text("binance/BINANCE_FUTURES.http.0.0")?;
    let mut inputs: Vec<(f64, Input)> = ws
        .lines()
        .filter(|l| !l.contains(" <-> "))
        .filter_map(|l| l.split_once(": "))
        .map(|(ts, json)| (secs(ts), Input::Frame(json.to_owned())))
        .collect();
    for line in http.lines() {
        let Some((url, rest)) = line.split_once(" -> ") else {
            continue;
        };
        let (Some((ts, json)), Some(symbol)) = (rest.split_once(": "), snapshot_symbol(url)) else {
            continue;
        };
        let symbol = symbol.to_owned();
        let json = json.to_owned();
        inputs.push((secs(ts), Input::Snapshot { symbol, json }));
    }
    inputs.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(inputs.into_iter().map(|(_, i)| i).collect())
}

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
    #[serde(rename = "pu")]
    prev: u64,
    #[serde(rename = "b", borrow)]
    bids: Vec<[&'a str; 2]>,
    #[serde(rename = "a", borrow)]
    asks: Vec<[&'a str; 2]>,
}

fn serde_depth(frame: &str) -> i64 {
    let Ok(env) = serde_json::from_str::<Envelope<'_>>(frame) else {
        return 0;
    };
    let d = env.data;
    let mut acc = (d.event_time + d.first + d.last + d.prev) as i64 + d.symbol.len() as i64;
    for [p, q] in d.bids.iter().chain(&d.asks) {
        let (Ok(p), Ok(q)) = (Price::parse(p), Qty::parse(q)) else {
            return 0;
        };
        acc = acc.wrapping_add(p.raw() ^ q.raw());
    }
    acc
}

fn scanner_depth(frame: &str) -> i64 {
    let Ok(Msg::DepthUpdate(d)) = decode(frame.as_bytes()) else {
        return 0;
    };
    let prev = d.prev_final_update_id.unwrap_or(0);
    let mut acc = (d.event_time + d.first_update_id + d.final_update_id + prev) as i64
        + d.symbol.len() as i64;
    for (p, q) in d.bids.iter().chain(d.asks.iter()) {
        acc = acc.wrapping_add(p.raw() ^ q.raw());
    }
    acc
}

/// The books with every recorded snapshot applied, and the index of the
/// first input after the last snapshot.
fn synced(inputs: &[Input]) -> Option<(Books, usize)> {
    let registry = Registry::from_toml(REGISTRY, "registry.toml").ok()?;
    let venue = registry.venue("binance-futures")?.id;
    let mut books = Books::new();
    for symbol in ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"] {
        let instrument = registry.lookup(venue, symbol)?;
        let sync = DepthSync::for_instrument(instrument, SyncConfig::FUTURES);
        books.add(symbol, sync).ok()?;
    }
    let last = inputs
        .iter()
        .rposition(|i| matches!(i, Input::Snapshot { .. }))?;
    for input in &inputs[..=last] {
        match input {
            Input::Frame(json) => {
                if let Ok(Msg::DepthUpdate(d)) = decode(json.as_bytes()) {
                    books.on_diff(&d, Nanos(0), |_| {});
                }
            }
            Input::Snapshot { symbol, json } => {
                let Ok(Msg::Snapshot(s)) = decode(json.as_bytes()) else {
                    return None;
                };
                books.on_snapshot(symbol.as_bytes(), &s, Nanos(0), |_| {});
            }
        }
    }
    Some((books, last + 1))
}

fn futures(c: &mut Criterion) {
    let Some(inputs) = load() else { return };
    let frames: Vec<&str> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Frame(json) => Some(json.as_str()),
            Input::Snapshot { .. } => None,
        })
        .collect();
    let depth: Vec<&str> = frames
        .iter()
        .copied()
        .filter(|f| matches!(decode(f.as_bytes()), Ok(Msg::DepthUpdate(_))))
        .collect();
    assert_eq!(
        depth.iter().map(|f| scanner_depth(f)).collect::<Vec<_>>(),
        depth.iter().map(|f| serde_depth(f)).collect::<Vec<_>>(),
        "the two decoders disagree"
    );
    let mut group = c.benchmark_group("futures_decode");
    group
        .throughput(Throughput::Elements(depth.len() as u64))
        .sample_size(30);
    group.bench_function("scanner", |b| {
        b.iter(|| {
            depth
                .iter()
                .map(|f| scanner_depth(black_box(f)))
                .sum::<i64>()
        })
    });
    group.bench_function("serde_json_peer", |b| {
        b.iter(|| depth.iter().map(|f| serde_depth(black_box(f))).sum::<i64>())
    });
    group.finish();

    let Some((books, after)) = synced(&inputs) else {
        println!("skipping: the futures books did not sync from the recording");
        return;
    };
    let rest: Vec<&str> = inputs[after..]
        .iter()
        .filter_map(|i| match i {
            Input::Frame(json) => Some(json.as_str()),
            Input::Snapshot { .. } => None,
        })
        .collect();
    let mut updates = 0u64;
    {
        let mut b = books.clone();
        for f in &rest {
            if let Ok(Msg::DepthUpdate(d)) = decode(f.as_bytes()) {
                b.on_diff(&d, Nanos(0), |_| updates += 1);
            }
        }
        for (symbol, book) in b.iter() {
            let s = book.stats();
            assert_eq!(s.gaps + s.out_of_window, 0, "{symbol}: {s:?}");
        }
    }
    println!(
        "futures_pipeline input: {} frames, {} bytes, {} diffs -> {} BookUpdates",
        rest.len(),
        rest.iter().map(|f| f.len()).sum::<usize>(),
        rest.iter().filter(|f| f.contains("depthUpdate")).count(),
        updates,
    );
    let mut group = c.benchmark_group("futures_pipeline");
    group
        .throughput(Throughput::Elements(rest.len() as u64))
        .sample_size(20);
    group.bench_function("frames_to_book_updates", |b| {
        b.iter_batched(
            || books.clone(),
            |mut books| {
                let mut acc = 0i64;
                for f in &rest {
                    match decode(black_box(f.as_bytes())) {
                        Ok(Msg::DepthUpdate(d)) => {
                            books.on_diff(&d, Nanos(0), |u| {
                                acc = acc.wrapping_add(u.best_bid.raw())
                            });
                        }
                        Ok(Msg::BookTicker(t)) => acc = acc.wrapping_add(t.bid.raw()),
                        Ok(Msg::Trade(t)) => acc = acc.wrapping_add(t.price.raw()),
                        _ => {}
                    }
                }
                black_box(acc);
                books
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, futures);
criterion_main!(benches);
