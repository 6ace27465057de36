//! The Kalshi hot path allocates nothing after warm-up: frames through
//! `Session::on_frame` (the `orderbook_delta` fast path for documented
//! frames, the general decoder for sorted-key deltas and trades), the
//! engine's `BookStage`, and a sequence gap with its `get_snapshot`
//! command and snapshot recovery, counted by a counting global allocator
//! on the test's own thread.

use pt_engine::book::BookStage;
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{InstrumentId, Nanos, Price, VenueId};
use pt_feed::kalshi::session::{Market, Session, SessionConfig};

use pt_tests::alloc::allocations;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

const TICKERS: [&str; 3] = [
    "KXBTCD-26DEC31-T99999.99",
    "FED-26DEC-T4.00",
    "KXETHD-26DEC31-T3999.99",
];

fn snapshot(seq: u64, ticker: &str) -> String {
    let side = |from: u32| {
        (0..10)
            .map(|i| format!(r#"["0.{:02}00","{}.00"]"#, from + i, 500 + i))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"type":"orderbook_snapshot","sid":1,"seq":{seq},"msg":{{"market_ticker":"{ticker}","market_id":"9b0f6b43-5b68-4f9f-9f02-a2a1a1c1d1e1","yes_dollars_fp":[{}],"no_dollars_fp":[{}]}}}}"#,
        side(30),
        side(51)
    )
}

/// Snapshots, then deltas (documented order and sorted keys in turn) and
/// trades; after `gap_at` deltas one `seq` is skipped and, a few frames
/// later, the three snapshots that answer `get_snapshot` follow. `seqs`
/// holds the last book and trade `seq` sent, and is moved on.
fn frames(n: usize, gap_at: usize, seqs: &mut (u64, u64)) -> Vec<String> {
    let mut out = Vec::with_capacity(n + 10);
    let (seq, trade_seq) = seqs;
    if *seq == 0 {
        for t in TICKERS {
            *seq += 1;
            out.push(snapshot(*seq, t));
        }
    }
    for i in 0..n {
        let t = TICKERS[i % 3];
        let c = 31 + (i * 7) % 8;
        let side = if i % 2 == 0 { "yes" } else { "no" };
        // Each level (one of 24 by i mod 24) is raised, then lowered, in turn.
        let d = if (i / 24) % 2 == 0 { 3 } else { -3 };
        *seq += 1;
        if i == gap_at {
            *seq += 1;
        }
        let c = if side == "no" { c + 21 } else { c };
        out.push(if i % 2 == 0 {
            format!(
                r#"{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"{t}","market_id":"9b0f6b43-5b68-4f9f-9f02-a2a1a1c1d1e1","price_dollars":"0.{c:02}00","delta_fp":"{d}.00","side":"{side}","ts":"2026-11-23T14:00:00Z","ts_ms":1795442400000}}}}"#
            )
        } else {
            format!(
                r#"{{"msg":{{"delta_fp":"{d}.00","market_id":"0e7c","market_ticker":"{t}","price_dollars":"0.{c:02}00","side":"{side}","ts":"2026-11-23T14:00:00.123Z","ts_ms":1795442400123}},"seq":{seq},"sid":1,"type":"orderbook_delta"}}"#
            )
        });
        if i % 5 == 0 {
            *trade_seq += 1;
            out.push(format!(
                r#"{{"type":"trade","sid":2,"seq":{trade_seq},"msg":{{"trade_id":"f851595a-6d92-424e-09f8-0d2669de70ae","market_ticker":"{t}","yes_price_dollars":"0.4000","no_price_dollars":"0.6000","count_fp":"5.00","taker_side":"yes","ts":1770897981,"ts_ms":1770897981000}}}}"#
            ));
        }
        if i == gap_at + 3 {
            for t in TICKERS {
                *seq += 1;
                out.push(snapshot(*seq, t));
            }
        }
    }
    out
}

#[test]
fn deltas_trades_and_a_gap_recovery_allocate_nothing_after_warm_up() {
    let cent = Price::from_raw(1_000_000);
    let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).expect("grid");
    let mut session = Session::new(SessionConfig {
        markets: TICKERS
            .iter()
            .enumerate()
            .map(|(i, t)| Market {
                ticker: (*t).to_owned(),
                instrument: InstrumentId(i as u32 + 1),
            })
            .collect(),
        venue: VenueId(1),
        trades: true,
        ticker: false,
    })
    .expect("session");
    let mut stage =
        BookStage::new((1..=3).map(|i| (InstrumentId(i), grid.clone()))).expect("stage");
    session.on_open();
    let mut sent = 0usize;
    session.drain_commands(&mut |_| sent += 1);
    assert_eq!(sent, 2, "one subscribe per channel");
    for (id, channel, sid) in [(1, "orderbook_delta", 1), (2, "trade", 2)] {
        let ok = format!(
            r#"{{"id":{id},"type":"subscribed","msg":{{"channel":"{channel}","sid":{sid}}}}}"#
        );
        session.on_frame(ok.as_bytes(), Nanos(0), &mut |_| {});
    }

    // Warm-up: the first gap grows the command buffer once.
    let mut seqs = (0, 0);
    let warm = frames(2_000, 1_000, &mut seqs);
    let measured = frames(60_000, 30_000, &mut seqs);
    let mut updates = 0u64;
    let mut run = |session: &mut Session, stage: &mut BookStage, frames: &[String]| {
        let mut commands = 0u64;
        for f in frames {
            session.on_frame(f.as_bytes(), Nanos(1), &mut |e| {
                updates += u64::from(stage.apply(&e).is_some());
            });
            session.drain_commands(&mut |_| commands += 1);
        }
        commands
    };
    assert_eq!(run(&mut session, &mut stage, &warm), 1, "one get_snapshot");

    let before = allocations();
    let commands = run(&mut session, &mut stage, &measured);
    let allocated = allocations() - before;

    let c = session.counters();
    assert_eq!(commands, 1, "the second gap asks for snapshots again");
    assert_eq!(c.gaps, 2);
    assert_eq!(c.decode_errors, 0);
    assert!(c.deltas > 61_900, "{c:?}");
    assert_eq!(c.trades, 12_400, "{c:?}");
    assert_eq!(stage.counters().negative, 0);
    assert!(updates > 61_900, "{updates}");
    assert_eq!(
        allocated,
        0,
        "allocations in {} frames after warm-up",
        measured.len()
    );
}
