//! LOBSTER recordings (../shared/data/lobster) replayed through
//! [`Replay`]: after every message, every level the orderbook file shows
//! (AMZN at depth 1, AAPL at depth 30), price and size on both sides,
//! equals the replayed book's.

use pt_engine::book::Top;
use pt_engine::model::{InstrumentId, Price, Side};
use pt_feed::lobster::{BadLines, Recording, Replay, equity_grid};

use pt_tests::data;

/// Replays a recording, comparing all `depth` levels both sides after
/// every message; returns the replay and the mismatches.
fn replay(messages: &str, rows: &str, rows_expected: usize) -> Option<(Replay, Vec<String>)> {
    let (Some(m), Some(o)) = (
        data::shared(&format!("lobster/{messages}")),
        data::shared(&format!("lobster/{rows}")),
    ) else {
        return None;
    };
    let rec = Recording::parse(&data::text(&m), &data::text(&o), BadLines::Fail)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rec.steps.len(), rows_expected);
    let grid = equity_grid(Price::parse("1000").expect("price")).expect("grid");
    let mut replay = Replay::new(InstrumentId(1), grid, &rec.steps[0].row).expect("seed");
    let depth = replay.depth();
    let mut mismatches = Vec::new();
    let mut levels = Vec::with_capacity(depth);
    for (i, step) in rec.steps.iter().enumerate().skip(1) {
        let update = replay.apply(&step.message, &step.row).expect("apply");
        let top = Top::of(&update);
        let want = Top {
            bid: step.row.bid(),
            ask: step.row.ask(),
        };
        if top != want {
            mismatches.push(format!("row {}: top {top:?}, file {want:?}", i + 1));
        }
        for side in [Side::Buy, Side::Sell] {
            replay.book.top_n(side, depth, &mut levels);
            if levels != step.row.side(side) {
                mismatches.push(format!(
                    "row {}: {side:?} {levels:?}, file {:?}",
                    i + 1,
                    step.row.side(side)
                ));
            }
        }
    }
    println!(
        "{} transitions at depth {depth}: {} levels taken from the row as they came into view, \
         {} remembered levels beyond the view dropped",
        rec.steps.len() - 1,
        replay.refills,
        replay.dropped_hidden
    );
    Some((replay, mismatches))
}

fn assert_none(replay: &Replay, mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(3)]
    );
    assert_eq!(replay.book.crossed_count, 0);
}

#[test]
fn amzn_level_1_every_transition_matches_the_orderbook_file() {
    let Some((replay, mismatches)) = replay(
        "AMZN_2012-06-21_34200000_57600000_message_1.csv",
        "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv",
        57_515,
    ) else {
        return;
    };
    assert_none(&replay, &mismatches);
    assert!(replay.refills > 0);
}

#[test]
fn aapl_level_30_all_levels_match_after_every_message() {
    let Some((replay, mismatches)) = replay(
        "AAPL_2012-06-21_34200000_37800000_message_30.csv.gz",
        "AAPL_2012-06-21_34200000_37800000_orderbook_30.csv.gz",
        86_616,
    ) else {
        return;
    };
    assert_eq!(replay.depth(), 30);
    assert_none(&replay, &mismatches);
    assert!(replay.refills > 0 && replay.dropped_hidden > 0);
}
