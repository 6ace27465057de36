//! The gateway's hot path: risk gate + OMS + ledger + paper venue per
//! intent (a resting order and its cancel, each answered by the paper
//! venue), with the latency distribution of single intents; and the paper
//! venue's throughput on book events with 100 resting orders across 20
//! markets, the load a backtest puts on it.
//!
//! `cargo bench -p pt-benches --bench gateway`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use pt_engine::contract::FeeModel;
use pt_engine::graph::Out;
use pt_engine::instrument::Registry;
use pt_engine::model::{
    BookUpdate, ClientOrderId, Event, EventKind, Header, InstrumentId, MarketEvent, Mode, Mono,
    Nanos, OrderIntent, Price, Qty, Side, StrategyId,
};
use pt_gateway::{
    Disconnected, Gateway, GatewayConfig, Markets, NoJournal, PaperConfig, PaperVenue, RiskPolicy,
};
use pt_tests::gateway::Harness;
use std::hint::black_box;

fn fast_policy() -> RiskPolicy {
    RiskPolicy::from_toml(
        "[rate]\ncapacity = 1000000\nrefill_per_second = 1000000000\n",
        "bench",
    )
    .expect("valid")
}

fn harness() -> Harness {
    let mut h = Harness::new(
        Some(fast_policy()),
        Mode::Paper,
        false,
        PaperConfig::default(),
    );
    for i in 0..4 {
        h.quote(i, "0.40", "0.45", 20);
    }
    h
}

/// One new order that rests, then its cancel: two intents.
fn pair(h: &mut Harness, k: u64) {
    let instrument = (k % 4) as u32;
    let o = h.new_order(1, k + 1, instrument, Side::Buy, "0.35", 3);
    black_box(h.send(o));
    let c = h.cancel(2, k + 1, o.client_order_id);
    black_box(h.send(c));
    if k.is_multiple_of(4096) {
        h.gw.journal_mut().clear();
    }
}

fn intents(c: &mut Criterion) {
    let mut g = c.benchmark_group("gateway");
    g.throughput(Throughput::Elements(2));
    let mut h = harness();
    let mut k = 0u64;
    g.bench_function("intent_pair", |b| {
        b.iter(|| {
            pair(&mut h, k);
            k += 1;
        })
    });
    g.finish();

    // Single intents, timed one by one (the clock read is included).
    let mut h = harness();
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    for k in 0..2_000_000u64 {
        let instrument = (k % 4) as u32;
        let o = h.new_order(1, k + 1, instrument, Side::Buy, "0.35", 3);
        let c = h.cancel(2, k + 1, o.client_order_id);
        let t0 = Mono::now();
        black_box(h.send(o));
        let t1 = Mono::now();
        black_box(h.send(c));
        let t2 = Mono::now();
        if k > 100_000 {
            hist.record(t1.saturating_since(t0)).ok();
            hist.record(t2.saturating_since(t1)).ok();
        }
        if k.is_multiple_of(4096) {
            h.gw.journal_mut().clear();
        }
    }
    println!(
        "gateway/intent single: p50 {} ns, p99 {} ns, p99.9 {} ns over {} intents",
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999),
        hist.len()
    );
}

/// Twenty markets in ten events.
fn registry() -> Registry {
    let mut text = String::from("[[venue]]\nname = \"kalshi\"\n");
    for i in 0..20 {
        text += &format!(
            "[[instrument]]\nsymbol = \"KXB-E{}-M{i}\"\nvenue = \"kalshi\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{{ start = \"0.01\", end = \"0.99\", step = \"0.01\" }}]\n",
            i / 2
        );
    }
    Registry::from_toml(&text, "bench").expect("valid")
}

fn cents(c: i64) -> Price {
    Price::from_raw(c * 1_000_000)
}

fn paper(c: &mut Criterion) {
    let registry = registry();
    let markets = Markets::new(&registry, |_| FeeModel::default());
    let mut venue = PaperVenue::new(&registry, &markets, PaperConfig::default());
    for i in 0..20u32 {
        venue.set_whole(InstrumentId(i));
    }
    let policy = RiskPolicy::from_toml(
        "[strategy]\nmax_open_orders = 1000\n[rate]\ncapacity = 1000000\nrefill_per_second = 1000000000\n",
        "bench",
    )
    .expect("valid");
    let config = GatewayConfig::default();
    let mut gw = Gateway::new(
        markets,
        Some(policy),
        &config,
        venue,
        Disconnected,
        NoJournal,
    );
    let mut out = Out::new(1024);
    // Whole books: bid 0.35, ask 0.51 everywhere.
    for i in 0..20u32 {
        let b = BookUpdate {
            header: Header::new(EventKind::BookUpdate, InstrumentId(i), 0, Nanos(1)),
            best_bid: cents(35),
            best_bid_qty: Qty::from_units(10).expect("qty"),
            best_ask: cents(51),
            best_ask_qty: Qty::from_units(10).expect("qty"),
            ..BookUpdate::default()
        };
        gw.on_event(&Event::Book(b), Nanos(1), &mut out);
    }
    // 100 resting orders through the gate: five bids per market at
    // 0.30..0.34, levels the stream below never trades through.
    for k in 0..100u64 {
        let instrument = (k % 20) as u32;
        let o = OrderIntent {
            header: Header::new(EventKind::OrderNew, InstrumentId(instrument), k, Nanos(1)),
            client_order_id: ClientOrderId::new(StrategyId(1), k + 1).expect("id"),
            price: cents(30 + (k / 20) as i64),
            qty: Qty::from_units(5).expect("qty"),
            strategy: StrategyId(1),
            side: Side::Buy,
            ..OrderIntent::default()
        };
        gw.on_event(&Event::Intent(o), Nanos(1), &mut out);
    }
    assert_eq!(gw.paper().counters().resting, 100, "{:?}", gw.counters());
    // Book events: level changes at 0.35..0.60 on both sides and trades at 0.50.
    let events: Vec<Event> = (0..100_000u64)
        .map(|s| {
            let instrument = InstrumentId((s.wrapping_mul(7) % 20) as u32);
            let kind = if s % 10 == 9 {
                EventKind::Trade
            } else {
                EventKind::LevelSet
            };
            let side = if s % 2 == 0 { Side::Buy } else { Side::Sell };
            let price = if kind == EventKind::Trade {
                cents(50)
            } else {
                match side {
                    Side::Buy => cents(35 + (s % 14) as i64),
                    Side::Sell => cents(51 + (s % 10) as i64),
                }
            };
            Event::Market(MarketEvent {
                header: Header::new(kind, instrument, s, Nanos(2)),
                side,
                price,
                qty: Qty::from_units(1 + (s % 50) as i64).expect("qty"),
                ..MarketEvent::default()
            })
        })
        .collect();
    let mut g = c.benchmark_group("paper");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("book_events_100_resting_20_markets", |b| {
        b.iter(|| {
            for e in &events {
                gw.on_event(e, Nanos(3), &mut out);
            }
            out.clear();
        })
    });
    g.finish();
    assert_eq!(
        gw.paper().counters().resting,
        100,
        "the stream never fills the resting orders"
    );
}

criterion_group!(benches, intents, paper);
criterion_main!(benches);
