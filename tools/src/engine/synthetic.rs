//! A synthetic market driving the decision path without a socket: four
//! markets whose mids walk a cent at a time, level changes, trades through
//! the quotes on both sides, heartbeats and signals. What the decision
//! path's allocation test and its bench run.

use super::config::EngineConfig;
use super::core::{Core, LiveVenue};
use pt_engine::model::{
    Command, CommandAction, EventKind, Header, InstrumentId, MarketEvent, Mono, Nanos, Price, Qty,
    Scope, Side,
};
use pt_engine::strategy::Signal;
use pt_gateway::{Disconnected, NoJournal, RiskPolicy};

/// The engine config it runs: four markets, `mm` and `taker` on all.
pub const CONFIG: &str = r#"
[feed]
markets = ["A", "B", "C", "D"]

[[strategy]]
kind = "mm"
requote_ticks = 1

[[strategy]]
kind = "taker"
max_qty = "5"
"#;

/// The decision path and the market driving it.
#[derive(Debug)]
pub struct Synthetic {
    /// The decision path (no journal).
    pub core: Core<NoJournal>,
    now: i64,
    seq: u64,
    x: u64,
    mids: [i64; 4],
    wall_clock: bool,
}

impl Synthetic {
    /// The decision path of [`CONFIG`] with an order budget that never runs
    /// dry, each book built from a snapshot. With `wall_clock`, inputs are
    /// stamped with the real time (so tick-to-trade measures this process);
    /// without, time moves 100 µs an input.
    pub fn new(wall_clock: bool) -> Synthetic {
        let mut config = EngineConfig::from_toml(CONFIG, "synthetic", std::path::Path::new("."))
            .expect("the synthetic config is valid");
        config.policy = Some(
            RiskPolicy::from_toml(
                "[rate]\ncapacity = 1000000\nrefill_per_second = 1000000000\n\
                 [strategy]\ndaily_loss = \"1000000000\"\n[global]\ndaily_loss = \"1000000000\"\n",
                "synthetic",
            )
            .expect("the synthetic policy is valid"),
        );
        let core = Core::new(&config, NoJournal, &[], &[], LiveVenue::Off(Disconnected))
            .expect("the decision graph builds");
        let mut s = Synthetic {
            core,
            now: 1_000_000_000,
            seq: 0,
            x: 0x9E37_79B9_7F4A_7C15,
            mids: [45, 50, 55, 60],
            wall_clock,
        };
        for i in 0..4u32 {
            let mid = s.mids[i as usize];
            s.market(EventKind::SnapshotBegin, i, Side::Buy, 0, 0);
            s.market(EventKind::SnapshotLevel, i, Side::Buy, mid - 1, 20);
            s.market(EventKind::SnapshotLevel, i, Side::Sell, mid + 1, 20);
            s.market(EventKind::SnapshotEnd, i, Side::Buy, 0, 0);
        }
        s
    }

    fn next(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }

    fn tick(&mut self) -> Nanos {
        if self.wall_clock {
            self.now = Nanos::now().0;
        } else {
            self.now += 100_000;
        }
        Nanos(self.now)
    }

    fn market(&mut self, kind: EventKind, i: u32, side: Side, cents: i64, qty: i64) {
        let now = self.tick();
        self.seq += 1;
        let m = MarketEvent {
            header: Header::new(kind, InstrumentId(i), self.seq, now),
            side,
            price: Price::from_raw(cents * 1_000_000),
            qty: Qty::from_units(qty).unwrap_or(Qty::ZERO),
            ..MarketEvent::default()
        };
        self.core.market(m, now, Mono::UNSET);
    }

    fn command(&mut self, c: Command) {
        let now = self.tick();
        self.core.command(c, now, Mono::UNSET);
    }

    /// One input, or for a mid's move four: the mid moves a cent now and
    /// then (the old levels emptied), sizes change, trades hit both sides
    /// through the quotes, ticks and signals come in.
    pub fn step(&mut self) {
        let i = (self.next() % 4) as u32;
        let mid = self.mids[i as usize];
        let q = 5 + (self.next() % 30) as i64;
        match self.next() % 7 {
            0 => {
                let up = self.next().is_multiple_of(2);
                let to = (mid + if up { 1 } else { -1 }).clamp(20, 80);
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
                let now = Nanos(self.now);
                let c = Command {
                    header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
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
                let now = Nanos(self.now);
                let s = Signal {
                    instrument: InstrumentId(i),
                    probability: Price::from_raw((mid + away) * 1_000_000),
                    confidence: Price::ONE,
                    generated_at: now,
                    ttl_ns: 1_000_000_000,
                    source: 1,
                };
                self.command(s.to_command(now));
            }
        }
    }

    /// Orders the gate approved so far.
    pub fn approved(&self) -> u64 {
        self.core.gateway().counters().approved.iter().sum()
    }
}
