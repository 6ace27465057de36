//! A synthetic four-stage workload for measuring and testing the runtime.
//!
//! `feed → book → strategy → gateway`, shaped like the real pipeline (market
//! events become book updates, some become order intents, which become
//! acknowledgements and fills) but with stand-in logic. It is deterministic,
//! has fan-out (one input, two outputs) and filtering (one input, none), and
//! allocates nothing per event. It trades nothing: tests use it to prove the
//! runtime's ordering, drain and allocation guarantees, and `pt bench
//! pipeline` to measure the runtime's throughput.

use super::stage::{Outbox, Stage};
use crate::model::{
    BookUpdate, ClientOrderId, Event, EventKind, ExecReport, Header, InstrumentId, Liquidity,
    MarketEvent, Nanos, OrderIntent, Price, Qty, Side, StrategyId, book_flags,
};

const LEVELS: usize = 64;
const TICK: i64 = 1_000_000; // one cent

/// A deterministic 64-bit mix of `x` (splitmix64's finaliser).
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E9B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `seq`-th input event: a level update on one of 64 cent levels.
pub fn input(seq: u64, recv_ts: Nanos) -> Event {
    let r = mix(seq);
    let level = (r % LEVELS as u64) as i64;
    let side = if level < 32 { Side::Buy } else { Side::Sell };
    let qty = if r & (1 << 20) == 0 {
        0
    } else {
        ((r >> 8) & 0xFF) as i64 + 1
    };
    Event::Market(MarketEvent {
        header: Header::new(
            EventKind::LevelSet,
            InstrumentId((r >> 40) as u32 & 3),
            seq,
            recv_ts,
        ),
        side,
        price: Price::from_raw((level + 1) * TICK),
        qty: Qty::from_units(qty).unwrap_or(Qty::ZERO),
        ..MarketEvent::default()
    })
}

/// Stand-in decoder: passes level updates on, drops every 13th, and follows
/// every 16th with a trade print.
#[derive(Debug, Default)]
pub struct SyntheticFeed;

impl Stage<Event> for SyntheticFeed {
    fn name(&self) -> &str {
        "feed"
    }
    fn max_outputs(&self) -> usize {
        2
    }
    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Outbox<Event>) {
        let Event::Market(m) = event else { return };
        if m.header.seq % 13 == 0 {
            return;
        }
        let _ = out.push(*event);
        if m.header.seq % 16 == 0 {
            let trade = MarketEvent {
                header: m.header.derived(EventKind::Trade),
                trade_id: m.header.seq,
                ..*m
            };
            let _ = out.push(Event::Market(trade));
        }
    }
}

/// Stand-in book: 64 levels per side for each of four instruments; emits
/// the top of book after each level change.
#[derive(Debug)]
pub struct SyntheticBook {
    qty: [[[i64; LEVELS]; 2]; 4],
    version: u64,
}

impl Default for SyntheticBook {
    fn default() -> Self {
        SyntheticBook {
            qty: [[[0; LEVELS]; 2]; 4],
            version: 0,
        }
    }
}

impl Stage<Event> for SyntheticBook {
    fn name(&self) -> &str {
        "book"
    }
    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Outbox<Event>) {
        let Event::Market(m) = event else { return };
        if m.header.kind != EventKind::LevelSet {
            return;
        }
        let level = (m.price.raw() / TICK - 1).clamp(0, LEVELS as i64 - 1) as usize;
        let book = &mut self.qty[(m.header.instrument.0 & 3) as usize];
        book[m.side as usize][level] = m.qty.raw();
        self.version += 1;
        let bid = (0..LEVELS).rev().find(|&l| book[0][l] > 0);
        let ask = (0..LEVELS).find(|&l| book[1][l] > 0);
        let mut flags = 0;
        if bid.is_none() {
            flags |= book_flags::NO_BID;
        }
        if ask.is_none() {
            flags |= book_flags::NO_ASK;
        }
        if let (Some(b), Some(a)) = (bid, ask)
            && b >= a
        {
            flags |= book_flags::CROSSED;
        }
        let px =
            |l: Option<usize>| l.map_or(Price::ZERO, |l| Price::from_raw((l as i64 + 1) * TICK));
        let qty =
            |side: usize, l: Option<usize>| l.map_or(Qty::ZERO, |l| Qty::from_raw(book[side][l]));
        let _ = out.push(Event::Book(BookUpdate {
            header: m.header.derived(EventKind::BookUpdate),
            best_bid: px(bid),
            best_bid_qty: qty(0, bid),
            best_ask: px(ask),
            best_ask_qty: qty(1, ask),
            changed_price: m.price,
            changed_qty: m.qty,
            changed_side: m.side,
            book_flags: flags,
            version: self.version,
            ..BookUpdate::default()
        }));
    }
}

/// Stand-in strategy: joins the best bid on every other uncrossed update.
#[derive(Debug, Default)]
pub struct SyntheticStrategy {
    orders: u64,
}

impl Stage<Event> for SyntheticStrategy {
    fn name(&self) -> &str {
        "strategy"
    }
    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Outbox<Event>) {
        let Event::Book(b) = event else { return };
        if b.book_flags & (book_flags::NO_BID | book_flags::CROSSED) != 0 || b.version % 2 == 1 {
            return;
        }
        self.orders += 1;
        let Some(id) = ClientOrderId::new(StrategyId(1), self.orders) else {
            return;
        };
        let _ = out.push(Event::Intent(OrderIntent {
            header: b.header.derived(EventKind::OrderNew),
            client_order_id: id,
            price: b.best_bid,
            qty: Qty::ONE,
            strategy: StrategyId(1),
            side: Side::Buy,
            ..OrderIntent::default()
        }));
    }
}

/// Stand-in gateway: acknowledges every order and fills every third.
#[derive(Debug, Default)]
pub struct SyntheticGateway {
    acks: u64,
}

impl Stage<Event> for SyntheticGateway {
    fn name(&self) -> &str {
        "gateway"
    }
    fn max_outputs(&self) -> usize {
        2
    }
    fn on_event(&mut self, event: &Event, _now: Nanos, out: &mut Outbox<Event>) {
        let Event::Intent(o) = event else { return };
        self.acks += 1;
        let ack = ExecReport {
            header: o.header.derived(EventKind::Ack),
            client_order_id: o.client_order_id,
            price: o.price,
            qty: o.qty,
            side: o.side,
            ..ExecReport::default()
        };
        let _ = out.push(Event::Exec(ack));
        if self.acks.is_multiple_of(3) {
            let fill = ExecReport {
                header: o.header.derived(EventKind::Fill),
                cum_qty: o.qty,
                liquidity: Liquidity::Maker,
                ..ack
            };
            let _ = out.push(Event::Exec(fill));
        }
    }
}

/// The four synthetic stages in pipeline order.
pub fn stages() -> Vec<Box<dyn Stage<Event>>> {
    vec![
        Box::new(SyntheticFeed),
        Box::new(SyntheticBook::default()),
        Box::new(SyntheticStrategy::default()),
        Box::new(SyntheticGateway::default()),
    ]
}

/// An order-sensitive digest of an output, ignoring stage stamps (which
/// depend on when each thread ran, not on what it computed).
pub fn digest(event: &Event) -> u64 {
    let mut e = *event;
    e.header_mut().stamps = Default::default();
    let bytes = e.to_bytes();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(word));
    }
    h
}
