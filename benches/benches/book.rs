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
    let m = pt_benches::shared_text(&format!("lobster/{messages}"))?;
    let o = pt_benches::shared_text(&format!("lobster/{rows}"))?;
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
    group.bench_function("btreemap_peer", |b| {
        b.iter(|| black_box(btree_replay(&msgs[1..])))
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
