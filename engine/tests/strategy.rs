//! The strategies through the strategy stage, as the engine runs them:
//! books, reports, signals and ticks in, intents out.

use pt_engine::contract::{FeeModel, FeeType};
use pt_engine::graph::{Node, Out};
use pt_engine::model::{
    BookUpdate, ClientOrderId, Command, CommandAction, Event, EventKind, ExecReport, Header,
    InstrumentId, Nanos, OrderIntent, Price, Qty, Scope, Side, StrategyId, TimeInForce, book_flags,
    order_flags,
};
use pt_engine::strategy::mm::{MarketMaker, MmParams};
use pt_engine::strategy::taker::{Taker, TakerParams};
use pt_engine::strategy::{Signal, SignalError, Strategy, StrategyStage};

const M: InstrumentId = InstrumentId(0);

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn q(n: i64) -> Qty {
    Qty::from_units(n).unwrap()
}

fn fees() -> FeeModel {
    FeeModel::kalshi(FeeType::Quadratic, Price::ONE)
}

struct H {
    stage: StrategyStage,
    out: Out<Event>,
    now: i64,
}

impl H {
    fn new(strategies: Vec<Box<dyn Strategy>>) -> H {
        H {
            stage: StrategyStage::new(strategies.into_iter().map(|s| (s, 1)).collect()),
            out: Out::new(64),
            now: 1_000_000_000,
        }
    }

    fn mm(params: MmParams) -> H {
        H::new(vec![Box::new(MarketMaker::new(params, fees(), &[M]))])
    }

    fn send(&mut self, e: Event) -> Vec<OrderIntent> {
        self.out.clear();
        self.stage.on_event(&e, Nanos(self.now), &mut self.out);
        self.out
            .as_slice()
            .iter()
            .map(|e| match e {
                Event::Intent(i) => *i,
                other => panic!("the stage emitted {other:?}"),
            })
            .collect()
    }

    fn book(&mut self, bid: &str, bq: i64, ask: &str, aq: i64, flags: u8) -> Vec<OrderIntent> {
        self.send(Event::Book(BookUpdate {
            header: Header::new(EventKind::BookUpdate, M, 0, Nanos(self.now)),
            best_bid: p(bid),
            best_bid_qty: q(bq),
            best_ask: p(ask),
            best_ask_qty: q(aq),
            book_flags: flags,
            ..BookUpdate::default()
        }))
    }

    fn report(
        &mut self,
        kind: EventKind,
        id: ClientOrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Vec<OrderIntent> {
        self.send(Event::Exec(ExecReport {
            header: Header::new(kind, M, 0, Nanos(self.now)),
            client_order_id: id,
            side,
            price,
            qty,
            ..ExecReport::default()
        }))
    }

    fn ack(&mut self, i: &OrderIntent) {
        assert!(
            self.report(EventKind::Ack, i.client_order_id, i.side, i.price, i.qty)
                .is_empty()
        );
    }

    fn command(&mut self, c: Command) -> Vec<OrderIntent> {
        self.send(Event::Command(c))
    }
}

fn quote(i: &OrderIntent) -> (EventKind, Side, Price, Qty) {
    (i.header.kind, i.side, i.price, i.qty)
}

#[test]
fn mm_quotes_both_sides_around_the_microprice() {
    let mut h = H::mm(MmParams::default());
    // Even sizes: the microprice is the mid, 0.43; half spread 0.02.
    let out = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(
        out.iter().map(quote).collect::<Vec<_>>(),
        [
            (EventKind::OrderNew, Side::Buy, p("0.41"), q(5)),
            (EventKind::OrderNew, Side::Sell, p("0.45"), q(5)),
        ]
    );
    for i in &out {
        assert_eq!(i.time_in_force, TimeInForce::GoodTillCancelled);
        assert_eq!(i.order_flags, order_flags::POST_ONLY, "quotes never take");
        assert_eq!(i.client_order_id.strategy().0, 1);
    }
    assert_ne!(out[0].client_order_id, out[1].client_order_id);
    // Nothing more while both are unanswered.
    assert!(h.book("0.40", 10, "0.46", 10, 0).is_empty());

    // A heavier bid pulls the microprice up: (0.40×10 + 0.46×30) / 40 = 0.445.
    let mut h = H::mm(MmParams::default());
    let out = h.book("0.40", 30, "0.46", 10, 0);
    assert_eq!((out[0].price, out[1].price), (p("0.42"), p("0.47")));
}

#[test]
fn mm_leans_against_its_position_and_keeps_within_its_limit() {
    let params = MmParams {
        max_position: q(7),
        ..MmParams::default()
    };
    let mut h = H::mm(params);
    let out = h.book("0.40", 10, "0.46", 10, 0);
    h.ack(&out[0]);
    h.ack(&out[1]);
    // The bid fills whole: long 5.
    assert!(
        h.report(
            EventKind::Fill,
            out[0].client_order_id,
            Side::Buy,
            p("0.41"),
            q(5)
        )
        .is_empty()
    );
    // Fair 0.43 − 5 × 0.001 = 0.425: bid 0.40; room to buy only 2 more.
    let next = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(
        next.iter().map(quote).collect::<Vec<_>>(),
        [(EventKind::OrderNew, Side::Buy, p("0.40"), q(2))],
        "the ask at 0.45 stays: its target did not move a tick"
    );
}

#[test]
fn mm_moves_quotes_by_replace_past_the_threshold_only() {
    let params = MmParams {
        requote_ticks: 2,
        ..MmParams::default()
    };
    let mut h = H::mm(params);
    let out = h.book("0.40", 10, "0.46", 10, 0);
    h.ack(&out[0]);
    h.ack(&out[1]);
    // One tick up: below the threshold.
    assert!(h.book("0.41", 10, "0.47", 10, 0).is_empty());
    // Two ticks up: both move, by replace, keeping their ids.
    let moved = h.book("0.42", 10, "0.48", 10, 0);
    assert_eq!(
        moved.iter().map(quote).collect::<Vec<_>>(),
        [
            (EventKind::OrderReplace, Side::Buy, p("0.43"), q(5)),
            (EventKind::OrderReplace, Side::Sell, p("0.47"), q(5)),
        ]
    );
    assert_eq!(moved[0].target, out[0].client_order_id);
    assert_eq!(moved[1].target, out[1].client_order_id);
    // Until the venue answers, nothing else goes out.
    assert!(h.book("0.45", 10, "0.51", 10, 0).is_empty());
    // A refused replace leaves the order as it was: it can move again,
    // after the backoff (no storm of refused requests at the book's rate).
    assert!(
        h.report(
            EventKind::ReplaceRejected,
            out[0].client_order_id,
            Side::Buy,
            p("0.41"),
            q(5)
        )
        .is_empty()
    );
    assert!(h.book("0.45", 10, "0.51", 10, 0).is_empty());
    h.now += 300_000_000;
    let again = h.book("0.45", 10, "0.51", 10, 0);
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].header.kind, again[0].price),
        (EventKind::OrderReplace, p("0.46"))
    );
}

#[test]
fn mm_pulls_quotes_on_a_stale_crossed_or_one_sided_book_and_on_a_kill() {
    for flags in [book_flags::STALE, book_flags::CROSSED, book_flags::NO_ASK] {
        let mut h = H::mm(MmParams::default());
        let out = h.book("0.40", 10, "0.46", 10, 0);
        h.ack(&out[0]);
        h.ack(&out[1]);
        let pulled = h.book("0.40", 10, "0.46", 10, flags);
        assert_eq!(pulled.len(), 2, "flags {flags:#x}");
        assert!(
            pulled
                .iter()
                .all(|i| i.header.kind == EventKind::OrderCancel)
        );
        assert_eq!(pulled[0].target, out[0].client_order_id);
        // Cancelled, and nothing new while the book is bad.
        for (i, c) in out.iter().zip(&pulled) {
            let _ = c;
            assert!(
                h.report(
                    EventKind::Cancelled,
                    i.client_order_id,
                    i.side,
                    i.price,
                    i.qty
                )
                .is_empty()
            );
        }
        assert!(h.book("0.40", 10, "0.46", 10, flags).is_empty());
        // A good book brings them back.
        assert_eq!(h.book("0.40", 10, "0.46", 10, 0).len(), 2);
    }
    let mut h = H::mm(MmParams::default());
    let out = h.book("0.40", 10, "0.46", 10, 0);
    h.ack(&out[0]);
    h.ack(&out[1]);
    let kill = Command {
        header: Header::new(EventKind::Command, M, 0, Nanos(h.now)),
        action: CommandAction::TripKillSwitch,
        scope: Scope::Global,
        ..Command::default()
    };
    let pulled = h.command(kill);
    assert_eq!(
        pulled
            .iter()
            .filter(|i| i.header.kind == EventKind::OrderCancel)
            .count(),
        2
    );
    for i in &out {
        h.report(
            EventKind::Cancelled,
            i.client_order_id,
            i.side,
            i.price,
            i.qty,
        );
    }
    assert!(h.book("0.40", 10, "0.46", 10, 0).is_empty(), "halted");
    let reset = Command {
        action: CommandAction::ResetKillSwitch,
        ..kill
    };
    assert_eq!(h.command(reset).len(), 2, "a reset quotes again");
}

#[test]
fn mm_backs_off_after_a_refusal() {
    let mut h = H::mm(MmParams::default());
    let out = h.book("0.40", 10, "0.46", 10, 0);
    assert!(
        h.report(
            EventKind::Reject,
            out[0].client_order_id,
            Side::Buy,
            p("0.41"),
            q(5)
        )
        .is_empty()
    );
    h.now += 100_000_000;
    assert!(
        h.book("0.40", 10, "0.46", 10, 0).is_empty(),
        "within the 250 ms backoff"
    );
    h.now += 200_000_000;
    let again = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(
        again.iter().map(quote).collect::<Vec<_>>(),
        [(EventKind::OrderNew, Side::Buy, p("0.41"), q(5))]
    );
}

#[test]
fn mm_follows_a_fresh_signal_then_the_book_again() {
    let mut h = H::mm(MmParams::default());
    let out = h.book("0.40", 10, "0.46", 10, 0);
    h.ack(&out[0]);
    h.ack(&out[1]);
    let s = Signal {
        instrument: M,
        probability: p("0.60"),
        confidence: p("0.9"),
        generated_at: Nanos(h.now),
        ttl_ns: 1_000_000_000,
        source: 7,
    };
    // Fair 0.60: bid min(0.58, ask − tick = 0.45) = 0.45, ask 0.62.
    let moved = h.command(s.to_command(Nanos(h.now)));
    assert_eq!(
        moved.iter().map(|i| (i.side, i.price)).collect::<Vec<_>>(),
        [(Side::Buy, p("0.45")), (Side::Sell, p("0.62"))]
    );
    for i in &moved {
        let id = i.target;
        h.report(EventKind::Replaced, id, i.side, i.price, i.qty);
    }
    // After its time to live the tick returns the quotes to the book.
    h.now += 2_000_000_000;
    let tick = Command {
        header: Header::new(EventKind::Command, M, 0, Nanos(h.now)),
        action: CommandAction::Heartbeat,
        ..Command::default()
    };
    let back = h.command(tick);
    assert_eq!(
        back.iter().map(|i| (i.side, i.price)).collect::<Vec<_>>(),
        [(Side::Buy, p("0.41")), (Side::Sell, p("0.45"))]
    );
}

fn taker(params: TakerParams) -> H {
    H::new(vec![Box::new(Taker::new(params, fees(), &[M]))])
}

fn taker_with_bankroll(usd: &str) -> H {
    taker(TakerParams {
        bankroll: pt_engine::model::Money::parse(usd).unwrap(),
        ..TakerParams::default()
    })
}

fn signal(h: &H, prob: &str, conf: &str) -> Command {
    Signal {
        instrument: M,
        probability: p(prob),
        confidence: p(conf),
        generated_at: Nanos(h.now),
        ttl_ns: 5_000_000_000,
        source: 1,
    }
    .to_command(Nanos(h.now))
}

#[test]
fn taker_crosses_past_fee_and_threshold_with_a_kelly_size() {
    let mut h = taker_with_bankroll("1000");
    assert!(
        h.book("0.48", 100, "0.50", 100, 0).is_empty(),
        "no signal, no trade"
    );
    // p = 0.60 against ask 0.50: fee 0.07 × 0.5 × 0.5 = 0.0175 + threshold 0.02 < 0.10.
    // f* = 0.10 / 0.50 = 0.2; × 0.25 × confidence 0.8 = 0.04; stake $40 at $0.50 = 80,
    // capped by max_qty 20.
    let c = signal(&h, "0.60", "0.8");
    let out = h.command(c);
    assert_eq!(out.len(), 1);
    let i = out[0];
    assert_eq!(
        quote(&i),
        (EventKind::OrderNew, Side::Buy, p("0.50"), q(20))
    );
    assert_eq!(i.time_in_force, TimeInForce::ImmediateOrCancel);
    // One trade per signal.
    assert!(h.book("0.48", 100, "0.50", 100, 0).is_empty());

    // A smaller bankroll shows the Kelly size itself: $100 → stake $4 → 8.
    let mut h = taker_with_bankroll("100");
    h.book("0.48", 100, "0.50", 100, 0);
    let c = signal(&h, "0.60", "0.8");
    assert_eq!(
        quote(&h.command(c)[0]),
        (EventKind::OrderNew, Side::Buy, p("0.50"), q(8))
    );

    // Selling: p = 0.30 under bid 0.48. f* = 0.18 / 0.48 = 0.375; × 0.25 × 1.0;
    // stake $9.375 at $0.52 of risk a contract = 18.
    let mut h = taker_with_bankroll("100");
    h.book("0.48", 100, "0.50", 100, 0);
    let c = signal(&h, "0.30", "1");
    assert_eq!(
        quote(&h.command(c)[0]),
        (EventKind::OrderNew, Side::Sell, p("0.48"), q(18))
    );
}

#[test]
fn taker_waits_out_a_thin_edge_and_counts_expired_signals() {
    let mut h = taker(TakerParams::default());
    h.book("0.48", 100, "0.50", 100, 0);
    // 0.53 − 0.50 = 0.03 < fee 0.0175 + threshold 0.02.
    let c = signal(&h, "0.53", "1");
    assert!(h.command(c).is_empty());
    // An expired signal never reaches the strategy.
    let mut old = signal(&h, "0.90", "1");
    old.args[1] = h.now - 10_000_000_000;
    assert!(h.command(old).is_empty());
    assert_eq!(h.stage.counters().expired_signals, 1);
    // Nor does one out of range.
    let mut bad = signal(&h, "0.90", "1");
    bad.arg = Price::ONE.raw();
    assert!(h.command(bad).is_empty());
    assert_eq!(h.stage.counters().bad_signals, 1);
    assert_eq!(h.stage.counters().signals, 1);
}

#[test]
fn signals_round_trip_through_commands_and_refuse_bad_fields() {
    let s = Signal {
        instrument: InstrumentId(3),
        probability: p("0.62"),
        confidence: p("0.8"),
        generated_at: Nanos(5),
        ttl_ns: 30,
        source: 9,
    };
    let c = s.to_command(Nanos(6));
    let bytes = Event::Command(c).to_bytes();
    let Event::Command(back) = Event::from_bytes(&bytes).unwrap() else {
        panic!("a command")
    };
    assert_eq!(Signal::from_command(&back), Some(Ok(s)));
    assert!(s.is_fresh(Nanos(34)) && !s.is_fresh(Nanos(35)));
    let bad = |f: fn(&mut Signal)| {
        let mut b = s;
        f(&mut b);
        b.validate().unwrap_err()
    };
    assert_eq!(
        bad(|b| b.probability = Price::ZERO),
        SignalError::Probability(Price::ZERO)
    );
    assert_eq!(
        bad(|b| b.confidence = p("1.5")),
        SignalError::Confidence(p("1.5"))
    );
    assert_eq!(bad(|b| b.ttl_ns = 0), SignalError::Ttl(0));
    assert_eq!(
        bad(|b| b.generated_at = Nanos::UNSET),
        SignalError::GeneratedAt
    );
    let heartbeat = Command {
        action: CommandAction::Heartbeat,
        ..Command::default()
    };
    assert_eq!(Signal::from_command(&heartbeat), None);
}

#[test]
fn reports_go_to_the_strategy_that_owns_the_order() {
    let mut h = H::new(vec![
        Box::new(MarketMaker::new(MmParams::default(), fees(), &[M])),
        Box::new(MarketMaker::new(MmParams::default(), fees(), &[M])),
    ]);
    let out = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(out.len(), 4);
    assert_eq!(
        out.iter()
            .map(|i| i.client_order_id.strategy().0)
            .collect::<Vec<_>>(),
        [1, 1, 2, 2]
    );
    // Strategy 2's bid fills; only strategy 2 re-quotes that side.
    h.ack(&out[2]);
    h.report(
        EventKind::Fill,
        out[2].client_order_id,
        Side::Buy,
        p("0.41"),
        q(5),
    );
    let gateway_id = ClientOrderId::new(pt_engine::model::StrategyId(0), 1).unwrap();
    h.report(EventKind::Cancelled, gateway_id, Side::Buy, p("0.41"), q(5));
    assert_eq!(h.stage.counters().foreign_reports, 1);
    let next = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].client_order_id.strategy().0, 2);
}

#[test]
fn parameters_change_by_command_within_their_ranges() {
    use pt_engine::model::StrategyId;
    use pt_engine::strategy::ParamChange;
    let mut h = H::mm(MmParams::default());
    let set = |name: &str, value: &str, strategy: u16| {
        ParamChange::new(StrategyId(strategy), name, Qty::parse(value).unwrap().raw())
            .unwrap()
            .to_command(Nanos(1))
    };
    // The name survives the record's bytes.
    let c = set("half_spread", "0.03", 1);
    let Event::Command(back) = Event::from_bytes(&Event::Command(c).to_bytes()).unwrap() else {
        panic!("a command")
    };
    let change = ParamChange::from_command(&back).unwrap();
    assert_eq!(
        (change.name(), change.value),
        ("half_spread", p("0.03").raw())
    );

    assert!(h.command(set("size", "2", 1)).is_empty());
    assert!(h.command(set("half_spread", "0.03", 1)).is_empty());
    // Refused: no such parameter, out of range, not a whole number, no such strategy.
    h.command(set("threshold", "0.1", 1));
    h.command(set("half_spread", "1.5", 1));
    h.command(set("requote_ticks", "1.5", 1));
    h.command(set("size", "3", 9));
    let c = h.stage.counters();
    assert_eq!((c.params_set, c.params_refused), (2, 4));
    // Mid 0.43 ± 0.03, two contracts.
    let out = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(
        out.iter().map(quote).collect::<Vec<_>>(),
        [
            (EventKind::OrderNew, Side::Buy, p("0.40"), q(2)),
            (EventKind::OrderNew, Side::Sell, p("0.46"), q(2)),
        ]
    );
}

#[test]
fn mm_pulls_its_quotes_while_the_market_is_not_open() {
    use pt_engine::model::{MarketEvent, MarketStatus};
    let mut h = H::mm(MmParams::default());
    let out = h.book("0.40", 10, "0.46", 10, 0);
    h.ack(&out[0]);
    h.ack(&out[1]);
    let status = |h: &H, s: MarketStatus| {
        Event::Market(MarketEvent {
            header: Header::new(EventKind::Status, M, 0, Nanos(h.now)),
            status: s,
            ..MarketEvent::default()
        })
    };
    let pulled = h.send(status(&h, MarketStatus::Paused));
    assert_eq!(pulled.len(), 2);
    assert!(
        pulled
            .iter()
            .all(|i| i.header.kind == EventKind::OrderCancel)
    );
    for i in &out {
        h.report(
            EventKind::Cancelled,
            i.client_order_id,
            i.side,
            i.price,
            i.qty,
        );
    }
    assert!(
        h.book("0.40", 10, "0.46", 10, 0).is_empty(),
        "paused: no quotes"
    );
    // A gap in the feed says nothing of the market's status.
    assert!(h.send(status(&h, MarketStatus::Gap)).is_empty());
    assert_eq!(
        h.send(status(&h, MarketStatus::Open)).len(),
        2,
        "open again: quotes"
    );
}

#[test]
fn a_stopped_strategy_pulls_its_quotes_hears_nothing_and_keeps_a_kill_for_its_start() {
    let mut h = H::new(vec![
        Box::new(MarketMaker::new(MmParams::default(), fees(), &[M])),
        Box::new(MarketMaker::new(MmParams::default(), fees(), &[M])),
    ]);
    let out = h.book("0.40", 10, "0.46", 10, 0);
    assert_eq!(out.len(), 4, "both makers quote");
    for i in &out {
        h.ack(i);
    }
    let run = |strategy: u16, on: bool, h: &H| Command {
        header: Header::new(EventKind::Command, M, 0, Nanos(h.now)),
        action: CommandAction::SetRunning,
        strategy: StrategyId(strategy),
        arg: i64::from(on),
        ..Command::default()
    };
    let pulled = h.command(run(1, false, &h));
    assert_eq!(pulled.len(), 2);
    assert!(
        pulled
            .iter()
            .all(|i| i.header.kind == EventKind::OrderCancel
                && i.client_order_id.strategy() == StrategyId(1))
    );
    // Stopping twice does nothing more.
    assert!(h.command(run(1, false, &h)).is_empty());
    for i in out
        .iter()
        .filter(|i| i.client_order_id.strategy() == StrategyId(1))
    {
        h.report(
            EventKind::Cancelled,
            i.client_order_id,
            i.side,
            i.price,
            i.qty,
        );
    }
    // Only the second maker hears the book.
    let moved = h.book("0.30", 10, "0.36", 10, 0);
    assert!(!moved.is_empty());
    assert!(
        moved
            .iter()
            .all(|i| i.client_order_id.strategy() == StrategyId(2))
    );
    // Started, it quotes again on the book it last saw.
    let back = h.command(run(1, true, &h));
    assert_eq!(back.len(), 2, "{back:?}");
    assert!(
        back.iter().all(|i| i.header.kind == EventKind::OrderNew
            && i.client_order_id.strategy() == StrategyId(1))
    );
    for i in &back {
        h.ack(i);
    }
    // Killed while stopped: starting it does not lift the kill; a reset does.
    let pulled = h.command(run(1, false, &h));
    for i in &pulled {
        let target = back.iter().find(|b| b.client_order_id == i.target).unwrap();
        h.report(
            EventKind::Cancelled,
            target.client_order_id,
            target.side,
            target.price,
            target.qty,
        );
    }
    let kill = Command {
        header: Header::new(EventKind::Command, M, 0, Nanos(h.now)),
        action: CommandAction::TripKillSwitch,
        scope: Scope::Strategy,
        strategy: StrategyId(1),
        ..Command::default()
    };
    assert!(
        h.command(kill).is_empty(),
        "a stopped strategy has nothing to pull"
    );
    assert!(h.command(run(1, true, &h)).is_empty(), "still killed");
    let reset = Command {
        action: CommandAction::ResetKillSwitch,
        ..kill
    };
    assert_eq!(h.command(reset).len(), 2, "the reset quotes again");
    // A strategy that is not there is counted.
    assert!(h.command(run(9, false, &h)).is_empty());
    assert_eq!(h.stage.counters().bad_runs, 1);
}
