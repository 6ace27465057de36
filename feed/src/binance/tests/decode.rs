use crate::binance::{Cause, DecodeError, DecodeStats, Msg, decode};
use crate::json::JsonError;
use pt_engine::model::{FixedError, Price, Qty};

const DEPTH: &str = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]]}}"#;
const TICKER: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;
const SNAPSHOT: &str = r#"{"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"],["61837.62000000","0.61700000"]],"asks":[["61837.64000000","1.54698000"]]}"#;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

#[test]
fn decodes_each_kind() {
    let Ok(Msg::DepthUpdate(d)) = decode(DEPTH.as_bytes()) else {
        panic!("depth")
    };
    assert_eq!(d.symbol, b"BTCUSDT");
    assert_eq!(
        (d.first_update_id, d.final_update_id, d.event_time),
        (50093239203, 50093239207, 1723161255308)
    );
    assert_eq!(
        d.bids.iter().collect::<Vec<_>>(),
        [(p("55653.87"), Qty::ZERO)]
    );
    assert_eq!(
        d.asks.iter().collect::<Vec<_>>(),
        [(p("61838.04"), q("0.32332")), (p("61844.3"), q("0.40163"))]
    );
    assert_eq!((d.bids.len(), d.asks.len()), (1, 2));

    let Ok(Msg::BookTicker(t)) = decode(TICKER.as_bytes()) else {
        panic!("ticker")
    };
    assert_eq!(
        (t.update_id, t.bid, t.bid_qty, t.ask, t.ask_qty),
        (
            50093239212,
            p("61837.63"),
            q("3.78826"),
            p("61837.64"),
            q("1.54698")
        )
    );

    let Ok(Msg::Trade(t)) = decode(TRADE.as_bytes()) else {
        panic!("trade")
    };
    assert_eq!(
        (
            t.id,
            t.price,
            t.qty,
            t.buyer_is_maker,
            t.trade_time,
            t.event_time
        ),
        (
            3735683259,
            p("61837.63"),
            q("0.02"),
            true,
            1723161255342,
            1723161255343
        )
    );

    let Ok(Msg::Snapshot(s)) = decode(SNAPSHOT.as_bytes()) else {
        panic!("snapshot")
    };
    assert_eq!(s.last_update_id, 50093239218);
    assert_eq!(s.bids.len(), 2);
    assert_eq!(s.asks.iter().next(), Some((p("61837.64"), q("1.54698"))));
}

#[test]
fn bare_payloads_any_key_order_and_whitespace() {
    // The payload without the envelope, keys reversed, spaces everywhere,
    // an unknown key and an envelope whose "data" comes first.
    let bare = r#" { "a" : [ [ "2.5" , "1" ] ] , "b":[], "u":9,"U":7,"x":{"y":[1]},"s":"X","E":1,"e":"depthUpdate" } "#;
    let Ok(Msg::DepthUpdate(d)) = decode(bare.as_bytes()) else {
        panic!("bare")
    };
    assert_eq!((d.first_update_id, d.final_update_id), (7, 9));
    assert!(d.bids.is_empty());
    assert_eq!(d.asks.iter().collect::<Vec<_>>(), [(p("2.5"), q("1"))]);
    let data_first =
        r#"{"data":{"u":1,"s":"X","b":"1","B":"2","a":"3","A":"4"},"stream":"x@bookTicker"}"#;
    assert!(matches!(
        decode(data_first.as_bytes()),
        Ok(Msg::BookTicker(t)) if t.ask == p("3")
    ));
    // Old trade payloads carry buyer/seller order ids in "b"/"a".
    let old_trade =
        r#"{"e":"trade","E":1,"s":"X","t":2,"p":"1","q":"1","b":88,"a":50,"T":1,"m":false}"#;
    assert!(matches!(decode(old_trade.as_bytes()), Ok(Msg::Trade(_))));
    // An event type added by the venue is kept, not refused.
    assert_eq!(
        decode(br#"{"e":"24hrTicker","E":1}"#),
        Ok(Msg::Other {
            event: b"24hrTicker"
        })
    );
}

/// Decodes `frame`, expecting an error; checks the field, the cause and
/// that the rendered error names field, value and expectation.
fn fails(frame: &str, field: &str, value: &str, cause: fn(&Cause) -> bool) -> DecodeError {
    let e = decode(frame.as_bytes()).expect_err(frame);
    assert_eq!(e.field, field, "{frame}: {e:?}");
    assert!(cause(&e.cause), "{frame}: {e:?}");
    let shown = e.display(frame.as_bytes()).to_string();
    assert!(shown.contains(&format!("\"{field}\"")), "{shown}");
    assert!(shown.contains(e.expected), "{shown}");
    assert!(
        String::from_utf8_lossy(e.span.of(frame.as_bytes())).contains(value),
        "{frame}: span {:?} shows {:?}, not {value:?}",
        e.span,
        String::from_utf8_lossy(e.span.of(frame.as_bytes()))
    );
    e
}

#[test]
fn errors_name_the_field_the_value_and_what_was_expected() {
    let d = |body: &str| format!(r#"{{"e":"depthUpdate","E":1,"s":"X",{body}}}"#);
    fails(&d(r#""U":"7","u":9,"b":[],"a":[]"#), "U", "\"7\"", |c| {
        matches!(c, Cause::Json(JsonError::Unexpected { .. }))
    });
    let e = fails(
        &d(r#""U":7,"u":9,"b":[["1","1"],["1.2.3","1"]],"a":[]"#),
        "b",
        "\"1.2.3\"",
        |c| matches!(c, Cause::Fixed(FixedError::InvalidByte { .. })),
    );
    assert_eq!(e.level, Some(1));
    assert!(e.expected.starts_with("price"));
    let e = fails(
        &d(r#""U":7,"u":9,"b":[],"a":[["1","-2"]]"#),
        "a",
        "\"-2\"",
        |c| *c == Cause::OutOfRange,
    );
    assert!(e.expected.starts_with("qty"));
    fails(
        &d(r#""U":7,"u":9,"b":[],"a":[["1","0.000000001"]]"#),
        "a",
        "0.000000001",
        |c| matches!(c, Cause::Fixed(FixedError::TooManyDecimals { .. })),
    );
    fails(
        &d(r#""U":7,"u":9,"b":[],"a":[["1","2","3"]]"#),
        "a",
        "[\"1\"",
        |c| *c == Cause::WrongType,
    );
    fails(&d(r#""U":7,"u":9,"b":[],"a":[["1"]]"#), "a", "]", |c| {
        *c == Cause::WrongType
    });
    fails(&d(r#""U":7,"b":[],"a":[]"#), "u", "depthUpdate", |c| {
        *c == Cause::Missing
    });
    fails(&d(r#""U":7,"U":7,"u":9,"b":[],"a":[]"#), "U", "7", |c| {
        *c == Cause::Duplicate
    });
    fails(&d(r#""U":7,"u":9,"b":"1.0","a":[]"#), "b", "\"1.0\"", |c| {
        *c == Cause::WrongType
    });
    fails(&d(r#""U":9,"u":7,"b":[],"a":[]"#), "u", "7", |c| {
        *c == Cause::OutOfRange
    });
    fails(
        r#"{"u":1,"s":"X","b":"1","B":"2","a":[],"A":"4"}"#,
        "a",
        "[]",
        |c| *c == Cause::WrongType,
    );
    fails(&format!("{SNAPSHOT} x"), "frame", "x", |c| {
        matches!(c, Cause::Json(_))
    });
    fails(r#"{"result":null,"id":1}"#, "frame", "result", |c| {
        *c == Cause::Unrecognised
    });
    fails(
        r#"{"lastUpdateId":1,"bids":[]}"#,
        "asks",
        "lastUpdateId",
        |c| *c == Cause::Missing,
    );
    fails(
        r#"{"e":"trade","E":1,"s":"X","t":2,"p":"1","q":"1","T":1,"m":"yes"}"#,
        "m",
        "\"",
        |c| matches!(c, Cause::Json(_)),
    );
    fails(r#"{"e":"depthUpdate","E":1"#, "frame", "", |c| {
        matches!(c, Cause::Json(JsonError::Eof { .. }))
    });
}

#[test]
fn counters_by_kind_and_cause() {
    let mut stats = DecodeStats::default();
    for frame in [
        DEPTH,
        TICKER,
        TRADE,
        SNAPSHOT,
        DEPTH,
        "{}",
        "[",
        r#"{"e":"x"}"#,
    ] {
        let _ = stats.decode(frame.as_bytes());
    }
    assert_eq!(
        (
            stats.depth_updates,
            stats.book_tickers,
            stats.trades,
            stats.snapshots,
            stats.others
        ),
        (2, 1, 1, 1, 1)
    );
    assert_eq!((stats.errors.unrecognised, stats.errors.json), (1, 1));
    assert_eq!(stats.errors.total(), 2);
}

/// Decoding never panics, and whatever decodes iterates exactly the
/// number of levels it reports.
fn check(bytes: &[u8]) {
    let Ok(msg) = decode(bytes) else { return };
    let (bids, asks) = match msg {
        Msg::DepthUpdate(d) => (d.bids, d.asks),
        Msg::Snapshot(s) => (s.bids, s.asks),
        _ => return,
    };
    assert_eq!(bids.iter().count(), bids.len());
    assert_eq!(asks.iter().count(), asks.len());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..128)) {
        check(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((0usize..512, proptest::num::u8::ANY, 0u8..3), 1..6),
    ) {
        let mut bytes = [DEPTH, TICKER, TRADE, SNAPSHOT][which].as_bytes().to_vec();
        for (at, byte, op) in edits {
            let at = at % (bytes.len() + 1);
            match op {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => {}
            }
        }
        check(&bytes);
    }
}
