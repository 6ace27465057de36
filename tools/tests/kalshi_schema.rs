//! The spec validator in `support::schema` is real: Kalshi's own examples
//! pass, minimal bodies built from the schemas' required fields pass, and
//! bodies with one thing wrong fail with the offending JSON pointer.
//!
//! Every test skips (with a printed notice) when the reference specs are
//! absent.

mod support;

use serde_json::{Value, json};
use std::time::Instant;
use support::schema::Specs;

fn specs() -> Option<&'static Specs> {
    Specs::shared()
}

/// The operations `pt sim` serves: method, path template (as in the spec),
/// success status.
const SERVED: &[(&str, &str, u16)] = &[
    ("GET", "/exchange/status", 200),
    ("GET", "/markets", 200),
    ("GET", "/markets/{ticker}", 200),
    ("GET", "/markets/{ticker}/orderbook", 200),
    ("GET", "/portfolio/balance", 200),
    ("GET", "/portfolio/positions", 200),
    ("GET", "/portfolio/orders", 200),
    ("GET", "/portfolio/orders/{order_id}", 200),
    ("GET", "/portfolio/fills", 200),
    ("POST", "/portfolio/events/orders", 201),
    ("DELETE", "/portfolio/events/orders/{order_id}", 200),
    ("POST", "/portfolio/events/orders/{order_id}/amend", 200),
    ("POST", "/portfolio/events/orders/{order_id}/decrease", 200),
    ("POST", "/portfolio/events/orders/batched", 201),
    ("DELETE", "/portfolio/events/orders/batched", 200),
];

/// The V2 order operations with a request body.
const WITH_BODY: &[(&str, &str)] = &[
    ("POST", "/portfolio/events/orders"),
    ("POST", "/portfolio/events/orders/{order_id}/amend"),
    ("POST", "/portfolio/events/orders/{order_id}/decrease"),
    ("POST", "/portfolio/events/orders/batched"),
    ("DELETE", "/portfolio/events/orders/batched"),
];

fn market() -> Value {
    json!({
        "ticker": "PTSIM-26DEC31-M000",
        "event_ticker": "PTSIM-26DEC31",
        "market_type": "binary",
        "yes_sub_title": "Yes",
        "no_sub_title": "No",
        "created_time": "2026-01-01T00:00:00Z",
        "updated_time": "2026-01-01T00:00:00Z",
        "open_time": "2026-01-01T00:00:00Z",
        "close_time": "2026-12-31T00:00:00Z",
        "latest_expiration_time": "2026-12-31T00:00:00Z",
        "settlement_timer_seconds": 60,
        "status": "active",
        "notional_value_dollars": "1.0000",
        "yes_bid_dollars": "0.4200",
        "yes_ask_dollars": "0.4400",
        "no_bid_dollars": "0.5600",
        "no_ask_dollars": "0.5800",
        "yes_bid_size_fp": "13.00",
        "yes_ask_size_fp": "7.00",
        "last_price_dollars": "0.4300",
        "previous_yes_bid_dollars": "0.0000",
        "previous_yes_ask_dollars": "0.0000",
        "previous_price_dollars": "0.0000",
        "volume_fp": "0.00",
        "volume_24h_fp": "0.00",
        "open_interest_fp": "0.00",
        "result": "",
        "can_close_early": false,
        "expiration_value": "",
        "rules_primary": "Resolves YES if the simulator says so.",
        "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": [{ "start": "0.0100", "end": "0.9900", "step": "0.0100" }]
    })
}

fn order() -> Value {
    json!({
        "order_id": "3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d",
        "user_id": "alice",
        "client_order_id": "c-1",
        "ticker": "PTSIM-26DEC31-M000",
        "outcome_side": "yes",
        "book_side": "bid",
        "type": "limit",
        "status": "resting",
        "yes_price_dollars": "0.4200",
        "no_price_dollars": "0.5800",
        "fill_count_fp": "0.00",
        "remaining_count_fp": "10.00",
        "initial_count_fp": "10.00",
        "taker_fees_dollars": "0.0000",
        "maker_fees_dollars": "0.0000",
        "taker_fill_cost_dollars": "0.0000",
        "maker_fill_cost_dollars": "0.0000"
    })
}

fn fill() -> Value {
    json!({
        "fill_id": "f-1",
        "exchange_index": 0,
        "trade_id": "t-1",
        "order_id": "3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d",
        "ticker": "PTSIM-26DEC31-M000",
        "market_ticker": "PTSIM-26DEC31-M000",
        "outcome_side": "yes",
        "book_side": "bid",
        "count_fp": "2.00",
        "yes_price_dollars": "0.4200",
        "no_price_dollars": "0.5800",
        "is_taker": true,
        "fee_cost": "0.0100"
    })
}

fn balance() -> Value {
    json!({
        "balance": 100_000,
        "balance_dollars": "1000.0000",
        "portfolio_value": 0,
        "updated_ts": 1_715_793_600
    })
}

fn orderbook() -> Value {
    json!({ "orderbook_fp": {
        "yes_dollars": [["0.4100", "5.00"], ["0.4200", "13.00"]],
        "no_dollars": []
    }})
}

fn delta() -> Value {
    json!({
        "type": "orderbook_delta", "sid": 2, "seq": 3,
        "msg": {
            "market_ticker": "FED-23DEC-T3.00",
            "market_id": "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1",
            "price": 96, "price_dollars": "0.9600",
            "delta": -54, "delta_fp": "-54.00",
            "side": "yes", "ts": "2022-11-22T20:44:01Z", "ts_ms": 1_669_149_841_000_u64
        }
    })
}

/// Minimal valid bodies for the served operations whose response schema
/// carries no top-level example, built by hand from the required fields.
fn minimal(method: &str, path: &str) -> Option<Value> {
    Some(match (method, path) {
        ("GET", "/exchange/status") => json!({ "exchange_active": true, "trading_active": true }),
        ("GET", "/markets") => json!({ "markets": [market()], "cursor": "" }),
        ("GET", "/markets/{ticker}") => json!({ "market": market() }),
        ("GET", "/markets/{ticker}/orderbook") => orderbook(),
        ("GET", "/portfolio/balance") => balance(),
        ("GET", "/portfolio/positions") => json!({
            "market_positions": [{
                "ticker": "PTSIM-26DEC31-M000",
                "exchange_index": 0,
                "total_traded_dollars": "4.2000",
                "position_fp": "-10.00",
                "market_exposure_dollars": "5.8000",
                "realized_pnl_dollars": "0.0000",
                "fees_paid_dollars": "0.0100",
                "last_updated_ts": "2026-01-01T00:00:00Z"
            }],
            "event_positions": [{
                "event_ticker": "PTSIM-26DEC31",
                "total_cost_dollars": "5.8000",
                "total_cost_shares_fp": "10.00",
                "event_exposure_dollars": "5.8000",
                "realized_pnl_dollars": "0.0000",
                "fees_paid_dollars": "0.0100"
            }],
            "cursor": ""
        }),
        ("GET", "/portfolio/orders") => json!({ "orders": [order()], "cursor": "" }),
        ("GET", "/portfolio/orders/{order_id}") => json!({ "order": order() }),
        ("GET", "/portfolio/fills") => json!({ "fills": [fill()], "cursor": "" }),
        _ => return None,
    })
}

fn fails(result: Result<(), String>, needle: &str, what: &str) {
    match result {
        Ok(()) => panic!("{what}: expected a violation mentioning {needle:?}, got Ok"),
        Err(e) => {
            assert!(
                e.contains(needle),
                "{what}: error does not mention {needle:?}:\n{e}"
            );
            println!("negative control {what}: rejected as expected\n{e}\n");
        }
    }
}

#[test]
fn inventory() {
    let Some(specs) = specs() else { return };
    println!("operations:");
    for line in specs.operations() {
        println!("  {line}");
    }
    println!("ws types: {}", specs.ws_types().join(", "));
    println!("ws commands: {}", specs.ws_commands().join(", "));
    println!("notes:");
    for note in specs.notes() {
        println!("  {note}");
    }
    for name in [
        "CreateOrderV2Request",
        "CreateOrderV2Response",
        "CancelOrderV2Response",
        "AmendOrderV2Request",
        "AmendOrderV2Response",
        "DecreaseOrderV2Request",
        "DecreaseOrderV2Response",
        "BatchCreateOrdersV2Request",
        "BatchCreateOrdersV2Response",
        "BatchCancelOrdersV2Request",
        "BatchCancelOrdersV2Response",
        "GetBalanceResponse",
        "GetMarketOrderbookResponse",
        "OrderbookCountFp",
        "Order",
        "Fill",
        "MarketPosition",
        "EventPosition",
        "Market",
        "ExchangeStatus",
        "ErrorResponse",
    ] {
        let required = specs
            .required_fields(name)
            .unwrap_or_else(|| panic!("schema {name} is in no spec"));
        println!("required {name}: {}", required.join(", "));
    }
    for kind in [
        "orderbook_snapshot",
        "orderbook_delta",
        "ticker",
        "trade",
        "fill",
        "user_order",
        "subscribed",
        "unsubscribed",
        "ok",
        "error",
    ] {
        assert!(
            specs.ws_types().iter().any(|t| t == kind),
            "ws type {kind} missing"
        );
    }
    for cmd in [
        "subscribe",
        "unsubscribe",
        "update_subscription",
        "list_subscriptions",
    ] {
        assert!(
            specs.ws_commands().iter().any(|c| c == cmd),
            "ws command {cmd} missing"
        );
    }
}

#[test]
fn rest_examples_and_minimal_bodies_validate() {
    let Some(specs) = specs() else { return };
    let mut checked = 0;
    for &(method, path, status) in SERVED {
        let examples = specs
            .response_examples(method, path, status)
            .unwrap_or_else(|e| panic!("{e}"));
        for example in &examples {
            specs
                .check_example(example)
                .unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
        // An object example that passes as the whole response body.
        let top_level = examples.iter().any(|e| {
            e.value.is_object()
                && specs
                    .validate_response(method, path, status, &e.value)
                    .is_ok()
        });
        println!(
            "{method} {path} {status}: {} example(s){}",
            examples.len(),
            if top_level {
                ", one for the whole body"
            } else {
                ""
            }
        );
        for example in &examples {
            println!("    {}", example.location);
        }
        match minimal(method, path) {
            Some(body) => {
                specs
                    .validate_response(method, path, status, &body)
                    .unwrap_or_else(|e| panic!("minimal body: {e}"));
                checked += 1;
            }
            None => assert!(
                top_level,
                "{method} {path}: the spec gives no whole-body example; add a minimal body"
            ),
        }
    }
    for &(method, path) in WITH_BODY {
        let examples = specs
            .request_examples(method, path)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!examples.is_empty(), "{method} {path}: no request example");
        for example in &examples {
            specs
                .check_example(example)
                .unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
        println!("{method} {path} request: {} example(s)", examples.len());
    }
    // The whole-body request examples also pass validate_request itself.
    let create = specs
        .request_examples("POST", "/portfolio/events/orders")
        .unwrap();
    let whole = create
        .iter()
        .find(|e| e.value.get("ticker").is_some())
        .expect("CreateOrderV2Request example");
    specs
        .validate_request("POST", "/portfolio/events/orders", &whole.value)
        .unwrap();
    // Error bodies and the base-path prefix.
    let error = json!({ "code": "not_found", "message": "order not found" });
    specs
        .validate_response(
            "DELETE",
            "/trade-api/v2/portfolio/events/orders/{order_id}",
            404,
            &error,
        )
        .unwrap();
    specs
        .validate_response("POST", "/portfolio/events/orders", 409, &error)
        .unwrap();
    println!("{checked} REST examples and bodies validated");
}

#[test]
fn nullable_and_formats() {
    let Some(specs) = specs() else { return };
    let amend = "/portfolio/events/orders/{order_id}/amend";
    // `$ref` + nullable: null is allowed, the referenced type still applies.
    let null_count = json!({ "order_id": "o", "ts_ms": 1, "remaining_count": null });
    specs
        .validate_response("POST", amend, 200, &null_count)
        .unwrap();
    fails(
        specs.validate_response(
            "POST",
            amend,
            200,
            &json!({ "order_id": "o", "ts_ms": 1, "remaining_count": 8 }),
        ),
        "/remaining_count",
        "nullable $ref keeps its type",
    );
    // allOf + nullable (batch cancel `error`).
    let batched = "/portfolio/events/orders/batched";
    let entry = |error: Value| json!({ "orders": [{ "order_id": "o", "reduced_by": "0.00", "ts_ms": null, "error": error }] });
    specs
        .validate_response("DELETE", batched, 200, &entry(Value::Null))
        .unwrap();
    specs
        .validate_response(
            "DELETE",
            batched,
            200,
            &entry(json!({ "code": "not_found", "message": "gone" })),
        )
        .unwrap();
    fails(
        specs.validate_response("DELETE", batched, 200, &entry(json!("gone"))),
        "/orders/0/error",
        "nullable allOf keeps its type",
    );
    // type + nullable (Order.created_time) and date-time assertion.
    let mut o = order();
    o["created_time"] = Value::Null;
    specs
        .validate_response(
            "GET",
            "/portfolio/orders",
            200,
            &json!({ "orders": [o], "cursor": "" }),
        )
        .unwrap();
    let mut o = order();
    o["created_time"] = json!("yesterday");
    fails(
        specs.validate_response(
            "GET",
            "/portfolio/orders",
            200,
            &json!({ "orders": [o], "cursor": "" }),
        ),
        "/orders/0/created_time",
        "date-time format",
    );
    // uuid assertion (AsyncAPI market_id).
    let mut d = delta();
    d["msg"]["market_id"] = json!("m-1");
    fails(specs.validate_ws(&d), "/msg/market_id", "uuid format");
    // The 3.28 Order answers the 3.13-only single-order endpoint.
    let mut legacy = order();
    legacy.as_object_mut().unwrap().remove("book_side");
    fails(
        specs.validate_response(
            "GET",
            "/portfolio/orders/{order_id}",
            200,
            &json!({ "order": legacy }),
        ),
        "book_side",
        "3.28 Order replaces 3.13 Order",
    );
}

#[test]
fn negative_controls() {
    let Some(specs) = specs() else { return };
    // A required field removed.
    let mut body = balance();
    body.as_object_mut().unwrap().remove("balance_dollars");
    fails(
        specs.validate_response("GET", "/portfolio/balance", 200, &body),
        "\"balance_dollars\" is a required property",
        "required field removed",
    );
    // A string where the spec says integer.
    let mut body = balance();
    body["balance"] = json!("12");
    fails(
        specs.validate_response("GET", "/portfolio/balance", 200, &body),
        "at /balance:",
        "wrong type",
    );
    // A wrong enum value.
    let mut o = order();
    o["status"] = json!("open");
    fails(
        specs.validate_response(
            "GET",
            "/portfolio/orders",
            200,
            &json!({ "orders": [o], "cursor": "" }),
        ),
        "at /orders/0/status:",
        "wrong enum value",
    );
    // A number where the orderbook level wants strings.
    let body = json!({ "orderbook_fp": { "yes_dollars": [[0.42, "13.00"]], "no_dollars": [] } });
    fails(
        specs.validate_response("GET", "/markets/{ticker}/orderbook", 200, &body),
        "at /orderbook_fp/yes_dollars/0/0:",
        "orderbook level number",
    );
    // Missing side array (required in REST, unlike the WS snapshot).
    let body = json!({ "orderbook_fp": { "yes_dollars": [] } });
    fails(
        specs.validate_response("GET", "/markets/{ticker}/orderbook", 200, &body),
        "no_dollars",
        "orderbook side missing",
    );
    // A WS delta without seq.
    let mut d = delta();
    specs.validate_ws(&d).unwrap();
    d.as_object_mut().unwrap().remove("seq");
    fails(
        specs.validate_ws(&d),
        "\"seq\" is a required property",
        "delta without seq",
    );
    // An unknown WS type and command.
    fails(
        specs.validate_ws(&json!({ "type": "orderbook_update", "sid": 1, "msg": {} })),
        "not in the AsyncAPI spec",
        "unknown ws type",
    );
    fails(
        specs.validate_ws(&json!({ "sid": 1 })),
        "no string \"type\"",
        "ws message without type",
    );
    fails(
        specs.validate_ws_command(
            &json!({ "id": 1, "cmd": "subscribe", "params": { "channels": ["bogus"] } }),
        ),
        "/params/channels/0",
        "subscribe to an unknown channel",
    );
    fails(
        specs.validate_ws_command(&json!({ "id": 1, "cmd": "resubscribe" })),
        "not in the AsyncAPI spec",
        "unknown ws command",
    );
    // `ok` has two shapes; one matching is enough, neither matching fails.
    specs
        .validate_ws(&json!({ "id": 3, "type": "ok", "msg": [{ "channel": "ticker", "sid": 2 }] }))
        .unwrap();
    specs
        .validate_ws(&json!({ "id": 3, "sid": 2, "seq": 5, "type": "ok", "msg": { "market_tickers": ["A-B"] } }))
        .unwrap();
    fails(
        specs.validate_ws(&json!({ "id": 3, "type": "ok", "msg": "fine" })),
        "matches no AsyncAPI message",
        "ok with neither shape",
    );
    // V2 request with a legacy side.
    let request = json!({
        "ticker": "PTSIM-26DEC31-M000", "side": "yes", "count": "1.00", "price": "0.5000",
        "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"
    });
    fails(
        specs.validate_request("POST", "/portfolio/events/orders", &request),
        "at /side:",
        "V2 request with side=yes",
    );
    // Operations and statuses the specs do not have.
    fails(
        specs.validate_response("GET", "/portfolio/nothing", 200, &json!({})),
        "is in no spec",
        "unknown operation",
    );
    fails(
        specs.validate_response("GET", "/portfolio/balance", 418, &json!({})),
        "status 418 is not documented",
        "undocumented status",
    );
    fails(
        specs.validate_request("GET", "/portfolio/balance", &json!({})),
        "has no request body",
        "request body on a GET",
    );
}

/// Examples the published AsyncAPI spec gets wrong, with the violation
/// expected: (message name, needle in the error).
const KNOWN_BAD_WS_EXAMPLES: &[(&str, &str)] = &[
    // The fill example omits `fee_cost`, which the payload requires.
    ("fill", "\"fee_cost\" is a required property"),
];

#[test]
fn ws_examples_validate() {
    let Some(specs) = specs() else { return };
    let mut passed = 0;
    let mut known_bad = 0;
    for (name, payload) in specs.ws_examples() {
        let result = if payload.get("cmd").is_some() {
            specs.validate_ws_command(&payload)
        } else {
            specs.validate_ws(&payload)
        };
        match KNOWN_BAD_WS_EXAMPLES.iter().find(|(n, _)| *n == name) {
            Some((_, needle)) => {
                fails(
                    result,
                    needle,
                    &format!("spec's own {name} example (a spec bug)"),
                );
                known_bad += 1;
            }
            None => {
                result.unwrap_or_else(|e| panic!("example of {name}: {e}"));
                passed += 1;
            }
        }
    }
    println!("{passed} AsyncAPI examples validated, {known_bad} known-bad rejected");
    assert!(passed >= 20, "too few AsyncAPI examples found: {passed}");
}

/// Facts of the published specs that a server must meet and that are easy
/// to get wrong (several disagree with WIRE-FORMAT.md, which the README
/// ranks below the specs).
#[test]
fn spec_facts_the_server_must_meet() {
    let Some(specs) = specs() else { return };
    // The AsyncAPI delta still requires the integer-cent `price` and the
    // integer `delta` beside `price_dollars` / `delta_fp`.
    let mut current = delta();
    let msg = current["msg"].as_object_mut().unwrap();
    msg.remove("price");
    msg.remove("delta");
    fails(
        specs.validate_ws(&current),
        "\"price\" is a required property",
        "fp-only delta",
    );
    // A snapshot may omit an empty side; the REST orderbook may not.
    let snapshot = json!({
        "type": "orderbook_snapshot", "sid": 1, "seq": 1,
        "msg": { "market_ticker": "PTSIM-26DEC31-M000",
                 "market_id": "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1",
                 "yes_dollars_fp": [["0.4200", "13.00"]] }
    });
    specs.validate_ws(&snapshot).unwrap();
    // Ticker prices are 1..=99 cents: no zero for an empty side.
    let ticker = json!({
        "type": "ticker", "sid": 11,
        "msg": { "market_ticker": "PTSIM-26DEC31-M000",
                 "market_id": "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1",
                 "price": 48, "yes_bid": 0, "yes_ask": 53,
                 "price_dollars": "0.4800", "yes_bid_dollars": "0.0000", "yes_ask_dollars": "0.5300",
                 "volume": 0, "volume_fp": "0.00", "open_interest": 0, "open_interest_fp": "0.00",
                 "dollar_volume": 0, "dollar_open_interest": 0, "ts": 1, "time": "2026-01-01T00:00:00Z" }
    });
    fails(
        specs.validate_ws(&ticker),
        "at /msg/yes_bid:",
        "ticker with yes_bid 0",
    );
    // Error codes stop at 22 in this spec.
    fails(
        specs.validate_ws(
            &json!({ "id": 1, "type": "error", "msg": { "code": 25, "msg": "overflow" } }),
        ),
        "at /msg/code:",
        "error code 25",
    );
    // update_subscription knows add_markets and delete_markets only.
    fails(
        specs.validate_ws_command(&json!({
            "id": 5, "cmd": "update_subscription",
            "params": { "sids": [1], "market_tickers": ["A-B"], "action": "get_snapshot" }
        })),
        "at /params/action:",
        "update_subscription get_snapshot",
    );
}

#[test]
fn validating_many_messages_is_fast() {
    let Some(specs) = specs() else { return };
    let mut d = delta();
    let start = Instant::now();
    for seq in 1..=10_000_u64 {
        d["seq"] = json!(seq);
        specs.validate_ws(&d).unwrap();
    }
    let ws = start.elapsed();
    let body = json!({ "orders": vec![order(); 100], "cursor": "" });
    let start = Instant::now();
    for _ in 0..100 {
        specs
            .validate_response("GET", "/portfolio/orders", 200, &body)
            .unwrap();
    }
    println!(
        "10000 orderbook_delta in {ws:?}; 100 x GET /portfolio/orders (100 orders) in {:?}",
        start.elapsed()
    );
}
