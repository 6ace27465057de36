//! Real production Kalshi frames (../shared/data/kalshi, Feb 2026, with
//! both legacy cent fields and fixed-point fields): every line decodes,
//! and the fixed-point values agree with the legacy integers serde_json
//! reads from the same line. Each line is also decoded again with the
//! fixed-point fields removed (the legacy-only shape of older recordings)
//! and must give the same values.

use pt_engine::model::{Nanos, Price, Qty};
use pt_feed::kalshi::{Msg, YesNo, decode};
use serde_json::Value;

fn lines(name: &str) -> Option<Vec<String>> {
    let text = pt_tests::data::shared_text(&format!("kalshi/{name}"))?;
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn cents(v: &Value, key: &str) -> Price {
    let c = v["msg"][key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} in {v}"));
    Price::from_raw(c * 1_000_000)
}

fn count(v: &Value, key: &str) -> Qty {
    let c = v["msg"][key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} in {v}"));
    Qty::from_units(c).expect("count fits")
}

/// The line without its `*_dollars` / `*_fp` fields.
fn legacy_only(v: &Value) -> Vec<u8> {
    let mut v = v.clone();
    let msg = v["msg"].as_object_mut().expect("msg object");
    msg.retain(|k, _| !k.ends_with("_dollars") && !k.ends_with("_fp"));
    serde_json::to_vec(&v).expect("serialize")
}

#[test]
fn every_ticker_line_decodes_and_fixed_point_agrees_with_cents() {
    let Some(lines) = lines("ssmd_kalshi_ticker.jsonl") else {
        return;
    };
    assert!(!lines.is_empty());
    for line in &lines {
        let env =
            decode(line.as_bytes()).unwrap_or_else(|e| panic!("{}", e.display(line.as_bytes())));
        let v: Value = serde_json::from_str(line).expect("json");
        assert_eq!(env.sid, v["sid"].as_u64());
        assert_eq!(env.seq, None);
        let Msg::Ticker(t) = env.msg else {
            panic!("not a ticker: {line}")
        };
        assert_eq!(t.market_ticker, v["msg"]["market_ticker"].as_str().unwrap());
        assert_eq!(t.price, cents(&v, "price"), "{line}");
        assert_eq!(t.yes_bid, cents(&v, "yes_bid"), "{line}");
        assert_eq!(t.yes_ask, cents(&v, "yes_ask"), "{line}");
        assert_eq!(t.volume, Some(count(&v, "volume")), "{line}");
        assert_eq!(t.open_interest, Some(count(&v, "open_interest")), "{line}");
        assert_eq!(t.dollar_volume, v["msg"]["dollar_volume"].as_i64());
        let secs = v["msg"]["ts"].as_i64().unwrap();
        assert_eq!(t.ts, Nanos(secs * 1_000_000_000));
        for (got, key) in [
            (t.yes_bid_size, "yes_bid_size_fp"),
            (t.yes_ask_size, "yes_ask_size_fp"),
            (t.last_trade_size, "last_trade_size_fp"),
        ] {
            let text = v["msg"][key].as_str().unwrap();
            assert_eq!(got, Some(Qty::parse(text).unwrap()), "{key} in {line}");
        }

        let old = legacy_only(&v);
        let Msg::Ticker(l) = decode(&old)
            .unwrap_or_else(|e| panic!("{}", e.display(&old)))
            .msg
        else {
            panic!("legacy not a ticker")
        };
        assert_eq!(
            (l.price, l.yes_bid, l.yes_ask),
            (t.price, t.yes_bid, t.yes_ask)
        );
        assert_eq!(
            (l.volume, l.open_interest, l.ts),
            (t.volume, t.open_interest, t.ts)
        );
    }
    println!("{} ticker lines", lines.len());
}

#[test]
fn every_trade_line_decodes_and_fixed_point_agrees_with_cents() {
    let Some(lines) = lines("ssmd_kalshi_trade.jsonl") else {
        return;
    };
    assert!(!lines.is_empty());
    for line in &lines {
        let env =
            decode(line.as_bytes()).unwrap_or_else(|e| panic!("{}", e.display(line.as_bytes())));
        let v: Value = serde_json::from_str(line).expect("json");
        assert_eq!((env.sid, env.seq), (v["sid"].as_u64(), v["seq"].as_u64()));
        let Msg::Trade(t) = env.msg else {
            panic!("not a trade: {line}")
        };
        assert_eq!(t.trade_id, v["msg"]["trade_id"].as_str().unwrap());
        assert_eq!(t.yes_price, cents(&v, "yes_price"), "{line}");
        assert_eq!(t.no_price, cents(&v, "no_price"), "{line}");
        assert_eq!(
            t.yes_price.checked_add(t.no_price),
            Some(Price::ONE),
            "{line}"
        );
        assert_eq!(t.count, count(&v, "count"), "{line}");
        let side = match v["msg"]["taker_side"].as_str().unwrap() {
            "yes" => YesNo::Yes,
            _ => YesNo::No,
        };
        assert_eq!(t.taker_side, side);
        assert_eq!(
            t.ts,
            Nanos(v["msg"]["ts"].as_i64().unwrap() * 1_000_000_000)
        );

        let old = legacy_only(&v);
        let Msg::Trade(l) = decode(&old)
            .unwrap_or_else(|e| panic!("{}", e.display(&old)))
            .msg
        else {
            panic!("legacy not a trade")
        };
        assert_eq!(l, t, "{line}");
    }
    println!("{} trade lines", lines.len());
}
