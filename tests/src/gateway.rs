//! A gateway on four binary markets in two events, with a real book stage
//! feeding it and a live venue that counts what it is sent: the fixture of
//! the gateway's tests, its allocation test and its bench.

use pt_engine::book::BookStage;
use pt_engine::graph::Out;
use pt_engine::instrument::Registry;
use pt_engine::model::{
    ClientOrderId, Command, CommandAction, Event, EventKind, ExecReport, Header, InstrumentId,
    MarketEvent, Mode, Nanos, OrderIntent, Price, Qty, Scope, Side, StrategyId, VenueId,
};
use pt_gateway::venue::{Approved, Venue};
use pt_gateway::{
    Gateway, GatewayConfig, Markets, PaperConfig, PaperVenue, RiskPolicy, VenueConfig,
};
use std::collections::HashSet;

/// Markets 0 and 1 are one event, 2 and 3 another; cent grid, whole contracts.
pub const REGISTRY: &str = r#"
[[venue]]
name = "kalshi"

[[instrument]]
symbol = "KXA-E1-X"
venue = "kalshi"
kind = "binary"
qty_step = "1"
price_ranges = [{ start = "0.01", end = "0.99", step = "0.01" }]

[[instrument]]
symbol = "KXA-E1-Y"
venue = "kalshi"
kind = "binary"
qty_step = "1"
price_ranges = [{ start = "0.01", end = "0.99", step = "0.01" }]

[[instrument]]
symbol = "KXB-E2-X"
venue = "kalshi"
kind = "binary"
qty_step = "1"
price_ranges = [{ start = "0.01", end = "0.99", step = "0.01" }]

[[instrument]]
symbol = "KXB-E2-Y"
venue = "kalshi"
kind = "binary"
qty_step = "1"
price_ranges = [{ start = "0.01", end = "0.99", step = "0.01" }]
"#;

/// A live venue for tests: acks every order, counts its writes, and
/// remembers every client id it was asked to create.
#[derive(Debug, Default)]
pub struct CountingVenue {
    /// Requests written.
    pub writes: u64,
    /// Client ids of new orders.
    pub created: HashSet<ClientOrderId>,
    /// A client id created twice (must never happen).
    pub duplicates: u64,
}

impl Venue for CountingVenue {
    fn send(&mut self, order: Approved<'_>, _: Nanos, reports: &mut Vec<ExecReport>) {
        let i = order.intent();
        self.writes += 1;
        let (kind, id) = match i.header.kind {
            EventKind::OrderNew => {
                if !self.created.insert(i.client_order_id) {
                    self.duplicates += 1;
                }
                (EventKind::Ack, i.client_order_id)
            }
            EventKind::OrderCancel => (EventKind::Cancelled, i.target),
            _ => (EventKind::Replaced, i.target),
        };
        reports.push(ExecReport {
            header: i.header.derived(kind),
            client_order_id: id,
            price: i.price,
            qty: i.qty,
            side: i.side,
            ..ExecReport::default()
        });
    }

    fn external_writes(&self) -> u64 {
        self.writes
    }
}

/// The gateway the tests drive.
pub type TestGateway = Gateway<PaperVenue, CountingVenue, Vec<(Event, Nanos)>>;

/// A gateway, its book stage and the time; `L` is the live venue.
#[derive(Debug)]
pub struct Harness<L = CountingVenue> {
    /// The gateway.
    pub gw: Gateway<PaperVenue, L, Vec<(Event, Nanos)>>,
    /// The books that turn market data into book updates.
    pub books: BookStage,
    /// What the last call emitted.
    pub out: Out<Event>,
    /// Now (ns).
    pub now: i64,
    /// The registry.
    pub registry: Registry,
    seq: u64,
}

/// The registry of [`REGISTRY`].
pub fn registry() -> Registry {
    Registry::from_toml(REGISTRY, "test registry").expect("valid")
}

impl Harness {
    /// A gateway with `policy` loaded (or none), the venue in `mode`.
    pub fn new(
        policy: Option<RiskPolicy>,
        mode: Mode,
        live_enabled: bool,
        paper: PaperConfig,
    ) -> Harness {
        Harness::with_live(policy, mode, live_enabled, paper, CountingVenue::default())
    }

    /// A paper gateway with the default policy loaded.
    pub fn paper() -> Harness {
        Harness::new(
            Some(RiskPolicy::default()),
            Mode::Paper,
            false,
            PaperConfig::default(),
        )
    }

    /// A gateway like this one's, rebuilt from its journal.
    pub fn rebuilt(
        &self,
        policy: Option<RiskPolicy>,
        mode: Mode,
        live_enabled: bool,
    ) -> TestGateway {
        let mut fresh = Harness::new(policy, mode, live_enabled, PaperConfig::default()).gw;
        fresh.recover(self.gw.journal().iter().map(|(e, at)| (e, *at)));
        fresh
    }
}

impl<L: Venue> Harness<L> {
    /// The same with `live` as the live venue.
    pub fn with_live(
        policy: Option<RiskPolicy>,
        mode: Mode,
        live_enabled: bool,
        paper: PaperConfig,
        live: L,
    ) -> Harness<L> {
        let registry = registry();
        let markets = Markets::new(&registry, |_| pt_engine::contract::FeeModel::default());
        let config = GatewayConfig {
            strategies: 4,
            venues: vec![VenueConfig { mode, live_enabled }],
            ..GatewayConfig::default()
        };
        let mut paper = PaperVenue::new(&registry, &markets, paper);
        let mut books = BookStage::new(
            registry
                .instruments()
                .iter()
                .map(|i| (i.id, i.grid.clone())),
        )
        .expect("books");
        for i in registry.instruments() {
            books.set_whole(i.id);
            paper.set_whole(i.id);
        }
        let gw = Gateway::new(markets, policy, &config, paper, live, Vec::new());
        Harness {
            gw,
            books,
            out: Out::new(64),
            now: 1_000_000_000,
            registry,
            seq: 0,
        }
    }

    fn header(&mut self, kind: EventKind, instrument: u32) -> Header {
        self.seq += 1;
        self.now += 1_000;
        Header::new(kind, InstrumentId(instrument), self.seq, Nanos(self.now))
    }

    /// Sends market data through the books and on to the gateway.
    pub fn market(&mut self, m: MarketEvent) -> &[Event] {
        self.out.clear();
        let now = Nanos(self.now);
        self.gw.on_event(&Event::Market(m), now, &mut self.out);
        if let Some(b) = self.books.apply(&m) {
            self.gw.on_event(&Event::Book(b), now, &mut self.out);
        }
        self.out.as_slice()
    }

    /// Sets a level's visible quantity.
    pub fn level(&mut self, instrument: u32, side: Side, price: &str, qty: i64) -> &[Event] {
        let m = MarketEvent {
            header: self.header(EventKind::LevelSet, instrument),
            side,
            price: p(price),
            qty: q(qty),
            ..MarketEvent::default()
        };
        self.market(m)
    }

    /// A two-sided book: `qty` at `bid` and at `ask`.
    pub fn quote(&mut self, instrument: u32, bid: &str, ask: &str, qty: i64) {
        self.level(instrument, Side::Buy, bid, qty);
        self.level(instrument, Side::Sell, ask, qty);
    }

    /// A public trade: `aggressor` took `qty` at `price`.
    pub fn trade(&mut self, instrument: u32, aggressor: Side, price: &str, qty: i64) -> &[Event] {
        let m = MarketEvent {
            header: self.header(EventKind::Trade, instrument),
            side: aggressor,
            price: p(price),
            qty: q(qty),
            ..MarketEvent::default()
        };
        self.market(m)
    }

    /// A new-order intent of `strategy`'s `counter`-th id.
    pub fn new_order(
        &mut self,
        strategy: u16,
        counter: u64,
        instrument: u32,
        side: Side,
        price: &str,
        qty: i64,
    ) -> OrderIntent {
        OrderIntent {
            header: self.header(EventKind::OrderNew, instrument),
            client_order_id: id(strategy, counter),
            price: p(price),
            qty: q(qty),
            strategy: StrategyId(strategy),
            side,
            ..OrderIntent::default()
        }
    }

    /// A cancel of `target` with request id `counter`.
    pub fn cancel(&mut self, strategy: u16, counter: u64, target: ClientOrderId) -> OrderIntent {
        let instrument = self.gw.oms().get(target).map_or(0, |o| o.instrument.0);
        OrderIntent {
            header: self.header(EventKind::OrderCancel, instrument),
            client_order_id: id(strategy, counter),
            target,
            strategy: StrategyId(strategy),
            ..OrderIntent::default()
        }
    }

    /// Sends an intent; returns what the gateway emitted.
    pub fn send(&mut self, intent: OrderIntent) -> &[Event] {
        self.out.clear();
        self.gw
            .on_event(&Event::Intent(intent), Nanos(self.now), &mut self.out);
        self.out.as_slice()
    }

    /// Sends a command.
    pub fn command(
        &mut self,
        action: CommandAction,
        scope: Scope,
        strategy: u16,
        arg: i64,
    ) -> &[Event] {
        let c = Command {
            header: self.header(EventKind::Command, 0),
            action,
            scope,
            strategy: StrategyId(strategy),
            target: 0,
            arg,
            ..Command::default()
        };
        self.out.clear();
        self.gw
            .on_event(&Event::Command(c), Nanos(self.now), &mut self.out);
        self.out.as_slice()
    }

    /// Moves time on and polls (delayed reports, timeouts).
    pub fn advance(&mut self, ns: i64) -> &[Event] {
        self.now += ns;
        self.out.clear();
        self.gw.poll(Nanos(self.now), &mut self.out);
        self.out.as_slice()
    }

    /// Room for `n` more records in the in-memory journal.
    pub fn reserve_journal(&mut self, n: usize) {
        self.gw.journal_mut().reserve(n);
    }

    /// The venue this registry's markets trade on.
    pub fn venue(&self) -> VenueId {
        VenueId(0)
    }
}

/// The reports among `events`.
pub fn reports(events: &[Event]) -> Vec<ExecReport> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Exec(r) => Some(*r),
            _ => None,
        })
        .collect()
}

/// `strategy`'s `counter`-th client order id.
pub fn id(strategy: u16, counter: u64) -> ClientOrderId {
    ClientOrderId::new(StrategyId(strategy), counter).expect("small counter")
}

/// A price from text.
pub fn p(text: &str) -> Price {
    Price::parse(text).expect("price")
}

/// Whole contracts.
pub fn q(n: i64) -> Qty {
    Qty::from_units(n).expect("qty")
}
