//! Real Polymarket CLOB `book` events (../shared/data/polymarket): every
//! line decodes, the level counts equal serde_json's, and every price and
//! size equals the string serde_json reads, parsed.

use pt_engine::model::{Nanos, Price, Qty};
use pt_feed::polymarket::decode_book;
use serde_json::Value;

#[test]
fn every_book_line_decodes_and_matches_serde_json() {
    let Some(text) = pt_tests::data::shared_text("polymarket/ssmd_polymarket_book.jsonl") else {
        return;
    };
    let mut books = 0;
    let mut levels = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("json");
        if v["event_type"] != "book" {
            continue;
        }
        let b = decode_book(line.as_bytes())
            .unwrap_or_else(|e| panic!("{}", e.display(line.as_bytes())));
        assert_eq!(b.asset_id, v["asset_id"].as_str().unwrap());
        assert_eq!(b.market, v["market"].as_str().unwrap());
        assert_eq!(b.hash, v["hash"].as_str());
        let ms: i64 = v["timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(b.timestamp, Nanos(ms * 1_000_000));
        let opt_price = |k: &str| v[k].as_str().map(|s| Price::parse(s).unwrap());
        assert_eq!(b.tick_size, opt_price("tick_size"));
        assert_eq!(b.last_trade_price, opt_price("last_trade_price"));
        for (got, key) in [(b.bids, "bids"), (b.asks, "asks")] {
            let want: Vec<(Price, Qty)> = v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        Price::parse(l["price"].as_str().unwrap()).unwrap(),
                        Qty::parse(l["size"].as_str().unwrap()).unwrap(),
                    )
                })
                .collect();
            assert_eq!(got.len(), want.len(), "{key} count");
            assert_eq!(got.iter().collect::<Vec<_>>(), want, "{key}");
            levels += want.len();
        }
        books += 1;
    }
    assert!(books > 0);
    println!("{books} books, {levels} levels");
}
