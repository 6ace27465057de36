//! The gateway trading live on `pt sim` over TLS on loopback through the
//! Kalshi venue edge: acks pair the venue's order id with ours, fills come
//! from the `fill` channel with their trade ids, cancels are confirmed by
//! `user_order`, venue refusals carry the venue's code, a create resent
//! after a restart (409) is reported unknown and never placed twice, and a
//! shadow gateway writes nothing to the venue.

use pt_engine::model::{
    Event, EventKind, ExecReport, InstrumentId, Mode, OrderState, Side, order_flags,
};
use pt_gateway::kalshi::{ForeignOrders, KalshiConfig, KalshiVenue, codes};
use pt_gateway::{PaperConfig, RiskPolicy};
use pt_net::presign::PresignConfig;
use pt_net::{HttpTarget, WsConfig, tls};
use pt_sim::auth::{KeyStore, signer_for};
use pt_sim::client::Client;
use pt_sim::server::{Running, SimConfig, start_with_keys};
use pt_tests::gateway::{Harness, q, reports};
use serde_json::json;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn keys() -> &'static (rsa::RsaPrivateKey, rsa::RsaPrivateKey) {
    static KEYS: OnceLock<(rsa::RsaPrivateKey, rsa::RsaPrivateKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand::thread_rng();
        (
            rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap(),
            rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap(),
        )
    })
}

struct Sim {
    rt: tokio::runtime::Runtime,
    running: Running,
    tickers: Vec<String>,
    maker: Client,
    engine: Client,
}

fn sim() -> Sim {
    sim_lagging(0)
}

/// A simulator whose account reads lag by `lag_ms`.
fn sim_lagging(lag_ms: u64) -> Sim {
    sim_with(SimConfig {
        markets: 4,
        rate: 0,
        user_data_lag_ms: lag_ms,
        ..SimConfig::default()
    })
}

/// A simulator with `config`, keys for the engine and a maker.
fn sim_with(config: SimConfig) -> Sim {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (engine_key, maker_key) = keys();
    let mut store = KeyStore::empty();
    store.insert("engine", engine_key.to_public_key());
    store.insert("maker", maker_key.to_public_key());
    let running = rt.block_on(start_with_keys(config, store)).unwrap();
    let tickers = pt_sim::server::market_specs(running.shared.config.markets, 0)
        .into_iter()
        .map(|m| m.ticker)
        .collect();
    let maker = Client::new(&running, Some(Arc::new(signer_for("maker", maker_key))));
    let engine = Client::new(&running, Some(Arc::new(signer_for("engine", engine_key))));
    Sim {
        rt,
        running,
        tickers,
        maker,
        engine,
    }
}

impl Sim {
    /// The maker rests `count` at `price` on market `m`.
    fn rest(&self, m: usize, side: &str, price: &str, count: &str) {
        let body = json!({
            "ticker": self.tickers[m], "side": side, "count": count, "price": price,
            "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross",
        });
        let (status, v) = self.rt.block_on(self.maker.request(
            "POST",
            "/portfolio/events/orders",
            Some(&body),
        ));
        assert_eq!(status, 201, "{v}");
    }

    /// The engine account's orders at the venue, once its reads have caught
    /// up with now.
    fn engine_orders(&self) -> Vec<serde_json::Value> {
        let asked = pt_sim::server::now_ms();
        loop {
            let (status, v) = self.rt.block_on(self.engine.request(
                "GET",
                "/exchange/user_data_timestamp",
                None,
            ));
            assert_eq!(status, 200, "{v}");
            let as_of = v["as_of_time"].as_str().unwrap().as_bytes();
            let as_of = pt_feed::kalshi::parse_rfc3339(as_of).unwrap().0 / 1_000_000;
            if as_of > asked {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let (status, v) = self
            .rt
            .block_on(self.engine.request("GET", "/portfolio/orders", None));
        assert_eq!(status, 200, "{v}");
        v["orders"].as_array().cloned().unwrap_or_default()
    }

    fn venue(&self) -> KalshiVenue {
        self.venue_with(ForeignOrders::Cancel)
    }

    fn venue_with(&self, foreign: ForeignOrders) -> KalshiVenue {
        self.venue_grouped(foreign, None)
    }

    /// With `order_groups`: (strategies, contracts per 15 s).
    fn venue_grouped(
        &self,
        foreign: ForeignOrders,
        order_groups: Option<(u16, u64)>,
    ) -> KalshiVenue {
        let ca = self.running.ca_pem.as_deref().unwrap();
        let cfg = tls::client_config_from_ca_pem(ca, std::path::Path::new("(sim CA)")).unwrap();
        let port = self.running.addr.port();
        let mut ws = WsConfig::new("127.0.0.1", port, pt_net::auth::WS_PATH);
        ws.tls = Some(cfg.clone());
        let config = KalshiConfig {
            rest: HttpTarget::resolve("127.0.0.1", port, Some(&cfg)).unwrap(),
            ws,
            tickers: self.tickers.clone(),
            presign: PresignConfig::default(),
            max_in_flight: 16,
            foreign,
            order_groups,
        };
        KalshiVenue::connect(config, Arc::new(signer_for("engine", &keys().0))).unwrap()
    }
}

type Live = Harness<KalshiVenue>;

fn harness(venue: KalshiVenue, mode: Mode) -> Live {
    // A venue tier's order budget, so that the venue's limit is the one hit.
    let policy = RiskPolicy::from_toml(
        "[rate]\ncapacity = 100000\nrefill_per_second = 100000\n",
        "test policy",
    )
    .unwrap();
    let mut h = Harness::with_live(Some(policy), mode, true, PaperConfig::default(), venue);
    for m in 0..4 {
        h.quote(m, "0.40", "0.60", 50);
    }
    h
}

/// Polls the gateway until `done` holds for the reports seen so far.
fn until(
    h: &mut Live,
    what: &str,
    mut done: impl FnMut(&Live, &[ExecReport]) -> bool,
) -> Vec<ExecReport> {
    let deadline = Instant::now() + Duration::from_secs(15);
    // What the last `send` emitted comes first.
    let mut seen = reports(h.out.as_slice());
    loop {
        let out: Vec<ExecReport> = h
            .advance(100_000)
            .iter()
            .filter_map(|e| match e {
                Event::Exec(r) => Some(*r),
                _ => None,
            })
            .collect();
        seen.extend(out);
        if done(h, &seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; reports {seen:?}; {:?}",
            h.gw.live()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn kinds(reports: &[ExecReport]) -> Vec<EventKind> {
    reports.iter().map(|r| r.header.kind).collect()
}

#[test]
fn orders_trade_live_on_the_sim_and_state_follows_the_channels() {
    // The account reads lag the exchange by 300 ms, as Kalshi's do.
    let sim = sim_lagging(300);
    sim.rest(0, "ask", "0.6000", "5.00");
    sim.rest(0, "bid", "0.4000", "5.00");
    let mut h = harness(sim.venue(), Mode::Live);
    until(&mut h, "the venue edge to connect", |h, _| {
        h.gw.live().reconciled()
    });

    // A resting quote: acked with the venue's order id.
    let quote = h.new_order(1, 1, 0, Side::Buy, "0.45", 3);
    let mut quote = quote;
    quote.order_flags = order_flags::POST_ONLY;
    quote.requested_mode = Mode::Live;
    h.send(quote);
    let id = quote.client_order_id;
    let acked = until(&mut h, "the ack", |_, r| {
        r.iter().any(|r| r.header.kind == EventKind::Ack)
    });
    let ack = acked
        .iter()
        .find(|r| r.header.kind == EventKind::Ack)
        .unwrap();
    assert_eq!(ack.client_order_id, id);
    assert!(
        ack.venue_order_id().is_some(),
        "the ack pairs the venue's id with ours"
    );
    assert_eq!(h.gw.oms().get(id).unwrap().state, OrderState::Acked);
    let at_venue = sim.engine_orders();
    assert_eq!(at_venue.len(), 1);
    assert_eq!(at_venue[0]["client_order_id"], "pt-1-1");
    // Its queue position: first at its price.
    let path = format!(
        "/portfolio/orders/{}/queue_position",
        at_venue[0]["order_id"].as_str().unwrap()
    );
    let (status, qp) = sim.rt.block_on(sim.engine.request("GET", &path, None));
    assert_eq!(
        (status, qp["queue_position_fp"].as_str()),
        (200, Some("0.00")),
        "{qp}"
    );
    let (status, all) = sim.rt.block_on(sim.engine.request(
        "GET",
        "/portfolio/orders/queue_positions",
        None,
    ));
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["queue_positions"].as_array().map(Vec::len), Some(1));

    // Cancelled: confirmed by the user_order channel.
    let cancel = h.cancel(1, 2, id);
    h.send(cancel);
    until(&mut h, "the cancel", |h, _| h.gw.oms().get(id).is_none());
    assert!(sim.engine_orders().iter().all(|o| o["status"] != "resting"));

    // A taker order: its fill arrives on the fill channel with a trade id.
    let mut take = h.new_order(1, 3, 0, Side::Buy, "0.60", 2);
    take.time_in_force = pt_engine::model::TimeInForce::ImmediateOrCancel;
    h.send(take);
    let filled = until(&mut h, "the fill", |h, _| {
        h.gw.oms().get(take.client_order_id).is_none()
    });
    let fill = filled
        .iter()
        .find(|r| r.header.kind == EventKind::Fill)
        .expect("a fill");
    assert_eq!((fill.qty, fill.price), (q(2), pt_tests::gateway::p("0.60")));
    assert!(fill.trade_id().is_some());
    assert_eq!(h.gw.ledger(Mode::Live).position(InstrumentId(0)).qty, q(2));

    // A post-only order that would cross: the venue's code, counted.
    let mut cross = h.new_order(1, 4, 0, Side::Buy, "0.60", 1);
    cross.order_flags = order_flags::POST_ONLY;
    h.send(cross);
    let refused = until(&mut h, "the venue reject", |_, r| {
        r.iter().any(|r| r.header.kind == EventKind::Reject)
    });
    let reject = refused
        .iter()
        .find(|r| r.header.kind == EventKind::Reject)
        .unwrap();
    assert_eq!(
        codes::venue_code_name(reject.reject_code),
        "post_only_cross"
    );
    let c = h.gw.live().counters();
    assert_eq!((c.fills, c.duplicate_fills, c.rejects), (1, 0, 1), "{c:?}");
    assert_eq!(
        c.inline_signs, 0,
        "every create and cancel used a presigned signature"
    );

    // A restart that resends a resting order's id: the venue says it
    // exists; it is reported unknown and not placed again.
    let mut resting = h.new_order(1, 5, 0, Side::Sell, "0.55", 1);
    resting.order_flags = order_flags::POST_ONLY;
    h.send(resting);
    until(&mut h, "the resting order's ack", |h, _| {
        h.gw.oms()
            .get(resting.client_order_id)
            .is_some_and(|o| o.state == OrderState::Acked)
    });
    // Another engine on the same account, told to leave orders it does not
    // know, resends that id: the venue says it exists; the outcome is
    // unknown until reconciled, and nothing is placed twice.
    let mut h2 = harness(sim.venue_with(ForeignOrders::Leave), Mode::Live);
    until(&mut h2, "the second edge to reconcile", |h, _| {
        h.gw.live().reconciled()
    });
    assert!(h2.gw.live().counters().foreign_seen >= 1);
    let before = sim.engine_orders().len();
    h2.send(resting);
    let unknown = until(&mut h2, "the 409", |_, r| {
        r.iter().any(|r| r.header.kind == EventKind::OrderUnknown)
    });
    assert!(kinds(&unknown).contains(&EventKind::OrderUnknown));
    assert_eq!(h2.gw.live().counters().already_placed, 1);
    assert_eq!(
        sim.engine_orders().len(),
        before,
        "no second order for one client id"
    );
    until(&mut h2, "the unknown order to be reconciled", |h, _| {
        h.gw.oms()
            .get(resting.client_order_id)
            .is_some_and(|o| o.state == OrderState::Acked)
    });
    drop(h2);

    // The first engine stops; while it is down, its resting sell fills.
    let journal = h.gw.journal().clone();
    drop(h);
    sim.rest(0, "bid", "0.5500", "1.00");
    // A restart rebuilds from the journal and reconciles: the fill made
    // while it was down is booked once, the order is closed, and the
    // position matches the venue's.
    let mut h3 = harness(sim.venue(), Mode::Live);
    h3.gw.recover(journal.iter().map(|(e, at)| (e, *at)));
    assert!(h3.gw.oms().get(resting.client_order_id).is_some());
    assert!(
        !pt_gateway::venue::Venue::connected(h3.gw.live()),
        "no live order before reconciling"
    );
    let out = until(&mut h3, "the restart to reconcile", |h, _| {
        h.gw.live().reconciled()
    });
    let fills: Vec<_> = out
        .iter()
        .filter(|r| r.header.kind == EventKind::Fill)
        .collect();
    assert_eq!(fills.len(), 1, "{out:?}");
    assert_eq!(fills[0].client_order_id, resting.client_order_id);
    assert!(
        h3.gw.oms().get(resting.client_order_id).is_none(),
        "the filled order is closed"
    );
    assert_eq!(h3.gw.ledger(Mode::Live).position(InstrumentId(0)).qty, q(1));
    let c = h3.gw.live().counters();
    assert_eq!((c.reconciled_fills, c.reconciliations), (1, 1), "{c:?}");
    assert!(
        c.reconcile_waits >= 1,
        "it read before the venue's reads caught up: {c:?}"
    );
    assert_eq!(c.foreign_cancelled, 0, "its own orders are not foreign");
}

#[test]
fn shadow_mode_writes_nothing_to_the_venue() {
    let sim = sim();
    sim.rest(1, "ask", "0.6000", "5.00");
    let mut h = harness(sim.venue(), Mode::Shadow);
    until(&mut h, "the venue edge to connect", |h, _| {
        h.gw.live().reconciled()
    });
    let mut take = h.new_order(1, 1, 1, Side::Buy, "0.60", 2);
    take.requested_mode = Mode::Live;
    h.send(take);
    let out = until(&mut h, "the paper fill", |_, r| {
        r.iter().any(|r| r.header.kind == EventKind::Fill)
    });
    assert!(out.iter().all(|r| r.effective_mode == Mode::Shadow));
    let c = h.gw.live().counters();
    assert_eq!(c.writes, 0, "{c:?}");
    assert!(c.reads >= 2, "shadow reads the account: {c:?}");
    assert_eq!(pt_gateway::venue::Venue::external_writes(h.gw.live()), 0);
    assert!(
        sim.engine_orders().is_empty(),
        "the sim received an order in shadow mode"
    );
}

#[test]
fn a_rate_limited_or_paused_venue_is_waited_out_and_reported() {
    let faults = pt_sim::faults::Faults {
        rate_limit_tier: "basic".to_owned(),
        ..Default::default()
    };
    let sim = sim_with(SimConfig {
        markets: 4,
        rate: 0,
        faults,
        ..SimConfig::default()
    });
    let mut h = harness(sim.venue(), Mode::Live);
    until(&mut h, "the venue edge to reconcile", |h, _| {
        h.gw.live().reconciled()
    });
    // Basic's write bucket holds 100 tokens, ten creates: a burst of 16
    // meets 429s; the creates that follow wait rather than being sent.
    let mut n = 0;
    let mut wave = |h: &mut Live, count: u64| {
        let mut ids = Vec::new();
        for _ in 0..count {
            n += 1;
            let mut o = h.new_order(1, n, (n % 4) as u32, Side::Buy, "0.30", 1);
            o.order_flags = order_flags::POST_ONLY;
            h.send(o);
            ids.push(o.client_order_id);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ids.iter().all(|id| {
            h.gw.oms()
                .get(*id)
                .is_none_or(|o| o.state == OrderState::Acked)
        }) {
            h.advance(100_000);
            assert!(Instant::now() < deadline, "creates unanswered");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wave(&mut h, 16);
    wave(&mut h, 5);
    let c = h.gw.live().counters();
    assert!(c.rate_limited >= 1, "{c:?}");
    assert!(
        c.throttled >= 1,
        "creates were sent into an empty bucket: {c:?}"
    );
    let rate = h.gw.counters().rejects[0];
    assert!(
        rate >= c.rate_limited + c.throttled,
        "venue rejects counted by the gate: {rate}"
    );
    // After the wait, a create goes through again.
    std::thread::sleep(Duration::from_millis(1_200));
    h.advance(1_200_000_000);
    let mut later = h.new_order(1, 100, 0, Side::Buy, "0.31", 1);
    later.order_flags = order_flags::POST_ONLY;
    h.send(later);
    until(&mut h, "the create after the wait", |h, _| {
        h.gw.oms()
            .get(later.client_order_id)
            .is_some_and(|o| o.state == OrderState::Acked)
    });

    // A trading pause: creates are refused with the venue's reason, a
    // cancel still works.
    let (status, v) = sim.rt.block_on(sim.maker.raw_request(
        "POST",
        "/sim/admin/pause",
        Some(&json!({"paused": true})),
        None,
    ));
    assert_eq!(status, 200, "{v}");
    std::thread::sleep(Duration::from_millis(1_200));
    h.advance(1_200_000_000);
    let mut paused = h.new_order(1, 101, 1, Side::Buy, "0.31", 1);
    paused.order_flags = order_flags::POST_ONLY;
    h.send(paused);
    let out = until(&mut h, "the refusal in the pause", |_, r| {
        r.iter().any(|r| r.header.kind == EventKind::Reject)
    });
    let reject = out
        .iter()
        .find(|r| r.header.kind == EventKind::Reject)
        .unwrap();
    assert_eq!(
        codes::venue_code_name(reject.reject_code),
        "trading_is_paused"
    );
    let cancel = h.cancel(1, 102, later.client_order_id);
    h.send(cancel);
    until(&mut h, "the cancel in the pause", |h, _| {
        h.gw.oms().get(later.client_order_id).is_none()
    });
}

#[test]
fn a_strategys_order_group_cancels_its_orders_past_the_limit() {
    let sim = sim();
    // Strategy 1's group allows 3 contracts in 15 s.
    let mut h = harness(
        sim.venue_grouped(ForeignOrders::Cancel, Some((1, 3))),
        Mode::Live,
    );
    until(&mut h, "the venue edge to reconcile", |h, _| {
        h.gw.live().reconciled()
    });
    // A resting quote, then the maker takes 5 from another of ours: the
    // group passes its limit and the venue cancels the resting one.
    let mut resting = h.new_order(1, 1, 0, Side::Buy, "0.40", 2);
    resting.order_flags = order_flags::POST_ONLY;
    h.send(resting);
    let mut sell = h.new_order(1, 2, 1, Side::Sell, "0.55", 5);
    sell.order_flags = order_flags::POST_ONLY;
    h.send(sell);
    until(&mut h, "both acks", |h, _| {
        [resting.client_order_id, sell.client_order_id]
            .iter()
            .all(|id| {
                h.gw.oms()
                    .get(*id)
                    .is_some_and(|o| o.state == OrderState::Acked)
            })
    });
    sim.rest(1, "bid", "0.5500", "5.00");
    until(&mut h, "the group to cancel the resting quote", |h, _| {
        h.gw.oms().get(resting.client_order_id).is_none()
    });
    assert_eq!(h.gw.ledger(Mode::Live).position(InstrumentId(1)).qty, q(-5));
    // And new orders in the group are refused with the venue's reason.
    let mut more = h.new_order(1, 3, 0, Side::Buy, "0.40", 1);
    more.order_flags = order_flags::POST_ONLY;
    h.send(more);
    let out = until(&mut h, "the group's refusal", |_, r| {
        r.iter().any(|r| r.header.kind == EventKind::Reject)
    });
    let reject = out
        .iter()
        .find(|r| r.header.kind == EventKind::Reject)
        .unwrap();
    assert_eq!(
        codes::venue_code_name(reject.reject_code),
        "exceeded_order_group_risk_limit"
    );
    assert_eq!(h.gw.live().counters().inline_signs, 0);
}

#[test]
fn a_venue_that_is_down_is_retried_with_backoff_until_it_is_up() {
    // A port nothing listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = KalshiConfig {
        rest: HttpTarget::resolve("127.0.0.1", port, None).unwrap(),
        ws: WsConfig::new("127.0.0.1", port, pt_net::auth::WS_PATH),
        tickers: pt_sim::server::market_specs(4, 0)
            .into_iter()
            .map(|m| m.ticker)
            .collect(),
        presign: PresignConfig::default(),
        max_in_flight: 16,
        foreign: ForeignOrders::Cancel,
        order_groups: None,
    };
    let venue = KalshiVenue::connect(config, Arc::new(signer_for("engine", &keys().0))).unwrap();
    let mut h = harness(venue, Mode::Live);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        h.advance(100_000);
        std::thread::sleep(Duration::from_millis(2));
    }
    let c = h.gw.live().counters();
    assert!(!h.gw.live().reconciled());
    assert!(
        (2..=40).contains(&c.reconnects),
        "retried {} times in a second: backoff, not a spin",
        c.reconnects
    );
    // The venue comes up on that port: the edge connects and reconciles.
    let sim = sim_with(SimConfig {
        markets: 4,
        rate: 0,
        plain: true,
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        ..SimConfig::default()
    });
    until(&mut h, "the edge to reach the venue", |h, _| {
        h.gw.live().reconciled()
    });
    let mut o = h.new_order(1, 1, 0, Side::Buy, "0.40", 1);
    o.order_flags = order_flags::POST_ONLY;
    h.send(o);
    until(&mut h, "the ack", |h, _| {
        h.gw.oms()
            .get(o.client_order_id)
            .is_some_and(|x| x.state == OrderState::Acked)
    });
    drop(sim);
}
