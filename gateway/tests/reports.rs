//! Venue reports out of the usual order, amends and decreases in the paper
//! venue's queue, and settlement: what the OMS and the ledger make of them.

use pt_engine::model::{
    ClientOrderId, Event, EventKind, ExecReport, Header, InstrumentId, Liquidity, MarketEvent,
    MarketStatus, Mode, Money, Nanos, OrderIntent, OrderState, Price, Side, StrategyId,
};
use pt_gateway::{PaperConfig, RiskPolicy};
use pt_tests::gateway::{Harness, id, p, q, reports};

/// A paper venue that takes a millisecond to receive and to answer, so
/// that a report can be slipped in ahead of its answers.
fn slow() -> Harness {
    Harness::new(
        Some(RiskPolicy::default()),
        Mode::Paper,
        false,
        PaperConfig {
            arrival_ns: 1_000_000,
            report_ns: 1_000_000,
            ..PaperConfig::default()
        },
    )
}

/// A report for order `id` arriving on the gateway's exec link, as a venue
/// edge delivers one.
fn deliver(
    h: &mut Harness,
    kind: EventKind,
    id: ClientOrderId,
    qty: i64,
    cum: i64,
) -> Vec<ExecReport> {
    let r = ExecReport {
        header: Header::new(kind, InstrumentId(0), 0, Nanos(h.now)),
        client_order_id: id,
        venue_ref: [7; 16],
        price: p("0.40"),
        qty: q(qty),
        cum_qty: q(cum),
        side: Side::Buy,
        liquidity: Liquidity::Maker,
        requested_mode: Mode::Paper,
        effective_mode: Mode::Paper,
        ..ExecReport::default()
    };
    h.out.clear();
    h.gw.on_event(&Event::Exec(r), Nanos(h.now), &mut h.out);
    reports(h.out.as_slice())
}

fn state(h: &Harness, id: ClientOrderId) -> Option<OrderState> {
    h.gw.oms().get(id).map(|o| o.state)
}

#[test]
fn a_fill_before_its_ack_is_booked_once_and_the_late_ack_changes_nothing() {
    let mut h = slow();
    h.quote(0, "0.40", "0.45", 20);
    let o = h.new_order(1, 1, 0, Side::Buy, "0.40", 5);
    h.send(o);
    assert_eq!(state(&h, o.client_order_id), Some(OrderState::PendingNew));
    // The venue's fill overtakes its ack.
    let out = deliver(&mut h, EventKind::Fill, o.client_order_id, 2, 2);
    assert_eq!(out.len(), 1, "the fill is passed on to the strategy");
    assert_eq!(
        state(&h, o.client_order_id),
        Some(OrderState::PartiallyFilled)
    );
    assert_eq!(h.gw.oms().counters().fill_before_ack, 1);
    assert_eq!(h.gw.ledger(Mode::Paper).position(InstrumentId(0)).qty, q(2));
    // The ack comes late: the order stays partly filled, nothing is booked twice.
    h.advance(3_000_000);
    assert_eq!(
        state(&h, o.client_order_id),
        Some(OrderState::PartiallyFilled)
    );
    assert_eq!(h.gw.ledger(Mode::Paper).position(InstrumentId(0)).qty, q(2));
    assert_eq!(h.gw.oms().get(o.client_order_id).unwrap().cum_qty, q(2));
}

#[test]
fn a_refused_cancel_leaves_the_order_working_and_cancellable_again() {
    let mut h = slow();
    h.quote(0, "0.40", "0.45", 20);
    let o = h.new_order(1, 1, 0, Side::Buy, "0.38", 5);
    h.send(o);
    h.advance(3_000_000);
    assert_eq!(state(&h, o.client_order_id), Some(OrderState::Acked));
    let c = h.cancel(1, 2, o.client_order_id);
    h.send(c);
    assert_eq!(
        state(&h, o.client_order_id),
        Some(OrderState::PendingCancel)
    );
    // The venue refuses the cancel (say, it was busy).
    deliver(&mut h, EventKind::CancelRejected, o.client_order_id, 5, 0);
    assert_eq!(state(&h, o.client_order_id), Some(OrderState::Acked));
    assert!(
        h.gw.oms().changeable(o.client_order_id, true).is_ok(),
        "cancellable again"
    );
    // The paper venue's own answer to the cancel is still on its way: the
    // venue's word wins and the order ends cancelled.
    h.advance(3_000_000);
    assert_eq!(state(&h, o.client_order_id), None, "closed");
}

fn replace(h: &Harness, counter: u64, target: ClientOrderId, price: &str, qty: i64) -> OrderIntent {
    OrderIntent {
        header: Header::new(EventKind::OrderReplace, InstrumentId(0), 0, Nanos(h.now)),
        client_order_id: id(1, counter),
        target,
        price: p(price),
        qty: q(qty),
        strategy: StrategyId(1),
        side: Side::Buy,
        ..OrderIntent::default()
    }
}

#[test]
fn a_decrease_keeps_its_place_in_the_queue_and_a_new_price_joins_the_back() {
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 20);
    h.level(0, Side::Buy, "0.39", 7);
    let o = h.new_order(1, 1, 0, Side::Buy, "0.40", 5);
    h.send(o);
    assert_eq!(h.gw.paper().queue_ahead(o.client_order_id), Some(q(20)));
    // Others join behind us: nothing changes ahead.
    h.level(0, Side::Buy, "0.40", 30);
    // Decrease 5 → 3 at the same price: same place.
    let r = reports(h.send(replace(&h, 2, o.client_order_id, "0.40", 3)));
    assert!(
        r.iter().any(|r| r.header.kind == EventKind::Replaced),
        "{r:?}"
    );
    assert_eq!(h.gw.paper().queue_ahead(o.client_order_id), Some(q(20)));
    assert_eq!(h.gw.oms().get(o.client_order_id).unwrap().qty, q(3));
    // A new price: behind the 7 already at 0.39.
    h.send(replace(&h, 3, o.client_order_id, "0.39", 3));
    assert_eq!(h.gw.paper().queue_ahead(o.client_order_id), Some(q(7)));
    assert_eq!(h.gw.oms().get(o.client_order_id).unwrap().price, p("0.39"));
    // An increase at the same price loses the place too.
    h.level(0, Side::Buy, "0.39", 12);
    h.send(replace(&h, 4, o.client_order_id, "0.39", 4));
    assert_eq!(h.gw.paper().queue_ahead(o.client_order_id), Some(q(12)));
}

#[test]
fn a_settlement_reaches_the_ledger_only_when_published_and_is_journaled_once() {
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 20);
    // Buy 5 YES at 0.45 (taking the ask).
    let o = h.new_order(1, 1, 0, Side::Buy, "0.45", 5);
    h.send(o);
    let ledger = h.gw.ledger(Mode::Paper);
    assert_eq!(ledger.position(InstrumentId(0)).qty, q(5));
    let before = ledger.pnl(StrategyId(1));
    // The market closes: no settlement yet.
    let status = |h: &Harness, status: MarketStatus, price: Price| MarketEvent {
        header: Header::new(EventKind::Status, InstrumentId(0), 0, Nanos(h.now)),
        status,
        price,
        ..MarketEvent::default()
    };
    h.market(status(&h, MarketStatus::Closed, Price::ZERO));
    assert_eq!(h.gw.ledger(Mode::Paper).position(InstrumentId(0)).qty, q(5));
    // YES wins, published twice.
    for _ in 0..2 {
        h.market(status(&h, MarketStatus::Settled, Price::ONE));
    }
    let ledger = h.gw.ledger(Mode::Paper);
    assert_eq!(ledger.position(InstrumentId(0)).qty, q(0));
    let after = ledger.pnl(StrategyId(1));
    // Paid 5 × 0.45 = 2.25, received 5 × $1: 2.75 realized.
    assert_eq!(
        Money::from_raw(after.realized.raw() - before.realized.raw()),
        Money::parse("2.75").unwrap()
    );
    assert!(ledger.balanced().is_ok(), "{:?}", ledger.balanced());
    let settlements =
        h.gw.journal()
            .iter()
            .filter(|(e, _)| matches!(e, Event::Market(m) if m.status == MarketStatus::Settled))
            .count();
    assert_eq!(settlements, 1);
    // A rebuild from the journal settles the same way.
    let rebuilt = h.rebuilt(Some(RiskPolicy::default()), Mode::Paper, false);
    assert_eq!(rebuilt.ledger(Mode::Paper), h.gw.ledger(Mode::Paper));
}

#[test]
fn a_flatten_rebuilt_from_its_journal_resumes_unless_it_had_ended() {
    use pt_engine::model::{CommandAction, Scope};
    use pt_gateway::FlattenState;
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 10);
    let buy = h.new_order(1, 1, 0, Side::Buy, "0.45", 3);
    h.send(buy);
    let rest = h.new_order(1, 2, 0, Side::Buy, "0.30", 2);
    h.send(rest);
    let before_flatten = h.gw.journal().len();
    h.command(CommandAction::Flatten, Scope::Global, 0, 0);
    assert_eq!(h.gw.flatten_status().state, FlattenState::Flat);
    // Ended, and journaled as ended: a rebuild does not start it again.
    let rebuilt = h.rebuilt(Some(RiskPolicy::default()), Mode::Paper, false);
    assert_eq!(rebuilt.flatten_status().state, FlattenState::Flat);
    // (Marks come with market data, which a rebuild has not seen yet.)
    assert_eq!(
        rebuilt.ledger(Mode::Paper).at_cost(),
        h.gw.ledger(Mode::Paper).at_cost()
    );

    // Killed right after the flatten's command reached the journal: the
    // rebuilt gateway resumes it, cancels the order still open and closes
    // the position.
    let mut fresh = Harness::paper();
    fresh.gw.recover(
        h.gw.journal()[..=before_flatten]
            .iter()
            .map(|(e, at)| (e, *at)),
    );
    assert_eq!(fresh.gw.flatten_status().state, FlattenState::CancelsSent);
    assert!(
        fresh.gw.oms().get(rest.client_order_id).is_some(),
        "the resting bid is open"
    );
    // Its books come back with the market data, and the flatten moves on.
    let journaled = fresh.gw.journal().len();
    fresh.now = h.now;
    fresh.quote(0, "0.40", "0.45", 10);
    fresh.advance(1);
    let after: Vec<_> = fresh.gw.journal()[journaled..]
        .iter()
        .map(|(e, _)| *e)
        .collect();
    assert!(
        after.iter().any(|e| matches!(e, Event::Intent(i)
            if i.header.kind == EventKind::OrderCancel && i.target == rest.client_order_id)),
        "the resumed flatten cancels what is open: {after:?}"
    );
}

#[test]
fn exposure_is_kept_per_instrument_event_venue_and_strategy() {
    let mut h = Harness::paper();
    h.quote(0, "0.40", "0.45", 20);
    h.quote(2, "0.50", "0.55", 20);
    // Strategy 1 buys 5 YES at 0.45 in market 0; strategy 2 sells 4 YES at
    // 0.50 in market 2 (4 NO at 0.50: $2.00 at risk).
    let o = h.new_order(1, 1, 0, Side::Buy, "0.45", 5);
    h.send(o);
    let o = h.new_order(2, 1, 2, Side::Sell, "0.50", 4);
    h.send(o);
    let usd = |s: &str| Money::parse(s).unwrap();
    let l = h.gw.ledger(Mode::Paper);
    assert_eq!(l.exposure(InstrumentId(0)), usd("2.25"));
    assert_eq!(l.exposure(InstrumentId(2)), usd("2.00"));
    let event_of = |i: u32| h.gw.markets().get(InstrumentId(i)).unwrap().event;
    assert_eq!(l.event_exposure(event_of(0)), usd("2.25"));
    assert_eq!(l.event_exposure(event_of(2)), usd("2.00"));
    assert_eq!(l.venue_exposure(h.gw.markets(), h.venue()), usd("4.25"));
    assert_eq!(l.strategy_exposure(StrategyId(1)), usd("2.25"));
    assert_eq!(l.strategy_exposure(StrategyId(2)), usd("2.00"));
}
