use crate::binance::{DepthSync, DiffOutcome, Msg, SnapshotOutcome, SyncState, decode};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{BookUpdate, InstrumentId, Nanos, Price, Qty, book_flags, header_flags};

pub(super) fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

pub(super) fn levels(l: &[(&str, &str)]) -> String {
    let v: Vec<String> = l
        .iter()
        .map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
        .collect();
    format!("[{}]", v.join(","))
}

fn diff_json(first: u64, last: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> String {
    format!(
        r#"{{"stream":"x@depth","data":{{"e":"depthUpdate","E":5,"s":"X","U":{first},"u":{last},"b":{},"a":{}}}}}"#,
        levels(bids),
        levels(asks)
    )
}

pub(super) fn snap_json(id: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> String {
    format!(
        r#"{{"lastUpdateId":{id},"bids":{},"asks":{}}}"#,
        levels(bids),
        levels(asks)
    )
}

/// Grid 90.00..=110.00 by 0.01.
fn book() -> DepthSync {
    let grid = PriceGrid::uniform(p("90"), p("110"), p("0.01")).unwrap();
    DepthSync::new(InstrumentId(3), grid, 8)
}

fn on_diff(
    s: &mut DepthSync,
    first: u64,
    last: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
    out: &mut Vec<BookUpdate>,
) -> DiffOutcome {
    let json = diff_json(first, last, bids, asks);
    let Ok(Msg::DepthUpdate(d)) = decode(json.as_bytes()) else {
        panic!("{json}")
    };
    s.on_diff(&d, Nanos(7), |u| out.push(u))
}

fn on_snap(
    s: &mut DepthSync,
    id: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
    out: &mut Vec<BookUpdate>,
) -> SnapshotOutcome {
    let json = snap_json(id, bids, asks);
    let Ok(Msg::Snapshot(snap)) = decode(json.as_bytes()) else {
        panic!("{json}")
    };
    s.on_snapshot(&snap, Nanos(7), |u| out.push(u))
}

pub(super) type Top = (Option<(Price, Qty)>, Option<(Price, Qty)>);

fn top(s: &DepthSync) -> Top {
    (s.ladder().best_bid(), s.ladder().best_ask())
}

#[test]
fn buffered_diffs_bridge_the_snapshot() {
    let mut s = book();
    let mut out = Vec::new();
    assert!(s.needs_snapshot());
    // Before the snapshot: covered, straddling lastUpdateId + 1, following.
    assert_eq!(
        on_diff(&mut s, 1, 5, &[("99", "9")], &[], &mut out),
        DiffOutcome::Buffered
    );
    on_diff(&mut s, 6, 10, &[("100", "2")], &[], &mut out);
    on_diff(&mut s, 11, 15, &[], &[("101", "0")], &mut out);
    assert!(out.is_empty() && s.buffered() == 3);
    assert_eq!(
        on_snap(&mut s, 7, &[("100", "1")], &[("101", "4")], &mut out),
        SnapshotOutcome::Synced
    );
    assert_eq!(s.state(), SyncState::Synced);
    assert_eq!(s.last_update_id(), Some(15));
    // The snapshot, then the two diffs after it; the first is dropped.
    assert_eq!(out.len(), 3);
    assert_ne!(out[0].header.flags & header_flags::SNAPSHOT, 0);
    assert_eq!(out[0].header.seq, 7);
    assert_eq!((out[1].header.seq, out[2].header.seq), (10, 15));
    assert_eq!(out[1].best_bid_qty, Qty::parse("2").unwrap());
    assert_eq!(out[2].header.venue_ts, Nanos(5_000_000));
    assert_ne!(out[2].book_flags & book_flags::NO_ASK, 0, "qty 0 removes");
    let st = *s.stats();
    assert_eq!((st.diffs_old, st.diffs_applied, st.gaps), (1, 2, 0));
    assert_eq!(s.buffered(), 0);
}

#[test]
fn first_diff_rules_at_the_edges() {
    // U == lastUpdateId + 1 applies; u == lastUpdateId is old.
    let mut s = book();
    let mut out = Vec::new();
    on_snap(&mut s, 10, &[("100", "1")], &[("101", "1")], &mut out);
    assert_eq!(on_diff(&mut s, 5, 10, &[], &[], &mut out), DiffOutcome::Old);
    assert_eq!(
        on_diff(&mut s, 11, 11, &[("100.5", "1")], &[], &mut out),
        DiffOutcome::Applied
    );
    assert_eq!(top(&s).0, Some((p("100.5"), Qty::parse("1").unwrap())));

    // U > lastUpdateId + 1 right after the snapshot: a gap.
    let mut s = book();
    on_snap(&mut s, 10, &[], &[], &mut out);
    assert_eq!(
        on_diff(&mut s, 12, 14, &[], &[], &mut out),
        DiffOutcome::Gap {
            expected: 11,
            first: 12
        }
    );
    assert!(s.needs_snapshot() && s.ladder().is_stale());

    // A snapshot older than every buffered diff cannot be bridged.
    let mut s = book();
    on_diff(&mut s, 20, 25, &[], &[], &mut out);
    assert_eq!(
        on_snap(&mut s, 10, &[], &[], &mut out),
        SnapshotOutcome::Gap
    );
    assert!(s.needs_snapshot() && s.buffered() == 1);
    assert_eq!(
        on_snap(&mut s, 22, &[("95", "1")], &[], &mut out),
        SnapshotOutcome::Synced
    );
    assert_eq!(s.last_update_id(), Some(25));
    assert_eq!(s.stats().resyncs, 1);
}

#[test]
fn a_gap_mid_stream_makes_the_book_stale_until_a_snapshot() {
    let mut s = book();
    let mut out = Vec::new();
    on_snap(&mut s, 10, &[("100", "1")], &[("101", "1")], &mut out);
    on_diff(&mut s, 9, 12, &[], &[], &mut out);
    assert_eq!(
        on_diff(&mut s, 13, 14, &[], &[], &mut out),
        DiffOutcome::Applied
    );
    // A repeat of what the book has is old, not a gap.
    assert_eq!(
        on_diff(&mut s, 13, 14, &[], &[], &mut out),
        DiffOutcome::Old
    );
    // Overlapping the book without starting right after it is a gap.
    out.clear();
    assert_eq!(
        on_diff(&mut s, 14, 16, &[("100", "5")], &[], &mut out),
        DiffOutcome::Gap {
            expected: 15,
            first: 14
        }
    );
    assert_eq!(out.len(), 1);
    assert_ne!(out[0].book_flags & book_flags::STALE, 0);
    assert_ne!(out[0].header.flags & header_flags::STALE, 0);
    assert_eq!(top(&s).0.map(|b| b.1), Some(Qty::parse("1").unwrap()));
    // While stale, diffs wait.
    assert_eq!(
        on_diff(&mut s, 17, 18, &[("100", "6")], &[], &mut out),
        DiffOutcome::Buffered
    );
    assert_eq!(
        on_snap(&mut s, 16, &[("100", "5")], &[("101", "1")], &mut out),
        SnapshotOutcome::Synced
    );
    assert!(!s.ladder().is_stale() && !s.needs_snapshot());
    assert_eq!(top(&s).0.map(|b| b.1), Some(Qty::parse("6").unwrap()));
    assert_eq!(
        out.last().map(|u| u.book_flags & book_flags::STALE),
        Some(0)
    );
    let st = *s.stats();
    assert_eq!((st.gaps, st.snapshots, st.resyncs), (1, 2, 1));
    // A snapshot older than the synced book is ignored.
    assert_eq!(
        on_snap(&mut s, 3, &[], &[], &mut out),
        SnapshotOutcome::Ignored
    );
    assert_eq!(s.last_update_id(), Some(18));
}

#[test]
fn buffer_is_bounded_and_off_grid_levels_are_counted() {
    let mut s = book();
    let mut out = Vec::new();
    for i in 0..10 {
        on_diff(&mut s, i * 2 + 1, i * 2 + 2, &[("100", "1")], &[], &mut out);
    }
    assert_eq!(s.buffered(), 8);
    assert_eq!(s.stats().buffer_dropped, 2);
    // Levels at 50 and 500 lie off the 90..110 grid: counted, and the
    // in-grid top is unaffected.
    on_snap(
        &mut s,
        20,
        &[("100", "1"), ("50", "1")],
        &[("500", "1"), ("101", "2")],
        &mut out,
    );
    on_diff(&mut s, 21, 21, &[("200", "3")], &[("60", "1")], &mut out);
    assert_eq!(s.stats().off_grid_levels, 4);
    assert_eq!(
        top(&s),
        (
            Some((p("100"), Qty::parse("1").unwrap())),
            Some((p("101"), Qty::parse("2").unwrap()))
        )
    );
    s.reset();
    assert!(s.needs_snapshot() && s.ladder().is_stale() && s.buffered() == 0);
}
