//! Binance spot BTCUSDT, recorded (../shared/data/binance):
//!
//! - `binance_decode`: one `depthUpdate` frame to fixed-point levels, per
//!   frame, ours against serde_json ([`pt_benches::binance`]); each of
//!   our levels is parsed twice (validated in `decode`, again when
//!   iterated).
//! - `binance_book`: one level change (`Ladder::set`, which also reads the
//!   new best levels) over every diff after the recorded snapshot, against
//!   a `BTreeMap` ladder reading its best levels after each change.
//! - `binance_pipeline`: every frame after the snapshot (depth, bookTicker,
//!   trade), bytes to `BookUpdate` on one core: decode, `DepthSync`, book.
//!
//! `cargo bench -p pt-benches --bench binance`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pt_benches::binance::{scanner_depth, serde_depth};
use pt_engine::book::plain_header;
use pt_engine::model::{InstrumentId, Nanos, Price, Qty, Side};
use pt_feed::binance::{DepthSync, Msg, decode, spot_grid};
use std::collections::BTreeMap;
use std::hint::black_box;

fn load() -> Option<Vec<String>> {
    let text = pt_tests::data::shared_text("binance/spot_btcusdt_20240808.gz")?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once(' ').map(|(_, json)| json.to_owned()))
            .collect(),
    )
}

/// The book synced at the recorded snapshot, and the frames after it.
fn synced(lines: &[String]) -> Option<(DepthSync, usize)> {
    let center = lines.iter().find_map(|l| match decode(l.as_bytes()) {
        Ok(Msg::BookTicker(t)) => Some(t.bid),
        _ => None,
    })?;
    let grid = spot_grid(center, Price::parse("0.01").ok()?, 2_000).ok()?;
    let mut sync = DepthSync::new(InstrumentId(1), grid, 1024);
    for (i, l) in lines.iter().enumerate() {
        match decode(l.as_bytes()).ok()? {
            Msg::DepthUpdate(d) => {
                sync.on_diff(&d, Nanos(0), |_| {});
            }
            Msg::Snapshot(s) => {
                sync.on_snapshot(&s, Nanos(0), |_| {});
                return Some((sync, i + 1));
            }
            _ => {}
        }
    }
    None
}

fn binance(c: &mut Criterion) {
    let Some(lines) = load() else { return };
    let depth: Vec<&String> = lines
        .iter()
        .filter(|l| matches!(decode(l.as_bytes()), Ok(Msg::DepthUpdate(_))))
        .collect();
    assert_eq!(
        depth.iter().map(|f| scanner_depth(f)).collect::<Vec<_>>(),
        depth.iter().map(|f| serde_depth(f)).collect::<Vec<_>>(),
        "the two decoders disagree"
    );
    let mut group = c.benchmark_group("binance_decode");
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

    let Some((sync, after)) = synced(&lines) else {
        println!("skipping: no snapshot in the recording");
        return;
    };
    let rest = &lines[after..];
    // Level changes of every diff after the snapshot, in order.
    let changes: Vec<(Side, Price, Qty)> = rest
        .iter()
        .filter_map(|l| match decode(l.as_bytes()) {
            Ok(Msg::DepthUpdate(d)) => Some(
                d.bids
                    .iter()
                    .map(|(p, q)| (Side::Buy, p, q))
                    .chain(d.asks.iter().map(|(p, q)| (Side::Sell, p, q)))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    let mut group = c.benchmark_group("binance_book");
    group
        .throughput(Throughput::Elements(changes.len() as u64))
        .sample_size(20);
    let h = plain_header(InstrumentId(1), 0);
    group.bench_function("ladder_set", |b| {
        b.iter_batched(
            || sync.ladder().clone(),
            |mut book| {
                for &(side, p, q) in &changes {
                    let _ = black_box(book.set(side, p, q, &h));
                }
                book
            },
            BatchSize::LargeInput,
        )
    });
    let mut seed: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let mut top = Vec::new();
    for (i, side) in [Side::Buy, Side::Sell].into_iter().enumerate() {
        sync.ladder().top_n(side, usize::MAX, &mut top);
        seed[i].extend(top.iter().map(|(p, q)| (p.raw(), q.raw())));
    }
    group.bench_function("btreemap_peer", |b| {
        b.iter_batched(
            || seed.clone(),
            |mut sides| {
                let mut acc = 0i64;
                for &(side, p, q) in &changes {
                    let s = &mut sides[usize::from(side == Side::Sell)];
                    if q.is_zero() {
                        s.remove(&p.raw());
                    } else {
                        s.insert(p.raw(), q.raw());
                    }
                    acc = acc.wrapping_add(
                        sides[0].last_key_value().map_or(0, |(p, q)| p ^ q)
                            + sides[1].first_key_value().map_or(0, |(p, q)| p ^ q),
                    );
                }
                black_box(acc);
                sides
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let bytes: usize = rest.iter().map(String::len).sum();
    let mut updates = 0u64;
    {
        let mut s = sync.clone();
        for l in rest {
            if let Ok(Msg::DepthUpdate(d)) = decode(l.as_bytes()) {
                s.on_diff(&d, Nanos(0), |_| updates += 1);
            }
        }
    }
    println!(
        "binance_pipeline input: {} frames, {} bytes, {} diffs -> {} BookUpdates, {} level changes",
        rest.len(),
        bytes,
        rest.iter().filter(|l| l.contains("depthUpdate")).count(),
        updates,
        changes.len()
    );
    let mut group = c.benchmark_group("binance_pipeline");
    group
        .throughput(Throughput::Elements(rest.len() as u64))
        .sample_size(20);
    group.bench_function("frames_to_book_updates", |b| {
        b.iter_batched(
            || sync.clone(),
            |mut s| {
                let mut acc = 0i64;
                for l in rest {
                    match decode(black_box(l.as_bytes())) {
                        Ok(Msg::DepthUpdate(d)) => {
                            s.on_diff(&d, Nanos(0), |u| acc = acc.wrapping_add(u.best_bid.raw()));
                        }
                        Ok(Msg::BookTicker(t)) => acc = acc.wrapping_add(t.bid.raw()),
                        Ok(Msg::Trade(t)) => acc = acc.wrapping_add(t.price.raw()),
                        _ => {}
                    }
                }
                black_box(acc);
                s
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, binance);
criterion_main!(benches);
