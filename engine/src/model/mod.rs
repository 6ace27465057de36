//! The domain model: identifiers, fixed-point numbers, timestamps and the
//! fixed-size event records.

mod events;
mod fixed;
pub mod heartbeat;
mod ids;
pub mod journal_kind;
mod order;
mod time;

pub use events::{
    BookUpdate, Command, CommandAction, Event, EventKind, ExecReport, Family, Header, Liquidity,
    MarketEvent, MarketStatus, OrderIntent, RECORD_SIZE, Record, RecordError, RejectCode,
    STAGE_STAMPS, Scope, Side, TimeInForce, book_flags, header_flags, order_flags,
};
pub use fixed::{FixedError, Money, Price, Qty, SCALE, UNIT};
pub use ids::{ClientOrderId, ClientOrderIdError, InstrumentId, StrategyId, VenueId};
pub use order::{Mode, OrderState};
pub use time::{Mono, Nanos, Stamp};
