//! Book update cost per LOBSTER message (AMZN level 1 and AAPL level 30,
//! ../shared/data):
//! the array-indexed `Ladder` against a `BTreeMap` ladder doing the same
//! level changes and best-level reads. Parsing is done before timing.
//!
//! `cargo bench -p pt-benches --bench book`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pt_engine::book::plain_header;
use pt_engine::model::{InstrumentId, Price, Side};
use pt_feed::lobster::{BadLines, BookRow, Message, MessageType, Recording, Replay, equity_grid};
use std::collections::BTreeMap;
use std::hint::black_box;

/// A LOBSTER pair from ../shared/data/lobster, messages and rows split
/// for timing.
fn load(messages: &str, rows: &str) -> Option<(Vec<Message>, Vec<BookRow>)> {
    let m = pt_tests::data::shared_text(&format!("lobster/{messages}"))?;
    let o = pt_tests::data::shared_text(&format!("lobster/{rows}"))?;
    let rec = Recording::parse(&m, &o, BadLines::Fail).expect("recording");
    Some(rec.steps.into_iter().map(|s| (s.message, s.row)).unzip())
}

/// The peer: two sorted maps, best level read after every change.
fn btree_replay(msgs: &[Message]) -> i64 {
    let mut sides: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let mut acc = 0;
    for m in msgs {
        let s = &mut sides[usize::from(m.side == Side::Sell)];
        let delta = match m.kind {
            MessageType::Submit => m.size.raw(),
            MessageType::PartialCancel | MessageType::Delete | MessageType::Execute => {
                -m.size.raw()
            }
            _ => 0,
        };
        let e = s.entry(m.price.raw()).or_insert(0);
        *e = (*e + delta).max(0);
        if *e == 0 {
            s.remove(&m.price.raw());
        }
        acc += sides[0].last_key_value().map_or(0, |(p, _)| *p)
            + sides[1].first_key_value().map_or(0, |(p, _)| *p);
    }
    acc
}

/// The 30-level peer: the same replay rules as `Replay` (clamped cancels;
/// when an in-view level empties, levels past the N-1 best are dropped and
/// the row's levels from the N-th on are taken) on two sorted maps.
fn btree_depth_replay(msgs: &[Message], rows: &[BookRow]) -> i64 {
    let mut sides: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let depth = rows[0].depth.max(1);
    for (i, side) in [Side::Buy, Side::Sell].into_iter().enumerate() {
        sides[i].extend(rows[0].side(side).iter().map(|(p, q)| (p.raw(), q.raw())));
    }
    let mut acc = 0;
    for (m, row) in msgs.iter().zip(rows).skip(1) {
        let s = &mut sides[usize::from(m.side == Side::Sell)];
        let p = m.price.raw();
        let emptied = match m.kind {
            MessageType::Submit => {
                *s.entry(p).or_insert(0) += m.size.raw();
                false
            }
            MessageType::PartialCancel | MessageType::Delete | MessageType::Execute => {
                let have = s.get(&p).copied().unwrap_or(0);
                let take = m.size.raw().min(have);
                if have > 0 && take == have {
                    s.remove(&p);
                    true
                } else {
                    if take > 0 {
                        s.insert(p, have - take);
                    }
                    false
                }
            }
            _ => false,
        };
        let levels = row.side(m.side);
        let in_view = emptied
            && levels.get(depth - 1).is_none_or(|&(last, _)| match m.side {
                Side::Buy => p > last.raw(),
                Side::Sell => p < last.raw(),
            });
        if in_view {
            let kept: Vec<i64> = match m.side {
                Side::Buy => s.keys().rev().take(depth - 1).copied().collect(),
                Side::Sell => s.keys().take(depth - 1).copied().collect(),
            };
            s.retain(|k, _| kept.contains(k));
            s.extend(
                levels
                    .iter()
                    .skip(depth - 1)
                    .map(|(p, q)| (p.raw(), q.raw())),
            );
        }
        acc += sides[0].last_key_value().map_or(0, |(p, q)| p ^ q)
            + sides[1].first_key_value().map_or(0, |(p, q)| p ^ q);
    }
    acc
}

fn book(c: &mut Criterion) {
    let Some((msgs, rows)) = load(
        "AMZN_2012-06-21_34200000_57600000_message_1.csv",
        "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv",
    ) else {
        return;
    };
    let n = msgs.len() as u64 - 1;
    let mut group = c.benchmark_group("book_lobster_amzn");
    group.throughput(Throughput::Elements(n)).sample_size(30);
    let grid = equity_grid(Price::parse("1000").expect("price")).expect("grid");
    group.bench_function("ladder_replay", |b| {
        b.iter_batched(
            || Replay::new(InstrumentId(1), grid.clone(), &rows[0]).expect("seed"),
            |mut replay| {
                for i in 1..msgs.len() {
                    black_box(replay.apply(&msgs[i], &rows[i]).expect("apply"));
                }
                replay
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("ladder_delta_only", |b| {
        let h = plain_header(InstrumentId(1), 0);
        b.iter_batched(
            || pt_engine::book::Ladder::new(InstrumentId(1), grid.clone()),
            |mut book| {
                for m in &msgs[1..] {
                    let d = match m.kind {
                        MessageType::Submit => m.size.raw(),
                        MessageType::PartialCancel | MessageType::Delete | MessageType::Execute => {
                            -m.size.raw().min(book.qty_at(m.side, m.price).raw())
                        }
                        _ => 0,
                    };
                    black_box(
                        book.apply_delta(m.side, m.price, pt_engine::model::Qty::from_raw(d), &h)
                            .ok(),
                    );
                }
                book
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("btreemap_peer", |b| {
        b.iter(|| black_box(btree_replay(&msgs[1..])))
    });
    group.finish();
}

/// The same replay on the 30-level AAPL book: every level of both sides
/// derived from the messages, levels coming into view taken from the row.
fn book_depth_30(c: &mut Criterion) {
    let Some((msgs, rows)) = load(
        "AAPL_2012-06-21_34200000_37800000_message_30.csv.gz",
        "AAPL_2012-06-21_34200000_37800000_orderbook_30.csv.gz",
    ) else {
        return;
    };
    let mut group = c.benchmark_group("book_lobster_aapl30");
    group
        .throughput(Throughput::Elements(msgs.len() as u64 - 1))
        .sample_size(20);
    let grid = equity_grid(Price::parse("1000").expect("price")).expect("grid");
    group.bench_function("ladder_replay", |b| {
        b.iter_batched(
            || Replay::new(InstrumentId(1), grid.clone(), &rows[0]).expect("seed"),
            |mut replay| {
                for i in 1..msgs.len() {
                    black_box(replay.apply(&msgs[i], &rows[i]).expect("apply"));
                }
                replay
            },
            BatchSize::LargeInput,
        )
    });
    // Both sides agree on the top of the book after every message.
    let mut replay = Replay::new(InstrumentId(1), grid.clone(), &rows[0]).expect("seed");
    let mut ours = 0i64;
    for i in 1..msgs.len() {
        let u = replay.apply(&msgs[i], &rows[i]).expect("apply");
        ours +=
            (u.best_bid.raw() ^ u.best_bid_qty.raw()) + (u.best_ask.raw() ^ u.best_ask_qty.raw());
    }
    assert_eq!(
        ours,
        btree_depth_replay(&msgs, &rows),
        "the replays disagree"
    );
    group.bench_function("btreemap_peer", |b| {
        b.iter(|| black_box(btree_depth_replay(&msgs, &rows)))
    });
    group.finish();
}

/// Bytes to `BookUpdate` on one core for Kalshi: decode, the session's
/// sequence check, conversion to engine events, and the book stage
/// ([`pt_benches::kalshi::Pipeline`]).
fn kalshi_bytes_to_book(c: &mut Criterion) {
    use pt_benches::kalshi::{Pipeline, contiguous};
    let (bytes, ends) = contiguous(200_000);
    let mut group = c.benchmark_group("kalshi_bytes_to_book_update");
    group
        .throughput(Throughput::Elements(ends.len() as u64))
        .sample_size(20);
    group.bench_function("decode_session_book", |b| {
        b.iter_batched(
            Pipeline::new,
            |mut p| {
                let updates = p.run(&bytes, &ends);
                assert_eq!(p.session.counters().gaps, 0);
                assert_eq!(p.stage.counters().negative + p.stage.counters().off_grid, 0);
                (p, updates)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, book, book_depth_30, kalshi_bytes_to_book);
criterion_main!(benches);
