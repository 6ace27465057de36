//! USD-M futures: the `pu` rules, the window and its overflow store, and
//! several symbols on one stream.

use super::sync::{Top, levels, p, snap_json};
use crate::binance::{
    Books, DecodeStats, DepthSync, DiffOutcome, Msg, SnapshotOutcome, SyncConfig, SyncRules,
    decode, snapshot_symbol,
};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{BookUpdate, InstrumentId, Nanos, Side};

fn diff_json(
    symbol: &str,
    (first, last, prev): (u64, u64, Option<u64>),
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> String {
    let pu = prev.map_or(String::new(), |pu| format!(r#","pu":{pu}"#));
    format!(
        r#"{{"stream":"x@depth@100ms","data":{{"e":"depthUpdate","E":5,"T":4,"s":"{symbol}","U":{first},"u":{last}{pu},"b":{},"a":{}}}}}"#,
        levels(bids),
        levels(asks)
    )
}

/// Futures rules over 90.00..=110.00 by 0.01; a window of `window` prices.
fn book(window: u32) -> DepthSync {
    let grid = PriceGrid::uniform(p("90"), p("110"), p("0.01")).unwrap();
    let config = SyncConfig {
        max_buffered: 8,
        max_window: window,
        overflow: 4,
        ..SyncConfig::FUTURES
    };
    DepthSync::with_config(InstrumentId(4), grid, config)
}

fn diff(
    s: &mut DepthSync,
    ids: (u64, u64, Option<u64>),
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> DiffOutcome {
    let json = diff_json("X", ids, bids, asks);
    let Ok(Msg::DepthUpdate(d)) = decode(json.as_bytes()) else {
        panic!("{json}")
    };
    s.on_diff(&d, Nanos(7), |_| {})
}

fn snap(
    s: &mut DepthSync,
    id: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> SnapshotOutcome {
    let json = snap_json(id, bids, asks);
    let Ok(Msg::Snapshot(snap)) = decode(json.as_bytes()) else {
        panic!("{json}")
    };
    s.on_snapshot(&snap, Nanos(7), |_| {})
}

fn top(s: &DepthSync) -> Top {
    (s.best_bid(), s.best_ask())
}

#[test]
fn futures_diffs_bridge_on_last_update_id_then_chain_by_pu() {
    let mut s = book(u32::MAX);
    assert_eq!(s.rules(), SyncRules::Futures);
    // Before the snapshot (lastUpdateId 100): wholly before it; ending on
    // it (kept: `u` < lastUpdateId is the drop rule); the next, chained.
    diff(&mut s, (90, 99, Some(89)), &[("99", "1")], &[]);
    diff(&mut s, (95, 100, Some(99)), &[("99.5", "2")], &[]);
    diff(
        &mut s,
        (101, 120, Some(100)),
        &[("99.7", "3")],
        &[("100.5", "4")],
    );
    assert_eq!(
        snap(&mut s, 100, &[("99", "5")], &[("101", "6")]),
        SnapshotOutcome::Synced
    );
    assert_eq!(s.stats().diffs_old, 1);
    assert_eq!(s.stats().diffs_applied, 2);
    assert_eq!(s.last_update_id(), Some(120));
    assert_eq!(
        top(&s),
        (
            Some((p("99.7"), "3".parse().unwrap())),
            Some((p("100.5"), "4".parse().unwrap()))
        )
    );

    // Chained by `pu`, whatever `U` says (futures ids are shared across
    // symbols, so `U` is not previous `u` + 1).
    assert_eq!(
        diff(&mut s, (500, 530, Some(120)), &[], &[("100.5", "0")]),
        DiffOutcome::Applied
    );
    // A repeat is old; a break is a gap.
    assert_eq!(
        diff(&mut s, (500, 530, Some(120)), &[], &[]),
        DiffOutcome::Old
    );
    assert_eq!(
        diff(&mut s, (600, 640, Some(599)), &[], &[]),
        DiffOutcome::Gap {
            expected: 531,
            first: 600
        }
    );
    assert!(s.needs_snapshot() && s.ladder().is_stale());
}

#[test]
fn futures_first_diff_edges() {
    // U > lastUpdateId: the snapshot is too old for the buffered diffs.
    let mut s = book(u32::MAX);
    diff(&mut s, (101, 110, Some(100)), &[], &[]);
    assert_eq!(
        snap(&mut s, 100, &[("99", "1")], &[]),
        SnapshotOutcome::Synced
    );
    let mut s = book(u32::MAX);
    diff(&mut s, (102, 110, Some(101)), &[], &[]);
    assert_eq!(snap(&mut s, 100, &[("99", "1")], &[]), SnapshotOutcome::Gap);
    // A diff without `pu` on a futures stream is checked by the spot rule.
    let mut s = book(u32::MAX);
    snap(&mut s, 100, &[("99", "1")], &[]);
    assert_eq!(
        diff(&mut s, (95, 105, Some(90)), &[], &[]),
        DiffOutcome::Applied
    );
    assert_eq!(
        diff(&mut s, (106, 107, None), &[], &[]),
        DiffOutcome::Applied
    );
    assert!(matches!(
        diff(&mut s, (109, 110, None), &[], &[]),
        DiffOutcome::Gap { .. }
    ));
}

#[test]
fn a_window_is_placed_at_the_snapshot_and_far_levels_kept_outside_it() {
    // 2,001 grid prices, a window of 101 (±0.50 around the centre).
    let mut s = book(101);
    assert_eq!(
        snap(
            &mut s,
            10,
            &[("100", "1"), ("99.60", "2"), ("92", "3")],
            &[("100.10", "4"), ("109", "5")]
        ),
        SnapshotOutcome::Synced
    );
    assert_eq!(s.stats().windows_placed, 1);
    let window = s.ladder().grid();
    assert_eq!(
        (window.min(), window.max(), window.len()),
        (Some(p("99.55")), Some(p("100.55")), 101)
    );
    assert_eq!(
        s.outside_window(Side::Buy),
        &[(p("92"), "3".parse().unwrap())]
    );
    assert_eq!(
        s.outside_window(Side::Sell),
        &[(p("109"), "5".parse().unwrap())]
    );
    assert_eq!(s.stats().off_grid_levels, 0);

    // Far levels change and go; a price off the tick is off-grid, not
    // outside the window.
    diff(
        &mut s,
        (11, 11, Some(10)),
        &[("92", "0"), ("91", "7"), ("95.001", "1")],
        &[],
    );
    assert_eq!(
        s.outside_window(Side::Buy),
        &[(p("91"), "7".parse().unwrap())]
    );
    assert_eq!(s.stats().off_grid_levels, 1);
    // The store holds four a side; a fifth new level is counted, not kept.
    diff(
        &mut s,
        (12, 12, Some(11)),
        &[("90", "1"), ("90.5", "1"), ("91.5", "1"), ("93", "1")],
        &[],
    );
    assert_eq!(s.outside_window(Side::Buy).len(), 4);
    assert_eq!(s.stats().overflow_full, 1);

    // A snapshot whose levels fit the window keeps it.
    assert_eq!(
        snap(&mut s, 20, &[("100", "1")], &[("100.2", "1")]),
        SnapshotOutcome::Synced
    );
    assert_eq!(s.stats().windows_placed, 1);
    assert!(s.outside_window(Side::Buy).is_empty());

    // The best ask leaving the window (everything inside it taken, a new
    // ask above) makes the book stale until a snapshot re-centres it.
    assert_eq!(
        diff(
            &mut s,
            (21, 21, Some(20)),
            &[("100", "0")],
            &[("100.2", "0"), ("101", "2")]
        ),
        DiffOutcome::OutOfWindow
    );
    assert!(s.needs_snapshot() && s.ladder().is_stale());
    assert_eq!(s.stats().out_of_window, 1);
    assert_eq!(
        snap(&mut s, 30, &[("100.9", "1")], &[("101", "2")]),
        SnapshotOutcome::Synced
    );
    assert_eq!(s.stats().windows_placed, 2);
    assert_eq!(
        top(&s),
        (
            Some((p("100.9"), "1".parse().unwrap())),
            Some((p("101"), "2".parse().unwrap()))
        )
    );
    assert_eq!(s.best_bid(), s.ladder().best_bid());
}

#[test]
fn books_route_each_symbol_to_its_own_book() {
    let mut books = Books::new();
    books.add("AAAUSDT", book(u32::MAX)).unwrap();
    books.add("BBBUSDT", book(u32::MAX)).unwrap();
    assert!(books.add("aaausdt", book(u32::MAX)).is_err());
    assert_eq!(
        books.needing_snapshot().collect::<Vec<_>>(),
        ["AAAUSDT", "BBBUSDT"]
    );

    let json = snap_json(100, &[("99", "1")], &[("101", "1")]);
    let Ok(Msg::Snapshot(s)) = decode(json.as_bytes()) else {
        panic!()
    };
    let url = "https://fapi.binance.com/fapi/v1/depth?symbol=BBBUSDT&limit=1000";
    let symbol = snapshot_symbol(url).unwrap();
    assert_eq!(
        books.on_snapshot(symbol.as_bytes(), &s, Nanos(1), |_| {}),
        Some(SnapshotOutcome::Synced)
    );
    assert_eq!(books.on_snapshot(b"CCCUSDT", &s, Nanos(1), |_| {}), None);
    assert_eq!(books.needing_snapshot().collect::<Vec<_>>(), ["AAAUSDT"]);

    let mut updates: Vec<BookUpdate> = Vec::new();
    for symbol in ["BBBUSDT", "AAAUSDT", "ZZZUSDT"] {
        let json = diff_json(symbol, (101, 102, Some(100)), &[("99.5", "1")], &[]);
        let Ok(Msg::DepthUpdate(d)) = decode(json.as_bytes()) else {
            panic!()
        };
        let outcome = books.on_diff(&d, Nanos(2), |u| updates.push(u));
        let want = match symbol {
            "BBBUSDT" => Some(DiffOutcome::Applied),
            "AAAUSDT" => Some(DiffOutcome::Buffered),
            _ => None,
        };
        assert_eq!(outcome, want, "{symbol}");
    }
    assert_eq!(updates.len(), 1);
    assert_eq!(books.unknown_symbols(), 2);
    assert_eq!(books.get(b"bbbusdt").unwrap().stats().diffs_applied, 1);
    assert_eq!(books.get(b"AAAUSDT").unwrap().buffered(), 1);

    assert_eq!(
        snapshot_symbol("https://x/depth?limit=5&symbol=ETHUSDT"),
        Some("ETHUSDT")
    );
    assert_eq!(snapshot_symbol("https://x/depth?symbol=&limit=5"), None);
    assert_eq!(snapshot_symbol("https://x/depth"), None);
}

#[test]
fn futures_book_ticker_and_pu_decode_and_unknown_kinds_count_by_name() {
    let t = br#"{"stream":"sushiusdt@bookTicker","data":{"e":"bookTicker","u":600859600576,"s":"SUSHIUSDT","b":"7.6110","B":"2","a":"7.6120","A":"297","T":1626992741012,"E":1626992741017}}"#;
    let Ok(Msg::BookTicker(t)) = decode(t) else {
        panic!()
    };
    assert_eq!(
        (t.update_id, t.symbol, t.bid, t.ask),
        (600859600576, &b"SUSHIUSDT"[..], p("7.611"), p("7.612"))
    );
    assert_eq!(
        (t.event_time, t.transaction_time),
        (Some(1626992741017), Some(1626992741012))
    );

    let d = diff_json("SUSHIUSDT", (5, 9, Some(4)), &[], &[]);
    let Ok(Msg::DepthUpdate(d)) = decode(d.as_bytes()) else {
        panic!()
    };
    assert_eq!(d.prev_final_update_id, Some(4));
    let bad = r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"pu":"x","b":[],"a":[]}"#;
    assert_eq!(decode(bad.as_bytes()).unwrap_err().field, "pu");

    let mut stats = DecodeStats::default();
    for frame in [
        r#"{"e":"kline","E":1}"#,
        r#"{"e":"aggTrade"}"#,
        r#"{"e":"kline"}"#,
    ] {
        assert!(matches!(
            stats.decode(frame.as_bytes()),
            Ok(Msg::Other { .. })
        ));
    }
    assert_eq!(
        (
            stats.others,
            stats.unknown.get(b"kline"),
            stats.unknown.get(b"aggTrade")
        ),
        (3, 2, 1)
    );
    assert_eq!(stats.unknown.to_string(), "kline=2 aggTrade=1");
}
