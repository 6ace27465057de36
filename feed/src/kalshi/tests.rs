//! Frames shaped as the AsyncAPI examples (current fixed-point and legacy
//! shapes), frames as `pt sim` renders them (keys sorted, so `type` comes
//! last), error reports, events, and never-panic properties.

use super::*;
use pt_engine::model::{EventKind, InstrumentId, MarketEvent, Nanos, Price, Qty, Side, VenueId};

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}
fn ok(frame: &[u8]) -> Envelope<'_> {
    decode(frame).unwrap_or_else(|e| panic!("{}", e.display(frame)))
}

const SNAPSHOT_FP: &[u8] = br#"{"type":"orderbook_snapshot","sid":2,"seq":2,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1","yes_dollars_fp":[["0.0800","300.00"],["0.2200","333.00"]],"no_dollars_fp":[["0.5400","20.00"],["0.5600","146.00"]]}}"#;
const SNAPSHOT_ALL: &[u8] = br#"{"type":"orderbook_snapshot","sid":2,"seq":2,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f","yes":[[8,300],[22,333]],"yes_dollars":[["0.080",300],["0.220",333]],"yes_dollars_fp":[["0.0800","300.00"],["0.2200","333.00"]],"no":[[54,20],[56,146]],"no_dollars":[["0.540",20],["0.560",146]],"no_dollars_fp":[["0.5400","20.00"],["0.5600","146.00"]]}}"#;
const SNAPSHOT_CENTS: &[u8] = br#"{"type":"orderbook_snapshot","sid":2,"seq":2,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f","yes":[[8,300],[22,333]],"no":[[54,20],[56,146]]}}"#;
const SNAPSHOT_DOLLARS: &[u8] = br#"{"type":"orderbook_snapshot","sid":2,"seq":2,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f","yes_dollars":[["0.080",300],["0.220",333]],"no_dollars":[["0.540",20],["0.560",146]]}}"#;
const DELTA_FP: &[u8] = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f","price_dollars":"0.9600","delta_fp":"-54.00","side":"yes","ts":"2022-11-22T20:44:01Z","ts_ms":1669149841000}}"#;
const DELTA_LEGACY: &[u8] = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f","price":96,"delta":-54,"side":"yes","ts":"2022-11-22T20:44:01Z"}}"#;
const TICKER_FP: &[u8] = br#"{"type":"ticker","sid":11,"msg":{"market_id":"9b0f","market_ticker":"FED-23DEC-T3.00","price_dollars":"0.4800","yes_bid_dollars":"0.4500","yes_ask_dollars":"0.5300","volume_fp":"33896.00","open_interest_fp":"20422.00","dollar_volume":16948,"dollar_open_interest":10211,"yes_bid_size_fp":"300.00","yes_ask_size_fp":"150.00","last_trade_size_fp":"25.00","ts":1669149841,"ts_ms":1669149841000,"time":"2022-11-22T20:44:01Z"}}"#;
const TICKER_LEGACY: &[u8] = br#"{"type":"ticker","sid":11,"msg":{"market_ticker":"FED-23DEC-T3.00","market_id":"9b0f","price":48,"yes_bid":45,"yes_ask":53,"volume":33896,"open_interest":20422,"dollar_volume":16948,"dollar_open_interest":10211,"ts":1669149841,"time":"2022-11-22T20:44:01Z","Clock":13281241747}}"#;
const TRADE_FP: &[u8] = br#"{"type":"trade","sid":11,"seq":2,"msg":{"trade_id":"d91b","market_ticker":"HIGHNY-22DEC23-B53.5","yes_price_dollars":"0.3600","no_price_dollars":"0.6400","count_fp":"136.00","taker_side":"no","taker_outcome_side":"no","taker_book_side":"ask","is_block_trade":false,"ts":1669149841,"ts_ms":1669149841000}}"#;
const TRADE_LEGACY: &[u8] = br#"{"type":"trade","sid":11,"msg":{"trade_id":"d91b","market_ticker":"HIGHNY-22DEC23-B53.5","yes_price":36,"no_price":64,"count":136,"taker_side":"no","ts":1669149841}}"#;

// As `pt sim` renders them (serde_json maps sort keys: `type` is last).
const SIM_SNAPSHOT_YES_PRICES: &[u8] = br#"{"msg":{"market_id":"0e7c","market_ticker":"SIM-T1","no_dollars_fp":[["0.5600","10.00"],["0.6000","5.00"]],"yes_dollars_fp":[["0.4000","7.00"],["0.4500","3.00"]]},"seq":1,"sid":1,"type":"orderbook_snapshot"}"#;
const SIM_SNAPSHOT_NO_PRICES: &[u8] = br#"{"msg":{"market_id":"0e7c","market_ticker":"SIM-T1","no_dollars_fp":[["0.4000","5.00"],["0.4400","10.00"]],"yes_dollars_fp":[["0.4000","7.00"],["0.4500","3.00"]]},"seq":1,"sid":1,"type":"orderbook_snapshot"}"#;
const SIM_DELTA_OWN: &[u8] = br#"{"msg":{"client_order_id":"c-1","delta_fp":"-3.00","market_id":"0e7c","market_ticker":"SIM-T1","price_dollars":"0.5600","side":"no","subaccount":0,"ts":"2026-11-23T12:00:00.123Z","ts_ms":1795435200123},"seq":5,"sid":1,"type":"orderbook_delta"}"#;
const SIM_DELTA_LEGACY: &[u8] = br#"{"msg":{"delta":2,"delta_fp":"2.50","market_id":"0e7c","market_ticker":"SIM-T1","price":44,"price_dollars":"0.4400","side":"no","ts":"2026-11-23T12:00:00.123Z","ts_ms":1795435200123},"seq":6,"sid":1,"type":"orderbook_delta"}"#;
const SIM_TRADE: &[u8] = br#"{"msg":{"count_fp":"3.00","is_block_trade":false,"market_ticker":"SIM-T1","no_price_dollars":"0.4400","taker_book_side":"bid","taker_outcome_side":"yes","taker_side":"yes","trade_id":"t-00000001","ts":1795435200,"ts_ms":1795435200123,"yes_price_dollars":"0.5600"},"seq":7,"sid":3,"type":"trade"}"#;
const SIM_TICKER: &[u8] = br#"{"msg":{"dollar_open_interest":0,"dollar_volume":1,"market_id":"0e7c","market_ticker":"SIM-T1","open_interest_fp":"3.00","price_dollars":"0.5600","time":"2026-11-23T12:00:00.123Z","ts":1795435200,"ts_ms":1795435200123,"volume_fp":"3.00","yes_ask_dollars":"0.5600","yes_ask_size_fp":"7.00","yes_bid_dollars":"0.4500","yes_bid_size_fp":"3.00"},"sid":2,"type":"ticker"}"#;
const SIM_FILL: &[u8] = br#"{"msg":{"action":"buy","book_side":"bid","client_order_id":"c-1","count_fp":"3.00","exchange_index":0,"fee_cost":"0.010000","is_taker":true,"market_ticker":"SIM-T1","order_id":"o-1","outcome_side":"yes","post_position_fp":"3.00","purchased_side":"yes","side":"yes","subaccount":0,"trade_id":"t-1","ts":1795435200,"ts_ms":1795435200123,"yes_price_dollars":"0.5600"},"sid":4,"type":"fill"}"#;
const SIM_USER_ORDER: &[u8] = br#"{"msg":{"book_side":"ask","client_order_id":"","created_time":"2026-11-23T12:00:00.123Z","created_ts_ms":1795435200123,"fill_count_fp":"0.00","initial_count_fp":"10.00","is_yes":true,"last_update_time":"2026-11-23T12:00:00.123Z","maker_fees_dollars":"0.0000","maker_fill_cost_dollars":"0.0000","order_id":"o-2","outcome_side":"no","remaining_count_fp":"10.00","self_trade_prevention_type":"taker_at_cross","side":"yes","status":"resting","subaccount_number":0,"taker_fees_dollars":"0.0000","taker_fill_cost_dollars":"0.0000","ticker":"SIM-T1","user_id":"00000000-0000-4000-8000-000000000001","yes_price_dollars":"0.6000"},"sid":5,"type":"user_order"}"#;
const SIM_LIST: &[u8] = br#"{"id":3,"msg":[{"channel":"orderbook_delta","sid":1},{"channel":"ticker","sid":2}],"type":"ok"}"#;
const SIM_OK: &[u8] =
    br#"{"id":127,"msg":{"market_tickers":["SIM-T1","SIM-T2"]},"seq":9,"sid":1,"type":"ok"}"#;
const SIM_ERROR: &[u8] =
    br#"{"msg":{"code":25,"msg":"Subscription buffer overflow"},"type":"error"}"#;
const SIM_SUBSCRIBED: &[u8] =
    br#"{"id":1,"msg":{"channel":"orderbook_delta","sid":1},"type":"subscribed"}"#;
const SIM_UNSUBSCRIBED: &[u8] = br#"{"id":124,"seq":7,"sid":2,"type":"unsubscribed"}"#;

fn levels(l: &Levels<'_>) -> Vec<(Price, Qty)> {
    let v: Vec<_> = l.iter().collect();
    assert_eq!(v.len(), l.len());
    v
}

#[test]
fn snapshot_in_every_shape() {
    let yes = vec![(p("0.08"), q("300")), (p("0.22"), q("333"))];
    let no = vec![(p("0.54"), q("20")), (p("0.56"), q("146"))];
    for f in [SNAPSHOT_FP, SNAPSHOT_ALL, SNAPSHOT_CENTS, SNAPSHOT_DOLLARS] {
        let e = ok(f);
        assert_eq!((e.sid, e.seq, e.id), (Some(2), Some(2), None));
        let Msg::OrderbookSnapshot(s) = e.msg else {
            panic!("{e:?}")
        };
        assert_eq!(s.market_ticker, "FED-23DEC-T3.00");
        assert_eq!(levels(&s.yes), yes);
        assert_eq!(levels(&s.no), no);
    }
    // The fixed-point arrays win: their span is what is kept.
    let Msg::OrderbookSnapshot(s) = ok(SNAPSHOT_ALL).msg else {
        panic!()
    };
    let text = &SNAPSHOT_ALL[s.yes.span().start..s.yes.span().end];
    assert!(text.starts_with(br#"[["0.0800","300.00"]"#));
    // An empty book has neither side.
    let f = br#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"X","market_id":"m"}}"#;
    let Msg::OrderbookSnapshot(s) = ok(f).msg else {
        panic!()
    };
    assert!(s.yes.is_empty() && s.no.is_empty());
    assert_eq!(s.yes.iter().count(), 0);
}

#[test]
fn delta_current_legacy_and_sim() {
    for f in [DELTA_FP, DELTA_LEGACY] {
        let e = ok(f);
        let Msg::OrderbookDelta(d) = e.msg else {
            panic!()
        };
        assert_eq!(
            (d.price, d.delta, d.side),
            (p("0.96"), q("-54"), YesNo::Yes)
        );
        // ts_ms, or the RFC 3339 ts when ts_ms is absent: the same instant.
        assert_eq!(d.ts, Nanos(1_669_149_841_000_000_000));
        assert_eq!(d.client_order_id, None);
    }
    let Msg::OrderbookDelta(d) = ok(SIM_DELTA_OWN).msg else {
        panic!()
    };
    assert_eq!((d.client_order_id, d.subaccount), (Some("c-1"), Some(0)));
    assert_eq!((d.side, d.delta), (YesNo::No, q("-3")));
    assert_eq!(d.ts, Nanos(1_795_435_200_123_000_000));
    // Fixed point wins over legacy wherever it appears.
    let Msg::OrderbookDelta(d) = ok(SIM_DELTA_LEGACY).msg else {
        panic!()
    };
    assert_eq!((d.price, d.delta), (p("0.44"), q("2.5")));
}

#[test]
fn ticker_current_legacy_and_sim() {
    let e = ok(TICKER_FP);
    assert_eq!((e.sid, e.seq), (Some(11), None));
    let Msg::Ticker(t) = e.msg else { panic!() };
    assert_eq!(
        (t.price, t.yes_bid, t.yes_ask),
        (p("0.48"), p("0.45"), p("0.53"))
    );
    assert_eq!(
        (t.yes_bid_size, t.yes_ask_size),
        (Some(q("300")), Some(q("150")))
    );
    assert_eq!(
        (t.volume, t.open_interest),
        (Some(q("33896")), Some(q("20422")))
    );
    assert_eq!(t.ts, Nanos(1_669_149_841_000_000_000));
    let Msg::Ticker(l) = ok(TICKER_LEGACY).msg else {
        panic!()
    };
    assert_eq!(
        (l.price, l.yes_bid, l.yes_ask),
        (t.price, t.yes_bid, t.yes_ask)
    );
    assert_eq!(
        (l.volume, l.open_interest, l.ts),
        (t.volume, t.open_interest, t.ts)
    );
    assert_eq!(l.yes_bid_size, None);
    let Msg::Ticker(s) = ok(SIM_TICKER).msg else {
        panic!()
    };
    assert_eq!(
        (s.yes_bid, s.yes_ask, s.ts),
        (p("0.45"), p("0.56"), Nanos(1_795_435_200_123_000_000))
    );
}

#[test]
fn trade_current_legacy_and_sim() {
    for f in [TRADE_FP, TRADE_LEGACY] {
        let Msg::Trade(t) = ok(f).msg else { panic!() };
        assert_eq!(
            (t.trade_id, t.market_ticker),
            ("d91b", "HIGHNY-22DEC23-B53.5")
        );
        assert_eq!(
            (t.yes_price, t.no_price, t.count),
            (p("0.36"), p("0.64"), q("136"))
        );
        assert_eq!(
            (t.taker_side, t.ts),
            (YesNo::No, Nanos(1_669_149_841_000_000_000))
        );
    }
    let e = ok(SIM_TRADE);
    assert_eq!((e.sid, e.seq), (Some(3), Some(7)));
    let Msg::Trade(t) = e.msg else { panic!() };
    assert_eq!(
        (t.yes_price, t.no_price, t.taker_side),
        (p("0.56"), p("0.44"), YesNo::Yes)
    );
    // Only the NO price: the YES price is its complement.
    let f = br#"{"type":"trade","sid":1,"msg":{"trade_id":"t","market_ticker":"M","no_price_dollars":"0.2500","count_fp":"1.00","taker_side":"yes"}}"#;
    let Msg::Trade(t) = ok(f).msg else { panic!() };
    assert_eq!((t.yes_price, t.ts), (p("0.75"), Nanos::UNSET));
}

#[test]
fn control_messages() {
    let e = ok(SIM_SUBSCRIBED);
    assert_eq!((e.id, e.sid), (Some(1), Some(1)));
    assert_eq!(
        e.msg,
        Msg::Subscribed(Subscribed {
            channel: "orderbook_delta",
            sid: 1
        })
    );
    let e = ok(SIM_UNSUBSCRIBED);
    assert_eq!(
        (e.id, e.sid, e.seq, e.msg),
        (Some(124), Some(2), Some(7), Msg::Unsubscribed)
    );
    let e = ok(SIM_OK);
    assert_eq!((e.id, e.sid, e.seq), (Some(127), Some(1), Some(9)));
    let Msg::Ok(o) = e.msg else { panic!() };
    let tickers: Vec<_> = o.market_tickers.unwrap().iter().collect();
    assert_eq!(tickers, ["SIM-T1", "SIM-T2"]);
    assert_eq!(o.market_ids, None);
    for f in [SIM_LIST, &br#"{"id":3,"type":"list_subscriptions","msg":[{"sid":1,"channel":"orderbook_delta"},{"channel":"ticker","sid":2}]}"#[..]] {
        let e = ok(f);
        let Msg::ListSubscriptions(l) = e.msg else { panic!() };
        assert_eq!(e.msg.msg_type(), MsgType::ListSubscriptions);
        let subs: Vec<_> = l.iter().map(|s| (s.channel, s.sid)).collect();
        assert_eq!(subs, [("orderbook_delta", 1), ("ticker", 2)]);
    }
    let Msg::Error(err) = ok(SIM_ERROR).msg else {
        panic!()
    };
    assert_eq!(
        (err.code, err.msg),
        (ErrorCode::BUFFER_OVERFLOW, "Subscription buffer overflow")
    );
    assert!(err.code.is_terminal());
    let f = br#"{"id":127,"type":"error","msg":{"code":16,"msg":"Market not found","market_ticker":"INVALID-MARKET"}}"#;
    let e = ok(f);
    let Msg::Error(err) = e.msg else { panic!() };
    assert_eq!(
        (e.id, err.code.0, err.market_ticker),
        (Some(127), 16, Some("INVALID-MARKET"))
    );
    assert!(!err.code.is_terminal());
}

#[test]
fn account_messages() {
    let Msg::Fill(f) = ok(SIM_FILL).msg else {
        panic!()
    };
    assert_eq!(
        (f.trade_id, f.order_id, f.client_order_id),
        ("t-1", "o-1", Some("c-1"))
    );
    assert_eq!(
        (f.yes_price, f.count, f.fee),
        (p("0.56"), q("3"), Some(p("0.01")))
    );
    assert_eq!(
        (f.outcome_side, f.book_side, f.action),
        (Some(YesNo::Yes), Some(BookSide::Bid), Some(Action::Buy))
    );
    assert_eq!((f.is_taker, f.post_position), (Some(true), Some(q("3"))));
    let legacy = br#"{"type":"fill","sid":13,"msg":{"trade_id":"d91b","order_id":"ee58","market_ticker":"HIGHNY-22DEC23-B53.5","is_taker":true,"side":"yes","yes_price":75,"count":278,"action":"buy","ts":1671899397,"post_position":500,"purchased_side":"yes","subaccount":3}}"#;
    let Msg::Fill(f) = ok(legacy).msg else {
        panic!()
    };
    assert_eq!(
        (f.yes_price, f.count, f.post_position),
        (p("0.75"), q("278"), Some(q("500")))
    );
    assert_eq!(
        (f.outcome_side, f.ts),
        (Some(YesNo::Yes), Nanos(1_671_899_397_000_000_000))
    );

    let Msg::UserOrder(o) = ok(SIM_USER_ORDER).msg else {
        panic!()
    };
    assert_eq!(
        (o.order_id, o.client_order_id, o.ticker, o.status),
        ("o-2", None, "SIM-T1", "resting")
    );
    assert_eq!(
        (o.outcome_side, o.book_side, o.yes_price),
        (Some(YesNo::No), Some(BookSide::Ask), p("0.6"))
    );
    assert_eq!(
        (o.fill_count, o.remaining_count, o.initial_count),
        (q("0"), q("10"), Some(q("10")))
    );
    assert_eq!(o.created_ts, Some(Nanos(1_795_435_200_123_000_000)));

    let f = br#"{"type":"market_position","sid":14,"msg":{"user_id":"user123","market_ticker":"FED-23DEC-T3.00","position":100,"position_fp":"100.00","position_cost":500000,"realized_pnl":100000,"fees_paid":10000,"position_fee_cost":5000,"volume":15,"volume_fp":"15.00"}}"#;
    let Msg::MarketPosition(m) = ok(f).msg else {
        panic!()
    };
    assert_eq!((m.position, m.volume), (q("100"), Some(q("15"))));
    assert_eq!(
        (m.position_cost, m.realized_pnl, m.fees_paid),
        (Some(p("50")), Some(p("10")), Some(p("1")))
    );

    let f = br#"{"type":"order_group_updates","sid":21,"seq":7,"msg":{"event_type":"limit_updated","order_group_id":"og_123","contracts_limit_fp":"150.00"}}"#;
    let e = ok(f);
    assert_eq!(e.seq, Some(7));
    assert_eq!(
        e.msg,
        Msg::OrderGroupUpdate(OrderGroupUpdate {
            event_type: "limit_updated",
            order_group_id: "og_123",
            contracts_limit: Some(q("150"))
        })
    );
}

#[test]
fn lifecycle_and_lookup_messages() {
    let f = br#"{"type":"market_lifecycle_v2","sid":13,"msg":{"market_ticker":"INXD-23SEP14-B4487","event_type":"created","open_ts":1694635200,"close_ts":1694721600,"additional_metadata":{"name":"S&P","can_close_early":true,"floor_strike":4487,"custom_strike":{"a":[1,2]}}}}"#;
    let Msg::MarketLifecycle(m) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (m.market_ticker, m.event_type),
        ("INXD-23SEP14-B4487", "created")
    );
    assert_eq!(
        (m.open_ts, m.close_ts),
        (
            Some(Nanos(1_694_635_200_000_000_000)),
            Some(Nanos(1_694_721_600_000_000_000))
        )
    );
    assert_eq!((m.result, m.settled_ts), (None, None));
    let f = br#"{"type":"market_lifecycle_v2","sid":13,"msg":{"market_ticker":"M","event_type":"determined","result":"yes","determination_ts":1694721700,"settlement_value":"1.00"}}"#;
    let Msg::MarketLifecycle(m) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (m.result, m.determination_ts),
        (Some("yes"), Some(Nanos(1_694_721_700_000_000_000)))
    );

    let f = br#"{"type":"event_lifecycle","sid":5,"msg":{"event_ticker":"KXQUICKSETTLE-26JAN25H2150","title":"What will 1+1 equal?","subtitle":"Jan 25","collateral_return_type":"MECNET","series_ticker":"KXQUICKSETTLE"}}"#;
    let Msg::EventLifecycle(ev) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (ev.event_ticker, ev.series_ticker, ev.collateral_return_type),
        (
            "KXQUICKSETTLE-26JAN25H2150",
            Some("KXQUICKSETTLE"),
            Some("MECNET")
        )
    );

    let f = br#"{"type":"multivariate_lookup","sid":13,"msg":{"collection_ticker":"KXOSCARWINNERS-25","event_ticker":"KXOSCARWINNERS-25C0CE5","market_ticker":"KXOSCARWINNERS-25C0CE5-36353","selected_markets":[{"event_ticker":"KXOSCARACTO-25","market_ticker":"KXOSCARACTO-25-AB","side":"yes"}]}}"#;
    let Msg::MultivariateLookup(m) = ok(f).msg else {
        panic!()
    };
    assert_eq!(m.collection_ticker, "KXOSCARWINNERS-25");
    assert!(m.selected_markets.starts_with(b"[{") && m.selected_markets.ends_with(b"}]"));
}

#[test]
fn rfq_and_quote_messages() {
    let f = br#"{"type":"rfq_created","sid":15,"msg":{"id":"rfq_123","creator_id":"","market_ticker":"FED-23DEC-T3.00","event_ticker":"FED-23DEC","contracts":100,"contracts_fp":"100.00","target_cost":3500,"target_cost_dollars":"0.35","created_ts":"2024-12-01T10:00:00Z"}}"#;
    let Msg::RfqCreated(r) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (r.id, r.creator_id, r.contracts, r.target_cost),
        ("rfq_123", "", Some(q("100")), Some(p("0.35")))
    );
    let f = br#"{"type":"rfq_deleted","sid":15,"msg":{"id":"rfq_123","creator_id":"comm_abc123","market_ticker":"FED-23DEC-T3.00","contracts":100,"deleted_ts":"2024-12-01T10:05:00Z"}}"#;
    let Msg::RfqDeleted(r) = ok(f).msg else {
        panic!()
    };
    assert_eq!((r.creator_id, r.contracts), ("comm_abc123", Some(q("100"))));
    let f = br#"{"type":"quote_created","sid":15,"msg":{"quote_id":"quote_456","rfq_id":"rfq_123","quote_creator_id":"comm_def456","market_ticker":"FED-23DEC-T3.00","event_ticker":"FED-23DEC","yes_bid":35,"no_bid":65,"yes_bid_dollars":"0.35","no_bid_dollars":"0.65","yes_contracts_offered":100,"no_contracts_offered":200,"yes_contracts_offered_fp":"100.00","no_contracts_offered_fp":"200.00","rfq_target_cost":3500,"rfq_target_cost_dollars":"0.35","created_ts":"2024-12-01T10:02:00Z"}}"#;
    let Msg::QuoteCreated(c) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (c.yes_bid, c.no_bid, c.no_contracts_offered),
        (p("0.35"), p("0.65"), Some(q("200")))
    );
    let f = br#"{"type":"quote_accepted","sid":15,"msg":{"quote_id":"quote_456","rfq_id":"rfq_123","quote_creator_id":"comm_def456","market_ticker":"FED-23DEC-T3.00","yes_bid":35,"no_bid":65,"accepted_side":"yes","contracts_accepted":50}}"#;
    let Msg::QuoteAccepted(a) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (a.yes_bid, a.accepted_side, a.contracts_accepted),
        (p("0.35"), Some(YesNo::Yes), Some(q("50")))
    );
    let f = br#"{"type":"quote_executed","sid":15,"msg":{"quote_id":"quote_456","rfq_id":"rfq_123","quote_creator_id":"a1","rfq_creator_id":"f6","order_id":"order_789","client_order_id":"my_client_order_123","market_ticker":"FED-23DEC-T3.00","executed_ts":"2024-12-01T10:05:00Z"}}"#;
    let Msg::QuoteExecuted(x) = ok(f).msg else {
        panic!()
    };
    assert_eq!(
        (x.order_id, x.client_order_id),
        ("order_789", Some("my_client_order_123"))
    );
}

/// Decodes `frame`, expecting an error on `field` whose value is `value`.
fn fails(frame: &[u8], message: &str, field: &str, value: &[u8]) -> DecodeError {
    let e = decode(frame).expect_err("should fail");
    let shown = e.display(frame).to_string();
    assert_eq!((e.message, e.field), (message, field), "{shown}");
    assert_eq!(&frame[e.span.start..e.span.end], value, "{shown}");
    assert!(shown.contains(field), "{shown}");
    e
}

#[test]
fn errors_name_message_field_value_and_expectation() {
    let f = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"T","price_dollars":"0.9x","delta_fp":"1.00","side":"yes"}}"#;
    let e = fails(f, "orderbook_delta", "price_dollars", br#""0.9x""#);
    assert!(matches!(e.kind, ErrorKind::Fixed(_)));
    assert!(
        e.display(f).to_string().contains("`\\\"0.9x\\\"`"),
        "{}",
        e.display(f)
    );
    let f = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"T","price_dollars":"1.2000","delta_fp":"1.00","side":"yes"}}"#;
    let e = fails(f, "orderbook_delta", "price_dollars", br#""1.2000""#);
    assert!(matches!(e.kind, ErrorKind::Invalid { .. }));
    let f = br#"{"type":"orderbook_delta","sid":2,"seq":3,"msg":{"market_ticker":"T","price_dollars":"0.5","delta_fp":"1.00","side":"maybe"}}"#;
    let e = fails(f, "orderbook_delta", "side", br#""maybe""#);
    assert!(e.display(f).to_string().contains("\"yes\" or \"no\""));
    let f = br#"{"type":"orderbook_delta","sid":2,"msg":{"market_ticker":"T","price_dollars":"0.5","side":"no"}}"#;
    let e = decode(f).unwrap_err();
    assert_eq!((e.field, e.kind), ("delta_fp", ErrorKind::Missing));
    let f = br#"{"type":"orderbook_delta","sid":2,"msg":{"market_ticker":"T","price_dollars":"0.5","delta_fp":"1","side":"no","ts":"yesterday"}}"#;
    fails(f, "orderbook_delta", "ts", br#""yesterday""#);
    let f = br#"{"type":"orderbook_snapshot","sid":2,"seq":1,"msg":{"market_ticker":"T","yes_dollars_fp":[["0.5","1"],["0.6"]]}}"#;
    fails(f, "orderbook_snapshot", "yes_dollars_fp", br#"["0.6"]"#);
    let f = br#"{"type":"orderbook_snapshot","sid":2,"seq":1,"msg":{"market_ticker":"T","no":[[101,1]]}}"#;
    fails(f, "orderbook_snapshot", "no", b"101");
    let f = br#"{"type":"trade","sid":2,"msg":{"trade_id":"t","market_ticker":"M","yes_price_dollars":"0.5","count_fp":"-1.00","taker_side":"yes"}}"#;
    fails(f, "trade", "count_fp", br#""-1.00""#);
    let f = br#"{"type":"ticker","sid":2,"msg":{"market_ticker":"M","price_dollars":"0.5","yes_bid_dollars":"0.4","yes_ask":"x"}}"#;
    fails(f, "ticker", "yes_ask", br#""x""#);
    let f = br#"{"type":"teleport","msg":{}}"#;
    let e = fails(f, "envelope", "type", br#""teleport""#);
    assert_eq!(e.kind, ErrorKind::UnknownType);
    let f = br#"{"sid":1,"msg":{}}"#;
    assert_eq!(decode(f).unwrap_err().kind, ErrorKind::Missing);
    let f = br#"{"type":"trade","sid":1}"#;
    let e = decode(f).unwrap_err();
    assert_eq!(
        (e.message, e.field, e.kind),
        ("trade", "msg", ErrorKind::Missing)
    );
    let f = br#"{"type":"subscribed","msg":{"channel":"ticker","sid":-1}}"#;
    fails(f, "subscribed", "sid", b"-");
    let f = br#"{"type":"error","msg":{"msg":"x"}}"#;
    assert_eq!(decode(f).unwrap_err().field, "code");
    // Trailing garbage, bad JSON, non-UTF-8 strings.
    let f = br#"{"type":"unsubscribed","sid":1} {"#;
    assert!(matches!(decode(f).unwrap_err().kind, ErrorKind::Json(_)));
    let f = b"{\"type\":\"subscribed\",\"msg\":{\"channel\":\"\xff\",\"sid\":1}}";
    fails(f, "subscribed", "channel", b"\"\xff\"");
    // The deferred body (msg before type) reports frame offsets too.
    let f = br#"{"msg":{"market_ticker":"T","price_dollars":"0.5","delta_fp":"1.0.0","side":"yes"},"type":"orderbook_delta"}"#;
    fails(f, "orderbook_delta", "delta_fp", br#""1.0.0""#);
}

#[test]
fn a_body_before_its_type_is_still_fully_validated() {
    // Brackets and escaped quotes inside strings do not end the body.
    let f = br#"{"msg":{"market_ticker":"T}]\"{","price_dollars":"0.5","delta_fp":"1","side":"yes","x":{"y":["]"]}},"type":"orderbook_delta"}"#;
    let Msg::OrderbookDelta(d) = ok(f).msg else {
        panic!()
    };
    assert_eq!(d.market_ticker, "T}]\\\"{");
    for bad in [
        &br#"{"msg":{"market_ticker":"T" "x":1},"type":"orderbook_delta"}"#[..],
        br#"{"msg":{"a":[}],"type":"ok"}"#,
        br#"{"msg":{"a":1}},"type":"ok"}"#,
        br#"{"msg":{"a":"\q"},"type":"ok"}"#,
        br#"{"msg":{"a":1,"type":"ok"}"#,
        b"{\"msg\":{\"a\":\"\x01\"},\"type\":\"ok\"}",
    ] {
        let e = decode(bad).expect_err(&String::from_utf8_lossy(bad));
        assert!(e.span.end <= bad.len());
    }
}

#[test]
fn decoder_counts_types_and_errors() {
    let mut d = Decoder::new();
    for f in [
        DELTA_FP,
        DELTA_FP,
        SNAPSHOT_FP,
        SIM_LIST,
        SIM_OK,
        TRADE_LEGACY,
    ] {
        d.decode(f).unwrap();
    }
    d.decode(b"{").unwrap_err();
    d.decode(br#"{"type":"nope"}"#).unwrap_err();
    let c = d.counters;
    assert_eq!(c.decoded(MsgType::OrderbookDelta), 2);
    assert_eq!(c.decoded(MsgType::ListSubscriptions), 1);
    assert_eq!(c.decoded(MsgType::Ok), 1);
    assert_eq!(c.total(), 6);
    assert_eq!(
        (c.errors.json, c.errors.unknown_type, c.errors.total()),
        (1, 1, 2)
    );
    for t in MsgType::ALL {
        assert_eq!(MsgType::from_bytes(t.name().as_bytes()), Some(t));
    }
}

#[test]
fn decoder_counts_unknown_types_by_name_as_sent() {
    let mut d = Decoder::new();
    let brand_new = br#"{"type":"brand_new","sid":1,"seq":5,"msg":{}}"#;
    let e = d.decode(brand_new).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnknownType);
    assert_eq!(e.refused_kind(brand_new), Some(&b"brand_new"[..]));
    d.decode(brand_new).unwrap_err();
    // After its body; a JSON escape stays as sent, its backslash escaped.
    d.decode(br#"{"msg":{"x":1},"sid":1,"type":"later"}"#)
        .unwrap_err();
    d.decode(br#"{"type":"tr\u0061de","msg":{}}"#).unwrap_err();
    // Known types and other errors are not unknown kinds.
    d.decode(DELTA_FP).unwrap();
    d.decode(b"{").unwrap_err();
    d.decode(br#"{"type":"trade","sid":1}"#).unwrap_err();
    let c = &d.counters;
    assert_eq!(
        c.unknown_types.iter().collect::<Vec<_>>(),
        [("brand_new", 2), ("later", 1), (r"tr\\u0061de", 1)]
    );
    assert_eq!(
        c.unknown_types.to_string(),
        r"brand_new=2 later=1 tr\\u0061de=1"
    );
    assert_eq!((c.errors.unknown_type, c.errors.total()), (4, 6));
    let f = br#"{"type":"trade","sid":1}"#;
    assert_eq!(decode(f).unwrap_err().refused_kind(f), None);
}

fn events(frame: &[u8], use_yes_price: bool) -> Vec<MarketEvent> {
    let src = EventSource {
        venue: VenueId(3),
        instrument: InstrumentId(9),
        use_yes_price,
    };
    let mut out = Vec::new();
    let n = to_events(&ok(frame), &src, Nanos(42), |e| out.push(e));
    assert_eq!(n, out.len());
    for e in &out {
        assert_eq!(
            (e.header.venue, e.header.instrument, e.header.recv_ts),
            (VenueId(3), InstrumentId(9), Nanos(42))
        );
    }
    out
}

fn book(ev: &[MarketEvent]) -> Vec<(EventKind, Side, Price, Qty)> {
    ev.iter()
        .map(|e| (e.header.kind, e.side, e.price, e.qty))
        .collect()
}

#[test]
fn snapshot_events_put_no_bids_on_the_yes_ladder() {
    use EventKind::{SnapshotBegin as B, SnapshotEnd as E, SnapshotLevel as L};
    let z = (Price::ZERO, Qty::ZERO);
    // The sim's book: YES bids 0.40 x7, 0.45 x3; YES asks 0.56 x10, 0.60 x5.
    let want = vec![
        (B, Side::Buy, z.0, z.1),
        (L, Side::Buy, p("0.40"), q("7")),
        (L, Side::Buy, p("0.45"), q("3")),
        (L, Side::Sell, p("0.56"), q("10")),
        (L, Side::Sell, p("0.60"), q("5")),
        (E, Side::Buy, z.0, z.1),
    ];
    let mut got = book(&events(SIM_SNAPSHOT_YES_PRICES, true));
    assert_eq!(got, want);
    // Default NO prices: 0.40 and 0.44 are YES asks at 0.60 and 0.56.
    got = book(&events(SIM_SNAPSHOT_NO_PRICES, false));
    let mut sorted = got.clone();
    sorted[3..5].sort_by_key(|l| l.2);
    assert_eq!(sorted, want);
    let ev = events(SIM_SNAPSHOT_YES_PRICES, true);
    assert_eq!(ev[0].levels, 4);
    assert!(ev.iter().all(
        |e| e.header.seq == 1 && e.header.flags & pt_engine::model::header_flags::SNAPSHOT != 0
    ));
}

#[test]
fn delta_and_trade_events() {
    // The sim's delta on the NO side at 0.56 with use_yes_price is a YES
    // ask at 0.56; the same level at NO price 0.44 without it.
    let ev = events(SIM_DELTA_OWN, true);
    assert_eq!(
        book(&ev),
        [(EventKind::LevelDelta, Side::Sell, p("0.56"), q("-3"))]
    );
    assert_eq!(
        (ev[0].header.seq, ev[0].header.venue_ts),
        (5, Nanos(1_795_435_200_123_000_000))
    );
    let ev = events(SIM_DELTA_LEGACY, false);
    assert_eq!(
        book(&ev),
        [(EventKind::LevelDelta, Side::Sell, p("0.56"), q("2.5"))]
    );
    let ev = events(DELTA_FP, false);
    assert_eq!(
        book(&ev),
        [(EventKind::LevelDelta, Side::Buy, p("0.96"), q("-54"))]
    );
    // Trades: the taker's side on the YES book, at the YES price.
    let ev = events(TRADE_FP, false);
    assert_eq!(
        book(&ev),
        [(EventKind::Trade, Side::Sell, p("0.36"), q("136"))]
    );
    assert_eq!(
        (ev[0].header.seq, ev[0].trade_id),
        (2, trade_id_hash("d91b"))
    );
    let ev = events(TRADE_LEGACY, true);
    assert_eq!(
        (ev[0].header.seq, ev[0].header.venue_ts),
        (0, Nanos(1_669_149_841_000_000_000))
    );
    assert_eq!(
        book(&events(SIM_TRADE, true)),
        [(EventKind::Trade, Side::Buy, p("0.56"), q("3"))]
    );
    assert!(events(TICKER_FP, true).is_empty());
}

const ALL_FRAMES: &[&[u8]] = &[
    SNAPSHOT_FP,
    SNAPSHOT_ALL,
    SNAPSHOT_CENTS,
    SNAPSHOT_DOLLARS,
    DELTA_FP,
    DELTA_LEGACY,
    TICKER_FP,
    TICKER_LEGACY,
    TRADE_FP,
    TRADE_LEGACY,
    SIM_SNAPSHOT_YES_PRICES,
    SIM_DELTA_OWN,
    SIM_TRADE,
    SIM_TICKER,
    SIM_FILL,
    SIM_USER_ORDER,
    SIM_LIST,
    SIM_OK,
    SIM_ERROR,
    SIM_SUBSCRIBED,
];

fn exercise(f: &[u8]) {
    if let Ok(env) = decode(f) {
        if let Msg::OrderbookSnapshot(s) = env.msg {
            assert_eq!(s.yes.iter().count(), s.yes.len());
            assert_eq!(s.no.iter().count(), s.no.len());
        }
        let src = EventSource::default();
        to_events(&env, &src, Nanos(1), |_| {});
    } else if let Err(e) = decode(f) {
        assert!(e.span.start <= e.span.end && e.span.end <= f.len(), "{e:?}");
        let _ = e.display(f).to_string();
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(
        which in 0..ALL_FRAMES.len(),
        edits in proptest::collection::vec((0usize..600, proptest::num::u8::ANY), 1..4),
        cut in 0usize..600,
    ) {
        let mut f = ALL_FRAMES[which].to_vec();
        for (i, b) in edits {
            let n = f.len();
            f[i % n] = b;
        }
        let keep = cut.max(f.len() / 2);
        f.truncate(keep);
        exercise(&f);
    }

    #[test]
    fn key_order_does_not_matter(which in 0..ALL_FRAMES.len(), seed in proptest::num::u64::ANY) {
        // Rebuild the frame with shuffled keys at both levels via serde_json.
        let f = ALL_FRAMES[which];
        let v: serde_json::Value = serde_json::from_slice(f).unwrap();
        let shuffled = shuffle(&v, seed);
        let text = shuffled.into_bytes();
        let a = decode(f).unwrap();
        let b = decode(&text).unwrap_or_else(|e| panic!("{}", e.display(&text)));
        proptest::prop_assert_eq!(a.sid, b.sid);
        proptest::prop_assert_eq!(a.seq, b.seq);
        proptest::prop_assert_eq!(a.msg.msg_type(), b.msg.msg_type());
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        to_events(&a, &EventSource::default(), Nanos(1), |e| ea.push(e));
        to_events(&b, &EventSource::default(), Nanos(1), |e| eb.push(e));
        proptest::prop_assert_eq!(ea, eb);
    }
}

/// Serializes `v` with object keys in an order drawn from `seed`.
fn shuffle(v: &serde_json::Value, seed: u64) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            let mut s = seed | 1;
            for i in (1..keys.len()).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                keys.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let parts: Vec<_> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), shuffle(&m[*k], s)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| shuffle(x, seed))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}
