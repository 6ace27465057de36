//! A small trading loop on the graph runtime, shared by the graph tests, the
//! allocation test and the graph bench.
//!
//! `book` → `strategy` → `gateway`, with the gateway's execution reports
//! going back to the strategy (a back-edge) and out to the owner. The
//! strategy's decisions depend on what the gateway reported (it places an
//! order only where none is open and re-places after a cancel), and a
//! `CancelAll` command fans out to a cancel per open order, so a runner that
//! reorders or loses a report gives different outputs.
//!
//! Every node is a pure function of its inputs' order (times come from the
//! events, never from `now`), so the fused and threaded runners must agree.

use pt_engine::graph::{GraphSpec, LinkId, Node, NodeKind, Out, Polled};
use pt_engine::model::{
    BookUpdate, ClientOrderId, Command, CommandAction, Event, EventKind, ExecReport, Family,
    Header, InstrumentId, MarketEvent, MarketStatus, Nanos, OrderIntent, Price, Qty, STAGE_STAMPS,
    Side, Stamp, StrategyId, header_flags,
};

/// One cent.
pub const CENT: i64 = 1_000_000;

/// The links' names, for callers that look them up.
pub const MD: &str = "md";
pub const CMD: &str = "cmd";
pub const INTENTS_OUT: &str = "intents-out";
pub const EXEC_OUT: &str = "exec-out";
pub const BOOKS_OUT: &str = "books-out";

/// The loop over `instruments` instruments. `md` and `cmd` are its inputs;
/// `intents-out`, `exec-out` and `books-out` its outputs.
pub fn trading_loop(instruments: u32) -> GraphSpec<Event> {
    let mut spec = GraphSpec::new();
    spec.node(Box::new(TopBook::new(instruments)))
        .node(Box::new(Quoter::new(instruments)))
        .node(Box::new(PaperGateway::new(instruments)));
    spec.input(MD, Family::Market, "book");
    spec.input(CMD, Family::Command, "strategy");
    spec.link("books", Family::Book, "book", "strategy");
    spec.output(BOOKS_OUT, Family::Book, "book");
    spec.link("intents", Family::Intent, "strategy", "gateway");
    spec.output(INTENTS_OUT, Family::Intent, "strategy");
    spec.link("exec", Family::Exec, "gateway", "strategy");
    spec.output(EXEC_OUT, Family::Exec, "gateway");
    spec
}

/// Input `seq` of a deterministic market-data stream: a best-level change
/// on one of `instruments` instruments, now and then a gap.
pub fn market_input(seq: u64, instruments: u32) -> Event {
    let instrument = InstrumentId((seq.wrapping_mul(7919) % u64::from(instruments)) as u32);
    let mut header = Header::new(EventKind::LevelSet, instrument, seq, recv_time(seq));
    let mut status = MarketStatus::Open;
    if seq % 997 == 996 {
        header.kind = EventKind::Status;
        status = MarketStatus::Gap;
    }
    let side = if (seq / 3).is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let ticks = 40 + (seq.wrapping_mul(31) % 20) as i64;
    let price = match side {
        Side::Buy => ticks,
        Side::Sell => ticks + 5,
    };
    Event::Market(MarketEvent {
        header,
        side,
        status,
        price: Price::from_raw(price * CENT),
        qty: Qty::from_units(1 + (seq % 9) as i64).expect("small"),
        ..MarketEvent::default()
    })
}

/// Input `seq` of the loop's mixed stream over `instruments`, with the name
/// of the input link it goes on: market data, and every 500th a cancel-all.
pub fn input(seq: u64, instruments: u32) -> (&'static str, Event) {
    if seq % 500 == 499 {
        (CMD, command_input(seq))
    } else {
        (MD, market_input(seq, instruments))
    }
}

/// A `CancelAll` command input.
pub fn command_input(seq: u64) -> Event {
    let header = Header::new(EventKind::Command, InstrumentId(0), seq, recv_time(seq));
    Event::Command(Command {
        header,
        action: CommandAction::CancelAll,
        ..Command::default()
    })
}

/// The receive time input `seq` carries.
pub fn recv_time(seq: u64) -> Nanos {
    Nanos(1_700_000_000_000_000_000 + seq as i64 * 1_000)
}

/// `event` without its stage stamps (which name threads and times).
pub fn unstamped(mut event: Event) -> Event {
    event.header_mut().stamps = [Stamp::UNSET; STAGE_STAMPS];
    event
}

/// Outputs grouped by link, in the order each link delivered them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outputs {
    pub by_link: Vec<(LinkId, Vec<Event>)>,
}

impl Outputs {
    /// Records `event` from `link`, without its stamps.
    pub fn push(&mut self, link: LinkId, event: Event) {
        let event = unstamped(event);
        match self.by_link.iter_mut().find(|(l, _)| *l == link) {
            Some((_, events)) => events.push(event),
            None => self.by_link.push((link, vec![event])),
        }
    }

    /// What `link` delivered.
    pub fn of(&self, link: LinkId) -> &[Event] {
        self.by_link
            .iter()
            .find(|(l, _)| *l == link)
            .map_or(&[], |(_, e)| e.as_slice())
    }

    /// Events of `kind` across every link.
    pub fn count(&self, kind: EventKind) -> usize {
        self.by_link
            .iter()
            .flat_map(|(_, e)| e)
            .filter(|e| e.kind() == kind)
            .count()
    }
}

/// The best bid and ask of each instrument; a gap or a stale mark makes the
/// instrument stale until its next change.
#[derive(Debug)]
pub struct TopBook {
    bid: Vec<Price>,
    ask: Vec<Price>,
    stale: Vec<bool>,
    version: u64,
    /// Stale marks taken (market-data overflow).
    pub stale_marks: u64,
}

impl TopBook {
    pub fn new(instruments: u32) -> TopBook {
        let n = instruments as usize;
        TopBook {
            bid: vec![Price::from_raw(0); n],
            ask: vec![Price::from_raw(0); n],
            stale: vec![true; n],
            version: 0,
            stale_marks: 0,
        }
    }
}

impl Node<Event> for TopBook {
    fn name(&self) -> &str {
        "book"
    }

    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Out<Event>) {
        let Event::Market(m) = event else { return };
        let i = m.header.instrument.0 as usize;
        if i >= self.bid.len() {
            return;
        }
        if m.header.kind == EventKind::Status {
            self.stale[i] = m.status == MarketStatus::Gap;
            if m.header.flags & header_flags::STALE != 0 {
                self.stale_marks += 1;
            }
        } else {
            match m.side {
                Side::Buy => self.bid[i] = m.price,
                Side::Sell => self.ask[i] = m.price,
            }
            self.stale[i] = false;
        }
        self.version += 1;
        let mut header = m.header.derived(EventKind::BookUpdate);
        if self.stale[i] {
            header.flags |= header_flags::STALE;
        }
        out.push(Event::Book(BookUpdate {
            header,
            best_bid: self.bid[i],
            best_ask: self.ask[i],
            version: self.version,
            ..BookUpdate::default()
        }));
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Open {
    id: Option<ClientOrderId>,
    price: Price,
    cancelling: bool,
}

/// Joins the bid of every fresh book with one order; moves it by cancel and
/// re-place; cancels everything on `CancelAll`.
#[derive(Debug)]
pub struct Quoter {
    open: Vec<Open>,
    bid: Vec<Price>,
    stale: Vec<bool>,
    position: Vec<i64>,
    next: u64,
}

impl Quoter {
    pub fn new(instruments: u32) -> Quoter {
        let n = instruments as usize;
        Quoter {
            open: vec![Open::default(); n],
            bid: vec![Price::from_raw(0); n],
            stale: vec![true; n],
            position: vec![0; n],
            next: 0,
        }
    }

    fn intent(&mut self, kind: EventKind, i: usize, from: &Header, price: Price) -> OrderIntent {
        let mut header = from.derived(kind);
        header.instrument = InstrumentId(i as u32);
        let strategy = StrategyId(1);
        let id = match kind {
            EventKind::OrderNew => {
                self.next += 1;
                ClientOrderId::new(strategy, self.next).expect("counter")
            }
            _ => self.open[i].id.unwrap_or_default(),
        };
        OrderIntent {
            header,
            client_order_id: id,
            target: self.open[i].id.unwrap_or_default(),
            price,
            qty: Qty::from_units(1).expect("one"),
            strategy,
            side: Side::Buy,
            ..OrderIntent::default()
        }
    }

    fn place(&mut self, i: usize, from: &Header, out: &mut Out<Event>) {
        if self.stale[i] || self.bid[i].raw() <= 0 || self.position[i] >= 5 {
            return;
        }
        let intent = self.intent(EventKind::OrderNew, i, from, self.bid[i]);
        self.open[i] = Open {
            id: Some(intent.client_order_id),
            price: self.bid[i],
            cancelling: false,
        };
        out.push(Event::Intent(intent));
    }

    fn cancel(&mut self, i: usize, from: &Header, out: &mut Out<Event>) {
        if self.open[i].id.is_none() || self.open[i].cancelling {
            return;
        }
        self.open[i].cancelling = true;
        let intent = self.intent(EventKind::OrderCancel, i, from, self.open[i].price);
        out.push(Event::Intent(intent));
    }
}

impl Node<Event> for Quoter {
    fn name(&self) -> &str {
        "strategy"
    }

    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Out<Event>) {
        match event {
            Event::Book(b) => {
                let i = b.header.instrument.0 as usize;
                if i >= self.open.len() {
                    return;
                }
                self.bid[i] = b.best_bid;
                self.stale[i] = b.header.flags & header_flags::STALE != 0;
                match self.open[i] {
                    Open { id: None, .. } => self.place(i, &b.header, out),
                    o if o.price != b.best_bid || self.stale[i] => self.cancel(i, &b.header, out),
                    _ => {}
                }
            }
            Event::Exec(x) => {
                let i = x.header.instrument.0 as usize;
                if i >= self.open.len() || self.open[i].id != Some(x.client_order_id) {
                    return;
                }
                match x.header.kind {
                    EventKind::Fill => {
                        self.position[i] += x.qty.raw() / Qty::from_units(1).expect("one").raw();
                        self.open[i] = Open::default();
                    }
                    EventKind::Cancelled => {
                        self.open[i] = Open::default();
                        self.place(i, &x.header, out);
                    }
                    _ => {}
                }
            }
            Event::Command(c) if c.action == CommandAction::CancelAll => {
                for i in 0..self.open.len() {
                    self.cancel(i, &c.header, out);
                }
            }
            _ => {}
        }
    }
}

/// Acknowledges every new order and fills some of them at once (by a rule
/// on the order's id and price); cancels what is open, refuses the rest.
#[derive(Debug)]
pub struct PaperGateway {
    open: Vec<Option<ClientOrderId>>,
    seq: u64,
}

impl PaperGateway {
    pub fn new(instruments: u32) -> PaperGateway {
        PaperGateway {
            open: vec![None; instruments as usize],
            seq: 0,
        }
    }

    fn report(&mut self, kind: EventKind, o: &OrderIntent) -> Event {
        self.seq += 1;
        let mut header = Header::new(kind, o.header.instrument, self.seq, o.header.recv_ts);
        header.stamps = o.header.stamps;
        Event::Exec(ExecReport {
            header,
            client_order_id: o.client_order_id,
            price: o.price,
            qty: o.qty,
            side: o.side,
            ..ExecReport::default()
        })
    }
}

impl Node<Event> for PaperGateway {
    fn name(&self) -> &str {
        "gateway"
    }

    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Out<Event>) {
        let Event::Intent(o) = event else { return };
        let i = o.header.instrument.0 as usize;
        if i >= self.open.len() {
            return;
        }
        match o.header.kind {
            EventKind::OrderNew => {
                out.push(self.report(EventKind::Ack, o));
                if (o.client_order_id.counter() + o.price.raw() as u64 / CENT as u64)
                    .is_multiple_of(3)
                {
                    out.push(self.report(EventKind::Fill, o));
                } else {
                    self.open[i] = Some(o.client_order_id);
                }
            }
            EventKind::OrderCancel if self.open[i] == Some(o.client_order_id) => {
                self.open[i] = None;
                out.push(self.report(EventKind::Cancelled, o));
            }
            _ => out.push(self.report(EventKind::CancelRejected, o)),
        }
    }
}

/// An edge that emits `total` market inputs, `burst` per poll, then is done:
/// a feed faster than whatever reads it.
#[derive(Debug)]
pub struct BurstFeed {
    next: u64,
    total: u64,
    burst: u64,
    instruments: u32,
}

impl BurstFeed {
    pub fn new(total: u64, burst: u64, instruments: u32) -> BurstFeed {
        BurstFeed {
            next: 0,
            total,
            burst,
            instruments,
        }
    }
}

impl Node<Event> for BurstFeed {
    fn name(&self) -> &str {
        "feed"
    }

    fn kind(&self) -> NodeKind {
        NodeKind::Edge
    }

    fn on_event(&mut self, _event: &Event, _now: Nanos, _out: &mut Out<Event>) {}

    fn poll(&mut self, _now: Nanos, out: &mut Out<Event>) -> Polled {
        if self.next == self.total {
            return Polled::Done;
        }
        let end = (self.next + self.burst).min(self.total);
        for seq in self.next..end {
            out.push(market_input(seq, self.instruments));
        }
        let n = (end - self.next) as usize;
        self.next = end;
        Polled::Emitted(n)
    }
}

/// A node that spends `spin` iterations of work per event before passing it
/// on: a reader slower than its feed.
#[derive(Debug)]
pub struct Slow<N> {
    pub inner: N,
    pub spin: u32,
}

impl<N: Node<Event>> Node<Event> for Slow<N> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn on_event(&mut self, event: &Event, now: Nanos, out: &mut Out<Event>) {
        let mut x = 0u64;
        for k in 0..self.spin {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(u64::from(k)));
        }
        std::hint::black_box(x);
        self.inner.on_event(event, now, out);
    }
}
