//! `pt sim` end to end: a real server on loopback over TLS, signed REST
//! requests and WebSocket sessions, every response and message validated
//! against Kalshi's published OpenAPI and AsyncAPI schemas.

mod support;

use pt_sim::auth::KeyStore;
use pt_sim::render::Wire;
use pt_sim::server::{Running, SimConfig, start_with_keys};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::client::{Client, Read, Ws, test_signer};
use support::schema::Specs;

const M0: &str = "PTSIM-26DEC31-M000";

struct Setup {
    sim: Running,
    alice: Client,
    bob: Client,
    anon: Client,
    specs: Option<Specs>,
}

async fn setup(config: SimConfig) -> Setup {
    let (alice_signer, public) = test_signer("alice");
    let (bob_signer, _) = test_signer("bob");
    let mut keys = KeyStore::empty();
    keys.insert("alice", public.clone());
    keys.insert("bob", public);
    let sim = start_with_keys(config, keys).await.expect("start the sim");
    let alice = Client::new(&sim, Some(Arc::new(alice_signer)));
    let bob = Client::new(&sim, Some(Arc::new(bob_signer)));
    let anon = Client::new(&sim, None);
    Setup {
        sim,
        alice,
        bob,
        anon,
        specs: Specs::load(),
    }
}

/// No background trading. WebSocket messages carry the legacy integer
/// fields too: the published AsyncAPI spec still requires them (see
/// `current_wire_format_has_no_legacy_integer_fields` for the default).
fn quiet() -> SimConfig {
    SimConfig {
        rate: 0,
        markets: 3,
        wire: Wire { legacy: true },
        ..SimConfig::default()
    }
}

impl Setup {
    /// Validates a REST response against the spec operation, when the specs are present.
    fn check(&self, method: &str, template: &str, status: u16, body: &Value) {
        if let Some(specs) = &self.specs {
            specs
                .validate_response(method, template, status, body)
                .unwrap_or_else(|e| panic!("{method} {template} {status}: {e}\nbody: {body:#}"));
        }
    }

    fn check_request(&self, method: &str, template: &str, body: &Value) {
        if let Some(specs) = &self.specs {
            specs
                .validate_request(method, template, body)
                .unwrap_or_else(|e| panic!("request {method} {template}: {e}\nbody: {body:#}"));
        }
    }

    fn check_ws(&self, message: &Value) {
        if let Some(specs) = &self.specs {
            specs
                .validate_ws(message)
                .unwrap_or_else(|e| panic!("ws message: {e}\n{message:#}"));
        }
    }
}

/// `POST /portfolio/events/orders` with `body`.
async fn post_order(client: &Client, body: &Value) -> (u16, Value) {
    client
        .request("POST", "/portfolio/events/orders", Some(body))
        .await
}

fn order(side: &str, price: &str, count: &str, tif: &str) -> Value {
    json!({
        "ticker": M0,
        "side": side,
        "price": price,
        "count": count,
        "time_in_force": tif,
        "self_trade_prevention_type": "taker_at_cross",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_reads_and_order_entry_follow_the_spec() {
    let t = setup(quiet()).await;

    let (status, body) = t.anon.request("GET", "/exchange/status", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["trading_active"], true);
    t.check("GET", "/exchange/status", status, &body);

    let (status, body) = t.anon.request("GET", "/markets?limit=2", None).await;
    assert_eq!(status, 200);
    t.check("GET", "/markets", status, &body);
    assert_eq!(body["markets"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["cursor"], "2", "a second page follows");
    let (_, page2) = t
        .anon
        .request("GET", "/markets?limit=2&cursor=2", None)
        .await;
    assert_eq!(page2["markets"].as_array().map(Vec::len), Some(1));
    assert_eq!(page2["cursor"], "");

    let (status, body) = t.anon.request("GET", &format!("/markets/{M0}"), None).await;
    assert_eq!(status, 200);
    t.check("GET", "/markets/{ticker}", status, &body);
    assert_eq!(body["market"]["status"], "active");
    assert_eq!(body["market"]["price_ranges"][0]["step"], "0.0100");

    // Alice bids 10 at 0.40; Bob sells 4 into it.
    let bid = order("bid", "0.40", "10", "good_till_canceled");
    t.check_request("POST", "/portfolio/events/orders", &bid);
    let mut bid_with_id = bid.clone();
    bid_with_id["client_order_id"] = json!("alice-1");
    let (status, placed) = post_order(&t.alice, &bid_with_id).await;
    assert_eq!(status, 201, "{placed}");
    t.check("POST", "/portfolio/events/orders", status, &placed);
    assert_eq!(placed["fill_count"], "0.00");
    assert_eq!(placed["remaining_count"], "10.00");
    assert_eq!(placed["client_order_id"], "alice-1");
    let alice_order = placed["order_id"].as_str().expect("order_id").to_owned();

    let (status, hit) = post_order(&t.bob, &order("ask", "0.40", "4", "immediate_or_cancel")).await;
    assert_eq!(status, 201, "{hit}");
    t.check("POST", "/portfolio/events/orders", status, &hit);
    assert_eq!(hit["fill_count"], "4.00");
    assert_eq!(hit["remaining_count"], "0.00");
    assert_eq!(hit["average_fill_price"], "0.4000");
    // Taker fee: 0.07 × 4 × 0.40 × 0.60 = 0.0672, rounded up to $0.07; per contract 0.0175.
    assert_eq!(hit["average_fee_paid"], "0.0175");

    let (status, book) = t
        .anon
        .request("GET", &format!("/markets/{M0}/orderbook"), None)
        .await;
    assert_eq!(status, 200);
    t.check("GET", "/markets/{ticker}/orderbook", status, &book);
    assert_eq!(
        book["orderbook_fp"]["yes_dollars"],
        json!([["0.4000", "6.00"]])
    );
    assert_eq!(book["orderbook_fp"]["no_dollars"], json!([]));

    let (status, orders) = t.alice.request("GET", "/portfolio/orders", None).await;
    assert_eq!(status, 200);
    t.check("GET", "/portfolio/orders", status, &orders);
    assert_eq!(orders["orders"][0]["fill_count_fp"], "4.00");
    assert_eq!(orders["orders"][0]["status"], "resting");
    let (status, one) = t
        .alice
        .request("GET", &format!("/portfolio/orders/{alice_order}"), None)
        .await;
    assert_eq!(status, 200);
    t.check("GET", "/portfolio/orders/{order_id}", status, &one);
    // Bob cannot see Alice's order.
    let (status, err) = t
        .bob
        .request("GET", &format!("/portfolio/orders/{alice_order}"), None)
        .await;
    assert_eq!(status, 404);
    t.check("GET", "/portfolio/orders/{order_id}", status, &err);

    let (status, fills) = t.alice.request("GET", "/portfolio/fills", None).await;
    assert_eq!(status, 200);
    t.check("GET", "/portfolio/fills", status, &fills);
    assert_eq!(fills["fills"][0]["is_taker"], false);
    assert_eq!(fills["fills"][0]["count_fp"], "4.00");

    let (status, pos) = t.alice.request("GET", "/portfolio/positions", None).await;
    assert_eq!(status, 200);
    t.check("GET", "/portfolio/positions", status, &pos);
    assert_eq!(pos["market_positions"][0]["position_fp"], "4.00");
    let (_, pos) = t.bob.request("GET", "/portfolio/positions", None).await;
    assert_eq!(pos["market_positions"][0]["position_fp"], "-4.00");

    // Alice paid 4 × 0.40; Bob paid 4 × 0.60 plus the $0.07 fee.
    let (status, bal) = t.alice.request("GET", "/portfolio/balance", None).await;
    assert_eq!(status, 200);
    t.check("GET", "/portfolio/balance", status, &bal);
    assert_eq!(bal["balance_dollars"], "9998.4000");
    assert_eq!(bal["balance"], 999_840);
    let (_, bal) = t.bob.request("GET", "/portfolio/balance", None).await;
    assert_eq!(bal["balance_dollars"], "9997.5300");

    // Amend: new price and total count; then decrease; then cancel.
    let amend = json!({"ticker": M0, "side": "bid", "price": "0.41", "count": "12"});
    t.check_request("POST", "/portfolio/events/orders/{order_id}/amend", &amend);
    let (status, amended) = t
        .alice
        .request(
            "POST",
            &format!("/portfolio/events/orders/{alice_order}/amend"),
            Some(&amend),
        )
        .await;
    assert_eq!(status, 200, "{amended}");
    t.check(
        "POST",
        "/portfolio/events/orders/{order_id}/amend",
        status,
        &amended,
    );
    assert_eq!(amended["remaining_count"], "8.00");

    let decrease = json!({"reduce_by": "3"});
    let (status, decreased) = t
        .alice
        .request(
            "POST",
            &format!("/portfolio/events/orders/{alice_order}/decrease"),
            Some(&decrease),
        )
        .await;
    assert_eq!(status, 200, "{decreased}");
    t.check(
        "POST",
        "/portfolio/events/orders/{order_id}/decrease",
        status,
        &decreased,
    );
    assert_eq!(decreased["remaining_count"], "5.00");

    let (status, canceled) = t
        .alice
        .request(
            "DELETE",
            &format!("/portfolio/events/orders/{alice_order}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{canceled}");
    t.check(
        "DELETE",
        "/portfolio/events/orders/{order_id}",
        status,
        &canceled,
    );
    assert_eq!(canceled["reduced_by"], "5.00");
    let (status, again) = t
        .alice
        .request(
            "DELETE",
            &format!("/portfolio/events/orders/{alice_order}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{again}");
    t.check(
        "DELETE",
        "/portfolio/events/orders/{order_id}",
        status,
        &again,
    );

    // Batches: one good order, one off the price grid.
    let batch = json!({"orders": [
        order("bid", "0.30", "2", "good_till_canceled"),
        order("bid", "0.305", "2", "good_till_canceled"),
    ]});
    t.check_request("POST", "/portfolio/events/orders/batched", &batch);
    let (status, created) = t
        .alice
        .request("POST", "/portfolio/events/orders/batched", Some(&batch))
        .await;
    assert_eq!(status, 201, "{created}");
    t.check("POST", "/portfolio/events/orders/batched", status, &created);
    assert!(created["orders"][0]["error"].is_null());
    assert!(
        created["orders"][1]["error"]["code"].is_string(),
        "{created}"
    );
    let id = created["orders"][0]["order_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel = json!({"orders": [{"order_id": id}, {"order_id": "no-such-order"}]});
    t.check_request("DELETE", "/portfolio/events/orders/batched", &cancel);
    let (status, canceled) = t
        .alice
        .request("DELETE", "/portfolio/events/orders/batched", Some(&cancel))
        .await;
    assert_eq!(status, 200, "{canceled}");
    t.check(
        "DELETE",
        "/portfolio/events/orders/batched",
        status,
        &canceled,
    );
    assert_eq!(canceled["orders"][0]["reduced_by"], "2.00");
    assert!(canceled["orders"][1]["error"]["code"].is_string());

    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_get_kalshi_errors_naming_the_field() {
    let t = setup(quiet()).await;
    let cases = [
        (json!({"count": "0.001"}), 400, "count"),
        (json!({"price": "1.50"}), 400, "price"),
        (json!({"price": "0.405"}), 400, "price"),
        (json!({"side": "buy"}), 400, "side"),
        (json!({"time_in_force": "day"}), 400, "time_in_force"),
        (json!({"ticker": "NOPE"}), 404, "NOPE"),
    ];
    for (patch, want, mention) in cases {
        let mut body = order("bid", "0.40", "1", "good_till_canceled");
        for (k, v) in patch.as_object().expect("object") {
            body[k] = v.clone();
        }
        let (status, err) = post_order(&t.alice, &body).await;
        assert_eq!(status, want, "{body} -> {err}");
        t.check(
            "POST",
            "/portfolio/events/orders",
            if want == 404 { 400 } else { status },
            &err,
        );
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(mention),
            "{message:?} should name {mention}"
        );
    }
    // Missing required field: serde names it.
    let (status, err) = post_order(&t.alice, &json!({"ticker": M0})).await;
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().unwrap_or_default().contains("side"),
        "{err}"
    );

    // post_only that would cross.
    post_order(&t.bob, &order("ask", "0.50", "1", "good_till_canceled")).await;
    let mut po = order("bid", "0.55", "1", "good_till_canceled");
    po["post_only"] = json!(true);
    let (status, err) = post_order(&t.alice, &po).await;
    assert_eq!(status, 409, "{err}");
    t.check("POST", "/portfolio/events/orders", status, &err);
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_requests_need_a_valid_recent_signature() {
    let t = setup(quiet()).await;
    let (status, err) = t.anon.request("GET", "/portfolio/balance", None).await;
    assert_eq!(status, 401);
    t.check("GET", "/portfolio/balance", status, &err);

    let (signer, _) = test_signer("alice");
    let now = support::client::now_ms();
    // Signed for another path.
    let (status, _) = t
        .anon
        .raw_request("GET", "/trade-api/v2/portfolio/balance", None, None)
        .await;
    assert_eq!(status, 401);
    let headers = signer.headers(now, "GET", "/trade-api/v2/portfolio/positions");
    let (status, err) = t
        .anon
        .request_with_headers("GET", "/trade-api/v2/portfolio/balance", None, &headers)
        .await;
    assert_eq!(status, 401, "{err}");
    // Too old, and from the future.
    for skew in [-60_000, 60_000] {
        let (status, err) = t
            .anon
            .raw_request(
                "GET",
                "/trade-api/v2/portfolio/balance",
                None,
                Some((&signer, now + skew)),
            )
            .await;
        assert_eq!(status, 401, "{err}");
    }
    // Unknown key id.
    let (stranger, _) = test_signer("mallory");
    let (status, _) = t
        .anon
        .raw_request(
            "GET",
            "/trade-api/v2/portfolio/balance",
            None,
            Some((&stranger, now)),
        )
        .await;
    assert_eq!(status, 401);
    // A query string is not signed.
    let (status, _) = t
        .anon
        .raw_request(
            "GET",
            "/trade-api/v2/portfolio/orders?limit=5",
            None,
            Some((&signer, now)),
        )
        .await;
    assert_eq!(status, 200);
    // The WebSocket upgrade needs the headers too.
    assert!(t.anon.websocket().await.is_err());
    assert!(t.alice.websocket().await.is_ok());
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_sessions_get_heartbeat_pings() {
    let t = setup(SimConfig {
        ping_ms: 200,
        ..quiet()
    })
    .await;
    let mut ws = t.alice.websocket().await.expect("connect");
    let mut pings = 0;
    while pings < 2 {
        match ws.read(Duration::from_secs(2)).await {
            Read::Ping(payload) => {
                assert_eq!(payload, b"heartbeat");
                pings += 1;
            }
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    t.sim.shutdown().await;
}

/// A local copy of a book built from a snapshot and deltas.
#[derive(Debug, Default, PartialEq)]
struct LocalBook {
    yes: BTreeMap<String, String>,
    no: BTreeMap<String, String>,
}

fn fixed(s: &str) -> i64 {
    pt_engine::model::Qty::parse(s)
        .expect("fixed-point string")
        .raw()
}

impl LocalBook {
    fn from_snapshot(msg: &Value) -> LocalBook {
        let side = |key: &str| -> BTreeMap<String, String> {
            msg[key]
                .as_array()
                .map(|levels| {
                    levels
                        .iter()
                        .map(|l| {
                            (
                                l[0].as_str().unwrap_or_default().to_owned(),
                                l[1].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        LocalBook {
            yes: side("yes_dollars_fp"),
            no: side("no_dollars_fp"),
        }
    }

    fn apply(&mut self, msg: &Value) {
        let side = if msg["side"] == "yes" {
            &mut self.yes
        } else {
            &mut self.no
        };
        let price = msg["price_dollars"]
            .as_str()
            .expect("price_dollars")
            .to_owned();
        let now = side.get(&price).map_or(0, |q| fixed(q))
            + fixed(msg["delta_fp"].as_str().expect("delta_fp"));
        assert!(now >= 0, "a delta took {price} below zero");
        if now == 0 {
            side.remove(&price);
        } else {
            side.insert(
                price,
                pt_sim::wire::count(pt_engine::model::Qty::from_raw(now)),
            );
        }
    }

    /// The REST orderbook in the same form (NO side at YES prices when `yes_prices`).
    fn from_rest(body: &Value, yes_prices: bool) -> LocalBook {
        let side = |key: &str, flip: bool| -> BTreeMap<String, String> {
            body["orderbook_fp"][key]
                .as_array()
                .map(|levels| {
                    levels
                        .iter()
                        .map(|l| {
                            let p = l[0].as_str().unwrap_or_default();
                            let p = if flip {
                                pt_sim::wire::dollars(100_000_000 - fixed(p))
                            } else {
                                p.to_owned()
                            };
                            (p, l[1].as_str().unwrap_or_default().to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        LocalBook {
            yes: side("yes_dollars", false),
            no: side("no_dollars", yes_prices),
        }
    }
}

/// Reads messages until none arrives for `quiet`; validates each.
async fn drain(t: &Setup, ws: &mut Ws, quiet: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        match ws.read(quiet).await {
            Read::Json(v) => {
                t.check_ws(&v);
                out.push(v);
            }
            Read::Ping(_) => {}
            Read::Timeout => return out,
            Read::Closed => panic!("the sim closed the session"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_channels_follow_the_spec_and_rebuild_the_book() {
    // Legacy fields on: the AsyncAPI 2.0.0 spec still requires them.
    let config = SimConfig {
        wire: Wire { legacy: true },
        ..quiet()
    };
    let t = setup(config).await;
    // Some resting liquidity before subscribing.
    post_order(&t.bob, &order("ask", "0.60", "5", "good_till_canceled")).await;
    post_order(&t.bob, &order("bid", "0.35", "7", "good_till_canceled")).await;

    let mut ws = t.alice.websocket().await.expect("connect");
    let sub = json!({"channels": ["orderbook_delta", "trade", "ticker", "fill", "user_orders"], "market_tickers": [M0], "use_yes_price": true});
    if let Some(specs) = &t.specs {
        let cmd = json!({"id": 1, "cmd": "subscribe", "params": sub});
        specs
            .validate_ws_command(&cmd)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    ws.command("subscribe", Some(sub)).await;
    let first = drain(&t, &mut ws, Duration::from_millis(300)).await;
    let subscribed: Vec<&Value> = first.iter().filter(|m| m["type"] == "subscribed").collect();
    assert_eq!(subscribed.len(), 5, "{first:#?}");
    let snapshot = first
        .iter()
        .find(|m| m["type"] == "orderbook_snapshot")
        .expect("snapshot");
    assert_eq!(snapshot["seq"], 1);
    let book_sid = snapshot["sid"].as_u64().expect("sid");
    let mut local = LocalBook::from_snapshot(&snapshot["msg"]);
    // use_yes_price: Bob's ask at 0.60 shows on the NO side at 0.60.
    assert_eq!(local.no.get("0.6000").map(String::as_str), Some("5.00"));

    // Trade: Alice lifts 3 of Bob's ask, rests a bid, then cancels it.
    let mut lift = order("bid", "0.60", "3", "immediate_or_cancel");
    lift["client_order_id"] = json!("lift-1");
    post_order(&t.alice, &lift).await;
    let (_, resting) = post_order(&t.alice, &order("bid", "0.45", "2", "good_till_canceled")).await;
    let id = resting["order_id"].as_str().expect("id").to_owned();
    t.alice
        .request("DELETE", &format!("/portfolio/events/orders/{id}"), None)
        .await;

    let messages = drain(&t, &mut ws, Duration::from_millis(300)).await;
    let kinds: Vec<&str> = messages.iter().filter_map(|m| m["type"].as_str()).collect();
    for kind in ["orderbook_delta", "trade", "ticker", "fill", "user_order"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let mut seq = 1;
    for m in messages.iter().filter(|m| m["sid"] == book_sid) {
        seq += 1;
        assert_eq!(m["seq"], seq, "contiguous seq on the book subscription");
        local.apply(&m["msg"]);
    }
    // The delta Alice's order caused carries her client_order_id.
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "orderbook_delta" && m["msg"]["client_order_id"] == "lift-1"),
        "{messages:#?}"
    );
    let fill = messages.iter().find(|m| m["type"] == "fill").expect("fill");
    assert_eq!(fill["msg"]["count_fp"], "3.00");
    assert_eq!(fill["msg"]["client_order_id"], "lift-1");
    let (_, rest) = t
        .anon
        .request("GET", &format!("/markets/{M0}/orderbook"), None)
        .await;
    assert_eq!(
        local,
        LocalBook::from_rest(&rest, true),
        "WS book equals REST book"
    );

    // get_snapshot: a fresh snapshot with the next seq.
    ws.command(
        "update_subscription",
        Some(json!({"sids": [book_sid], "market_tickers": [M0], "action": "get_snapshot"})),
    )
    .await;
    let snap = drain(&t, &mut ws, Duration::from_millis(200)).await;
    assert_eq!(snap[0]["type"], "orderbook_snapshot");
    assert_eq!(snap[0]["seq"], seq + 1);
    assert_eq!(LocalBook::from_snapshot(&snap[0]["msg"]), local);

    // list, add/delete markets, unsubscribe, and errors with Kalshi's codes.
    let id = ws.command("list_subscriptions", None).await;
    let list = drain(&t, &mut ws, Duration::from_millis(200)).await;
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["msg"].as_array().map(Vec::len), Some(5));
    ws.command("update_subscription", Some(json!({"sid": book_sid, "market_tickers": ["PTSIM-26DEC31-M001"], "action": "add_markets"}))).await;
    let added = drain(&t, &mut ws, Duration::from_millis(200)).await;
    assert!(
        added.iter().any(|m| m["type"] == "orderbook_snapshot"
            && m["msg"]["market_ticker"] == "PTSIM-26DEC31-M001")
    );
    assert!(added.iter().any(|m| m["type"] == "ok"));
    let errors = [
        (
            json!({"id": 50, "cmd": "subscribe", "params": {"channels": ["nope"]}}),
            8,
        ),
        (
            json!({"id": 51, "cmd": "unsubscribe", "params": {"sids": [999]}}),
            7,
        ),
        (json!({"id": 52, "cmd": "dance"}), 5),
        (json!({"id": 53, "cmd": "subscribe"}), 2),
        (
            json!({"id": 54, "cmd": "update_subscription", "params": {"sids": [1, 2], "action": "get_snapshot"}}),
            12,
        ),
        (
            json!({"id": 55, "cmd": "subscribe", "params": {"channels": ["trade"], "market_tickers": ["NOPE"]}}),
            16,
        ),
    ];
    for (cmd, code) in errors {
        ws.send_text(cmd.to_string()).await;
        let reply = drain(&t, &mut ws, Duration::from_millis(200)).await;
        assert_eq!(reply[0]["type"], "error", "{cmd}");
        assert_eq!(reply[0]["msg"]["code"], code, "{cmd}");
        assert_eq!(reply[0]["id"], cmd["id"]);
    }
    ws.command("unsubscribe", Some(json!({"sids": [book_sid]})))
        .await;
    let bye = drain(&t, &mut ws, Duration::from_millis(200)).await;
    assert_eq!(bye[0]["type"], "unsubscribed");
    assert_eq!(bye[0]["sid"], book_sid);
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_wire_format_has_no_legacy_integer_fields() {
    let t = setup(SimConfig {
        wire: Wire::default(),
        ..quiet()
    })
    .await;
    post_order(&t.bob, &order("ask", "0.60", "5", "good_till_canceled")).await;
    let mut ws = t.alice.websocket().await.expect("connect");
    ws.command(
        "subscribe",
        Some(json!({"channels": ["orderbook_delta", "trade", "ticker"], "market_tickers": [M0]})),
    )
    .await;
    post_order(&t.alice, &order("bid", "0.60", "2", "immediate_or_cancel")).await;
    let mut messages = Vec::new();
    while let Read::Json(v) = ws.read(Duration::from_millis(300)).await {
        messages.push(v);
    }
    let snapshot = messages
        .iter()
        .find(|m| m["type"] == "orderbook_snapshot")
        .expect("snapshot");
    // Default pricing: Bob's YES ask at 0.60 is a NO bid at 0.40.
    assert_eq!(
        snapshot["msg"]["no_dollars_fp"],
        json!([["0.4000", "5.00"]])
    );
    assert!(
        snapshot["msg"].get("yes_dollars_fp").is_none(),
        "an empty side is left out"
    );
    for m in &messages {
        let msg = &m["msg"];
        for legacy in [
            "price",
            "delta",
            "yes_price",
            "no_price",
            "count",
            "yes_bid",
            "yes_ask",
            "volume",
            "open_interest",
            "yes",
            "no",
        ] {
            assert!(msg.get(legacy).is_none(), "{legacy} in {m}");
        }
    }
    assert!(messages.iter().any(|m| m["type"] == "trade"));
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_break_the_venue_on_command() {
    let t = setup(quiet()).await;
    let admin = |faults: Value| {
        let c = &t.anon;
        async move {
            let (status, body) = c
                .raw_request("POST", "/sim/admin/faults", Some(&faults), None)
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let mut ws = t.alice.websocket().await.expect("connect");
    ws.command(
        "subscribe",
        Some(json!({"channels": ["orderbook_delta"], "market_tickers": [M0]})),
    )
    .await;
    drain(&t, &mut ws, Duration::from_millis(200)).await;

    // Skipped sequence numbers.
    admin(json!({"skip_seq": 1.0})).await;
    for p in ["0.10", "0.11"] {
        post_order(&t.bob, &order("bid", p, "1", "good_till_canceled")).await;
    }
    let deltas = drain(&t, &mut ws, Duration::from_millis(200)).await;
    let seqs: Vec<u64> = deltas.iter().filter_map(|m| m["seq"].as_u64()).collect();
    assert_eq!(seqs.len(), 2);
    assert!(seqs[1] - seqs[0] == 2, "a gap of one: {seqs:?}");

    // Duplicates.
    admin(json!({"duplicate": 1.0})).await;
    post_order(&t.bob, &order("bid", "0.12", "1", "good_till_canceled")).await;
    let dup = drain(&t, &mut ws, Duration::from_millis(200)).await;
    assert_eq!(dup.len(), 2);
    assert_eq!(dup[0], dup[1]);

    // Reordering: the held message comes after the next one.
    admin(json!({"reorder": 1.0})).await;
    for p in ["0.13", "0.14"] {
        post_order(&t.bob, &order("bid", p, "1", "good_till_canceled")).await;
    }
    let swapped = drain(&t, &mut ws, Duration::from_millis(200)).await;
    let seqs: Vec<u64> = swapped.iter().filter_map(|m| m["seq"].as_u64()).collect();
    assert_eq!(seqs.len(), 2, "{swapped:#?}");
    assert_eq!(seqs[0], seqs[1] + 1, "delivered out of order: {seqs:?}");

    // Delay: every REST answer waits.
    admin(json!({"delay_ms": 300})).await;
    let started = std::time::Instant::now();
    assert_eq!(t.anon.request("GET", "/exchange/status", None).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // 5xx bursts, rejections, rate limits, pause.
    admin(json!({"error_burst": 2})).await;
    for _ in 0..2 {
        let (status, err) = t.anon.request("GET", "/exchange/status", None).await;
        assert_eq!(status, 500, "{err}");
        t.check("GET", "/portfolio/balance", 500, &err);
    }
    assert_eq!(t.anon.request("GET", "/exchange/status", None).await.0, 200);

    admin(json!({"reject_orders": 1.0})).await;
    let (status, _) = post_order(&t.alice, &order("bid", "0.20", "1", "good_till_canceled")).await;
    assert_eq!(status, 503);

    admin(json!({"rate_limit_tier": "basic"})).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, body) =
            post_order(&t.alice, &order("bid", "0.20", "1", "good_till_canceled")).await;
        if status == 429 {
            assert_eq!(body, json!({"error": "too many requests"}));
            t.check("POST", "/portfolio/events/orders", 429, &body);
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "Basic holds 100 write tokens: ten orders, {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2);

    admin(json!({})).await;
    let (status, _) = t
        .anon
        .raw_request(
            "POST",
            "/sim/admin/pause",
            Some(&json!({"paused": true})),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (_, st) = t.anon.request("GET", "/exchange/status", None).await;
    assert_eq!(st["trading_active"], false);
    let (status, err) =
        post_order(&t.alice, &order("bid", "0.20", "1", "good_till_canceled")).await;
    assert_eq!(status, 409);
    assert_eq!(err["code"], "trading_is_paused");

    // Dropped connections: the socket closes without a close frame.
    t.anon
        .raw_request("POST", "/sim/admin/drop_connections", None, None)
        .await;
    let mut closed = false;
    for _ in 0..20 {
        match ws.read(Duration::from_millis(500)).await {
            Read::Closed => {
                closed = true;
                break;
            }
            Read::Timeout => break,
            _ => {}
        }
    }
    assert!(closed, "the session was dropped");

    // Bad fault settings are refused, naming the key.
    let (status, err) = t
        .anon
        .raw_request(
            "POST",
            "/sim/admin/faults",
            Some(&json!({"skip_seq": 3})),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("skip_seq")
    );
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_pays_winners_and_closes_the_market() {
    let t = setup(quiet()).await;
    post_order(&t.bob, &order("ask", "0.30", "10", "good_till_canceled")).await;
    post_order(&t.alice, &order("bid", "0.30", "10", "immediate_or_cancel")).await;
    let (_, before) = t.alice.request("GET", "/portfolio/balance", None).await;
    let (status, body) = t
        .anon
        .raw_request(
            "POST",
            "/sim/admin/settle",
            Some(&json!({"ticker": M0, "result": "yes"})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = t.alice.request("GET", "/portfolio/balance", None).await;
    assert_eq!(
        after["balance"].as_i64().unwrap_or(0) - before["balance"].as_i64().unwrap_or(0),
        1000,
        "ten YES contracts pay $10"
    );
    let (_, market) = t.anon.request("GET", &format!("/markets/{M0}"), None).await;
    t.check("GET", "/markets/{ticker}", 200, &market);
    assert_eq!(market["market"]["result"], "yes");
    let (status, err) =
        post_order(&t.alice, &order("bid", "0.30", "1", "good_till_canceled")).await;
    assert_eq!(status, 409, "{err}");
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_market_streams_and_the_book_matches_after_a_pause() {
    let config = SimConfig {
        rate: 2_000,
        markets: 2,
        probe: true,
        wire: Wire { legacy: true },
        ..SimConfig::default()
    };
    let t = setup(config).await;
    let mut ws = t.alice.websocket().await.expect("connect");
    ws.command(
        "subscribe",
        Some(
            json!({"channels": ["orderbook_delta"], "market_tickers": [M0], "use_yes_price": true}),
        ),
    )
    .await;
    let mut local = None;
    let mut last_seq = 0;
    let mut deltas = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    while tokio::time::Instant::now() < deadline {
        if let Read::Json(m) = ws.read(Duration::from_millis(500)).await {
            t.check_ws(&m);
            match m["type"].as_str() {
                Some("orderbook_snapshot") => local = Some(LocalBook::from_snapshot(&m["msg"])),
                Some("orderbook_delta") => {
                    local.as_mut().expect("snapshot first").apply(&m["msg"]);
                    deltas += 1;
                }
                _ => continue,
            }
            let seq = m["seq"].as_u64().expect("seq");
            assert_eq!(seq, last_seq + 1);
            last_seq = seq;
        }
    }
    assert!(
        deltas > 100,
        "the background market moves: {deltas} deltas in 1.5 s"
    );
    t.anon
        .raw_request(
            "POST",
            "/sim/admin/pause",
            Some(&json!({"paused": true})),
            None,
        )
        .await;
    loop {
        match ws.read(Duration::from_millis(300)).await {
            Read::Json(m) if m["type"] == "orderbook_delta" => {
                local.as_mut().expect("book").apply(&m["msg"])
            }
            Read::Json(_) | Read::Ping(_) => {}
            _ => break,
        }
    }
    let (_, rest) = t
        .anon
        .request("GET", &format!("/markets/{M0}/orderbook"), None)
        .await;
    assert_eq!(local.expect("book"), LocalBook::from_rest(&rest, true));

    // The probe saw each frame's send time.
    let (status, probe) = t
        .anon
        .raw_request("GET", "/sim/admin/probe", None, None)
        .await;
    assert_eq!(status, 200);
    assert!(
        probe["frames"].as_array().map_or(0, Vec::len) as u64 >= last_seq / 2,
        "{}",
        probe["frames"].as_array().map_or(0, Vec::len)
    );
    t.sim.shutdown().await;
}
