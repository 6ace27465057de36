//! The order management system: every order's state, fills and working
//! quantity, and the open-order aggregates the risk gate reads.
//!
//! Pure and allocation-free once its tables have grown to the working set:
//! orders live in a map keyed by client order id with room reserved up
//! front, and each instrument keeps the ids of its open orders. An order
//! leaves the map when it reaches a final state (the journal keeps it).
//! The state table is [`OrderState`]'s; a report it does not list is
//! counted, never applied.

use pt_engine::model::{
    ClientOrderId, EventKind, ExecReport, InstrumentId, Mode, Money, OrderIntent, OrderState,
    Price, Qty, Side, StrategyId, order_flags,
};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for ids that are already well spread after one multiply.
#[derive(Default, Clone, Copy, Debug)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by ids.
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// One order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    /// Its client order id (the owning strategy is in it).
    pub id: ClientOrderId,
    /// Its instrument.
    pub instrument: InstrumentId,
    /// Buy or sell YES.
    pub side: Side,
    /// Limit price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Filled so far.
    pub cum_qty: Qty,
    /// Fees charged so far.
    pub fees: Money,
    /// Where it stands.
    pub state: OrderState,
    /// The mode it was asked for in.
    pub requested_mode: Mode,
    /// The mode it runs in.
    pub mode: Mode,
    /// [`order_flags`] of its intent.
    pub flags: u8,
    /// When the request awaiting an answer went out (ns).
    pub sent_at: i64,
}

impl Order {
    /// Quantity still working.
    pub fn leaves(&self) -> Qty {
        Qty::from_raw((self.qty.raw() - self.cum_qty.raw()).max(0))
    }

    /// Whether only a position-reducing fill is allowed.
    pub fn reduce_only(&self) -> bool {
        self.flags & order_flags::REDUCE_ONLY != 0
    }
}

/// What a report did to the OMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The order moved from one state to another (or stayed, for a fill).
    Moved {
        /// Before.
        from: OrderState,
        /// After.
        to: OrderState,
        /// The order after the report.
        order: Order,
    },
    /// The table lists no such move; nothing changed.
    Ignored,
    /// A report for an order the OMS does not hold (a fill is still booked).
    Orphan,
}

/// Counters an operator reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OmsCounters {
    /// Reports the state table ignored (a second ack, say).
    pub ignored: u64,
    /// Reports for orders the OMS does not hold.
    pub orphans: u64,
    /// Fills that came before their order's ack.
    pub fill_before_ack: u64,
    /// Requests that timed out and made their order unknown.
    pub timeouts: u64,
}

/// Every open order.
#[derive(Debug, Clone, Default)]
pub struct Oms {
    orders: IdMap<ClientOrderId, Order>,
    by_instrument: Vec<Vec<ClientOrderId>>,
    highest: IdMap<StrategyId, u64>,
    open_by_strategy: IdMap<StrategyId, u32>,
    open: u32,
    counters: OmsCounters,
    event_of: Vec<u32>,
    instrument_working: Vec<Working>,
    event_working: Vec<Working>,
}

/// Quantity working per side and what it would cost if it all filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Working {
    /// Leaves of buy and sell orders.
    pub qty: [i64; 2],
    /// Cost of those leaves at their limits.
    pub cost: i64,
}

impl Working {
    fn add(&mut self, o: &Order, sign: i64) {
        let leaves = o.leaves();
        self.qty[o.side as usize] += sign * leaves.raw();
        self.cost += sign * pt_engine::contract::leg_cost(o.side, leaves, o.price).raw();
    }
}

impl Oms {
    /// An OMS for instruments whose events are `event_of` (by instrument
    /// id), with room for `orders` open orders before it allocates.
    pub fn new(event_of: Vec<u32>, orders: usize) -> Oms {
        let instruments = event_of.len();
        let events = event_of.iter().max().map_or(1, |&e| e as usize + 1);
        let mut orders_map = IdMap::default();
        orders_map.reserve(orders);
        let mut highest = IdMap::default();
        highest.reserve(256);
        let mut open_by_strategy = IdMap::default();
        open_by_strategy.reserve(256);
        Oms {
            orders: orders_map,
            by_instrument: (0..instruments).map(|_| Vec::with_capacity(16)).collect(),
            highest,
            open_by_strategy,
            open: 0,
            counters: OmsCounters::default(),
            event_of,
            instrument_working: vec![Working::default(); instruments],
            event_working: vec![Working::default(); events],
        }
    }

    fn track(&mut self, o: &Order, sign: i64) {
        let i = o.instrument.0 as usize;
        if let (Some(w), Some(&e)) = (self.instrument_working.get_mut(i), self.event_of.get(i)) {
            w.add(o, sign);
            self.event_working[e as usize].add(o, sign);
        }
    }

    /// What works on `instrument`.
    pub fn instrument_working(&self, instrument: InstrumentId) -> Working {
        self.instrument_working
            .get(instrument.0 as usize)
            .copied()
            .unwrap_or_default()
    }

    /// What works on the event of `instrument`.
    pub fn event_working(&self, instrument: InstrumentId) -> Working {
        self.event_of
            .get(instrument.0 as usize)
            .map_or_else(Working::default, |&e| self.event_working[e as usize])
    }

    /// The order, while it is open.
    pub fn get(&self, id: ClientOrderId) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// Every open order, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// The open orders of `instrument`.
    pub fn of_instrument(&self, instrument: InstrumentId) -> &[ClientOrderId] {
        self.by_instrument
            .get(instrument.0 as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// Open orders in all.
    pub fn open(&self) -> u32 {
        self.open
    }

    /// Open orders of `strategy`.
    pub fn open_of(&self, strategy: StrategyId) -> u32 {
        self.open_by_strategy.get(&strategy).copied().unwrap_or(0)
    }

    /// Counters.
    pub fn counters(&self) -> OmsCounters {
        self.counters
    }

    /// Whether `id` was never used: a strategy's counters only go up, so an
    /// id at or below the highest one seen is a resend.
    pub fn is_fresh(&self, id: ClientOrderId) -> bool {
        self.highest
            .get(&id.strategy())
            .is_none_or(|&h| id.counter() > h)
    }

    /// The next unused id of `strategy`.
    pub fn next_id(&self, strategy: StrategyId) -> ClientOrderId {
        let next = self.highest.get(&strategy).map_or(1, |h| h + 1);
        ClientOrderId::new(strategy, next).unwrap_or_default()
    }

    /// Remembers that `id` was used (by a new order, a cancel or a replace).
    pub fn mark_used(&mut self, id: ClientOrderId) {
        let h = self.highest.entry(id.strategy()).or_insert(0);
        *h = (*h).max(id.counter());
    }

    /// Quantity working on `side` of `instrument`.
    pub fn working(&self, instrument: InstrumentId, side: Side) -> Qty {
        Qty::from_raw(self.instrument_working(instrument).qty[side as usize])
    }

    /// An approved new order goes out: pending-new.
    pub fn open_order(&mut self, intent: &OrderIntent, now: i64) {
        self.mark_used(intent.client_order_id);
        let order = Order {
            id: intent.client_order_id,
            instrument: intent.header.instrument,
            side: intent.side,
            price: intent.price,
            qty: intent.qty,
            cum_qty: Qty::ZERO,
            fees: Money::ZERO,
            state: OrderState::PendingNew,
            requested_mode: intent.requested_mode,
            mode: intent.effective_mode,
            flags: intent.order_flags,
            sent_at: now,
        };
        if let Some(old) = self.orders.get(&order.id).copied() {
            self.track(&old, -1);
        }
        self.track(&order, 1);
        if self.orders.insert(order.id, order).is_none() {
            self.open += 1;
            *self
                .open_by_strategy
                .entry(order.id.strategy())
                .or_insert(0) += 1;
            if let Some(list) = self.by_instrument.get_mut(order.instrument.0 as usize) {
                list.push(order.id);
            }
        }
    }

    /// A cancel (or replace) of `target` goes out. `Err` when the order is
    /// in no state for one.
    pub fn request_change(
        &mut self,
        request: ClientOrderId,
        target: ClientOrderId,
        cancel: bool,
        now: i64,
    ) -> bool {
        self.mark_used(request);
        let Some(o) = self.orders.get_mut(&target) else {
            return false;
        };
        if cancel {
            match o.state.on_cancel_sent() {
                Some(s) => o.state = s,
                None => return false,
            }
        } else if !matches!(o.state, OrderState::Acked | OrderState::PartiallyFilled) {
            return false;
        }
        o.sent_at = now;
        true
    }

    /// Whether `target` can take a cancel or a replace now.
    pub fn changeable(&self, target: ClientOrderId, cancel: bool) -> Result<&Order, bool> {
        let o = self.orders.get(&target).ok_or(false)?;
        let ok = if cancel {
            o.state.on_cancel_sent().is_some()
        } else {
            matches!(o.state, OrderState::Acked | OrderState::PartiallyFilled)
        };
        if ok { Ok(o) } else { Err(true) }
    }

    /// Applies a venue's (or the gateway's) report.
    pub fn on_report(&mut self, r: &ExecReport) -> Applied {
        let kind = r.header.kind;
        let before = self.orders.get(&r.client_order_id).copied();
        let Some(o) = self.orders.get_mut(&r.client_order_id) else {
            if kind != EventKind::Reject {
                self.counters.orphans += 1;
            }
            return Applied::Orphan;
        };
        let from = o.state;
        let mut cum = o.cum_qty;
        if kind == EventKind::Fill {
            cum = Qty::from_raw(o.cum_qty.raw().saturating_add(r.qty.raw()));
            if from == OrderState::PendingNew {
                self.counters.fill_before_ack += 1;
            }
        }
        let mut qty = o.qty;
        if matches!(kind, EventKind::Replaced | EventKind::OrderStatus) && r.qty.raw() > 0 {
            qty = r.qty;
        }
        let status = (kind == EventKind::OrderStatus).then(|| status_of(r, o.cum_qty, qty));
        let all = cum.raw() >= qty.raw();
        let Some(to) = from.on_report(kind, cum.raw() > 0, all, status) else {
            self.counters.ignored += 1;
            return Applied::Ignored;
        };
        if kind == EventKind::OrderUnknown {
            self.counters.timeouts += 1;
        }
        o.state = to;
        // A status never takes back a fill already booked.
        o.cum_qty = if kind == EventKind::OrderStatus {
            Qty::from_raw(r.cum_qty.raw().max(o.cum_qty.raw()))
        } else {
            cum
        };
        o.qty = qty;
        if kind == EventKind::Fill {
            o.fees = Money::from_raw(o.fees.raw().saturating_add(r.fee.raw()));
        }
        if kind == EventKind::Replaced && r.price.raw() > 0 {
            o.price = r.price;
        }
        let order = *o;
        if let Some(before) = before {
            self.track(&before, -1);
        }
        if to.is_final() {
            self.close(order.id);
        } else {
            self.track(&order, 1);
        }
        Applied::Moved { from, to, order }
    }

    /// Orders whose request has waited longer than `timeout_ns` at `now`:
    /// what the gateway reports as unknown, asking for reconciliation.
    pub fn overdue(&self, now: i64, timeout_ns: i64, out: &mut Vec<ClientOrderId>) {
        for o in self.orders.values() {
            if matches!(o.state, OrderState::PendingNew | OrderState::PendingCancel)
                && now.saturating_sub(o.sent_at) > timeout_ns
            {
                out.push(o.id);
            }
        }
    }

    fn close(&mut self, id: ClientOrderId) {
        if let Some(o) = self.orders.remove(&id) {
            self.open -= 1;
            if let Some(n) = self.open_by_strategy.get_mut(&id.strategy()) {
                *n -= 1;
            }
            if let Some(list) = self.by_instrument.get_mut(o.instrument.0 as usize)
                && let Some(at) = list.iter().position(|&x| x == id)
            {
                list.swap_remove(at);
            }
        }
    }

    /// The open orders sorted by id: what recovery compares.
    pub fn snapshot(&self) -> Vec<Order> {
        let mut v: Vec<Order> = self.orders.values().copied().collect();
        v.sort_by_key(|o| o.id);
        v
    }
}

/// The state a venue's status report gives: working, filled or gone.
fn status_of(r: &ExecReport, booked: Qty, qty: Qty) -> OrderState {
    let cum = r.cum_qty.raw().max(booked.raw());
    if cum >= qty.raw() {
        OrderState::Filled
    } else if r.reject_code != pt_engine::model::RejectCode::NONE {
        OrderState::Cancelled
    } else if cum > 0 {
        OrderState::PartiallyFilled
    } else {
        OrderState::Acked
    }
}
