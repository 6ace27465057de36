//! Binance spot BTCUSDT (../shared/data/binance): every line decodes; the
//! book seeded from the recorded REST snapshot and kept by the U/u rules
//! has no gap, and after every diff whose `u` equals a recorded
//! `bookTicker`'s `u`, its best bid and ask, prices and sizes, equal that
//! `bookTicker`. A `bookTicker` arrives before the diff it matches, so they
//! wait in a map keyed by `u`; those no diff ends on are counted, not
//! checked.
//!
//! The second test drops one diff from the stream, checks the gap is
//! caught and the book goes stale, then resyncs from a snapshot built from
//! an independent model of the book (a `BTreeMap` per side fed with every
//! recorded diff, including the dropped one) taken ten diffs after the gap
//! and delivered ten diffs later still, so the buffer must drop the diffs
//! the snapshot covers and bridge the rest.
//!
//! The third counts heap allocations on the test's own thread (a counting
//! global allocator, `pt_tests::alloc`) while every frame after the
//! snapshot is decoded and applied: there must be none.

use pt_engine::instrument::Registry;
use pt_engine::model::{BookUpdate, Nanos, Price, Qty, book_flags, header_flags};
use pt_feed::binance::{
    DecodeStats, DepthSync, DepthUpdate, DiffOutcome, Msg, SnapshotOutcome, SyncConfig, decode,
};
use std::collections::BTreeMap;

use pt_tests::alloc::allocations;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

const FILE: &str = "spot_btcusdt_20240808.gz";

/// `(receive ns, JSON)` per line, or `None` (with a notice) when the
/// recording is absent.
fn load() -> Option<Vec<(i64, String)>> {
    let text = pt_tests::data::shared_text(&format!("binance/{FILE}"))?;
    let lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let (ts, json) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("line {}: no '<ns> <json>'", i + 1));
            let ts = ts.parse().unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            (ts, json.to_owned())
        })
        .collect();
    Some(lines)
}

/// BTCUSDT as a registry lists it: a 0.01 tick from 0.01 to 1,000,000
/// (a hundred million prices), so the ladder holds a window of them around
/// the snapshot's best prices and the levels beyond it are kept aside.
fn btcusdt() -> DepthSync {
    let registry = Registry::from_toml(
        r#"
[[venue]]
name = "binance"

[[instrument]]
symbol = "BTCUSDT"
venue = "binance"
kind = "spot"
qty_step = "0.00001"
price_ranges = [{ start = "0.01", end = "1000000", step = "0.01" }]
"#,
        "registry.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let venue = registry.venue("binance").expect("venue").id;
    let instrument = registry.lookup(venue, "BTCUSDT").expect("BTCUSDT");
    DepthSync::for_instrument(instrument, SyncConfig::SPOT)
}

/// A `bookTicker`'s top, waiting for the diff with the same `u`.
type Top = (Price, Qty, Price, Qty);

/// Pending `bookTicker`s and the outcome of checking them.
#[derive(Default)]
struct Checker {
    pending: BTreeMap<u64, Top>,
    checked: u64,
    unmatched: u64,
    stale_updates: u64,
    mismatches: Vec<(u64, Top, Top)>,
}

impl Checker {
    fn on_update(&mut self, update: &BookUpdate) {
        if update.book_flags & book_flags::STALE != 0 {
            self.stale_updates += 1;
            return;
        }
        if update.header.flags & header_flags::SNAPSHOT != 0 {
            return;
        }
        let u = update.header.seq;
        let later = self.pending.split_off(&u.saturating_add(1));
        let mut done = std::mem::replace(&mut self.pending, later);
        if let Some(want) = done.remove(&u) {
            let got = (
                update.best_bid,
                update.best_bid_qty,
                update.best_ask,
                update.best_ask_qty,
            );
            self.checked += 1;
            if got != want {
                self.mismatches.push((u, got, want));
            }
        }
        self.unmatched += done.len() as u64;
    }
}

/// The book as plain sorted maps: what a snapshot built from it holds.
#[derive(Default, Clone)]
struct Model {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    last: u64,
}

impl Model {
    fn set(side: &mut BTreeMap<i64, i64>, levels: pt_feed::binance::Levels<'_>) {
        for (p, q) in levels {
            if q.is_zero() {
                side.remove(&p.raw());
            } else {
                side.insert(p.raw(), q.raw());
            }
        }
    }

    fn apply(&mut self, d: &DepthUpdate<'_>) {
        if d.final_update_id <= self.last {
            return;
        }
        Self::set(&mut self.bids, d.bids);
        Self::set(&mut self.asks, d.asks);
        self.last = d.final_update_id;
    }

    fn snapshot_json(&self) -> String {
        let side = |m: &BTreeMap<i64, i64>, rev: bool| {
            let mut v: Vec<String> = m
                .iter()
                .map(|(p, q)| format!("[\"{}\",\"{}\"]", Price::from_raw(*p), Qty::from_raw(*q)))
                .collect();
            if rev {
                v.reverse();
            }
            v.join(",")
        };
        format!(
            "{{\"lastUpdateId\":{},\"bids\":[{}],\"asks\":[{}]}}",
            self.last,
            side(&self.bids, true),
            side(&self.asks, false)
        )
    }
}

#[test]
fn book_matches_every_book_ticker_on_the_same_update_id() {
    let Some(lines) = load() else { return };
    let mut sync = btcusdt();
    let mut stats = DecodeStats::default();
    let mut check = Checker::default();
    for (i, (ts, line)) in lines.iter().enumerate() {
        let msg = stats
            .decode(line.as_bytes())
            .unwrap_or_else(|e| panic!("line {}: {}", i + 1, e.display(line.as_bytes())));
        let ts = Nanos(*ts);
        match msg {
            Msg::BookTicker(t) => {
                check
                    .pending
                    .insert(t.update_id, (t.bid, t.bid_qty, t.ask, t.ask_qty));
            }
            Msg::DepthUpdate(d) => {
                let out = sync.on_diff(&d, ts, |u| check.on_update(&u));
                assert!(
                    !matches!(out, DiffOutcome::Gap { .. }),
                    "line {}: {out:?}",
                    i + 1
                );
            }
            Msg::Snapshot(s) => {
                let out = sync.on_snapshot(&s, ts, |u| check.on_update(&u));
                assert_eq!(out, SnapshotOutcome::Synced, "line {}", i + 1);
            }
            Msg::Trade(_) | Msg::Other { .. } => {}
        }
    }
    let s = sync.stats();
    println!(
        "{} lines: {} depth updates, {} bookTickers, {} trades, {} snapshot(s); \
         {} diffs applied, {} dropped as old, {} buffered, {} levels set, {} outside the window; \
         {} bookTickers checked against the book, {} with no diff ending on their u",
        lines.len(),
        stats.depth_updates,
        stats.book_tickers,
        stats.trades,
        stats.snapshots,
        s.diffs_applied,
        s.diffs_old,
        s.diffs_buffered,
        s.levels_applied,
        s.outside_window_levels,
        check.checked,
        check.unmatched + check.pending.len() as u64,
    );
    assert_eq!(stats.errors.total(), 0);
    assert_eq!(
        stats.depth_updates + stats.book_tickers + stats.trades + stats.snapshots,
        lines.len() as u64
    );
    assert_eq!(stats.snapshots, 1);
    assert_eq!(s.gaps, 0, "sequence gap in the recording");
    assert_eq!(s.snapshots, 1);
    assert_eq!(s.rejected_levels, 0);
    // Every level is on the tick; the far ones are kept outside the window.
    assert_eq!(s.off_grid_levels + s.overflow_full, 0, "{s:?}");
    assert!(s.outside_window_levels > 0);
    assert_eq!(check.stale_updates, 0);
    assert!(!sync.needs_snapshot() && !sync.ladder().is_stale());
    assert_eq!(
        s.diffs_applied + s.diffs_old,
        stats.depth_updates,
        "every diff is either applied or covered by the snapshot"
    );
    assert!(
        check.mismatches.is_empty(),
        "{} of {} bookTickers differ from the book; first: {:?}",
        check.mismatches.len(),
        check.checked,
        check.mismatches.first()
    );
    assert!(check.checked > 0, "no bookTicker shared a diff's u");
}

#[test]
fn a_dropped_diff_is_a_gap_and_a_fresh_snapshot_resyncs() {
    let Some(lines) = load() else { return };
    let mut sync = btcusdt();
    let mut check = Checker::default();
    let mut model = Model::default();
    // Diffs seen after the recorded snapshot; the 100th is withheld.
    const DROP: usize = 100;
    let mut seeded = false;
    // Diffs received before the snapshot: the model applies the ones it
    // does not cover once seeded, as the book does.
    let mut early: Vec<&str> = Vec::new();
    let mut after_snapshot = 0;
    let mut gap_seen = false;
    let mut stale_emitted = false;
    let mut built: Option<String> = None;
    let mut checked_before_resync = 0;
    for (ts, line) in &lines {
        let ts = Nanos(*ts);
        match decode(line.as_bytes()).expect("decodes") {
            Msg::BookTicker(t) => {
                check
                    .pending
                    .insert(t.update_id, (t.bid, t.bid_qty, t.ask, t.ask_qty));
            }
            Msg::Snapshot(s) => {
                model.last = s.last_update_id;
                Model::set(&mut model.bids, s.bids);
                Model::set(&mut model.asks, s.asks);
                for line in early.drain(..) {
                    if let Ok(Msg::DepthUpdate(d)) = decode(line.as_bytes()) {
                        model.apply(&d);
                    }
                }
                sync.on_snapshot(&s, ts, |u| check.on_update(&u));
                seeded = true;
            }
            Msg::DepthUpdate(d) => {
                if seeded {
                    model.apply(&d);
                    after_snapshot += 1;
                } else {
                    early.push(line);
                }
                if after_snapshot == DROP {
                    continue;
                }
                let out = sync.on_diff(&d, ts, |u| {
                    if u.book_flags & book_flags::STALE != 0 {
                        stale_emitted = true;
                    }
                    check.on_update(&u)
                });
                if after_snapshot == DROP + 1 {
                    assert!(matches!(out, DiffOutcome::Gap { .. }), "{out:?}");
                    assert!(sync.needs_snapshot() && sync.ladder().is_stale());
                    assert!(stale_emitted, "no STALE update emitted on the gap");
                    gap_seen = true;
                    checked_before_resync = check.checked;
                } else if after_snapshot > DROP + 1 && after_snapshot <= DROP + 21 {
                    assert_eq!(out, DiffOutcome::Buffered);
                }
                if after_snapshot == DROP + 11 {
                    built = Some(model.snapshot_json());
                }
                if after_snapshot == DROP + 21 {
                    let json = built.take().expect("snapshot built");
                    let Ok(Msg::Snapshot(s)) = decode(json.as_bytes()) else {
                        panic!("built snapshot does not decode");
                    };
                    let out = sync.on_snapshot(&s, ts, |u| check.on_update(&u));
                    assert_eq!(out, SnapshotOutcome::Synced);
                    assert!(!sync.needs_snapshot() && !sync.ladder().is_stale());
                    assert_eq!(sync.last_update_id(), Some(model.last));
                    let best_bid = model.bids.last_key_value().map(|(p, _)| *p);
                    let best_ask = model.asks.first_key_value().map(|(p, _)| *p);
                    assert_eq!(sync.ladder().best_bid().map(|b| b.0.raw()), best_bid);
                    assert_eq!(sync.ladder().best_ask().map(|a| a.0.raw()), best_ask);
                }
            }
            Msg::Trade(_) | Msg::Other { .. } => {}
        }
    }
    let s = sync.stats();
    println!(
        "gap test: {} gap(s), {} resync(s), {} diffs old, {} applied; \
         {} bookTickers checked ({} after the resync)",
        s.gaps,
        s.resyncs,
        s.diffs_old,
        s.diffs_applied,
        check.checked,
        check.checked - checked_before_resync
    );
    assert!(gap_seen, "the recording has fewer than {DROP} diffs");
    assert_eq!((s.gaps, s.snapshots, s.resyncs), (1, 2, 1));
    assert!(s.diffs_old >= 10, "the buffered diffs the snapshot covers");
    assert!(
        check.mismatches.is_empty(),
        "{:?}",
        check.mismatches.first()
    );
    assert!(check.checked > checked_before_resync);
}

#[test]
fn steady_state_decode_and_apply_allocate_nothing() {
    let Some(lines) = load() else { return };
    let probe = allocations();
    drop(std::hint::black_box(Vec::<u8>::with_capacity(8)));
    assert_eq!(allocations(), probe + 1, "the counting allocator counts");
    let mut sync = btcusdt();
    let mut synced = false;
    let (mut frames, mut updates, mut during) = (0u64, 0u64, 0u64);
    let mut last = BookUpdate::default();
    for (ts, line) in &lines {
        let before = allocations();
        let msg = decode(line.as_bytes()).expect("decodes");
        match msg {
            Msg::DepthUpdate(d) => {
                sync.on_diff(&d, Nanos(*ts), |u| {
                    last = u;
                    updates += 1;
                });
            }
            Msg::Snapshot(s) => {
                sync.on_snapshot(&s, Nanos(*ts), |u| last = u);
                synced = true;
                continue;
            }
            _ => {}
        }
        if synced {
            during += allocations() - before;
            frames += 1;
        }
    }
    println!(
        "{frames} frames after the snapshot, {updates} BookUpdates, {during} allocations; last {:?}",
        last.version
    );
    assert!(updates > 0);
    assert_eq!(during, 0);
}
