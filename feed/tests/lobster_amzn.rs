//! LOBSTER AMZN level 1 (../shared/data/lobster): after every message the
//! book's best bid and ask, price and size, equal the orderbook file's row.

use pt_engine::book::Top;
use pt_engine::model::{InstrumentId, Price};
use pt_feed::lobster::{Replay, equity_grid, parse_message, parse_top};
use std::path::PathBuf;

fn data(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/lobster")
        .join(name);
    if path.is_file() {
        Some(path)
    } else {
        println!("skipping: {} not found", path.display());
        None
    }
}

#[test]
fn every_transition_matches_the_orderbook_file() {
    let (Some(messages), Some(book)) = (
        data("AMZN_2012-06-21_34200000_57600000_message_1.csv"),
        data("AMZN_2012-06-21_34200000_57600000_orderbook_1.csv"),
    ) else {
        return;
    };
    let messages = std::fs::read_to_string(messages).expect("read messages");
    let rows = std::fs::read_to_string(book).expect("read orderbook");
    let messages: Vec<_> = messages
        .lines()
        .enumerate()
        .map(|(i, l)| parse_message(l, i + 1).expect("message row"))
        .collect();
    let rows: Vec<_> = rows
        .lines()
        .enumerate()
        .map(|(i, l)| parse_top(l, i + 1).expect("orderbook row"))
        .collect();
    assert_eq!(messages.len(), rows.len());
    assert_eq!(rows.len(), 57_515);
    let grid = equity_grid(Price::parse("1000").expect("price")).expect("grid");
    let mut replay = Replay::new(InstrumentId(1), grid, &rows[0]).expect("seed");
    let mut mismatches = Vec::new();
    for i in 1..rows.len() {
        let update = replay.apply(&messages[i], &rows[i]).expect("apply");
        let top = Top::of(&update);
        let want = Top {
            bid: rows[i].bid,
            ask: rows[i].ask,
        };
        if top != want {
            mismatches.push((i, top, want));
        }
    }
    println!(
        "{} transitions, {} best levels taken from the orderbook row after the best emptied",
        rows.len() - 1,
        replay.refills
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(3)]
    );
    assert_eq!(replay.book.crossed_count, 0);
}
