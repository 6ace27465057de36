//! After warm-up, the decision path allocates nothing per market event:
//! books, both strategies (quotes, requotes by replace, cancels, signal
//! trades), the gate, the OMS, the ledger and the paper venue's fills.
//!
//! Runs without the libtest harness so no other test shares the count.

use pt_engine::model::{
    Command, CommandAction, EventKind, Header, InstrumentId, MarketEvent, Mono, Nanos, Price, Qty,
    Scope, Side,
};
use pt_engine::strategy::Signal;
use pt_gateway::{NoJournal, RiskPolicy};
use pt_tests::alloc::process_allocations as allocations;
use pt_tools::engine::config::EngineConfig;
use pt_tools::engine::core::Core;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

const CONFIG: &str = r#"
[feed]
markets = ["A", "B", "C", "D"]

[[strategy]]
kind = "mm"
requote_ticks = 1

[[strategy]]
kind = "taker"
max_qty = "5"
"#;

struct Drive {
    core: Core<NoJournal>,
    now: i64,
    seq: u64,
    x: u64,
    mids: [i64; 4],
}

impl Drive {
    fn next(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }

    fn market(&mut self, kind: EventKind, i: u32, side: Side, cents: i64, qty: i64) {
        self.now += 100_000;
        self.seq += 1;
        let m = MarketEvent {
            header: Header::new(kind, InstrumentId(i), self.seq, Nanos(self.now)),
            side,
            price: Price::from_raw(cents * 1_000_000),
            qty: Qty::from_units(qty).unwrap(),
            ..MarketEvent::default()
        };
        self.core.market(m, Nanos(self.now), Mono::now());
    }

    fn command(&mut self, c: Command) {
        self.core.command(c, Nanos(self.now), Mono::UNSET);
    }

    /// One step of a random walk on one market: its mid moves a cent now
    /// and then (the old levels emptied), sizes change, trades hit both
    /// sides through our quotes, and ticks and signals come in.
    fn step(&mut self) {
        let i = (self.next() % 4) as u32;
        let mid = self.mids[i as usize];
        let q = 5 + (self.next() % 30) as i64;
        match self.next() % 7 {
            0 => {
                let to = (mid + if self.next().is_multiple_of(2) { 1 } else { -1 }).clamp(20, 80);
                self.market(EventKind::LevelSet, i, Side::Buy, mid - 1, 0);
                self.market(EventKind::LevelSet, i, Side::Sell, mid + 1, 0);
                self.market(EventKind::LevelSet, i, Side::Buy, to - 1, q);
                self.market(EventKind::LevelSet, i, Side::Sell, to + 1, q);
                self.mids[i as usize] = to;
            }
            1 => self.market(EventKind::LevelSet, i, Side::Buy, mid - 1, q),
            2 => self.market(EventKind::LevelSet, i, Side::Sell, mid + 1, q),
            3 => self.market(EventKind::Trade, i, Side::Sell, mid - 3, q),
            4 => self.market(EventKind::Trade, i, Side::Buy, mid + 3, q),
            5 => {
                let c = Command {
                    header: Header::new(EventKind::Command, InstrumentId(0), 0, Nanos(self.now)),
                    action: CommandAction::Heartbeat,
                    scope: Scope::Global,
                    ..Command::default()
                };
                self.command(c);
            }
            _ => {
                let away = if self.next().is_multiple_of(2) {
                    12
                } else {
                    -12
                };
                let s = Signal {
                    instrument: InstrumentId(i),
                    probability: Price::from_raw((mid + away) * 1_000_000),
                    confidence: Price::ONE,
                    generated_at: Nanos(self.now),
                    ttl_ns: 1_000_000_000,
                    source: 1,
                };
                self.command(s.to_command(Nanos(self.now)));
            }
        }
    }
}

fn main() {
    let mut config = EngineConfig::from_toml(CONFIG, "engine_alloc", std::path::Path::new("."))
        .expect("valid config");
    // A budget that never runs dry at one event every 100 µs.
    config.policy = Some(
        RiskPolicy::from_toml(
            "[rate]\ncapacity = 1000000\nrefill_per_second = 1000000000\n",
            "engine_alloc",
        )
        .unwrap(),
    );
    let core = Core::new(&config, NoJournal, &[]).expect("the decision graph");
    let mut d = Drive {
        core,
        now: 1_000_000_000,
        seq: 0,
        x: 0x9E37_79B9_7F4A_7C15,
        mids: [45, 50, 55, 60],
    };
    for i in 0..4u32 {
        let mid = d.mids[i as usize];
        d.market(EventKind::SnapshotBegin, i, Side::Buy, 0, 0);
        d.market(EventKind::SnapshotLevel, i, Side::Buy, mid - 1, 20);
        d.market(EventKind::SnapshotLevel, i, Side::Sell, mid + 1, 20);
        d.market(EventKind::SnapshotEnd, i, Side::Buy, 0, 0);
    }
    const WARM: u64 = 50_000;
    const MEASURED: u64 = 100_000;
    for _ in 0..WARM {
        d.step();
    }
    let approved_before: u64 = d.core.gateway().counters().approved.iter().sum();
    let before = allocations();
    for _ in 0..MEASURED {
        d.step();
    }
    let during = allocations() - before;
    let gw = d.core.gateway();
    let approved: u64 = gw.counters().approved.iter().sum::<u64>() - approved_before;
    let fills = d.core.strategies().counters().reports;
    println!(
        "decision path: {MEASURED} inputs, {approved} orders approved, {fills} reports in all, {during} allocations"
    );
    assert!(
        approved > 1_000,
        "too few orders to prove anything: {approved}"
    );
    assert_eq!(during, 0, "the decision path allocated after warm-up");
}
