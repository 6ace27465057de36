//! Frames and snapshots in any order, for two symbols under each set of
//! sequence rules, never panic a book, and a book's reported state always
//! agrees with itself: a book that needs no snapshot is synced, buffers no
//! more diffs than it may, and keeps no more levels outside its window
//! than its overflow store holds.
//!
//! Input: lines; a line starting with `A` or `B` is a REST snapshot for
//! that symbol, any other line a websocket frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_engine::model::{InstrumentId, Nanos, Price, Side};
use pt_feed::binance::{Books, DepthSync, Msg, SyncConfig, SyncRules, SyncState, decode, spot_grid};

const OVERFLOW: usize = 4;
const BUFFERED: usize = 8;

fn books(rules: SyncRules) -> Books {
    let config = SyncConfig {
        rules,
        max_buffered: BUFFERED,
        max_window: 64,
        overflow: OVERFLOW,
    };
    let mut books = Books::new();
    for (i, symbol) in ["AAAUSDT", "BBBUSDT"].into_iter().enumerate() {
        let center = Price::parse("100").expect("price");
        let grid = spot_grid(center, Price::parse("0.01").expect("tick"), 2_000).expect("grid");
        let sync = DepthSync::with_config(InstrumentId(i as u32 + 1), grid, config);
        books.add(symbol, sync).expect("distinct symbols");
    }
    books
}

fuzz_target!(|data: &[u8]| {
    for rules in [SyncRules::Spot, SyncRules::Futures] {
        let mut books = books(rules);
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            let t = Nanos(i as i64);
            match line.first() {
                Some(&c @ (b'A' | b'B')) => {
                    if let Ok(Msg::Snapshot(s)) = decode(&line[1..]) {
                        let symbol: &[u8] = if c == b'A' { b"AAAUSDT" } else { b"BBBUSDT" };
                        books.on_snapshot(symbol, &s, t, |_| {});
                    }
                }
                _ => {
                    if let Ok(Msg::DepthUpdate(d)) = decode(line) {
                        books.on_diff(&d, t, |_| {});
                    }
                }
            }
        }
        for (_, book) in books.iter() {
            if !book.needs_snapshot() {
                assert_eq!(book.state(), SyncState::Synced);
            }
            assert!(book.buffered() <= BUFFERED);
            for side in [Side::Buy, Side::Sell] {
                assert!(book.outside_window(side).len() <= OVERFLOW);
            }
        }
    }
});
