//! The risk gate, kill switches, modes and the paper venue, driven through
//! the gateway with a real book stage in front of it.

use pt_engine::model::{
    CommandAction, Event, EventKind, Liquidity, Mode, RejectCode, Scope, Side, order_flags,
};
use pt_engine::model::{OrderState, Qty, StrategyId};
use pt_gateway::{CancelRule, PaperConfig, RiskPolicy, Trading};
use pt_tests::gateway::{Harness, id, p, q, reports};

fn policy(text: &str) -> RiskPolicy {
    RiskPolicy::from_toml(text, "test policy").expect("valid policy")
}

fn reject_of(events: &[Event]) -> Option<RejectCode> {
    reports(events)
        .iter()
        .find(|r| r.header.kind == EventKind::Reject)
        .map(|r| r.reject_code)
}

/// Every gateway reject reason, each from one intent that trips it and
/// nothing else.
#[test]
fn every_reject_reason_has_a_case() {
    let mut covered = Vec::new();
    let mut expect = |h: &mut Harness, intent, code: RejectCode| {
        let got = reject_of(h.send(intent));
        assert_eq!(got, Some(code), "expected {}", code.name());
        assert!(h.gw.counters().rejected(code) >= 1);
        covered.push(code);
    };
    let fresh = |text: &str| {
        let mut h = Harness::new(
            Some(policy(text)),
            Mode::Paper,
            false,
            PaperConfig::default(),
        );
        for i in 0..4 {
            h.quote(i, "0.40", "0.45", 100);
        }
        h
    };
    let mut h = fresh("");
    let i = h.new_order(1, 1, 9, Side::Buy, "0.40", 1);
    expect(&mut h, i, RejectCode::UNKNOWN_INSTRUMENT);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.40", 1);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.39", 1);
    expect(&mut h, i, RejectCode::DUPLICATE_ID);
    let i = h.new_order(1, 3, 0, Side::Buy, "0.40", 0);
    expect(&mut h, i, RejectCode::BAD_QTY);
    let i = h.new_order(1, 4, 0, Side::Buy, "1.00", 1);
    expect(&mut h, i, RejectCode::BAD_PRICE);
    let i = h.new_order(1, 5, 0, Side::Buy, "0.405", 1);
    expect(&mut h, i, RejectCode::OFF_GRID);
    let i = h.new_order(1, 6, 0, Side::Buy, "0.30", 101);
    expect(&mut h, i, RejectCode::MAX_QTY);
    let mut h = fresh("[order]\nmax_notional = \"5\"\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 20);
    expect(&mut h, i, RejectCode::MAX_NOTIONAL);
    // Collar: 10 ticks or 5% through the opposite best (0.45).
    let mut h = fresh("[order]\ncollar_pct = \"0\"\ncollar_ticks = 3\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.49", 1);
    expect(&mut h, i, RejectCode::PRICE_COLLAR);
    let mut h = fresh("[order]\ncollar_ticks = 0\ncollar_pct = \"0.05\"\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.48", 1);
    expect(&mut h, i, RejectCode::PRICE_COLLAR);
    let mut h = fresh("");
    h.market(pt_engine::model::MarketEvent {
        header: pt_engine::model::Header::new(
            EventKind::Status,
            pt_engine::model::InstrumentId(1),
            0,
            pt_engine::model::Nanos(h.now),
        ),
        status: pt_engine::model::MarketStatus::Paused,
        ..Default::default()
    });
    let i = h.new_order(1, 1, 1, Side::Buy, "0.40", 1);
    expect(&mut h, i, RejectCode::MARKET_NOT_OPEN);
    let mut h = Harness::paper();
    let i = h.new_order(1, 1, 0, Side::Buy, "0.40", 1);
    expect(&mut h, i, RejectCode::BOOK_STALE);
    let mut h = fresh("");
    let i = h.new_order(1, 1, 0, Side::Sell, "0.44", 1);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(2, 1, 0, Side::Buy, "0.44", 1);
    expect(&mut h, i, RejectCode::SELF_CROSS);
    let mut i = h.new_order(1, 2, 2, Side::Sell, "0.50", 1);
    i.order_flags = order_flags::REDUCE_ONLY;
    expect(&mut h, i, RejectCode::REDUCE_ONLY);
    let mut h = fresh("[instrument]\nmax_position = \"10\"\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 11);
    expect(&mut h, i, RejectCode::POSITION_LIMIT);
    let mut h = fresh("[instrument]\nmax_exposure = \"3\"\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 11);
    expect(&mut h, i, RejectCode::EXPOSURE_LIMIT);
    let mut h = fresh("[event]\nmax_position = \"15\"\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 10);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(1, 2, 1, Side::Buy, "0.30", 10);
    expect(&mut h, i, RejectCode::EVENT_POSITION_LIMIT);
    let mut h = fresh("[event]\nmax_exposure = \"5\"\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 10);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(1, 2, 1, Side::Buy, "0.30", 10);
    expect(&mut h, i, RejectCode::EVENT_EXPOSURE_LIMIT);
    let mut h = fresh("[strategy]\nmax_open_orders = 1\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.31", 1);
    expect(&mut h, i, RejectCode::STRATEGY_OPEN_ORDERS);
    let mut h = fresh("[global]\nmax_open_orders = 1\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(2, 1, 0, Side::Buy, "0.31", 1);
    expect(&mut h, i, RejectCode::GLOBAL_OPEN_ORDERS);
    let mut h = fresh("[rate]\ncapacity = 10\nrefill_per_second = 1\n");
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.31", 1);
    expect(&mut h, i, RejectCode::RATE_LIMIT);
    let mut h = fresh("");
    h.command(CommandAction::TripKillSwitch, Scope::Strategy, 1, 0);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    expect(&mut h, i, RejectCode::KILL_SWITCH);
    h.command(CommandAction::SetReducing, Scope::Strategy, 1, 0);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.30", 1);
    expect(&mut h, i, RejectCode::REDUCING_ONLY);
    let mut h = fresh("");
    let i = h.cancel(1, 1, id(1, 99));
    expect(&mut h, i, RejectCode::UNKNOWN_ORDER);
    let mut h = Harness::new(
        None,
        Mode::Paper,
        false,
        PaperConfig {
            arrival_ns: 1_000_000,
            ..PaperConfig::default()
        },
    );
    for i in 0..4 {
        h.quote(i, "0.40", "0.45", 100);
    }
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), None);
    let i = h.cancel(1, 2, id(1, 1));
    expect(&mut h, i, RejectCode::NOT_CANCELLABLE);
    let mut h = Harness::new(
        Some(RiskPolicy::default()),
        Mode::Live,
        false,
        PaperConfig::default(),
    );
    h.quote(0, "0.40", "0.45", 100);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    expect(&mut h, i, RejectCode::LIVE_DISABLED);
    let mut h = Harness::new(None, Mode::Live, true, PaperConfig::default());
    h.quote(0, "0.40", "0.45", 100);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    expect(&mut h, i, RejectCode::NO_RISK_POLICY);
    let mut h = fresh("[strategy]\ndaily_loss = \"1\"\n");
    // Buy 10 at 0.45 (taking the ask), then the market falls: the loss trips.
    let i = h.new_order(1, 1, 0, Side::Buy, "0.45", 10);
    h.send(i);
    h.quote(0, "0.20", "0.25", 100);
    assert_eq!(
        h.gw.kill_switches().strategy(StrategyId(1)).0,
        Trading::Halted
    );
    let i = h.new_order(1, 2, 0, Side::Buy, "0.20", 1);
    expect(&mut h, i, RejectCode::DAILY_LOSS);
    // JOURNAL and NO_VENUE need a failing journal and a disconnected venue:
    // `nothing_is_sent_that_the_journal_refused_and_live_needs_a_connected_venue`.
    let missing: Vec<_> = RejectCode::GATEWAY
        .iter()
        .filter(|c| {
            !covered.contains(c) && **c != RejectCode::RISK_LIMIT && **c != RejectCode::JOURNAL
        })
        .filter(|c| **c != RejectCode::NO_VENUE)
        .map(|c| c.name())
        .collect();
    assert!(missing.is_empty(), "reasons without a case: {missing:?}");
}

#[test]
fn a_kill_switch_rejects_new_orders_cancels_open_ones_and_lets_cancels_through() {
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 100);
    for k in 1..=3 {
        let i = h.new_order(1, k, 0, Side::Buy, &format!("0.3{k}"), 1);
        assert_eq!(reject_of(h.send(i)), None);
    }
    let i = h.new_order(2, 1, 0, Side::Buy, "0.35", 1);
    h.send(i);
    assert_eq!(h.gw.oms().open(), 4);
    let out = reports(h.command(CommandAction::TripKillSwitch, Scope::Strategy, 1, 0));
    let cancelled: Vec<_> = out
        .iter()
        .filter(|r| r.header.kind == EventKind::Cancelled)
        .map(|r| r.client_order_id)
        .collect();
    assert_eq!(cancelled, vec![id(1, 1), id(1, 2), id(1, 3)]);
    assert_eq!(h.gw.oms().open(), 1, "strategy 2's order stays");
    // Strategy 2 still trades; strategy 1 may still cancel.
    let i = h.cancel(2, 2, id(2, 1));
    assert_eq!(reject_of(h.send(i)), None);
    assert_eq!(h.gw.oms().open(), 0);
    h.command(CommandAction::ResetKillSwitch, Scope::Strategy, 1, 0);
    let i = h.new_order(1, 10, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), None);
}

#[test]
fn live_needs_the_switch_a_policy_and_healthy_kill_switches_and_modes_are_recorded() {
    let mut h = Harness::new(
        Some(RiskPolicy::default()),
        Mode::Live,
        true,
        PaperConfig::default(),
    );
    h.quote(0, "0.40", "0.45", 100);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    let out = reports(h.send(i));
    assert_eq!(out[0].header.kind, EventKind::Ack);
    assert_eq!(
        (out[0].requested_mode, out[0].effective_mode),
        (Mode::Live, Mode::Live)
    );
    assert_eq!(h.gw.live().writes, 1);
    // The global switch halts: live is refused even for a fresh order.
    h.command(CommandAction::SetReducing, Scope::Global, 0, 0);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), Some(RejectCode::KILL_SWITCH));
    h.command(CommandAction::ResetKillSwitch, Scope::Global, 0, 0);
    // Switching to paper: the next order stays off the venue.
    h.command(CommandAction::SetMode, Scope::Venue, 0, Mode::Paper as i64);
    let i = h.new_order(1, 3, 0, Side::Buy, "0.30", 1);
    let out = reports(h.send(i));
    assert_eq!(
        (out[0].requested_mode, out[0].effective_mode),
        (Mode::Paper, Mode::Paper)
    );
    assert_eq!(h.gw.live().writes, 1);
    // The approved intents in the journal carry their modes.
    let modes: Vec<_> =
        h.gw.journal()
            .iter()
            .filter_map(|(e, _)| match e {
                Event::Intent(i) if i.header.kind == EventKind::OrderNew => Some(i.effective_mode),
                _ => None,
            })
            .collect();
    assert_eq!(modes, vec![Mode::Live, Mode::Paper]);
}

#[test]
fn a_staged_policy_replaces_the_running_one_by_command() {
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 100);
    h.gw.stage_policy(2, policy("[order]\nmax_qty = \"5\"\n"));
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 10);
    assert_eq!(reject_of(h.send(i)), None);
    h.command(CommandAction::ReloadRisk, Scope::Global, 0, 7);
    assert_eq!(h.gw.counters().unknown_policy, 1);
    assert_eq!(h.gw.policy_version(), 0);
    h.command(CommandAction::ReloadRisk, Scope::Global, 0, 2);
    assert_eq!(h.gw.policy_version(), 2);
    let i = h.new_order(1, 2, 0, Side::Buy, "0.30", 10);
    assert_eq!(reject_of(h.send(i)), Some(RejectCode::MAX_QTY));
}

#[test]
fn a_crossing_order_walks_the_levels_and_never_takes_the_same_contracts_twice() {
    let mut h = Harness::paper();
    h.level(0, Side::Sell, "0.45", 3);
    h.level(0, Side::Sell, "0.46", 4);
    h.level(0, Side::Buy, "0.40", 5);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.46", 10);
    let out = reports(h.send(i));
    let fills: Vec<_> = out
        .iter()
        .filter(|r| r.header.kind == EventKind::Fill)
        .map(|r| (r.price, r.qty, r.liquidity))
        .collect();
    assert_eq!(
        fills,
        vec![
            (p("0.45"), q(3), Liquidity::Taker),
            (p("0.46"), q(4), Liquidity::Taker)
        ]
    );
    let o = h.gw.oms().get(id(1, 1)).expect("rests the rest");
    assert_eq!((o.state, o.cum_qty), (OrderState::PartiallyFilled, q(7)));
    // Fees are the venue's: 0.07 × 3 × 0.45 × 0.55 = 0.051975 → 0.052 + rounding.
    assert!(
        out.iter()
            .all(|r| r.header.kind != EventKind::Fill || r.fee.raw() > 0)
    );
    // A second order finds nothing left at those levels.
    let i = h.new_order(2, 1, 0, Side::Buy, "0.46", 1);
    h.gw.stage_policy(9, policy("[order]\nallow_self_cross = true\n"));
    let out = reports(h.send(i));
    assert!(out.iter().all(|r| r.header.kind != EventKind::Fill));
    let ledger = h.gw.ledger(Mode::Paper);
    assert_eq!(ledger.position(pt_engine::model::InstrumentId(0)).qty, q(7));
    ledger.balanced().expect("balanced");
}

#[test]
fn a_resting_order_waits_for_the_queue_ahead_of_it() {
    for rule in [CancelRule::Back, CancelRule::ProRata] {
        let mut h = Harness::new(
            Some(RiskPolicy::default()),
            Mode::Paper,
            false,
            PaperConfig {
                cancel_rule: rule,
                ..PaperConfig::default()
            },
        );
        h.quote(0, "0.40", "0.45", 10);
        let i = h.new_order(1, 1, 0, Side::Buy, "0.40", 5);
        h.send(i);
        assert_eq!(h.gw.paper().queue_ahead(id(1, 1)), Some(q(10)));
        // 4 trade at our price: 6 ahead. The level then shows the trade.
        let out = reports(h.trade(0, Side::Sell, "0.40", 4));
        assert!(out.is_empty());
        h.level(0, Side::Buy, "0.40", 6);
        assert_eq!(h.gw.paper().queue_ahead(id(1, 1)), Some(q(6)));
        // 3 cancel at the level (6 → 3): from the back our queue stays
        // ahead of the level... clamped to 3; pro rata 6 − 3 × 6/6 = 3.
        h.level(0, Side::Buy, "0.40", 3);
        assert_eq!(h.gw.paper().queue_ahead(id(1, 1)), Some(q(3)));
        // A trade of 5 at our price: 3 ahead, 2 fill us.
        let out = reports(h.trade(0, Side::Sell, "0.40", 5));
        let fills: Vec<_> = out
            .iter()
            .filter(|r| r.header.kind == EventKind::Fill)
            .map(|r| (r.qty, r.liquidity))
            .collect();
        assert_eq!(fills, vec![(q(2), Liquidity::Maker)], "{rule:?}");
        // A trade through our price fills the rest.
        let out = reports(h.trade(0, Side::Sell, "0.39", 10));
        assert_eq!(
            out.iter()
                .filter(|r| r.header.kind == EventKind::Fill)
                .map(|r| r.qty)
                .collect::<Vec<_>>(),
            vec![q(3)]
        );
        assert!(
            h.gw.oms().get(id(1, 1)).is_none(),
            "filled orders leave the OMS"
        );
        assert_eq!(
            h.gw.ledger(Mode::Paper)
                .position(pt_engine::model::InstrumentId(0))
                .qty,
            q(5)
        );
    }
    // Pro rata differs from back when cancels leave the level above the queue.
    let ahead = |rule| {
        let mut h = Harness::new(
            Some(RiskPolicy::default()),
            Mode::Paper,
            false,
            PaperConfig {
                cancel_rule: rule,
                ..PaperConfig::default()
            },
        );
        h.quote(0, "0.40", "0.45", 10);
        let i = h.new_order(1, 1, 0, Side::Buy, "0.40", 5);
        h.send(i);
        h.level(0, Side::Buy, "0.40", 15);
        h.level(0, Side::Buy, "0.40", 12);
        h.gw.paper().queue_ahead(id(1, 1)).unwrap()
    };
    assert_eq!(ahead(CancelRule::Back), q(10));
    assert_eq!(
        ahead(CancelRule::ProRata),
        Qty::from_raw(q(10).raw() - q(3).raw() * 10 / 15)
    );
}

#[test]
fn latency_delays_the_venues_answers_and_a_silent_venue_makes_orders_unknown() {
    let config = PaperConfig {
        arrival_ns: 2_000,
        report_ns: 3_000,
        ..PaperConfig::default()
    };
    let mut h = Harness::new(Some(RiskPolicy::default()), Mode::Paper, false, config);
    h.quote(0, "0.40", "0.45", 10);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    assert!(reports(h.send(i)).is_empty());
    assert!(h.advance(1_000).is_empty());
    let out = reports(h.advance(4_500));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].header.kind, EventKind::Ack);
    // A live order to a venue that never answers: unknown after the timeout.
    let mut h = Harness::new(
        Some(RiskPolicy::default()),
        Mode::Paper,
        false,
        PaperConfig {
            arrival_ns: i64::MAX / 4,
            ..config
        },
    );
    h.quote(0, "0.40", "0.45", 10);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    h.send(i);
    let out = reports(h.advance(6_000_000_000));
    assert_eq!(out[0].header.kind, EventKind::OrderUnknown);
    assert_eq!(h.gw.oms().get(id(1, 1)).unwrap().state, OrderState::Unknown);
    assert_eq!(h.gw.oms().counters().timeouts, 1);
}

/// A journal that refuses every write after `ok` of them.
struct FailingJournal {
    ok: usize,
}

impl pt_gateway::WriteAhead for FailingJournal {
    fn append(&mut self, _: &Event, _: pt_engine::model::Nanos) -> Result<(), String> {
        if self.ok == 0 {
            return Err("disk full".to_owned());
        }
        self.ok -= 1;
        Ok(())
    }
}

#[test]
fn nothing_is_sent_that_the_journal_refused_and_live_needs_a_connected_venue() {
    use pt_engine::graph::Out;
    use pt_engine::model::Nanos;
    use pt_gateway::{Disconnected, Gateway, GatewayConfig, Markets, PaperVenue, VenueConfig};
    let registry = pt_tests::gateway::registry();
    let markets = Markets::new(&registry, |_| pt_engine::contract::FeeModel::default());
    let build = |mode, journal| {
        let config = GatewayConfig {
            venues: vec![VenueConfig {
                mode,
                live_enabled: true,
            }],
            ..GatewayConfig::default()
        };
        let paper = PaperVenue::new(&registry, &markets, PaperConfig::default());
        Gateway::new(
            markets.clone(),
            Some(RiskPolicy::default()),
            &config,
            paper,
            Disconnected,
            journal,
        )
    };
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 10);
    let book: Vec<Event> = h.gw.journal().iter().map(|(e, _)| *e).collect();
    let mut out = Out::new(8);
    let intent = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    let feed = |gw: &mut Gateway<PaperVenue, Disconnected, FailingJournal>| {
        let mut b = pt_engine::book::BookStage::new(
            registry
                .instruments()
                .iter()
                .map(|i| (i.id, i.grid.clone())),
        )
        .unwrap();
        b.set_whole(pt_engine::model::InstrumentId(0));
        for (side, px) in [(Side::Buy, "0.40"), (Side::Sell, "0.45")] {
            let m = pt_engine::model::MarketEvent {
                header: pt_engine::model::Header::new(
                    EventKind::LevelSet,
                    pt_engine::model::InstrumentId(0),
                    1,
                    Nanos(1),
                ),
                side,
                price: p(px),
                qty: q(10),
                ..Default::default()
            };
            let u = b.apply(&m).unwrap();
            gw.on_event(&Event::Book(u), Nanos(1), &mut Out::new(8));
        }
    };
    assert!(book.is_empty(), "book updates are not journaled");
    let mut gw = build(Mode::Paper, FailingJournal { ok: 0 });
    feed(&mut gw);
    gw.on_event(&Event::Intent(intent), Nanos(2), &mut out);
    assert_eq!(reject_of(out.as_slice()), Some(RejectCode::JOURNAL));
    assert_eq!(gw.oms().open(), 0, "a refused write leaves no order");
    assert_eq!(
        gw.paper().counters().resting,
        0,
        "and nothing reached the venue"
    );
    assert_eq!(
        gw.counters().journal_failures,
        2,
        "the intent and its reject"
    );
    let mut gw = build(Mode::Live, FailingJournal { ok: 100 });
    feed(&mut gw);
    out.clear();
    gw.on_event(&Event::Intent(intent), Nanos(2), &mut out);
    assert_eq!(reject_of(out.as_slice()), Some(RejectCode::NO_VENUE));
}

/// The gateway in a fused graph behind the book stage: market data to the
/// books and to the gateway (its paper venue keeps its own depth), book
/// updates from the books, intents in, execution reports out: the same
/// reports as direct calls.
#[test]
fn the_gateway_runs_as_a_graph_node_with_the_same_outputs() {
    use pt_engine::graph::{FusedGraph, GraphSpec};
    use pt_engine::model::{Family, Mono, Nanos};
    use pt_gateway::GatewayNode;
    let mut direct = Harness::paper();
    let graph_harness = Harness::paper();
    let mut spec = GraphSpec::new();
    spec.node(Box::new(graph_harness.books));
    spec.node(Box::new(GatewayNode::new(graph_harness.gw)));
    spec.input("md", Family::Market, "book");
    spec.link("books", Family::Book, "book", "gateway");
    spec.input("md_paper", Family::Market, "gateway");
    spec.input("intents", Family::Intent, "gateway");
    spec.output("exec", Family::Exec, "gateway");
    let mut graph = FusedGraph::new(spec).expect("valid graph");
    let md = graph.link_id("md").unwrap();
    let intents = graph.link_id("intents").unwrap();
    let md_paper = graph.link_id("md_paper").unwrap();
    let mut seen = Vec::new();
    let mut run = |graph: &mut FusedGraph<Event>, h: &mut Harness, step: u64| {
        let instrument = (step % 2) as u32;
        let side = if step.is_multiple_of(3) {
            Side::Sell
        } else {
            Side::Buy
        };
        h.level(
            instrument,
            side,
            if side == Side::Buy { "0.40" } else { "0.45" },
            10 + step as i64,
        );
        let i = h.new_order(1, step + 1, instrument, Side::Buy, "0.45", 2);
        h.send(i);
        let m = pt_engine::model::MarketEvent {
            header: pt_engine::model::Header::new(
                EventKind::LevelSet,
                pt_engine::model::InstrumentId(instrument),
                step,
                Nanos(h.now),
            ),
            side,
            price: p(if side == Side::Buy { "0.40" } else { "0.45" }),
            qty: q(10 + step as i64),
            ..Default::default()
        };
        graph
            .send(
                md_paper,
                Event::Market(m),
                Nanos(h.now),
                Mono::UNSET,
                &mut |_, e| seen.push(e),
            )
            .unwrap();
        graph
            .send(
                md,
                Event::Market(m),
                Nanos(h.now),
                Mono::UNSET,
                &mut |_, e| seen.push(e),
            )
            .unwrap();
        graph
            .send(
                intents,
                Event::Intent(i),
                Nanos(h.now),
                Mono::UNSET,
                &mut |_, e| seen.push(e),
            )
            .unwrap();
    };
    for step in 0..30 {
        run(&mut graph, &mut direct, step);
    }
    let from_graph: Vec<_> = reports(&seen)
        .iter()
        .map(|r| (r.header.kind, r.client_order_id, r.qty, r.price, r.fee))
        .collect();
    let direct_reports: Vec<_> = direct
        .gw
        .journal()
        .iter()
        .filter_map(|(e, _)| match e {
            Event::Exec(r) => Some((r.header.kind, r.client_order_id, r.qty, r.price, r.fee)),
            _ => None,
        })
        .collect();
    assert!(from_graph.iter().any(|r| r.0 == EventKind::Fill));
    assert_eq!(from_graph, direct_reports);
}

#[test]
fn flatten_cancels_then_closes_and_reports_pending_until_the_venue_confirms() {
    use pt_gateway::{FlattenProblem, FlattenState};
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 10);
    h.quote(2, "0.50", "0.55", 10);
    // Long 6 of market 0 (taking the ask), short 4 of market 2, a resting bid.
    let i = h.new_order(1, 1, 0, Side::Buy, "0.45", 6);
    h.send(i);
    let i = h.new_order(1, 2, 2, Side::Sell, "0.50", 4);
    h.send(i);
    let i = h.new_order(1, 3, 0, Side::Buy, "0.30", 2);
    h.send(i);
    let ledger = h.gw.ledger(Mode::Paper);
    assert_eq!(ledger.position(pt_engine::model::InstrumentId(0)).qty, q(6));
    assert_eq!(
        ledger.position(pt_engine::model::InstrumentId(2)).qty,
        q(-4)
    );
    let out = reports(h.command(CommandAction::Flatten, Scope::Global, 0, 0));
    // The resting bid is cancelled, then each position closes at the opposite best.
    assert_eq!(out[0].header.kind, EventKind::Cancelled);
    let fills: Vec<_> = out
        .iter()
        .filter(|r| r.header.kind == EventKind::Fill)
        .map(|r| (r.header.instrument.0, r.side, r.price, r.qty))
        .collect();
    assert_eq!(
        fills,
        vec![
            (0, Side::Sell, p("0.40"), q(6)),
            (2, Side::Buy, p("0.55"), q(4))
        ]
    );
    assert_eq!(h.gw.flatten_status().state, FlattenState::Flat);
    let ledger = h.gw.ledger(Mode::Paper);
    assert!(ledger.holdings().all(|(_, p)| p.qty == Qty::ZERO));
    ledger.balanced().unwrap();
    // A strategy can only reduce during and after a flatten until reset.
    let i = h.new_order(1, 4, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(i)), Some(RejectCode::REDUCING_ONLY));

    // With latency the venue's confirmations are pending for a while.
    let config = PaperConfig {
        arrival_ns: 5_000,
        ..PaperConfig::default()
    };
    let mut h = Harness::new(Some(RiskPolicy::default()), Mode::Paper, false, config);
    h.quote(0, "0.40", "0.45", 10);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.45", 6);
    h.send(i);
    h.advance(10_000);
    h.command(CommandAction::Flatten, Scope::Strategy, 1, 0);
    let s = h.gw.flatten_status().state;
    assert_eq!(s, FlattenState::ClosingSent);
    assert!(s.pending_venue_confirmation());
    h.advance(10_000);
    assert_eq!(h.gw.flatten_status().state, FlattenState::Flat);

    // No bid to sell into: degraded, with the reason.
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 10);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.45", 3);
    h.send(i);
    h.level(0, Side::Buy, "0.40", 0);
    h.command(CommandAction::Flatten, Scope::Global, 0, 0);
    let s = h.gw.flatten_status().state;
    assert_eq!(
        s,
        FlattenState::Degraded(FlattenProblem::NoPrice(pt_engine::model::InstrumentId(0)))
    );
    assert!(!s.pending_venue_confirmation());
}

#[test]
fn stopping_a_strategy_cancels_its_orders_only_and_a_rebuilt_gateway_remembers() {
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 100);
    let mine = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    assert_eq!(reject_of(h.send(mine)), None);
    let theirs = h.new_order(2, 1, 0, Side::Buy, "0.31", 1);
    assert_eq!(reject_of(h.send(theirs)), None);
    let out: Vec<Event> = h
        .command(CommandAction::SetRunning, Scope::Strategy, 1, 0)
        .to_vec();
    let cancels: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Event::Exec(r) if r.header.kind == EventKind::Cancelled => Some(r.client_order_id),
            _ => None,
        })
        .collect();
    assert_eq!(cancels, vec![mine.client_order_id], "{out:?}");
    assert!(h.gw.strategy_stopped(StrategyId(1)));
    assert!(!h.gw.strategy_stopped(StrategyId(2)));
    let rebuilt = h.rebuilt(None, Mode::Paper, false);
    assert!(rebuilt.strategy_stopped(StrategyId(1)));
    h.command(CommandAction::SetRunning, Scope::Strategy, 1, 1);
    assert!(!h.gw.strategy_stopped(StrategyId(1)));
    assert!(
        !h.rebuilt(None, Mode::Paper, false)
            .strategy_stopped(StrategyId(1))
    );
}
