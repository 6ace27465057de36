//! The `orderbook_delta` fast path against the general decoder: the frames
//! it must take, and on generated and mutated frames `decode` (fast path
//! first) always equals `decode_general`, errors included.

use super::fast;
use super::*;
use proptest::prelude::*;

const DOCUMENTED: &[u8] = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","price_dollars":"0.9600","delta_fp":"-54.00","side":"yes","ts":"2022-11-22T20:44:01Z","ts_ms":1669149841000}}"#;
const SORTED_OWN: &[u8] = br#"{"msg":{"client_order_id":"c-1","delta_fp":"-3.00","market_id":"0e7c","market_ticker":"SIM-T1","price_dollars":"0.5600","side":"no","subaccount":0,"ts":"2026-11-23T12:00:00.123Z","ts_ms":1795435200123},"seq":5,"sid":1,"type":"orderbook_delta"}"#;
const NO_TS_MS: &[u8] = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","price_dollars":"1","delta_fp":"7","side":"no","ts":"2022-11-22T20:44:01.5Z","client_order_id":null}}"#;
const INT_TS: &[u8] = br#"{"sid":2,"type":"orderbook_delta","id":9,"seq":3,"msg":{"side":"yes","delta_fp":"0.00000001","price_dollars":"0.01","market_ticker":"M","ts":1669149841}}"#;

fn same(frame: &[u8]) {
    assert_eq!(
        decode(frame),
        decode_general(frame),
        "{}",
        String::from_utf8_lossy(frame)
    );
}

#[test]
fn the_usual_shapes_take_the_fast_path_and_agree() {
    for frame in [DOCUMENTED, SORTED_OWN, NO_TS_MS, INT_TS] {
        let fast = fast::delta(frame).map(fast::FastDelta::into_envelope);
        assert!(fast.is_some(), "{}", String::from_utf8_lossy(frame));
        assert_eq!(fast.map(Ok), Some(decode_general(frame)));
    }
    let Some(Envelope {
        sid,
        seq,
        msg: Msg::OrderbookDelta(d),
        ..
    }) = fast::delta(DOCUMENTED).map(fast::FastDelta::into_envelope)
    else {
        panic!("not a delta");
    };
    assert_eq!((sid, seq), (Some(2), Some(3)));
    assert_eq!(d.price.raw(), 96_000_000);
    assert_eq!(d.delta.raw(), -5_400_000_000);
    assert_eq!(d.ts.0, 1_669_149_841_000_000_000);
    assert_eq!(d.market_id, Some("9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1"));
}

#[test]
fn what_it_leaves_to_the_general_decoder() {
    let cases: &[&[u8]] = &[
        // whitespace, legacy fields, escapes, non-ASCII, unknown keys
        br#"{ "type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price":50,"delta":1,"side":"yes"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M\u0041","price_dollars":"0.5","delta_fp":"1","side":"yes"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes","new_field":1}}"#,
        // values the general decoder refuses
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price_dollars":"1.01","delta_fp":"1","side":"yes"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"maybe"}}"#,
        br#"{"type":"orderbook_delta","sid":02,"seq":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes","ts":"yesterday"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes"}} x"#,
        br#"{"type":"orderbook_delta","sid":2,"sid":3,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes"}}"#,
        br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"price_dollars":"0.5","delta_fp":"1","side":"yes"}}"#,
        br#"{"type":"ticker","sid":2,"msg":{"market_ticker":"M","price_dollars":"0.5","delta_fp":"1","side":"yes"}}"#,
    ];
    for frame in cases {
        assert!(
            fast::delta(frame).is_none(),
            "{}",
            String::from_utf8_lossy(frame)
        );
        same(frame);
    }
}

/// A delta body member: key and value text, some of them odd.
fn member() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        Just("\"M\"".to_owned()),
        Just("\"FED-23DEC-T3.00\"".to_owned()),
        Just("\"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("\"caf\u{e9}\"".to_owned()),
        Just("\"a\\\"b\"".to_owned()),
        Just("\"a\\u0041\"".to_owned()),
        Just("\"tab\there\"".to_owned()),
        Just("null".to_owned()),
        Just("12".to_owned()),
    ];
    let decimal = prop_oneof![
        (0u64..2_000_000_000, 0usize..11, any::<bool>()).prop_map(|(v, scale, neg)| {
            let s = v.to_string();
            let (i, f) = s.split_at(s.len().saturating_sub(scale));
            let i = if i.is_empty() { "0" } else { i };
            let sign = if neg { "-" } else { "" };
            if f.is_empty() {
                format!("\"{sign}{i}\"")
            } else {
                format!("\"{sign}{i}.{f}\"")
            }
        }),
        Just("\"0.9600\"".to_owned()),
        Just("\"1.0000\"".to_owned()),
        Just("\"1.00000001\"".to_owned()),
        Just("\"00.5\"".to_owned()),
        Just("\".5\"".to_owned()),
        Just("\"5.\"".to_owned()),
        Just("\"-\"".to_owned()),
        Just("\"99999999999.0\"".to_owned()),
        Just("\"0.500000000\"".to_owned()),
        Just("\"1e2\"".to_owned()),
        Just("0.5".to_owned()),
        Just("3".to_owned()),
    ];
    let int = prop_oneof![
        (0u64..u64::MAX).prop_map(|v| v.to_string()),
        (0u64..10_000).prop_map(|v| v.to_string()),
        Just("1669149841000".to_owned()),
        Just("9999999999999".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("-5".to_owned()),
        Just("007".to_owned()),
        Just("0".to_owned()),
        Just("1.5".to_owned()),
        Just("\"12\"".to_owned()),
    ];
    let ts = prop_oneof![
        Just("\"2022-11-22T20:44:01Z\"".to_owned()),
        Just("\"2026-11-23T12:00:00.123Z\"".to_owned()),
        Just("\"2022-11-22 20:44:01\"".to_owned()),
        Just("\"nonsense\"".to_owned()),
        int.clone(),
    ];
    let side = prop_oneof![
        Just("\"yes\"".to_owned()),
        Just("\"no\"".to_owned()),
        Just("\"YES\"".to_owned()),
        Just("\"bid\"".to_owned()),
    ];
    prop_oneof![
        string
            .clone()
            .prop_map(|v| format!("\"market_ticker\":{v}")),
        string.clone().prop_map(|v| format!("\"market_id\":{v}")),
        decimal
            .clone()
            .prop_map(|v| format!("\"price_dollars\":{v}")),
        decimal.prop_map(|v| format!("\"delta_fp\":{v}")),
        side.prop_map(|v| format!("\"side\":{v}")),
        ts.prop_map(|v| format!("\"ts\":{v}")),
        int.clone().prop_map(|v| format!("\"ts_ms\":{v}")),
        string.prop_map(|v| format!("\"client_order_id\":{v}")),
        int.clone().prop_map(|v| format!("\"subaccount\":{v}")),
        int.clone().prop_map(|v| format!("\"price\":{v}")),
        int.prop_map(|v| format!("\"delta\":{v}")),
        Just("\"extra\":[1,{\"a\":2}]".to_owned()),
    ]
}

/// A whole delta frame: the usual members (mostly valid) in the documented
/// order, sorted or shuffled, sometimes extra ones; `msg` first or last.
fn frame() -> impl Strategy<Value = String> {
    let usual = (
        prop_oneof![Just("M"), Just("FED-23DEC-T3.00"), Just("KX\u{e9}")],
        0u64..=130,
        -500i64..500,
        any::<bool>(),
        prop::option::of(0u64..2_000_000_000_000),
    )
        .prop_map(|(t, c, d, yes, ms)| {
            let mut v = vec![
                format!("\"market_ticker\":\"{t}\""),
                "\"market_id\":\"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1\"".to_owned(),
                format!("\"price_dollars\":\"0.{c:02}00\""),
                format!("\"delta_fp\":\"{d}.00\""),
                format!("\"side\":\"{}\"", if yes { "yes" } else { "no" }),
                "\"ts\":\"2022-11-22T20:44:01Z\"".to_owned(),
            ];
            if let Some(ms) = ms {
                v.push(format!("\"ts_ms\":{ms}"));
            }
            if c >= 100 {
                // 1.0000 is the top of the range; above it is refused.
                v[2] = format!("\"price_dollars\":\"1.{:02}00\"", c - 100);
            }
            v
        });
    (
        usual,
        prop::collection::vec(member(), 0..3),
        any::<prop::sample::Index>(),
        0u64..1_000_000,
        any::<bool>(),
        0usize..4,
    )
        .prop_map(|(mut members, extra, seed, seq, msg_first, ws)| {
            members.extend(extra);
            // The documented order, sorted keys, or a shuffle from the seed.
            match seed.index(3) {
                0 => {}
                1 => members.sort(),
                _ => {
                    for i in (1..members.len()).rev() {
                        members.swap(i, seed.index(i + 1));
                    }
                }
            }
            let body = format!("{{{}}}", members.join(","));
            let space = [" ", "", "", ""][ws];
            let env = [
                "\"type\":\"orderbook_delta\"".to_owned(),
                format!("\"sid\":{}", seq % 7),
                format!("\"seq\":{seq}"),
            ];
            if msg_first {
                format!("{{\"msg\":{body},{space}{}}}", env.join(","))
            } else {
                format!("{{{}{space},\"msg\":{body}}}", env.join(","))
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn generated_deltas_decode_the_same_either_way(f in frame()) {
        same(f.as_bytes());
    }

    #[test]
    fn mutated_deltas_decode_the_same_either_way(
        pick in 0usize..4,
        edits in prop::collection::vec((0usize..400, any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut f = [DOCUMENTED, SORTED_OWN, NO_TS_MS, INT_TS][pick].to_vec();
        for (at, b, how) in edits {
            let at = at % (f.len() + 1);
            match how {
                0 if at < f.len() => f[at] = b,
                1 if at < f.len() => { f.remove(at); }
                _ => f.insert(at, b),
            }
        }
        same(&f);
    }
}

#[test]
fn the_generator_reaches_both_paths() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut fast_taken, mut refused) = (0, 0);
    for _ in 0..2000 {
        let f = frame().new_tree(&mut runner).expect("tree").current();
        fast_taken += usize::from(fast::delta(f.as_bytes()).is_some());
        refused += usize::from(decode_general(f.as_bytes()).is_err());
    }
    // Both the fast path and the general decoder's refusals are exercised.
    assert!(
        fast_taken > 200,
        "fast path taken {fast_taken} times of 2000"
    );
    assert!(refused > 200, "refused {refused} times of 2000");
}
