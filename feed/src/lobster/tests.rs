use super::*;
use pt_engine::model::InstrumentId;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

#[test]
fn rows_parse_and_errors_name_the_column() {
    let m = parse_message("34200.18960767,1,11885113,21,2238100,1", 2).unwrap();
    assert_eq!(m.time, Nanos(34_200_189_607_670));
    assert_eq!(m.kind, MessageType::Submit);
    assert_eq!(m.price, p("223.81"));
    assert_eq!(m.size, q("21"));
    assert_eq!(m.side, Side::Buy);
    let e = parse_message("34200.1,9,1,1,1,1", 7).unwrap_err();
    assert_eq!(
        (e.file, e.line, e.column, e.field.as_str()),
        ("message", 7, 2, "type")
    );
    assert_eq!(e.value, "9");
    let e = parse_message("34200.1,1,1,-5,1,1", 1).unwrap_err();
    assert_eq!((e.column, e.field.as_str()), (4, "size"));
    assert_eq!(parse_message("x,1,1,1,1,1", 1).unwrap_err().field, "time");
    assert_eq!(
        parse_message("1,1,1,1,1", 1).unwrap_err().field,
        "direction"
    );
    assert_eq!(parse_message("1,1,1,1,1,1,1", 1).unwrap_err().column, 7);
    assert!(parse_message("", 1).is_err());
    // A halt carries price -1.
    assert_eq!(
        parse_message("34200.5,7,0,0,-1,-1", 1).unwrap().kind,
        MessageType::Halt
    );
    let e = parse_message("34200.5,1,1,1,-1,1", 3).unwrap_err();
    assert_eq!((e.column, e.field.as_str()), (5, "price"));
    assert!(e.to_string().contains("line 3, column 5 (price)"), "{e}");
}

#[test]
fn times_with_any_number_of_decimals_round_to_the_nanosecond() {
    let t = |s: &str| parse_message(&format!("{s},1,1,1,10000,1"), 1).map(|m| m.time);
    assert_eq!(t("35821.088778456004"), Ok(Nanos(35_821_088_778_456)));
    assert_eq!(t("35821.0887784565"), Ok(Nanos(35_821_088_778_457)));
    assert_eq!(t("35821.0887784564999"), Ok(Nanos(35_821_088_778_456)));
    // The carry reaches the whole seconds.
    assert_eq!(t("1.9999999995"), Ok(Nanos(2_000_000_000)));
    assert_eq!(t("34200"), Ok(Nanos(34_200_000_000_000)));
    assert_eq!(t("34200."), Ok(Nanos(34_200_000_000_000)));
    for bad in ["", ".5", "1.2.3", "1.5e3", "+1.5", "-1.5", "1.x"] {
        let e = t(bad).unwrap_err();
        assert_eq!((e.column, e.field.as_str()), (1, "time"), "{bad:?}");
    }
}

#[test]
fn orderbook_rows_of_any_depth() {
    let row = parse_row("2239500,100,2239000,5,2239600,7,-9999999999,0", 4).unwrap();
    assert_eq!(row.depth, 2);
    assert_eq!(
        row.asks,
        vec![(p("223.95"), q("100")), (p("223.96"), q("7"))]
    );
    assert_eq!(row.bids, vec![(p("223.9"), q("5"))]);
    assert_eq!(row.bid(), Some((p("223.9"), q("5"))));
    let one = parse_row("2239500,100,-9999999999,0", 1).unwrap();
    assert_eq!((one.depth, one.bids.len()), (1, 0));
    // Too few columns: the first missing one is named.
    let e = parse_row("1,2,3", 4).unwrap_err();
    assert_eq!((e.file, e.line, e.column), ("orderbook", 4, 4));
    let e = parse_row("2239500,100,2239000,5,2239600", 4).unwrap_err();
    assert_eq!(e.column, 6);
    // Level 2 ask worse ordered than level 1.
    let e = parse_row("2239500,100,2239000,5,2239400,7,2238000,1", 9).unwrap_err();
    assert_eq!((e.column, e.field.as_str()), (5, "ask price 2"));
    // A level after an empty one.
    let e = parse_row("9999999999,0,2239000,5,2239400,7,2238000,1", 9).unwrap_err();
    assert_eq!(e.field, "ask price 2");
    let e = parse_row("2239500,x,2239000,5", 2).unwrap_err();
    assert_eq!(
        (e.column, e.field.as_str(), e.value.as_str()),
        (2, "ask size 1", "x")
    );
}

const MSGS: &str = "34200.1,1,1,10,1000000,1\n34200.2,1,2,5,1010000,-1\n";
const ROWS: &str = "1010000,5,1000000,10\n1010000,5,1000000,10\n";

#[test]
fn a_recording_pairs_lines_and_skips_only_when_asked() {
    let rec = Recording::parse(MSGS, ROWS, BadLines::Fail).unwrap();
    assert_eq!((rec.steps.len(), rec.depth, rec.skipped.len()), (2, 1, 0));
    let bad = "34200.1,1,1,10,1000000,1\n34200.2,9,2,5,1010000,-1\n34200.3,3,1,10,1000000,1\n";
    let rows = format!("{ROWS}1010000,5,-9999999999,0\n");
    let e = Recording::parse(bad, &rows, BadLines::Fail).unwrap_err();
    assert_eq!((e.file, e.line, e.field.as_str()), ("message", 2, "type"));
    let rec = Recording::parse(bad, &rows, BadLines::Skip).unwrap();
    assert_eq!(rec.steps.len(), 2);
    assert_eq!(rec.skipped, vec![e]);
    assert!(!rec.steps[0].reseed && rec.steps[1].reseed);
    // Files of different lengths, and rows of different depth.
    let e = Recording::parse(MSGS, "1010000,5,1000000,10\n", BadLines::Skip).unwrap_err();
    assert_eq!((e.file, e.line), ("orderbook", 2));
    let e = Recording::parse(MSGS, "1,1,1,1\n1,1,1,1,2,1,-9999999999,0\n", BadLines::Skip);
    let rec = e.unwrap();
    assert_eq!(
        rec.skipped[0].expected,
        "the same number of columns on every line"
    );
}

fn replay_of(seed: &str) -> Replay {
    let grid = equity_grid(p("1000")).unwrap();
    Replay::new(InstrumentId(1), grid, &parse_row(seed, 1).unwrap()).unwrap()
}

fn msg(kind: MessageType, size: &str, price: &str, side: Side) -> Message {
    Message {
        time: Nanos(0),
        kind,
        order_id: 1,
        size: q(size),
        price: p(price),
        side,
    }
}

fn bids(r: &Replay) -> Vec<(Price, Qty)> {
    let mut out = Vec::new();
    r.book.top_n(Side::Buy, 10, &mut out);
    out
}

#[test]
fn a_level_coming_into_view_is_taken_from_the_row_and_hidden_ones_dropped() {
    // Two levels in view: bids 100 and 99.
    let mut r = replay_of("1010000,5,1000000,10,1020000,5,990000,4");
    // A better bid pushes 99 out of view; the replay still remembers it.
    let after = parse_row("1010000,5,1005000,3,1020000,5,1000000,10", 2).unwrap();
    r.apply(&msg(MessageType::Submit, "3", "100.5", Side::Buy), &after)
        .unwrap();
    assert_eq!(bids(&r).len(), 3);
    // 100.5 is deleted: the level that comes into view is the row's
    // (98, changed unseen), not the remembered 99.
    let after = parse_row("1010000,5,1000000,10,1020000,5,980000,8", 3).unwrap();
    let top = r
        .apply(&msg(MessageType::Delete, "3", "100.5", Side::Buy), &after)
        .unwrap();
    assert_eq!(bids(&r), after.bids);
    assert_eq!((r.refills, r.dropped_hidden), (1, 1));
    assert_eq!(top.best_bid, p("100"));
    // A delete beyond the view changes nothing in it and takes nothing.
    let after2 = after.clone();
    r.apply(&msg(MessageType::Delete, "8", "97", Side::Buy), &after2)
        .unwrap();
    assert_eq!((r.refills, bids(&r)), (1, after.bids.clone()));
    // Emptying the side entirely at depth 2.
    let none = parse_row("1010000,5,-9999999999,0,1020000,5,-9999999999,0", 4).unwrap();
    let step = parse_row("1010000,5,980000,8,1020000,5,-9999999999,0", 4).unwrap();
    r.apply(&msg(MessageType::Delete, "10", "100", Side::Buy), &step)
        .unwrap();
    assert_eq!(bids(&r), step.bids);
    let top = r
        .apply(&msg(MessageType::Execute, "8", "98", Side::Buy), &none)
        .unwrap();
    assert!(bids(&r).is_empty());
    assert_eq!(top.best_bid_qty, Qty::ZERO);
    // A reseed replaces everything.
    r.reseed(&after).unwrap();
    assert_eq!((bids(&r), r.reseeds), (after.bids.clone(), 1));
}
