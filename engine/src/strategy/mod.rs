//! The strategy API: a strategy is pure. Book updates, execution reports,
//! signals and clock ticks come in with the time; intents go out through a
//! [`Ctx`]. Nothing else reaches it (no clock, no I/O), so the same code
//! trades live, on paper, in shadow, in replay and in a backtest.
//!
//! - [`Strategy`]: the trait.
//! - [`StrategyStage`]: the graph node that runs the configured strategies,
//!   routing books and signals to all of them and each execution report to
//!   the strategy that owns the order.
//! - [`Signal`]: an external view of a market's probability, carried in a
//!   [`Command`] through the commands journal.
//! - [`QuoteSlot`]: one working order as a strategy tracks it.
//! - [`mm`] (a binary market maker) and [`taker`] (a signal taker).

pub mod config;
pub mod mm;
mod per_market;
pub mod probe;
mod quote;
mod signal;
mod stage;
pub mod taker;

pub use per_market::PerMarket;
pub use quote::{QuoteSlot, SlotState};
pub use signal::{ParamChange, Signal, SignalError};
pub use stage::{NAME, StrategyCounters, StrategyStage};

use crate::graph::Out;
use crate::model::{
    BookUpdate, ClientOrderId, Event, EventKind, ExecReport, Header, InstrumentId, MarketEvent,
    Nanos, OrderIntent, Price, Qty, Side, StrategyId, TimeInForce,
};

/// A trading strategy. Every method is pure: what it emits follows from
/// what it was given and the time in `ctx`.
pub trait Strategy: Send + 'static {
    /// The kind, as the config names it (`mm`, `taker`).
    fn kind(&self) -> &'static str;

    /// A book changed.
    fn on_book(&mut self, book: &BookUpdate, ctx: &mut Ctx<'_>);

    /// A report on one of this strategy's orders.
    fn on_exec(&mut self, report: &ExecReport, ctx: &mut Ctx<'_>);

    /// A market's status changed (open, paused, closed, settled), as the
    /// venue published it.
    fn on_status(&mut self, status: &MarketEvent, ctx: &mut Ctx<'_>) {
        let _ = (status, ctx);
    }

    /// A fresh signal (expired ones never arrive).
    fn on_signal(&mut self, signal: &Signal, ctx: &mut Ctx<'_>) {
        let _ = (signal, ctx);
    }

    /// A clock tick.
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let _ = ctx;
    }

    /// Changes parameter `name` to `value` (raw fixed point); the config's
    /// names and ranges apply.
    fn set_param(&mut self, name: &str, value: i64) -> Result<(), config::ParamError> {
        let _ = (name, value);
        Err(config::ParamError::Unknown)
    }

    /// The kill switch of the strategy's scope was tripped (`true`) or
    /// reset: a strategy pulls its orders and stops placing new ones.
    fn on_halt(&mut self, halted: bool, ctx: &mut Ctx<'_>) {
        let _ = (halted, ctx);
    }
}

/// What a strategy call may do: read the time, and emit intents whose ids
/// come from the strategy's own deterministic counter.
#[derive(Debug)]
pub struct Ctx<'a> {
    now: Nanos,
    strategy: StrategyId,
    next: &'a mut u64,
    cause: Header,
    out: &'a mut Out<Event>,
}

impl<'a> Ctx<'a> {
    /// A context for `strategy` at `now`, its intents derived from `cause`
    /// (so they carry its stage stamps) and numbered from `*next`.
    pub fn new(
        now: Nanos,
        strategy: StrategyId,
        next: &'a mut u64,
        cause: Header,
        out: &'a mut Out<Event>,
    ) -> Ctx<'a> {
        Ctx {
            now,
            strategy,
            next,
            cause,
            out,
        }
    }

    /// The time of the event being handled.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The strategy this context belongs to.
    pub fn strategy(&self) -> StrategyId {
        self.strategy
    }

    fn id(&mut self) -> ClientOrderId {
        let counter = *self.next;
        *self.next += 1;
        // 2^48 ids per strategy: a strategy that exhausts them wraps into
        // ids the gateway refuses as duplicates, never into another's.
        ClientOrderId::new(self.strategy, counter & ClientOrderId::MAX_COUNTER).unwrap_or_default()
    }

    fn emit(
        &mut self,
        kind: EventKind,
        instrument: InstrumentId,
        fields: OrderIntent,
    ) -> ClientOrderId {
        let mut header = self.cause.derived(kind);
        header.instrument = instrument;
        let id = self.id();
        self.out.push(Event::Intent(OrderIntent {
            header,
            client_order_id: id,
            strategy: self.strategy,
            ..fields
        }));
        id
    }

    /// A new limit order; returns its id.
    pub fn place(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        time_in_force: TimeInForce,
        order_flags: u8,
    ) -> ClientOrderId {
        let fields = OrderIntent {
            price,
            qty,
            side,
            time_in_force,
            order_flags,
            expiry: Nanos::UNSET,
            ..OrderIntent::default()
        };
        self.emit(EventKind::OrderNew, instrument, fields)
    }

    /// Cancels order `target` (on `side`); returns the request's id.
    pub fn cancel(
        &mut self,
        instrument: InstrumentId,
        target: ClientOrderId,
        side: Side,
    ) -> ClientOrderId {
        let fields = OrderIntent {
            target,
            side,
            ..OrderIntent::default()
        };
        self.emit(EventKind::OrderCancel, instrument, fields)
    }

    /// Moves order `target` to `price` with `qty` in all (filled included):
    /// an amend, or a decrease that keeps its place in the queue where the
    /// venue allows; returns the request's id.
    pub fn replace(
        &mut self,
        instrument: InstrumentId,
        target: ClientOrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> ClientOrderId {
        let fields = OrderIntent {
            target,
            side,
            price,
            qty,
            ..OrderIntent::default()
        };
        self.emit(EventKind::OrderReplace, instrument, fields)
    }
}

/// `value` rounded down to a multiple of `tick` (raw units, `tick > 0`).
pub(crate) fn floor_to(value: i64, tick: i64) -> i64 {
    value.div_euclid(tick) * tick
}

/// `value` rounded up to a multiple of `tick`.
pub(crate) fn ceil_to(value: i64, tick: i64) -> i64 {
    -floor_to(-value, tick)
}
