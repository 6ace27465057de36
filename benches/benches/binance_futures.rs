//! Binance USD-M futures, recorded (../shared/data/binance/BINANCE_FUTURES.*):
//! four symbols on one combined stream, each routed to its own book by a
//! [`Books`] that follows the futures sequence rules (`pu`).
//!
//! - `futures_decode`: one `depthUpdate` frame (with `pu`) to fixed-point
//!   levels, per frame, ours against serde_json ([`pt_benches::binance`]).
//! - `futures_pipeline`: every frame after the last REST snapshot (depth,
//!   bookTicker, aggTrade, kline), bytes to `BookUpdate` on one core:
//!   decode, route by symbol, `DepthSync` (futures rules), book.
//!
//! `cargo bench -p pt-benches --bench binance_futures`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pt_benches::binance::{scanner_depth, serde_depth};
use pt_engine::instrument::Registry;
use pt_engine::model::Nanos;
use pt_feed::binance::{Books, DepthSync, Msg, SyncConfig, decode, snapshot_symbol};
use pt_tests::binance_futures::{Input, REGISTRY, SYMBOLS, load};
use std::hint::black_box;

/// The books with every recorded snapshot applied, and the index of the
/// first input after the last snapshot.
fn synced(inputs: &[(i64, Input)]) -> Option<(Books, usize)> {
    let registry = Registry::from_toml(REGISTRY, "registry.toml").ok()?;
    let venue = registry.venue("binance-futures")?.id;
    let mut books = Books::new();
    for symbol in SYMBOLS {
        let instrument = registry.lookup(venue, symbol)?;
        let sync = DepthSync::for_instrument(instrument, SyncConfig::FUTURES);
        books.add(symbol, sync).ok()?;
    }
    let last = inputs
        .iter()
        .rposition(|(_, i)| matches!(i, Input::Snapshot { .. }))?;
    for (_, input) in &inputs[..=last] {
        match input {
            Input::Frame(json) => {
                if let Ok(Msg::DepthUpdate(d)) = decode(json.as_bytes()) {
                    books.on_diff(&d, Nanos(0), |_| {});
                }
            }
            Input::Snapshot { url, json } => {
                let Ok(Msg::Snapshot(s)) = decode(json.as_bytes()) else {
                    return None;
                };
                let symbol = snapshot_symbol(url)?;
                books.on_snapshot(symbol.as_bytes(), &s, Nanos(0), |_| {});
            }
        }
    }
    Some((books, last + 1))
}

/// The websocket frames among `inputs`, in order.
fn frames(inputs: &[(i64, Input)]) -> Vec<&str> {
    inputs
        .iter()
        .filter_map(|(_, i)| match i {
            Input::Frame(json) => Some(json.as_str()),
            Input::Snapshot { .. } => None,
        })
        .collect()
}

fn futures(c: &mut Criterion) {
    let Some(inputs) = load() else { return };
    let depth: Vec<&str> = frames(&inputs)
        .into_iter()
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
    let rest = frames(&inputs[after..]);
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
