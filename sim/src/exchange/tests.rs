//! Unit and property tests of the matching engine.

use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

/// A fixed "now": 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;
const M1: &str = "M1";
const M2: &str = "M2";

fn p(s: &str) -> Price {
    Price::parse(s).expect("test price")
}

fn q(contracts: i64) -> Qty {
    Qty::from_raw(contracts * UNIT)
}

fn usd(s: &str) -> Money {
    Price::parse(s).expect("test amount").raw()
}

fn cents_grid() -> PriceGrid {
    PriceGrid::uniform(p("0.01"), p("0.99"), p("0.01")).expect("grid")
}

fn spec(ticker: &str) -> MarketSpec {
    MarketSpec {
        ticker: ticker.to_owned(),
        event_ticker: "EV".to_owned(),
        title: format!("Will {ticker} happen?"),
        grid: cents_grid(),
        close_time_ms: T0 + 86_400_000,
    }
}

/// Two markets; users 1–3 with $1000 each.
fn exchange(fees: FeeModel) -> Exchange {
    let mut ex = Exchange::new(fees, 7);
    ex.add_market(spec(M1)).expect("M1");
    ex.add_market(spec(M2)).expect("M2");
    for user in 1..=3 {
        ex.open_account(user, usd("1000"));
    }
    ex
}

fn ex() -> Exchange {
    exchange(FeeModel::default())
}

fn order(user: UserId, side: BookSide, count: i64, price: &str) -> NewOrder {
    NewOrder {
        user,
        ticker: M1.to_owned(),
        client_order_id: None,
        side,
        count: q(count),
        price: p(price),
        time_in_force: TimeInForce::GoodTillCanceled,
        self_trade_prevention: SelfTradePrevention::TakerAtCross,
        post_only: false,
        reduce_only: false,
        expiration_ts: None,
        cancel_order_on_pause: false,
    }
}

fn bid(user: UserId, count: i64, price: &str) -> NewOrder {
    order(user, BookSide::Bid, count, price)
}

fn ask(user: UserId, count: i64, price: &str) -> NewOrder {
    order(user, BookSide::Ask, count, price)
}

fn place(ex: &mut Exchange, o: NewOrder) -> Order {
    let mut events = Vec::new();
    ex.place(o, T0, &mut events).expect("placed")
}

fn place_err(ex: &mut Exchange, o: NewOrder) -> Reject {
    let mut events = Vec::new();
    ex.place(o, T0, &mut events).expect_err("rejected")
}

fn position(ex: &Exchange, user: UserId, ticker: &str) -> Qty {
    ex.positions(user)
        .into_iter()
        .find(|(t, _)| *t == ticker)
        .map_or(Qty::ZERO, |(_, pos)| pos.position)
}

fn trades(events: &[Event]) -> Vec<(Price, Qty)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Trade(t) => Some((t.yes_price, t.count)),
            _ => None,
        })
        .collect()
}

#[test]
fn price_time_priority() {
    let mut ex = ex();
    let a1 = place(&mut ex, ask(1, 10, "0.50"));
    let a2 = place(&mut ex, ask(2, 10, "0.50"));
    let h = place(&mut ex, ask(HOUSE, 5, "0.49"));
    let mut events = Vec::new();
    let b = ex.place(bid(3, 20, "0.50"), T0, &mut events).expect("bid");
    assert_eq!(b.status, OrderStatus::Executed);
    assert_eq!(b.fill_count, q(20));
    // Best price first, then oldest first at the same price.
    assert_eq!(
        trades(&events),
        vec![(p("0.49"), q(5)), (p("0.50"), q(10)), (p("0.50"), q(5))]
    );
    assert_eq!(
        ex.order(HOUSE, &h.order_id).map(|o| o.status),
        Some(OrderStatus::Executed)
    );
    assert_eq!(
        ex.order(1, &a1.order_id).map(|o| o.status),
        Some(OrderStatus::Executed)
    );
    let a2 = ex.order(2, &a2.order_id).expect("a2");
    assert_eq!((a2.fill_count, a2.remaining_count), (q(5), q(5)));
    assert_eq!(
        ex.book(M1, 0).expect("book").asks,
        vec![Level {
            price: p("0.50"),
            count: q(5)
        }]
    );
    // Taker cost is the sum over maker prices.
    assert_eq!(b.taker_fill_cost, usd("0.49") * 5 + usd("0.50") * 15);
    assert_eq!(position(&ex, 3, M1), q(20));
    assert_eq!(position(&ex, 2, M1), Qty::from_raw(-5 * UNIT));
}

#[test]
fn trades_at_the_maker_price() {
    let mut ex = ex();
    place(&mut ex, bid(1, 10, "0.45"));
    let mut events = Vec::new();
    let a = ex.place(ask(2, 4, "0.40"), T0, &mut events).expect("ask");
    assert_eq!(trades(&events), vec![(p("0.45"), q(4))]);
    // The ask bought NO at 1 − 0.45.
    assert_eq!(a.taker_fill_cost, usd("0.55") * 4);
    let Some(Event::Trade(t)) = events.iter().find(|e| matches!(e, Event::Trade(_))) else {
        panic!("no trade")
    };
    assert_eq!(t.taker_side, BookSide::Ask);
}

#[test]
fn no_side_equivalence() {
    // A NO bid at 0.60 is a YES ask at 0.40; a YES bid at 0.45 fills it at 0.40.
    let mut ex = ex();
    let no = place(&mut ex, ask(1, 10, "0.40"));
    assert_eq!(no.status, OrderStatus::Resting);
    let mut events = Vec::new();
    let yes = ex.place(bid(2, 10, "0.45"), T0, &mut events).expect("bid");
    assert_eq!(trades(&events), vec![(p("0.40"), q(10))]);
    assert_eq!(yes.taker_fill_cost, usd("4.00"));
    let no = ex.order(1, &no.order_id).expect("no").clone();
    assert_eq!(no.maker_fill_cost, usd("6.00"));
    assert_eq!(position(&ex, 1, M1), Qty::from_raw(-10 * UNIT));
    assert_eq!(position(&ex, 2, M1), q(10));
    // Fee 0.07 × 10 × 0.4 × 0.6 = 0.168 → $0.17, taker only.
    assert_eq!(ex.balance(2), usd("1000") - usd("4.00") - usd("0.17"));
    assert_eq!(ex.balance(1), usd("1000") - usd("6.00"));
    assert_eq!(ex.market(M1).map(|(_, s)| s.open_interest), Some(q(10)));
}

#[test]
fn time_in_force() {
    let mut ex = ex();
    place(&mut ex, ask(1, 5, "0.50"));
    // IOC: fills 5, cancels the rest.
    let ioc = place(
        &mut ex,
        NewOrder {
            time_in_force: TimeInForce::ImmediateOrCancel,
            ..bid(2, 8, "0.50")
        },
    );
    assert_eq!(ioc.status, OrderStatus::Canceled);
    assert_eq!(
        (ioc.fill_count, ioc.remaining_count, ioc.canceled_count),
        (q(5), q(0), q(3))
    );
    assert!(ex.book(M1, 0).expect("book").bids.is_empty());

    // FOK that cannot fill fully: nothing trades, only the Order event.
    place(&mut ex, ask(1, 5, "0.50"));
    let mut events = Vec::new();
    let fok = ex
        .place(
            NewOrder {
                time_in_force: TimeInForce::FillOrKill,
                ..bid(2, 6, "0.50")
            },
            T0,
            &mut events,
        )
        .expect("fok");
    assert_eq!(fok.status, OrderStatus::Canceled);
    assert_eq!(fok.fill_count, Qty::ZERO);
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0], Event::Order(o) if o.order_id == fok.order_id));
    // FOK that can: fills.
    let fok = place(
        &mut ex,
        NewOrder {
            time_in_force: TimeInForce::FillOrKill,
            ..bid(2, 5, "0.50")
        },
    );
    assert_eq!(fok.status, OrderStatus::Executed);
    assert_eq!(fok.fill_count, q(5));

    // GTC: the remainder rests.
    place(&mut ex, ask(1, 2, "0.50"));
    let gtc = place(&mut ex, bid(2, 7, "0.50"));
    assert_eq!(gtc.status, OrderStatus::Resting);
    assert_eq!((gtc.fill_count, gtc.remaining_count), (q(2), q(5)));
    assert_eq!(
        ex.book(M1, 0).expect("book").bids,
        vec![Level {
            price: p("0.50"),
            count: q(5)
        }]
    );
}

#[test]
fn fok_counts_only_tradeable_quantity() {
    let mut ex = ex();
    place(&mut ex, ask(1, 5, "0.50"));
    place(&mut ex, ask(2, 5, "0.51"));
    // User 1's own 5 would be skipped by STP: only 5 are tradeable.
    for stp in [
        SelfTradePrevention::TakerAtCross,
        SelfTradePrevention::Maker,
    ] {
        let fok = place(
            &mut ex,
            NewOrder {
                time_in_force: TimeInForce::FillOrKill,
                self_trade_prevention: stp,
                ..bid(1, 6, "0.51")
            },
        );
        assert_eq!(
            (fok.status, fok.fill_count),
            (OrderStatus::Canceled, Qty::ZERO)
        );
    }
    // Nothing changed.
    let book = ex.book(M1, 0).expect("book");
    assert_eq!(book.asks.len(), 2);
}

#[test]
fn post_only() {
    let mut ex = ex();
    place(&mut ex, ask(1, 5, "0.50"));
    for price in ["0.50", "0.55"] {
        let r = place_err(
            &mut ex,
            NewOrder {
                post_only: true,
                ..bid(2, 5, price)
            },
        );
        assert_eq!((r.status, r.code), (409, "post_only_cross"));
    }
    let ok = place(
        &mut ex,
        NewOrder {
            post_only: true,
            ..bid(2, 5, "0.49")
        },
    );
    assert_eq!(ok.status, OrderStatus::Resting);
}

#[test]
fn reduce_only() {
    let mut ex = ex();
    let r = place_err(
        &mut ex,
        NewOrder {
            reduce_only: true,
            ..bid(1, 5, "0.50")
        },
    );
    assert_eq!((r.status, r.code), (409, "reduce_only_no_position"));
    // User 1 holds 4 NO.
    place(&mut ex, bid(HOUSE, 4, "0.50"));
    place(&mut ex, ask(1, 4, "0.50"));
    assert_eq!(position(&ex, 1, M1), Qty::from_raw(-4 * UNIT));
    // An ask would add to NO: rejected; a bid is capped to 4.
    let r = place_err(
        &mut ex,
        NewOrder {
            reduce_only: true,
            ..ask(1, 5, "0.50")
        },
    );
    assert_eq!(r.code, "reduce_only_no_position");
    let o = place(
        &mut ex,
        NewOrder {
            reduce_only: true,
            ..bid(1, 10, "0.40")
        },
    );
    assert_eq!(o.initial_count, q(4));
    assert_eq!(o.remaining_count, q(4));
}

#[test]
fn reduce_only_needs_no_cash_for_closing() {
    let mut ex = ex();
    ex.open_account(1, usd("5"));
    place(&mut ex, ask(HOUSE, 10, "0.40"));
    place(&mut ex, bid(1, 10, "0.40"));
    assert_eq!(ex.balance(1), usd("5") - usd("4") - usd("0.17"));
    // Selling the 10 YES costs 10 × 0.60 up front but pays $10 back.
    place(&mut ex, bid(HOUSE, 10, "0.45"));
    let o = place(
        &mut ex,
        NewOrder {
            reduce_only: true,
            ..ask(1, 10, "0.45")
        },
    );
    assert_eq!(o.status, OrderStatus::Executed);
    assert_eq!(position(&ex, 1, M1), Qty::ZERO);
    // +4.50 for the sale, minus the fee 0.07 × 10 × 0.45 × 0.55 = 0.17325 → 0.18.
    assert_eq!(ex.balance(1), usd("0.83") + usd("4.50") - usd("0.18"));
    let pos = ex.positions(1)[0].1.clone();
    assert_eq!(pos.realized_pnl, usd("0.50"));
    assert_eq!(pos.fees_paid, usd("0.35"));
    assert_eq!(pos.market_exposure, 0);
}

#[test]
fn self_trade_taker_at_cross() {
    let mut ex = ex();
    place(&mut ex, ask(HOUSE, 3, "0.49"));
    let own = place(&mut ex, ask(1, 5, "0.50"));
    place(&mut ex, ask(2, 5, "0.50"));
    let b = place(&mut ex, bid(1, 10, "0.50"));
    assert_eq!(b.status, OrderStatus::Canceled);
    assert_eq!((b.fill_count, b.canceled_count), (q(3), q(7)));
    // The resting orders stand.
    assert_eq!(
        ex.order(1, &own.order_id).map(|o| o.status),
        Some(OrderStatus::Resting)
    );
    assert_eq!(
        ex.book(M1, 0).expect("book").asks,
        vec![Level {
            price: p("0.50"),
            count: q(10)
        }]
    );
}

#[test]
fn self_trade_maker() {
    let mut ex = ex();
    let own = place(&mut ex, ask(1, 5, "0.50"));
    place(&mut ex, ask(2, 5, "0.50"));
    let mut events = Vec::new();
    let b = ex
        .place(
            NewOrder {
                self_trade_prevention: SelfTradePrevention::Maker,
                ..bid(1, 4, "0.50")
            },
            T0,
            &mut events,
        )
        .expect("bid");
    assert_eq!(b.status, OrderStatus::Executed);
    let own = ex.order(1, &own.order_id).expect("own");
    assert_eq!(
        (own.status, own.canceled_count, own.fill_count),
        (OrderStatus::Canceled, q(5), q(0))
    );
    assert!(events.iter().any(|e| matches!(e,
        Event::BookDelta { side: BookSide::Ask, delta, user: 1, .. } if *delta == Qty::from_raw(-5 * UNIT))));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Order(o) if o.order_id == own.order_id))
    );
    assert_eq!(trades(&events), vec![(p("0.50"), q(4))]);
}

#[test]
fn expiration() {
    let mut ex = ex();
    let secs = T0 / 1000;
    let r = place_err(
        &mut ex,
        NewOrder {
            expiration_ts: Some(secs + 10),
            time_in_force: TimeInForce::ImmediateOrCancel,
            ..bid(1, 5, "0.40")
        },
    );
    assert_eq!((r.status, r.code), (400, "invalid_parameters"));
    let o = place(
        &mut ex,
        NewOrder {
            expiration_ts: Some(secs + 10),
            ..bid(1, 5, "0.40")
        },
    );
    assert_eq!(o.status, OrderStatus::Resting);
    let mut events = Vec::new();
    ex.expire(T0 + 9_999, &mut events);
    assert!(events.is_empty());
    ex.expire(T0 + 10_000, &mut events);
    assert_eq!(
        ex.order(1, &o.order_id).map(|o| o.status),
        Some(OrderStatus::Canceled)
    );
    assert!(events.iter().any(|e| matches!(e, Event::BookDelta { .. })));
    assert!(ex.book(M1, 0).expect("book").bids.is_empty());
    // An expiration already past makes the order immediate-or-cancel.
    place(&mut ex, ask(2, 2, "0.40"));
    let past = place(
        &mut ex,
        NewOrder {
            expiration_ts: Some(secs),
            ..bid(1, 5, "0.40")
        },
    );
    assert_eq!(
        (past.status, past.fill_count, past.canceled_count),
        (OrderStatus::Canceled, q(2), q(3))
    );
}

#[test]
fn amend_priority() {
    // Decrease at the same price keeps priority.
    let mut ex = ex();
    let a1 = place(&mut ex, ask(1, 10, "0.50"));
    place(&mut ex, ask(2, 10, "0.50"));
    let mut events = Vec::new();
    let amended = ex
        .amend(
            1,
            &a1.order_id,
            M1,
            BookSide::Ask,
            p("0.50"),
            q(6),
            None,
            T0,
            &mut events,
        )
        .expect("amend");
    assert_eq!(
        (amended.initial_count, amended.remaining_count),
        (q(6), q(6))
    );
    let mut events = Vec::new();
    ex.place(bid(3, 6, "0.50"), T0, &mut events).expect("bid");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Fill(f) if f.user == 1 && f.count == q(6)))
    );

    // A price change (even there and back) loses it.
    let mut ex = self::ex();
    let a1 = place(&mut ex, ask(1, 10, "0.50"));
    place(&mut ex, ask(2, 10, "0.50"));
    let mut events = Vec::new();
    ex.amend(
        1,
        &a1.order_id,
        M1,
        BookSide::Ask,
        p("0.51"),
        q(10),
        None,
        T0,
        &mut events,
    )
    .expect("amend");
    ex.amend(
        1,
        &a1.order_id,
        M1,
        BookSide::Ask,
        p("0.50"),
        q(10),
        None,
        T0,
        &mut events,
    )
    .expect("amend");
    let mut events = Vec::new();
    ex.place(bid(3, 6, "0.50"), T0, &mut events).expect("bid");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Fill(f) if f.user == 2 && f.count == q(6)))
    );

    // A size increase loses it too.
    let mut ex = self::ex();
    let a1 = place(&mut ex, ask(1, 10, "0.50"));
    place(&mut ex, ask(2, 10, "0.50"));
    ex.amend(
        1,
        &a1.order_id,
        M1,
        BookSide::Ask,
        p("0.50"),
        q(12),
        None,
        T0,
        &mut events,
    )
    .expect("amend");
    let mut events = Vec::new();
    ex.place(bid(3, 6, "0.50"), T0, &mut events).expect("bid");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Fill(f) if f.user == 2))
    );
}

#[test]
fn amend_that_crosses_trades_and_keeps_counts() {
    let mut ex = ex();
    let b = place(&mut ex, bid(1, 10, "0.40"));
    place(&mut ex, ask(2, 4, "0.45"));
    let mut events = Vec::new();
    let o = ex
        .amend(
            1,
            &b.order_id,
            M1,
            BookSide::Bid,
            p("0.45"),
            q(10),
            Some("new".into()),
            T0,
            &mut events,
        )
        .expect("amend");
    assert_eq!(trades(&events), vec![(p("0.45"), q(4))]);
    assert_eq!(
        (o.fill_count, o.remaining_count, o.initial_count),
        (q(4), q(6), q(10))
    );
    assert_eq!(o.client_order_id.as_deref(), Some("new"));
    // The new total must exceed what filled; the side must match.
    let r = ex
        .amend(
            1,
            &b.order_id,
            M1,
            BookSide::Bid,
            p("0.45"),
            q(4),
            None,
            T0,
            &mut events,
        )
        .expect_err("too small");
    assert_eq!(r.code, "invalid_count");
    let r = ex
        .amend(
            1,
            &b.order_id,
            M1,
            BookSide::Ask,
            p("0.45"),
            q(8),
            None,
            T0,
            &mut events,
        )
        .expect_err("side");
    assert_eq!(r.code, "invalid_parameters");
    let r = ex
        .amend(
            2,
            &b.order_id,
            M1,
            BookSide::Bid,
            p("0.45"),
            q(8),
            None,
            T0,
            &mut events,
        )
        .expect_err("not theirs");
    assert_eq!((r.status, r.code), (404, "not_found"));
}

#[test]
fn decrease_by_and_to() {
    let mut ex = ex();
    let o = place(&mut ex, bid(1, 10, "0.40"));
    let mut events = Vec::new();
    let d = ex
        .decrease(1, &o.order_id, Some(q(3)), None, T0, &mut events)
        .expect("by");
    assert_eq!(
        (d.remaining_count, d.canceled_count, d.status),
        (q(7), q(3), OrderStatus::Resting)
    );
    assert!(events.iter().any(
        |e| matches!(e, Event::BookDelta { delta, .. } if *delta == Qty::from_raw(-3 * UNIT))
    ));
    let d = ex
        .decrease(1, &o.order_id, None, Some(q(2)), T0, &mut events)
        .expect("to");
    assert_eq!(d.remaining_count, q(2));
    for (by, to) in [(None, None), (Some(q(1)), Some(q(1)))] {
        let r = ex
            .decrease(1, &o.order_id, by, to, T0, &mut events)
            .expect_err("one of");
        assert_eq!((r.status, r.code), (400, "invalid_parameters"));
    }
    let r = ex
        .decrease(1, &o.order_id, None, Some(q(3)), T0, &mut events)
        .expect_err("up");
    assert_eq!(r.code, "invalid_count");
    let d = ex
        .decrease(1, &o.order_id, None, Some(Qty::ZERO), T0, &mut events)
        .expect("zero");
    assert_eq!(
        (d.status, d.remaining_count, d.canceled_count),
        (OrderStatus::Canceled, q(0), q(10))
    );
    assert!(ex.book(M1, 0).expect("book").bids.is_empty());
}

#[test]
fn cancel_returns_reduced_by() {
    let mut ex = ex();
    place(&mut ex, ask(2, 3, "0.40"));
    let o = place(&mut ex, bid(1, 10, "0.40"));
    let mut events = Vec::new();
    let r = ex
        .cancel(2, &o.order_id, T0, &mut events)
        .expect_err("not theirs");
    assert_eq!((r.status, r.code), (404, "not_found"));
    let (c, reduced) = ex.cancel(1, &o.order_id, T0, &mut events).expect("cancel");
    assert_eq!(reduced, q(7));
    assert_eq!(
        (c.status, c.fill_count, c.remaining_count),
        (OrderStatus::Canceled, q(3), q(0))
    );
    let r = ex
        .cancel(1, &o.order_id, T0, &mut events)
        .expect_err("again");
    assert_eq!(r.code, "not_found");
    let r = ex.cancel(1, "nope", T0, &mut events).expect_err("unknown");
    assert_eq!(r.code, "not_found");
}

#[test]
fn settlement_pays_exactly() {
    for outcome in [Outcome::Yes, Outcome::No] {
        let mut ex = ex();
        place(&mut ex, ask(2, 10, "0.40"));
        place(&mut ex, bid(1, 10, "0.40"));
        let resting = place(&mut ex, bid(3, 5, "0.30"));
        let (b1, b2) = (ex.balance(1), ex.balance(2));
        assert_eq!(b1, usd("1000") - usd("4.00") - usd("0.17"));
        assert_eq!(b2, usd("1000") - usd("6.00"));
        let mut events = Vec::new();
        ex.settle(M1, outcome, T0, &mut events).expect("settle");
        assert_eq!(
            ex.order(3, &resting.order_id).map(|o| o.status),
            Some(OrderStatus::Canceled)
        );
        assert!(matches!(events.last(), Some(Event::Settled { outcome: o, .. }) if *o == outcome));
        let (yes, no) = match outcome {
            Outcome::Yes => (usd("10"), 0),
            Outcome::No => (0, usd("10")),
        };
        assert_eq!(ex.balance(1), b1 + yes);
        assert_eq!(ex.balance(2), b2 + no);
        assert_eq!(position(&ex, 1, M1), Qty::ZERO);
        let pnl1 = ex.positions(1)[0].1.realized_pnl;
        assert_eq!(pnl1, yes - usd("4"));
        assert_eq!(ex.total_cash() + ex.fees_collected(), usd("3000"));
        let (_, stats) = ex.market(M1).expect("market");
        assert_eq!(
            (stats.outcome, stats.open_interest),
            (Some(outcome), Qty::ZERO)
        );
        let r = place_err(&mut ex, bid(1, 1, "0.40"));
        assert_eq!((r.status, r.code), (409, "market_closed"));
        let r = ex.settle(M1, outcome, T0, &mut events).expect_err("twice");
        assert_eq!(r.code, "market_closed");
    }
}

#[test]
fn pause() {
    let mut ex = ex();
    let keep = place(&mut ex, bid(1, 5, "0.40"));
    let drop = place(
        &mut ex,
        NewOrder {
            cancel_order_on_pause: true,
            ..bid(2, 5, "0.41")
        },
    );
    let mut events = Vec::new();
    ex.set_paused(true, T0, &mut events);
    assert!(ex.paused());
    assert_eq!(
        ex.order(2, &drop.order_id).map(|o| o.status),
        Some(OrderStatus::Canceled)
    );
    assert_eq!(
        ex.order(1, &keep.order_id).map(|o| o.status),
        Some(OrderStatus::Resting)
    );
    let r = place_err(&mut ex, bid(1, 5, "0.40"));
    assert_eq!((r.status, r.code), (409, "trading_is_paused"));
    let r = ex
        .amend(
            1,
            &keep.order_id,
            M1,
            BookSide::Bid,
            p("0.42"),
            q(5),
            None,
            T0,
            &mut events,
        )
        .expect_err("paused");
    assert_eq!(r.code, "trading_is_paused");
    assert!(ex.market(M1).is_some_and(|(_, s)| s.paused));
    // Canceling still works.
    ex.cancel(1, &keep.order_id, T0, &mut events)
        .expect("cancel");
    ex.set_paused(false, T0, &mut events);
    place(&mut ex, bid(1, 5, "0.40"));
}

#[test]
fn fills_pay_the_engines_fee_model_with_rounding_and_rebates() {
    // 100 at 0.50: the trade fee 1.75 is on the cent, so no rounding.
    let mut ex = ex();
    place(&mut ex, ask(1, 100, "0.50"));
    let mut events = Vec::new();
    let b = ex.place(bid(2, 100, "0.50"), T0, &mut events).expect("bid");
    assert_eq!(b.taker_fees, usd("1.75"));
    // Three 1-lot fills at 0.33 for one order: each trade fee is
    // 0.07 × 0.33 × 0.67 = 0.015477 → 0.0155, and flooring the balance to
    // the cent adds 0.0045; the third fill's accumulator passes $0.01 and
    // refunds a cent. 0.05 in all, what one fill of 3 costs.
    let mut ex = self::ex();
    for _ in 0..3 {
        place(&mut ex, ask(1, 1, "0.33"));
    }
    let before = ex.balance(2);
    let b = ex.place(bid(2, 3, "0.33"), T0, &mut events).expect("bid");
    assert_eq!(b.taker_fees, usd("0.05"));
    assert_eq!(before - ex.balance(2), usd("0.99") + usd("0.05"));
    let fees: Vec<Money> = ex.fills(2).iter().map(|f| f.fee).collect();
    assert_eq!(
        fees,
        vec![usd("0.01"), usd("0.02"), usd("0.02")],
        "newest first"
    );
}

#[test]
fn maker_fees_are_charged_and_recorded() {
    let mut ex = exchange(FeeModel::kalshi(
        FeeType::QuadraticWithMakerFees,
        Price::ONE,
    ));
    let a = place(&mut ex, ask(1, 100, "0.50"));
    let mut events = Vec::new();
    let b = ex.place(bid(2, 100, "0.50"), T0, &mut events).expect("bid");
    assert_eq!(b.taker_fees, usd("1.75"));
    let a = ex.order(1, &a.order_id).expect("maker");
    // 0.0175 × 100 × 0.25 = 0.4375 → $0.44.
    assert_eq!(a.maker_fees, usd("0.44"));
    assert_eq!(ex.fees_collected(), usd("1.75") + usd("0.44"));
    let fees: Vec<Money> = ex.fills(1).iter().map(|f| f.fee).collect();
    assert_eq!(fees, vec![usd("0.44")]);
    assert_eq!(ex.positions(1)[0].1.fees_paid, usd("0.44"));
}

#[test]
fn bad_inputs() {
    let mut ex = ex();
    let cases: Vec<(NewOrder, u16, &str)> = vec![
        (
            NewOrder {
                ticker: "NOPE".into(),
                ..bid(1, 1, "0.50")
            },
            404,
            "market_not_found",
        ),
        (bid(1, 1, "0.505"), 400, "invalid_price"),
        (
            NewOrder {
                price: Price::ZERO,
                ..bid(1, 1, "0.5")
            },
            400,
            "invalid_price",
        ),
        (
            NewOrder {
                price: Price::ONE,
                ..bid(1, 1, "0.5")
            },
            400,
            "invalid_price",
        ),
        (
            NewOrder {
                price: p("-0.5"),
                ..bid(1, 1, "0.5")
            },
            400,
            "invalid_price",
        ),
        (
            NewOrder {
                count: Qty::ZERO,
                ..bid(1, 1, "0.5")
            },
            400,
            "invalid_count",
        ),
        (
            NewOrder {
                count: Qty::from_raw(-UNIT),
                ..bid(1, 1, "0.5")
            },
            400,
            "invalid_count",
        ),
        (
            NewOrder {
                count: Qty::parse("1.001").expect("q"),
                ..bid(1, 1, "0.5")
            },
            400,
            "invalid_count",
        ),
        (
            NewOrder {
                count: Qty::MAX,
                ..bid(HOUSE, 1, "0.5")
            },
            400,
            "invalid_count",
        ),
        (bid(1, 2000, "0.50"), 400, "insufficient_balance"),
        (ask(1, 2000, "0.50"), 400, "insufficient_balance"),
        (bid(9, 1, "0.50"), 400, "insufficient_balance"),
    ];
    for (o, status, code) in cases {
        let r = place_err(&mut ex, o);
        assert_eq!((r.status, r.code), (status, code), "{}", r.message);
        assert!(!r.message.is_empty());
    }
    // Fractional counts with two decimals are fine.
    place(
        &mut ex,
        NewOrder {
            count: Qty::parse("1.25").expect("q"),
            ..bid(1, 1, "0.10")
        },
    );
    // Duplicate client ids among resting orders.
    let with_id = |id: &str| NewOrder {
        client_order_id: Some(id.into()),
        ..bid(1, 1, "0.10")
    };
    let first = place(&mut ex, with_id("a"));
    let r = place_err(&mut ex, with_id("a"));
    assert_eq!((r.status, r.code), (409, "order_already_exists"));
    let mut events = Vec::new();
    ex.cancel(1, &first.order_id, T0, &mut events)
        .expect("cancel");
    place(&mut ex, with_id("a"));
    // Past close time.
    let r = ex
        .place(bid(1, 1, "0.50"), T0 + 86_400_000, &mut events)
        .expect_err("closed");
    assert_eq!((r.status, r.code), (409, "market_closed"));
    assert!(ex.add_market(spec(M1)).is_err());
    assert!(ex.settle("NOPE", Outcome::Yes, T0, &mut events).is_err());
    // The house is never balance-checked.
    place(&mut ex, bid(HOUSE, 100_000, "0.50"));
}

#[test]
fn ids_are_deterministic_uuids() {
    let run = || {
        let mut ex = ex();
        let o = place(&mut ex, ask(1, 1, "0.5"));
        let mut events = Vec::new();
        ex.place(bid(2, 1, "0.5"), T0, &mut events).expect("bid");
        (o.order_id, ex.fills(2)[0].trade_id.clone())
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let id = &a.0;
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(
        parts.iter().map(|s| s.len()).collect::<Vec<_>>(),
        vec![8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    assert_ne!(a.0, a.1);
}

#[test]
fn reads_are_newest_first_and_private() {
    let mut ex = ex();
    let o1 = place(&mut ex, bid(1, 1, "0.10"));
    let o2 = place(&mut ex, bid(1, 1, "0.11"));
    let ids: Vec<&str> = ex.orders(1).iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, vec![o2.order_id.as_str(), o1.order_id.as_str()]);
    assert!(ex.order(2, &o1.order_id).is_none());
    assert!(ex.orders(2).is_empty());
    place(&mut ex, bid(1, 1, "0.09"));
    let book = ex.book(M1, 2).expect("book");
    assert_eq!(
        book.bids.iter().map(|l| l.price).collect::<Vec<_>>(),
        vec![p("0.11"), p("0.10")]
    );
    assert_eq!(ex.markets().count(), 2);
    assert!(ex.book("NOPE", 0).is_none());
}

// ---- properties ----

#[derive(Debug, Clone)]
enum Op {
    Place {
        user: UserId,
        market: usize,
        ask: bool,
        cents: i64,
        count: i64,
        tif: u8,
        maker_stp: bool,
        post_only: bool,
        reduce_only: bool,
        expires_in: Option<i64>,
        cancel_on_pause: bool,
    },
    Cancel(usize),
    Amend {
        pick: usize,
        cents: i64,
        extra: i64,
    },
    Decrease {
        pick: usize,
        to: bool,
        n: i64,
    },
    Advance(i64),
    PauseBlip,
}

fn op() -> impl Strategy<Value = Op> {
    let place = (
        (0u32..4, 0usize..2, any::<bool>(), 45i64..=55, 1i64..=50),
        (
            0u8..10,
            any::<bool>(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.1),
        ),
        (
            prop::option::weighted(0.2, 0i64..20),
            prop::bool::weighted(0.3),
        ),
    )
        .prop_map(
            |(
                (user, market, ask, cents, count),
                (tif, maker_stp, post_only, reduce_only),
                (expires_in, cancel_on_pause),
            )| Op::Place {
                user,
                market,
                ask,
                cents,
                count,
                tif,
                maker_stp,
                post_only,
                reduce_only,
                expires_in,
                cancel_on_pause,
            },
        );
    prop_oneof![
        10 => place,
        2 => any::<usize>().prop_map(Op::Cancel),
        2 => (any::<usize>(), 45i64..=55, 1i64..=50).prop_map(|(pick, cents, extra)| Op::Amend { pick, cents, extra }),
        2 => (any::<usize>(), any::<bool>(), 0i64..=20).prop_map(|(pick, to, n)| Op::Decrease { pick, to, n }),
        1 => (1i64..=10).prop_map(Op::Advance),
        1 => Just(Op::PauseBlip),
    ]
}

/// The stored order an operation on an existing order picks, if any.
fn pick(ex: &Exchange, op: &Op) -> Option<Order> {
    let i = match *op {
        Op::Cancel(i) | Op::Amend { pick: i, .. } | Op::Decrease { pick: i, .. } => i,
        _ => return None,
    };
    let stored: Vec<&Entry> = ex.orders.iter().map(|(_, e)| e).collect();
    (!stored.is_empty()).then(|| stored[i % stored.len()].order.clone())
}

/// Applies one operation (`target` is the order a cancel, amend or decrease
/// acts on, from [`pick`]); rejections are fine (they must change nothing).
fn apply(
    ex: &mut Exchange,
    op: &Op,
    target: Option<&Order>,
    now: &mut i64,
    events: &mut Vec<Event>,
) {
    let tickers = [M1, M2];
    match *op {
        Op::Place {
            user,
            market,
            ask,
            cents,
            count,
            tif,
            maker_stp,
            post_only,
            reduce_only,
            expires_in,
            cancel_on_pause,
        } => {
            // Mostly GTC so books build up; some IOC and FOK.
            let time_in_force = match tif {
                0..6 => TimeInForce::GoodTillCanceled,
                6..8 => TimeInForce::ImmediateOrCancel,
                _ => TimeInForce::FillOrKill,
            };
            // An expiration on IOC/FOK is rejected; try that only rarely.
            let expires_in = expires_in.filter(|&s| tif < 6 || s == 0);
            let o = NewOrder {
                user,
                ticker: tickers[market].to_owned(),
                client_order_id: (count % 3 == 0).then(|| format!("c{}", count % 7)),
                side: if ask { BookSide::Ask } else { BookSide::Bid },
                count: q(count),
                price: Price::from_raw(cents * 1_000_000),
                time_in_force,
                self_trade_prevention: if maker_stp {
                    SelfTradePrevention::Maker
                } else {
                    SelfTradePrevention::TakerAtCross
                },
                post_only,
                reduce_only,
                expiration_ts: expires_in.map(|s| *now / 1000 + s),
                cancel_order_on_pause: cancel_on_pause,
            };
            let _ = ex.place(o, *now, events);
        }
        Op::Cancel(_) => {
            if let Some(o) = target {
                let _ = ex.cancel(o.user, &o.order_id, *now, events);
            }
        }
        Op::Amend { cents, extra, .. } => {
            if let Some(o) = target {
                let count = qty_add(o.fill_count, q(extra));
                let price = Price::from_raw(cents * 1_000_000);
                let _ = ex.amend(
                    o.user,
                    &o.order_id,
                    &o.ticker,
                    o.side,
                    price,
                    count,
                    None,
                    *now,
                    events,
                );
            }
        }
        Op::Decrease { to, n, .. } => {
            if let Some(o) = target {
                let (by, to) = if to {
                    (None, Some(q(n)))
                } else {
                    (Some(q(n)), None)
                };
                let _ = ex.decrease(o.user, &o.order_id, by, to, *now, events);
            }
        }
        Op::Advance(secs) => {
            *now += secs * 1000;
            ex.expire(*now, events);
        }
        Op::PauseBlip => {
            ex.set_paused(true, *now, events);
            ex.set_paused(false, *now, events);
        }
    }
}

/// Resting quantity per (ticker, side, price) rebuilt from BookDelta events.
type Replay = HashMap<(String, BookSide, Price), i64>;

/// What the events said so far.
#[derive(Default)]
struct Seen {
    /// The books, from BookDelta events.
    book: Replay,
    /// Every Fill event per user, oldest first.
    fills: HashMap<UserId, Vec<Fill>>,
    /// Fees per order id, from the Fill events.
    fees: HashMap<String, Money>,
}

impl Seen {
    fn record(&mut self, events: &[Event]) {
        for e in events {
            match e {
                Event::BookDelta {
                    ticker,
                    side,
                    price,
                    delta,
                    ..
                } => {
                    *self
                        .book
                        .entry((ticker.clone(), *side, *price))
                        .or_default() += delta.raw();
                }
                Event::Fill(f) => {
                    *self.fees.entry(f.order_id.clone()).or_default() += f.fee;
                    self.fills.entry(f.user).or_default().push(f.clone());
                }
                _ => {}
            }
        }
        self.book.retain(|_, v| *v != 0);
    }
}

fn check(ex: &Exchange, initial: Money, seen: &Seen) -> Result<(), TestCaseError> {
    let mut open_interest = 0i64;
    let mut from_book: Replay = HashMap::new();
    for (ticker, m) in &ex.markets {
        // (a) never crossed or locked.
        if let (Some((b, _)), Some((a, _))) =
            (m.best_front(BookSide::Bid), m.best_front(BookSide::Ask))
        {
            prop_assert!(b < a, "{ticker}: bid {b} >= ask {a}");
        }
        // (b) contracts conserved.
        let net: i64 = m.positions.values().map(|p| p.position.raw()).sum();
        prop_assert_eq!(net, 0);
        let long: i64 = m.positions.values().map(|p| p.position.raw().max(0)).sum();
        let (_, stats) = ex.market(ticker).expect("market");
        prop_assert_eq!(stats.open_interest.raw(), long);
        open_interest += long;
        // (d) every queued index is a stored resting order of this level, once.
        let mut seen = std::collections::HashSet::new();
        for side in [BookSide::Bid, BookSide::Ask] {
            for (price, queue) in m.ladder(side) {
                prop_assert!(!queue.is_empty());
                for &i in queue {
                    let o = ex.orders.get(i);
                    prop_assert!(o.is_some(), "slot {} is queued but free", i);
                    let o = o.expect("checked");
                    prop_assert!(seen.insert(i));
                    prop_assert_eq!(o.status, OrderStatus::Resting);
                    prop_assert_eq!((&o.ticker, o.side, o.price), (ticker, side, *price));
                }
            }
            let view = ex.book(ticker, 0).expect("book");
            let levels = if side == BookSide::Bid {
                view.bids
            } else {
                view.asks
            };
            for l in levels {
                from_book.insert((ticker.clone(), side, l.price), l.count.raw());
            }
        }
        let resting = ex
            .orders
            .iter()
            .filter(|(_, e)| &e.order.ticker == ticker && e.order.status == OrderStatus::Resting)
            .count();
        prop_assert_eq!(seen.len(), resting);
    }
    // The book equals the sum of resting orders and what BookDelta events say.
    let mut from_orders: Replay = HashMap::new();
    for (_, e) in ex.orders.iter() {
        let o = &e.order;
        if o.status == OrderStatus::Resting {
            *from_orders
                .entry((o.ticker.clone(), o.side, o.price))
                .or_default() += o.remaining_count.raw();
        }
    }
    prop_assert_eq!(&from_book, &from_orders);
    prop_assert_eq!(&from_book, &seen.book);
    // (c) cash conserved.
    prop_assert_eq!(
        ex.total_cash() + ex.fees_collected() + open_interest,
        initial
    );
    // (d) counts add up.
    for (_, e) in ex.orders.iter() {
        let o = &e.order;
        prop_assert_eq!(
            o.fill_count.raw() + o.remaining_count.raw() + o.canceled_count.raw(),
            o.initial_count.raw()
        );
        prop_assert_eq!(
            o.status == OrderStatus::Resting,
            o.remaining_count.raw() > 0
        );
        if o.status == OrderStatus::Executed {
            prop_assert!(o.fill_count.raw() > 0);
        }
    }
    // (e) fees follow the formula and add up per order; the stored fills are
    // exactly the Fill events of users that keep history.
    // Σ net fee − Σ trade fee of an order is what its accumulator still
    // holds: between $0 and $0.01.
    let fees = ex.fee_schedule();
    let mut trade_fees: HashMap<&str, Money> = HashMap::new();
    for f in seen.fills.values().flatten() {
        let liquidity = if f.is_taker {
            Liquidity::Taker
        } else {
            Liquidity::Maker
        };
        let trade = fees.trade_fee(liquidity, f.count, f.yes_price).raw();
        *trade_fees.entry(f.order_id.as_str()).or_default() += trade;
    }
    for (_, e) in ex.orders.iter() {
        let o = &e.order;
        let sum = seen.fees.get(o.order_id.as_str()).copied().unwrap_or(0);
        prop_assert_eq!(o.taker_fees + o.maker_fees, sum);
        let held = sum - trade_fees.get(o.order_id.as_str()).copied().unwrap_or(0);
        prop_assert!(
            (0..=usd("0.01")).contains(&held),
            "order {} holds {held}",
            o.order_id
        );
        prop_assert_eq!(held, e.fee_acc.0.raw());
    }
    for user in [HOUSE, 1, 2, 3] {
        let stored = ex.fills(user);
        if ex.orders.is_ephemeral(user) {
            prop_assert!(stored.is_empty());
        } else {
            let events: Vec<&Fill> = seen
                .fills
                .get(&user)
                .map_or_else(Vec::new, |f| f.iter().rev().collect());
            prop_assert_eq!(stored, events);
        }
    }
    check_store(ex)
}

/// (f) the slab and its indices agree; ephemeral users' orders are stored
/// only while they rest.
fn check_store(ex: &Exchange) -> Result<(), TestCaseError> {
    let store = &ex.orders;
    let stored = store.iter().count();
    prop_assert_eq!(store.by_id.len(), stored);
    prop_assert_eq!(store.free.len() + stored, store.slots.len());
    for &i in &store.free {
        prop_assert!(store.slots[i].is_none());
    }
    for (i, e) in store.iter() {
        prop_assert_eq!(store.find(&e.order.order_id), Some(i));
        prop_assert_eq!(uuid_key(&e.order.order_id), Some(e.key));
        prop_assert_eq!(e.ephemeral, store.is_ephemeral(e.order.user));
        if e.ephemeral {
            prop_assert_eq!(e.order.status, OrderStatus::Resting);
        }
    }
    for (user, ids) in &store.by_user {
        prop_assert!(!store.is_ephemeral(*user));
        for &i in ids {
            prop_assert_eq!(store.get(i).map(|o| o.user), Some(*user));
        }
    }
    for (user, ids) in &store.live_client_ids {
        for (cid, &i) in ids {
            let o = store.get(i);
            prop_assert!(o.is_some_and(|o| o.user == *user
                && o.status == OrderStatus::Resting
                && o.client_order_id.as_deref() == Some(cid.as_str())));
        }
    }
    // What an ephemeral user reads back: its resting orders, newest first.
    for &user in &store.ephemeral {
        let mut resting: Vec<(u64, &str)> = store
            .iter()
            .filter(|(_, e)| e.order.user == user)
            .map(|(_, e)| (e.seq, e.order.order_id.as_str()))
            .collect();
        resting.sort_by_key(|&(seq, _)| Reverse(seq));
        let read: Vec<&str> = ex
            .orders(user)
            .iter()
            .map(|o| o.order_id.as_str())
            .collect();
        prop_assert_eq!(read, resting.iter().map(|&(_, id)| id).collect::<Vec<_>>());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(
        ops in prop::collection::vec(op(), 1..100),
        maker_fee in any::<bool>(),
        outcomes in (any::<bool>(), any::<bool>()),
        house_ephemeral in any::<bool>(),
    ) {
        let fee_type = if maker_fee { FeeType::QuadraticWithMakerFees } else { FeeType::Quadratic };
        let fees = FeeModel::kalshi(fee_type, Price::ONE);
        let mut ex = exchange(fees);
        ex.open_account(3, usd("30"));
        if house_ephemeral {
            ex.set_ephemeral(HOUSE);
        }
        let initial = ex.total_cash();
        let mut now = T0;
        let mut seen = Seen::default();
        for op in &ops {
            let mut events = Vec::new();
            let before = ex.orders.slots.len();
            let target = pick(&ex, op);
            apply(&mut ex, op, target.as_ref(), &mut now, &mut events);
            seen.record(&events);
            // At most one new slot per operation.
            prop_assert!(ex.orders.slots.len() <= before + 1);
            check(&ex, initial, &seen)?;
        }
        for (ticker, yes) in [(M1, outcomes.0), (M2, outcomes.1)] {
            let mut events = Vec::new();
            let outcome = if yes { Outcome::Yes } else { Outcome::No };
            ex.settle(ticker, outcome, now, &mut events).expect("settle");
            seen.record(&events);
            check(&ex, initial, &seen)?;
        }
        prop_assert_eq!(ex.total_cash() + ex.fees_collected(), initial);
        prop_assert!(seen.book.is_empty());
        prop_assert!(ex.orders.iter().all(|(_, e)| e.order.status != OrderStatus::Resting));
        if house_ephemeral {
            prop_assert!(ex.orders(HOUSE).is_empty());
            prop_assert!(ex.orders.iter().all(|(_, e)| e.order.user != HOUSE));
        }
    }

    #[test]
    fn ephemeral_users_leave_others_unchanged(
        ops in prop::collection::vec(op(), 1..100),
        outcome in any::<bool>(),
    ) {
        // The same operations on two exchanges, HOUSE ephemeral in one.
        let mut full = ex();
        let mut eph = ex();
        eph.set_ephemeral(HOUSE);
        let (mut now_full, mut now_eph) = (T0, T0);
        let mut settle = Vec::new();
        for op in &ops {
            // Picked from the exchange that keeps everything; the other
            // rejects an order it forgot just as this one rejects it as done.
            let target = pick(&full, op);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            apply(&mut full, op, target.as_ref(), &mut now_full, &mut a);
            apply(&mut eph, op, target.as_ref(), &mut now_eph, &mut b);
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(now_full, now_eph);
        let outcome = if outcome { Outcome::Yes } else { Outcome::No };
        for ex in [&mut full, &mut eph] {
            let mut events = Vec::new();
            ex.settle(M1, outcome, now_full, &mut events).expect("settle");
            settle.push(events);
        }
        prop_assert_eq!(&settle[0], &settle[1]);
        for user in 1..=3 {
            prop_assert_eq!(full.orders(user), eph.orders(user));
            prop_assert_eq!(full.fills(user), eph.fills(user));
            prop_assert_eq!(full.positions(user), eph.positions(user));
            prop_assert_eq!(full.balance(user), eph.balance(user));
            for o in full.orders(user) {
                prop_assert_eq!(full.order(user, &o.order_id), eph.order(user, &o.order_id));
            }
        }
        // HOUSE's account is the same; of its history only what rests is kept.
        prop_assert_eq!(full.balance(HOUSE), eph.balance(HOUSE));
        prop_assert_eq!(full.positions(HOUSE), eph.positions(HOUSE));
        let resting: Vec<&Order> = full
            .orders(HOUSE)
            .into_iter()
            .filter(|o| o.status == OrderStatus::Resting)
            .collect();
        prop_assert_eq!(eph.orders(HOUSE), resting);
        prop_assert!(eph.fills(HOUSE).is_empty());
        prop_assert_eq!(full.total_cash(), eph.total_cash());
        prop_assert_eq!(full.fees_collected(), eph.fees_collected());
        prop_assert_eq!(full.book(M2, 0), eph.book(M2, 0));
        check_store(&eph)?;
    }
}

// ---- ephemeral users ----

#[test]
fn ephemeral_memory_stays_bounded() {
    use crate::model::Rng;
    const MAKER: UserId = HOUSE;
    const TAKER: UserId = 99;
    let mut ex = ex();
    ex.open_account(TAKER, i64::MAX / 4);
    ex.set_ephemeral(MAKER);
    ex.set_ephemeral(TAKER);
    let mut rng = Rng::new(11);
    let mut live: Vec<(UserId, String)> = Vec::new();
    let mut now = T0;
    let (mut trades, mut fills, mut most_slots) = (0usize, 0usize, 0usize);
    let mut events = Vec::new();
    for i in 0..200_000u64 {
        events.clear();
        if i % 1000 == 0 {
            now += 1_000;
        }
        let user = if rng.unit() < 0.5 { MAKER } else { TAKER };
        let ticker = if rng.unit() < 0.5 { M1 } else { M2 };
        let side = if rng.unit() < 0.5 {
            BookSide::Bid
        } else {
            BookSide::Ask
        };
        let cents = rng.range(40, 60) as i64;
        let roll = rng.unit();
        if roll < 0.25 && !live.is_empty() {
            // Cancel a random remembered order (it may be gone already).
            let (user, id) = live.swap_remove(rng.range(0, live.len() as u64 - 1) as usize);
            let _ = ex.cancel(user, &id, now, &mut events);
        } else {
            let tif = if roll < 0.5 {
                TimeInForce::ImmediateOrCancel
            } else {
                TimeInForce::GoodTillCanceled
            };
            let o = NewOrder {
                user,
                ticker: ticker.to_owned(),
                client_order_id: (rng.unit() < 0.2).then(|| format!("c{}", rng.range(0, 50))),
                side,
                count: q(rng.range(1, 30) as i64),
                price: Price::from_raw(cents * 1_000_000),
                time_in_force: tif,
                self_trade_prevention: SelfTradePrevention::Maker,
                post_only: false,
                reduce_only: false,
                expiration_ts: (tif == TimeInForce::GoodTillCanceled && rng.unit() < 0.2)
                    .then(|| now / 1000 + rng.range(0, 5) as i64),
                cancel_order_on_pause: false,
            };
            if let Ok(placed) = ex.place(o, now, &mut events)
                && placed.status == OrderStatus::Resting
            {
                live.push((user, placed.order_id));
            }
        }
        // Forget the oldest remembered ids; their orders may rest on.
        if live.len() > 400 {
            live.drain(..200);
        }
        ex.expire(now, &mut events);
        trades += events
            .iter()
            .filter(|e| matches!(e, Event::Trade(_)))
            .count();
        fills += events
            .iter()
            .filter(|e| matches!(e, Event::Fill(_)))
            .count();
        most_slots = most_slots.max(ex.orders.slots.len());
    }
    assert!(trades > 10_000, "only {trades} trades");
    assert_eq!(fills, 2 * trades, "every trade still reports both fills");
    // Bounded by what rests (at most a few hundred orders per price band),
    // not by the 200,000 orders placed.
    let stored = ex.orders.iter().count();
    assert!(most_slots < 3_000, "{most_slots} slots");
    assert!(ex.order_slots() < 3_000);
    assert_eq!(ex.orders.by_id.len(), stored);
    assert!(ex.orders.by_user.is_empty());
    assert!(
        ex.orders.expiries.len() < 3_000,
        "{}",
        ex.orders.expiries.len()
    );
    let cids: usize = ex.orders.live_client_ids.values().map(|m| m.len()).sum();
    assert!(cids <= stored);
    for user in [MAKER, TAKER] {
        assert!(ex.fills(user).is_empty());
        assert!(
            ex.orders(user)
                .iter()
                .all(|o| o.status == OrderStatus::Resting)
        );
    }
    assert_eq!(ex.orders(MAKER).len() + ex.orders(TAKER).len(), stored);
    // Accounts still move: the taker paid fees, and cash is conserved.
    assert!(ex.positions(TAKER).iter().any(|(_, p)| p.fees_paid > 0));
    let oi: i64 = [M1, M2]
        .iter()
        .map(|t| ex.market(t).expect("market").1.open_interest.raw())
        .sum();
    assert_eq!(
        ex.total_cash() + ex.fees_collected() + oi,
        usd("3000") + i64::MAX / 4
    );
    // Everything is released on settlement.
    for ticker in [M1, M2] {
        ex.settle(ticker, Outcome::Yes, now, &mut events)
            .expect("settle");
    }
    assert_eq!(ex.orders.iter().count(), 0);
    assert!(ex.orders.by_id.is_empty());
}

#[test]
fn ephemeral_reads_and_slot_reuse() {
    let mut ex = ex();
    ex.set_ephemeral(HOUSE);
    let secs = T0 / 1000;
    let mut events = Vec::new();
    // A resting order is readable; once it fills, it is gone.
    let h = place(
        &mut ex,
        NewOrder {
            expiration_ts: Some(secs + 10),
            client_order_id: Some("h".into()),
            ..ask(HOUSE, 5, "0.50")
        },
    );
    assert_eq!(
        ex.order(HOUSE, &h.order_id).map(|o| o.status),
        Some(OrderStatus::Resting)
    );
    assert_eq!(ex.orders(HOUSE).len(), 1);
    let b = ex.place(bid(1, 5, "0.50"), T0, &mut events).expect("bid");
    assert_eq!(b.status, OrderStatus::Executed);
    // The maker's final state was still reported.
    assert!(events.iter().any(
        |e| matches!(e, Event::Order(o) if o.order_id == h.order_id && o.status == OrderStatus::Executed)
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Fill(f) if f.user == HOUSE))
    );
    assert!(ex.order(HOUSE, &h.order_id).is_none());
    assert!(ex.orders(HOUSE).is_empty());
    assert!(ex.fills(HOUSE).is_empty());
    assert_eq!(position(&ex, HOUSE, M1), Qty::from_raw(-5 * UNIT));
    // The counterparty keeps its history.
    assert_eq!(ex.fills(1).len(), 1);
    assert_eq!(ex.order(1, &b.order_id).map(|o| o.fill_count), Some(q(5)));
    let r = ex
        .cancel(HOUSE, &h.order_id, T0, &mut events)
        .expect_err("gone");
    assert_eq!((r.status, r.code), (404, "not_found"));
    // Its client id is free again, and a new order reuses its slot; the old
    // order's expiry must not touch the new one.
    let slots = ex.order_slots();
    let n = place(
        &mut ex,
        NewOrder {
            client_order_id: Some("h".into()),
            ..ask(HOUSE, 3, "0.60")
        },
    );
    assert_eq!(ex.order_slots(), slots);
    let mut events = Vec::new();
    ex.expire(T0 + 10_000, &mut events);
    assert!(events.is_empty());
    assert_eq!(
        ex.order(HOUSE, &n.order_id).map(|o| o.status),
        Some(OrderStatus::Resting)
    );
    // Canceling returns the final state, then forgets the order.
    let (c, reduced) = ex
        .cancel(HOUSE, &n.order_id, T0, &mut events)
        .expect("cancel");
    assert_eq!((c.status, reduced), (OrderStatus::Canceled, q(3)));
    assert!(ex.order(HOUSE, &n.order_id).is_none());
    // An IOC remainder and a decrease to zero are forgotten too; their
    // results still come back.
    let ioc = place(
        &mut ex,
        NewOrder {
            time_in_force: TimeInForce::ImmediateOrCancel,
            ..bid(HOUSE, 5, "0.40")
        },
    );
    assert_eq!(
        (ioc.status, ioc.canceled_count),
        (OrderStatus::Canceled, q(5))
    );
    assert!(ex.order(HOUSE, &ioc.order_id).is_none());
    let d = place(&mut ex, bid(HOUSE, 5, "0.40"));
    let d = ex
        .decrease(HOUSE, &d.order_id, None, Some(Qty::ZERO), T0, &mut events)
        .expect("decrease");
    assert_eq!(d.status, OrderStatus::Canceled);
    assert!(ex.orders(HOUSE).is_empty());
    assert_eq!(ex.orders.iter().count(), 1, "only user 1's order stays");
}

#[test]
fn set_ephemeral_drops_existing_history() {
    let mut ex = ex();
    place(&mut ex, ask(2, 5, "0.50"));
    place(&mut ex, bid(2, 2, "0.40"));
    place(&mut ex, bid(1, 5, "0.50"));
    assert_eq!(ex.orders(2).len(), 2);
    assert_eq!(ex.fills(2).len(), 1);
    let balance = ex.balance(2);
    ex.set_ephemeral(2);
    ex.set_ephemeral(2);
    let left = ex.orders(2);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, OrderStatus::Resting);
    assert!(ex.fills(2).is_empty());
    assert_eq!(ex.balance(2), balance);
    assert_eq!(ex.fills(1).len(), 1);
    assert_eq!(ex.orders(1).len(), 1);
    // Its resting order is released when it ends.
    let id = left[0].order_id.clone();
    let mut events = Vec::new();
    ex.cancel(2, &id, T0, &mut events).expect("cancel");
    assert!(ex.orders(2).is_empty());
    assert_eq!(ex.orders.iter().count(), 1);
}

#[test]
fn order_id_keys_round_trip_and_reject_lookalikes() {
    let mut ids = IdGen(5);
    for _ in 0..1000 {
        let (key, id) = ids.uuid_with_key();
        assert_eq!(uuid_key(&id), Some(key), "{id}");
    }
    let (_, id) = ids.uuid_with_key();
    assert!(uuid_key(&id).is_some());
    let lookalikes = [
        id.to_uppercase(),
        id.replacen('-', "_", 1),
        id.replace('-', ""),
        format!("{id}0"),
        id[1..].to_owned(),
        format!("g{}", &id[1..]),
        format!("é{}", &id[2..]),
        String::new(),
    ];
    for other in lookalikes {
        assert_eq!(uuid_key(&other), None, "{other:?}");
    }
    // A near miss is simply not found.
    let mut ex = ex();
    let o = place(&mut ex, bid(1, 1, "0.40"));
    assert!(ex.order(1, &o.order_id.to_uppercase()).is_none());
    assert!(ex.order(1, &o.order_id).is_some());
}

#[test]
fn queue_positions_count_the_contracts_ahead() {
    let mut ex = ex();
    let first = place(&mut ex, bid(1, 2, "0.40"));
    let second = place(&mut ex, bid(2, 3, "0.40"));
    let third = place(&mut ex, bid(1, 4, "0.40"));
    let other_level = place(&mut ex, bid(1, 7, "0.39"));
    let qp = |ex: &Exchange, user, o: &Order| ex.queue_position(user, &o.order_id);
    assert_eq!(qp(&ex, 1, &first), Some(q(0)));
    assert_eq!(qp(&ex, 2, &second), Some(q(2)));
    assert_eq!(qp(&ex, 1, &third), Some(q(5)));
    assert_eq!(qp(&ex, 1, &other_level), Some(q(0)));
    // Not another user's order.
    assert_eq!(qp(&ex, 2, &third), None);
    // A trade takes 3 from the front; a cancel moves the rest up.
    let mut events = Vec::new();
    ex.place(ask(HOUSE, 3, "0.40"), T0, &mut events).unwrap();
    assert_eq!(qp(&ex, 1, &first), None, "filled: not resting");
    assert_eq!(qp(&ex, 2, &second), Some(q(0)));
    assert_eq!(qp(&ex, 1, &third), Some(q(2)));
    ex.cancel(2, &second.order_id, T0, &mut events).unwrap();
    assert_eq!(qp(&ex, 1, &third), Some(q(0)));
}
