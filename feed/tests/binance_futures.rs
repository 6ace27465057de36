//! Binance USD-M futures (../shared/data/binance/BINANCE_FUTURES.*): four
//! symbols on one combined stream, with the REST snapshots taken at its
//! start, replayed in receive-time order through one [`Books`] whose books
//! follow the futures rules and take their ticks from an instrument
//! registry.
//!
//! Every frame decodes; the kinds the decoder does not handle (`aggTrade`,
//! `kline`) are counted by name; every book syncs from its snapshot with no
//! gap; and every `bookTicker` whose `u` equals the `u` of an applied diff
//! of its symbol equals the book after that diff: best bid and ask, prices
//! and sizes. A `bookTicker` may arrive before or after its diff, so both
//! sides wait in maps keyed by (symbol, `u`) until the end.
//!
//! The low-priced coins quote snapshot levels from 0.00001 to 99 at a tick
//! of 0.00001 (ten million prices), far more than a ladder holds: the run
//! is repeated with a window of 400 prices, which keeps the best levels in
//! the ladder and the rest in the overflow store, with the same result.

use pt_engine::instrument::Registry;
use pt_engine::model::{BookUpdate, Nanos, Price, Qty, book_flags, header_flags};
use pt_feed::binance::{
    Books, DecodeStats, DepthSync, DiffOutcome, Msg, SnapshotOutcome, SyncConfig, snapshot_symbol,
};
use std::collections::BTreeMap;

use pt_tests::binance_futures::{Input, REGISTRY, SYMBOLS, load};

type Top = (Price, Qty, Price, Qty);

/// What one replay found.
#[derive(Default)]
struct Run {
    stats: DecodeStats,
    /// The book after each applied diff, by (instrument, `u`).
    books: BTreeMap<(u32, u64), Top>,
    /// Every `bookTicker`, by (instrument, `u`).
    tickers: BTreeMap<(u32, u64), Top>,
    gaps: Vec<String>,
    stale_updates: u64,
}

fn top(u: &BookUpdate) -> Top {
    (u.best_bid, u.best_bid_qty, u.best_ask, u.best_ask_qty)
}

fn replay(inputs: &[(i64, Input)], config: SyncConfig) -> (Run, Books) {
    let registry = Registry::from_toml(REGISTRY, "registry.toml").unwrap_or_else(|e| panic!("{e}"));
    let venue = registry.venue("binance-futures").expect("venue").id;
    let mut books = Books::new();
    for symbol in SYMBOLS {
        let instrument = registry.lookup(venue, symbol).expect("instrument");
        books
            .add(symbol, DepthSync::for_instrument(instrument, config))
            .expect("one book a symbol");
    }
    let id = |books: &Books, symbol: &[u8]| {
        let b = books.get(symbol).expect("a book for every symbol");
        b.ladder().instrument().0
    };
    let mut run = Run::default();
    for (ts, input) in inputs {
        let recv = Nanos(*ts);
        match input {
            Input::Frame(json) => match run.stats.decode(json.as_bytes()) {
                Ok(Msg::DepthUpdate(d)) => {
                    let instrument = id(&books, d.symbol);
                    let mut after = None;
                    let outcome = books.on_diff(&d, recv, |u| after = Some(u));
                    match outcome {
                        Some(DiffOutcome::Applied) => {
                            let u = after.expect("an applied diff emits the book");
                            assert_eq!(u.header.seq, d.final_update_id);
                            run.books.insert((instrument, d.final_update_id), top(&u));
                        }
                        Some(DiffOutcome::Buffered | DiffOutcome::Old) => {}
                        other => run.gaps.push(format!(
                            "{} u={}: {other:?}",
                            String::from_utf8_lossy(d.symbol),
                            d.final_update_id
                        )),
                    }
                }
                Ok(Msg::BookTicker(t)) => {
                    let instrument = id(&books, t.symbol);
                    assert!(t.event_time.is_some() && t.transaction_time.is_some());
                    run.tickers.insert(
                        (instrument, t.update_id),
                        (t.bid, t.bid_qty, t.ask, t.ask_qty),
                    );
                }
                Ok(_) => {}
                Err(e) => panic!("{}", e.display(json.as_bytes())),
            },
            Input::Snapshot { url, json } => {
                let symbol = snapshot_symbol(url).expect("symbol= in the URL");
                let Ok(Msg::Snapshot(snap)) = run.stats.decode(json.as_bytes()) else {
                    panic!("{symbol}: not a snapshot");
                };
                let mut updates = Vec::new();
                let outcome = books
                    .on_snapshot(symbol.as_bytes(), &snap, recv, |u| updates.push(u))
                    .expect("a book for the snapshot's symbol");
                assert_eq!(outcome, SnapshotOutcome::Synced, "{symbol}");
                assert!(updates[0].header.flags & header_flags::SNAPSHOT != 0);
                let instrument = id(&books, symbol.as_bytes());
                for u in &updates[1..] {
                    if u.book_flags & book_flags::STALE != 0 {
                        run.stale_updates += 1;
                    }
                    run.books.insert((instrument, u.header.seq), top(u));
                }
            }
        }
    }
    (run, books)
}

/// Checks one replay and returns (tickers checked, per symbol).
fn check(run: &Run, books: &Books) -> BTreeMap<u32, u64> {
    assert!(run.gaps.is_empty(), "false gaps: {:?}", run.gaps);
    assert_eq!(run.stale_updates, 0);
    let mut checked = BTreeMap::new();
    let mut mismatches = Vec::new();
    for (key, want) in &run.tickers {
        if let Some(got) = run.books.get(key) {
            *checked.entry(key.0).or_insert(0u64) += 1;
            if got != want {
                mismatches.push((*key, *got, *want));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of the matched bookTickers differ from the book, first {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(3)]
    );
    for (symbol, book) in books.iter() {
        let s = book.stats();
        assert!(!book.needs_snapshot(), "{symbol} is waiting for a snapshot");
        assert_eq!(s.gaps + s.out_of_window, 0, "{symbol}: {s:?}");
        assert_eq!(s.snapshots, 1, "{symbol}");
        assert_eq!(s.off_grid_levels + s.rejected_levels, 0, "{symbol}: {s:?}");
        assert_eq!(s.overflow_full + s.buffer_dropped, 0, "{symbol}: {s:?}");
        assert!(s.diffs_applied > 0, "{symbol}");
        let id = book.ladder().instrument().0;
        assert!(
            checked.get(&id).copied().unwrap_or(0) > 0,
            "{symbol}: no bookTicker matched an applied diff"
        );
        assert_eq!(
            book.best_bid(),
            book.ladder().best_bid(),
            "{symbol}: the best bid is in the window"
        );
    }
    assert_eq!(books.unknown_symbols(), 0);
    checked
}

#[test]
fn four_symbols_sync_by_the_futures_rules_and_match_every_book_ticker() {
    let Some(inputs) = load() else { return };
    let (run, books) = replay(&inputs, SyncConfig::FUTURES);
    let checked = check(&run, &books);

    let s = &run.stats;
    assert_eq!(s.errors, Default::default());
    assert_eq!(
        (s.depth_updates, s.book_tickers, s.snapshots),
        (764, 613, 4)
    );
    assert_eq!(s.unknown.get(b"aggTrade"), 91);
    assert_eq!(s.unknown.get(b"kline"), 67);
    assert_eq!(s.others, 91 + 67);
    println!(
        "bookTickers checked against the book: {checked:?} of {}; unknown kinds: {}",
        run.tickers.len(),
        s.unknown
    );
    for (symbol, book) in books.iter() {
        let st = book.stats();
        println!(
            "{symbol}: {} diffs applied, {} old, {} windows placed, {} levels outside the window \
             ({} held at the end), {} prices in the ladder",
            st.diffs_applied,
            st.diffs_old,
            st.windows_placed,
            st.outside_window_levels,
            book.outside_window(pt_engine::model::Side::Buy).len()
                + book.outside_window(pt_engine::model::Side::Sell).len(),
            book.ladder().grid().len()
        );
    }
    // AKRO and CTK quote from 0.00001 to 10 and 99 at a 0.00001 tick: more
    // than a 65,536-price window, so levels are held outside it.
    for symbol in ["AKROUSDT", "CTKUSDT"] {
        let b = books.get(symbol.as_bytes()).expect("book");
        assert_eq!(b.stats().windows_placed, 1, "{symbol}");
        assert!(b.stats().outside_window_levels > 0, "{symbol}");
    }
}

#[test]
fn a_narrow_window_keeps_the_far_levels_outside_it_with_the_same_result() {
    let Some(inputs) = load() else { return };
    let wide = {
        let (run, books) = replay(&inputs, SyncConfig::FUTURES);
        check(&run, &books)
    };
    let narrow = SyncConfig {
        max_window: 400,
        ..SyncConfig::FUTURES
    };
    let (run, books) = replay(&inputs, narrow);
    assert_eq!(check(&run, &books), wide);
    for (symbol, book) in books.iter() {
        let s = book.stats();
        assert_eq!(s.windows_placed, 1, "{symbol}");
        assert!(s.outside_window_levels > 0, "{symbol}");
        assert_eq!(book.ladder().grid().len(), 400, "{symbol}");
    }
}

#[test]
fn a_missing_diff_is_a_gap_by_the_pu_rule() {
    let Some(mut inputs) = load() else { return };
    // Drop the tenth SUSHIUSDT diff after its snapshot.
    let snapshot_at = inputs
        .iter()
        .position(|(_, i)| matches!(i, Input::Snapshot { url, .. } if snapshot_symbol(url) == Some("SUSHIUSDT")))
        .expect("snapshot");
    let dropped = inputs
        .iter()
        .enumerate()
        .skip(snapshot_at)
        .filter(|(_, (_, i))| {
            matches!(i, Input::Frame(j) if j.contains("\"e\":\"depthUpdate\"") && j.contains("SUSHIUSDT"))
        })
        .nth(10)
        .map(|(n, _)| n)
        .expect("ten diffs after the snapshot");
    inputs.remove(dropped);
    let (run, books) = replay(&inputs, SyncConfig::FUTURES);
    assert_eq!(run.gaps.len(), 1, "{:?}", run.gaps);
    assert!(run.gaps[0].starts_with("SUSHIUSDT"), "{:?}", run.gaps);
    let sushi = books.get(b"SUSHIUSDT").expect("book");
    assert!(sushi.needs_snapshot() && sushi.ladder().is_stale());
    for symbol in ["AKROUSDT", "KEEPUSDT", "CTKUSDT"] {
        assert_eq!(books.get(symbol.as_bytes()).expect("book").stats().gaps, 0);
    }
}
