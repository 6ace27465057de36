//! Book update cost per LOBSTER message (AMZN level 1, ../shared/data):
//! the array-indexed `Ladder` against a `BTreeMap` ladder doing the same
//! level changes and best-level reads. Parsing is done before timing.
//!
//! `cargo bench -p pt-benches --bench book`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pt_engine::book::plain_header;
use pt_engine::model::{InstrumentId, Price, Side};
use pt_feed::lobster::{
    Message, MessageType, Replay, TopRow, equity_grid, parse_message, parse_top,
};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;

fn load() -> Option<(Vec<Message>, Vec<TopRow>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/lobster");
    let m = dir.join("AMZN_2012-06-21_34200000_57600000_message_1.csv");
    let o = dir.join("AMZN_2012-06-21_34200000_57600000_orderbook_1.csv");
    let (Ok(m), Ok(o)) = (std::fs::read_to_string(&m), std::fs::read_to_string(&o)) else {
        println!("skipping: {} not found", dir.display());
        return None;
    };
    let msgs = m
        .lines()
        .enumerate()
        .map(|(i, l)| parse_message(l, i + 1))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let rows = o
        .lines()
        .enumerate()
        .map(|(i, l)| parse_top(l, i + 1))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some((msgs, rows))
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
    let Some((msgs, rows)) = load() else { return };
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

/// A Kalshi-shaped stream: one snapshot per market, then `n` deltas on
/// three markets, each keeping its level at zero or above, as `pt sim` and
/// Kalshi send them (current fixed-point format, `use_yes_price`).
fn kalshi_frames(n: usize) -> Vec<String> {
    let markets = [
        "KXBTCD-26DEC31-T99999.99",
        "KXETHD-26DEC31-T3999.99",
        "FED-26DEC-T4.00",
    ];
    let mut frames = Vec::with_capacity(n + 3);
    let mut levels = [[[0i64; 101]; 2]; 3];
    let mut seq = 0u64;
    for (m, t) in markets.iter().enumerate() {
        seq += 1;
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for (c, q) in levels[m][0].iter_mut().enumerate().take(50).skip(30) {
            *q = 100 + c as i64;
            yes.push(format!(r#"["0.{c:02}00","{q}.00"]"#));
        }
        for (c, q) in levels[m][1].iter_mut().enumerate().take(71).skip(51) {
            *q = 100 + c as i64;
            no.push(format!(r#"["0.{c:02}00","{q}.00"]"#));
        }
        frames.push(format!(
            r#"{{"type":"orderbook_snapshot","sid":1,"seq":{seq},"msg":{{"market_ticker":"{t}","market_id":"9b0f6b43-5b68-4f9f-9f02-a2a1a1c1d1e1","yes_dollars_fp":[{}],"no_dollars_fp":[{}]}}}}"#,
            yes.join(","),
            no.join(",")
        ));
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let m = (x % 3) as usize;
        let side = ((x >> 8) % 2) as usize;
        let c = if side == 0 {
            30 + (x >> 16) % 20
        } else {
            51 + (x >> 16) % 20
        } as usize;
        let have = levels[m][side][c];
        let d = if have > 0 && (x >> 32).is_multiple_of(2) {
            -(1 + ((x >> 40) as i64 % have))
        } else {
            1 + (x >> 40) as i64 % 50
        };
        levels[m][side][c] += d;
        seq += 1;
        frames.push(format!(
            r#"{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"{}","market_id":"9b0f6b43-5b68-4f9f-9f02-a2a1a1c1d1e1","price_dollars":"0.{c:02}00","delta_fp":"{d}.00","side":"{}","ts":"2026-11-23T14:00:00Z","ts_ms":1795442400000}}}}"#,
            markets[m],
            if side == 0 { "yes" } else { "no" }
        ));
    }
    frames
}

/// Bytes to `BookUpdate` on one core for Kalshi: decode, the session's
/// sequence check, conversion to engine events, and the book stage.
fn kalshi_bytes_to_book(c: &mut Criterion) {
    use pt_engine::book::BookStage;
    use pt_engine::instrument::PriceGrid;
    use pt_engine::model::{Nanos, VenueId};
    use pt_feed::kalshi::session::{Market, Session, SessionConfig};
    let frames = kalshi_frames(200_000);
    let tickers = [
        "KXBTCD-26DEC31-T99999.99",
        "KXETHD-26DEC31-T3999.99",
        "FED-26DEC-T4.00",
    ];
    let cent = Price::from_raw(1_000_000);
    let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).expect("grid");
    let setup = || {
        let mut session = Session::new(SessionConfig {
            markets: tickers
                .iter()
                .enumerate()
                .map(|(i, t)| Market {
                    ticker: (*t).to_owned(),
                    instrument: InstrumentId(i as u32 + 1),
                })
                .collect(),
            venue: VenueId(1),
            trades: false,
            ticker: false,
        })
        .expect("session");
        session.on_open();
        session.drain_commands(&mut |_| {});
        session.on_frame(
            br#"{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1}}"#,
            Nanos(0),
            &mut |_| {},
        );
        let stage =
            BookStage::new((1..=3).map(|i| (InstrumentId(i), grid.clone()))).expect("stage");
        (session, stage)
    };
    let mut group = c.benchmark_group("kalshi_bytes_to_book_update");
    group
        .throughput(Throughput::Elements(frames.len() as u64))
        .sample_size(20);
    group.bench_function("decode_session_book", |b| {
        b.iter_batched(
            setup,
            |(mut session, mut stage)| {
                let mut updates = 0u64;
                for f in &frames {
                    session.on_frame(f.as_bytes(), Nanos(1), &mut |e| {
                        if let Some(u) = stage.apply(&e) {
                            updates += black_box(u).version & 1;
                        }
                    });
                }
                assert_eq!(session.counters().gaps, 0);
                assert_eq!(stage.counters().negative + stage.counters().off_grid, 0);
                (session, stage, updates)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, book, kalshi_bytes_to_book);
criterion_main!(benches);
