//! The fixed-size event records that travel through rings and into journals.
//!
//! Every record is 128 bytes: a 64-byte [`Header`] (one cache line) followed by
//! a 64-byte body. Records are `#[repr(C)]`, `Copy`, contain no padding and no
//! pointers, and are encoded little-endian by copying their bytes (the crate
//! refuses to build on big-endian targets). Decoding checks every enum field,
//! so a decoded record is valid by construction. `tests::layout_is_pinned`
//! fixes each size and field offset; changing one is a journal format change.

use super::fixed::{Money, Price, Qty};
use super::ids::{ClientOrderId, InstrumentId, StrategyId, VenueId};
use super::order::Mode;
use super::time::{Nanos, Stamp};
use bytemuck::{CheckedBitPattern, NoUninit};
use core::fmt;

#[cfg(not(target_endian = "little"))]
compile_error!("event records are encoded by copying their bytes, which is little-endian only");

/// Size of every event record in bytes.
pub const RECORD_SIZE: usize = 128;
/// Stage stamps carried in each header; stages beyond this are not stamped.
pub const STAGE_STAMPS: usize = 4;

mod fields;
pub use fields::{
    CommandAction, EventKind, Family, Liquidity, MarketStatus, RejectCode, Scope, Side, TimeInForce,
};

/// Flags in [`Header::flags`].
pub mod header_flags {
    /// Replayed from a journal rather than received live.
    pub const REPLAY: u8 = 1 << 0;
    /// Part of a snapshot (the book is being rebuilt).
    pub const SNAPSHOT: u8 = 1 << 1;
    /// The instrument's data is stale (overflow or gap).
    pub const STALE: u8 = 1 << 2;
}

/// The common first cache line of every record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C, align(8))]
pub struct Header {
    /// What the record is.
    pub kind: EventKind,
    /// [`header_flags`].
    pub flags: u8,
    /// Where the event comes from or goes to.
    pub venue: VenueId,
    /// The instrument concerned (0 for global commands).
    pub instrument: InstrumentId,
    /// Sequence number of the event in its source stream.
    pub seq: u64,
    /// When the venue says it happened; [`Nanos::UNSET`] when not given.
    pub venue_ts: Nanos,
    /// When the local host received it (the origin of latency measurements).
    pub recv_ts: Nanos,
    /// Which stages took the event and when (monotonic): filled in order,
    /// the last slot rewritten once all are used (see [`Header::push_stamp`]).
    pub stamps: [Stamp; STAGE_STAMPS],
}

impl Header {
    /// A header of `kind` for `instrument`, received at `recv_ts`.
    pub fn new(kind: EventKind, instrument: InstrumentId, seq: u64, recv_ts: Nanos) -> Header {
        Header {
            kind,
            instrument,
            seq,
            recv_ts,
            ..Header::default()
        }
    }

    /// What a record caused by this one inherits: instrument, sequence,
    /// venue and receive times, and the stage stamps so far, so an intent
    /// carries the monotonic times of the market event that caused it
    /// (tick-to-trade per stage).
    pub fn derived(&self, kind: EventKind) -> Header {
        Header { kind, ..*self }
    }

    /// Records a stage stamp in the first free slot, or over the last one
    /// when all are used (the first stamps and the latest are what latency
    /// needs).
    #[inline]
    pub fn push_stamp(&mut self, stamp: Stamp) {
        let slot = self
            .stamps
            .iter()
            .position(|s| !s.is_set())
            .unwrap_or(STAGE_STAMPS - 1);
        self.stamps[slot] = stamp;
    }

    /// The latest stage stamp, if any.
    #[inline]
    pub fn last_stamp(&self) -> Option<Stamp> {
        self.stamps.iter().rev().find(|s| s.is_set()).copied()
    }
}

/// Market data: snapshots, level changes, trades and status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C, align(8))]
pub struct MarketEvent {
    /// Common header; `kind` is one of the market kinds.
    pub header: Header,
    /// Level side, or the aggressor side of a trade.
    pub side: Side,
    /// New status, for [`EventKind::Status`].
    pub status: MarketStatus,
    /// Reserved, zero.
    pub _pad: [u8; 6],
    /// Level or trade price.
    pub price: Price,
    /// Level quantity (absolute for snapshot levels and `LevelSet`, signed
    /// change for `LevelDelta`) or trade quantity.
    pub qty: Qty,
    /// The venue's trade id (or a hash of it) for trades.
    pub trade_id: u64,
    /// Levels that follow a [`EventKind::SnapshotBegin`]; 0 when unknown.
    pub levels: u32,
    /// Reserved, zero.
    pub _pad2: u32,
    /// For a gap: the sequence number that was expected.
    pub gap_expected: u64,
    /// For a gap: the sequence number that arrived.
    pub gap_received: u64,
    /// Reserved, zero.
    pub _reserved: [u8; 8],
}

/// Flags in [`BookUpdate::book_flags`].
pub mod book_flags {
    /// Best bid ≥ best ask.
    pub const CROSSED: u8 = 1 << 0;
    /// The book missed data and waits for a snapshot.
    pub const STALE: u8 = 1 << 1;
    /// No bids.
    pub const NO_BID: u8 = 1 << 2;
    /// No asks.
    pub const NO_ASK: u8 = 1 << 3;
    /// The book went stale for a reason its feed cannot know (it refused a
    /// change, or its market-data link overflowed): the feed must ask the
    /// venue for a fresh snapshot. Set on the one update that says so.
    pub const RESYNC: u8 = 1 << 4;
}

/// Top of book after a change, from the book stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C, align(8))]
pub struct BookUpdate {
    /// Common header, inherited from the market event that caused the update.
    pub header: Header,
    /// Best bid price.
    pub best_bid: Price,
    /// Quantity at the best bid.
    pub best_bid_qty: Qty,
    /// Best ask price.
    pub best_ask: Price,
    /// Quantity at the best ask.
    pub best_ask_qty: Qty,
    /// The level that changed.
    pub changed_price: Price,
    /// Its quantity after the change.
    pub changed_qty: Qty,
    /// Its side.
    pub changed_side: Side,
    /// [`book_flags`].
    pub book_flags: u8,
    /// Reserved, zero.
    pub _pad: [u8; 6],
    /// Count of changes applied to this book since it was created.
    pub version: u64,
}

/// Flags in [`OrderIntent::order_flags`].
pub mod order_flags {
    /// Rest only; never take liquidity.
    pub const POST_ONLY: u8 = 1 << 0;
    /// Only reduce an existing position.
    pub const REDUCE_ONLY: u8 = 1 << 1;
}

/// A strategy's request to place, cancel or replace an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C, align(8))]
pub struct OrderIntent {
    /// Common header; `kind` is `OrderNew`, `OrderCancel` or `OrderReplace`.
    pub header: Header,
    /// The id of this order (new) or of the request (cancel, replace).
    pub client_order_id: ClientOrderId,
    /// The order a cancel or replace refers to.
    pub target: ClientOrderId,
    /// Limit price on the YES ladder.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Issuing strategy.
    pub strategy: StrategyId,
    /// Buy or sell YES.
    pub side: Side,
    /// How long the order works.
    pub time_in_force: TimeInForce,
    /// [`order_flags`].
    pub order_flags: u8,
    /// The mode the order was asked for in (set by the gateway when it
    /// approves the intent; what the orders journal records).
    pub requested_mode: Mode,
    /// The mode it runs in after the gateway's policy.
    pub effective_mode: Mode,
    /// Reserved, zero.
    pub _pad: u8,
    /// Expiry time; [`Nanos::UNSET`] for none.
    pub expiry: Nanos,
    /// Reserved, zero.
    pub _reserved: [u8; 16],
}

/// What happened to an order; the kinds follow the order state machine of
/// [`OrderState`](super::OrderState).
///
/// Sized to one 128-byte record, so two things are derived rather than
/// carried: the owning strategy is in the client order id
/// ([`ClientOrderId::strategy`]), and the quantity still working is the
/// order's quantity less [`ExecReport::cum_qty`] (a status report carries
/// the order's quantity in `qty`; the OMS knows it for a fill). One 16-byte
/// field holds the venue's reference: the trade id on a fill (what replayed
/// fills are deduplicated by), the order id on every other report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C, align(8))]
pub struct ExecReport {
    /// Common header; `kind` is one of the execution kinds.
    pub header: Header,
    /// The order concerned.
    pub client_order_id: ClientOrderId,
    /// A fill's venue trade id, or the venue's order id for other kinds (a
    /// UUID's 16 bytes); zero when not known yet. Read it through
    /// [`ExecReport::trade_id`] and [`ExecReport::venue_order_id`].
    pub venue_ref: [u8; 16],
    /// Fill price, or the order's price for other reports.
    pub price: Price,
    /// This fill's quantity, or the order's quantity for other reports.
    pub qty: Qty,
    /// Quantity filled so far, this fill included.
    pub cum_qty: Qty,
    /// Fee charged for this fill.
    pub fee: Money,
    /// Why it was rejected; [`RejectCode::NONE`] otherwise.
    pub reject_code: RejectCode,
    /// Order side.
    pub side: Side,
    /// Maker or taker, for fills.
    pub liquidity: Liquidity,
    /// The mode the order was asked for in.
    pub requested_mode: Mode,
    /// The mode it ran in (a live request runs on paper while the engine is
    /// in paper mode, say).
    pub effective_mode: Mode,
    /// Reserved, zero.
    pub _pad: [u8; 2],
}

impl ExecReport {
    /// The venue's trade id, for a fill whose id is known.
    pub fn trade_id(&self) -> Option<[u8; 16]> {
        (self.header.kind == EventKind::Fill && self.venue_ref != [0; 16]).then_some(self.venue_ref)
    }

    /// The venue's order id, for any other report whose id is known.
    pub fn venue_order_id(&self) -> Option<[u8; 16]> {
        (self.header.kind != EventKind::Fill && self.venue_ref != [0; 16]).then_some(self.venue_ref)
    }

    /// The strategy that owns the order.
    pub fn strategy(&self) -> StrategyId {
        self.client_order_id.strategy()
    }
}

/// An operator or supervisor command routed into the pipeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C, align(8))]
pub struct Command {
    /// Common header; `kind` is [`EventKind::Command`].
    pub header: Header,
    /// What to do.
    pub action: CommandAction,
    /// What it applies to.
    pub scope: Scope,
    /// The strategy, for [`Scope::Strategy`].
    pub strategy: StrategyId,
    /// The venue or instrument id, for those scopes.
    pub target: u32,
    /// Action argument (for example a risk policy version).
    pub arg: i64,
    /// Who issued it (an audit id from the control plane).
    pub issued_by: u64,
    /// Further arguments of the action (a signal's confidence, times and
    /// time to live); zero when it takes none.
    pub args: [i64; 5],
}

/// Any record: what a journal holds and what the generic pipeline carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Market data.
    Market(MarketEvent),
    /// A book update.
    Book(BookUpdate),
    /// An order intent.
    Intent(OrderIntent),
    /// An execution report.
    Exec(ExecReport),
    /// A command.
    Command(Command),
}

/// Why bytes are not an event record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The input is not exactly [`RECORD_SIZE`] bytes.
    Length {
        /// The length that was given.
        len: usize,
    },
    /// The kind byte names no record.
    UnknownKind {
        /// The byte at offset 0.
        kind: u8,
    },
    /// The kind byte belongs to a different family than the one requested.
    WrongFamily {
        /// The kind that was found.
        kind: EventKind,
    },
    /// An enum field holds a value outside its range.
    InvalidField {
        /// The record's kind.
        kind: EventKind,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RecordError::Length { len } => {
                write!(f, "record is {len} bytes; expected {RECORD_SIZE}")
            }
            RecordError::UnknownKind { kind } => write!(f, "unknown record kind 0x{kind:02x}"),
            RecordError::WrongFamily { kind } => {
                write!(f, "record kind {kind:?} is not of the requested family")
            }
            RecordError::InvalidField { kind } => {
                write!(f, "{kind:?} record has an enum field out of range")
            }
        }
    }
}

impl std::error::Error for RecordError {}

/// A record type that can be encoded to and decoded from its 128 bytes.
pub trait Record: NoUninit + CheckedBitPattern + Copy {
    /// The family every valid record of this type belongs to.
    const FAMILY: Family;

    /// The record's header.
    fn header(&self) -> &Header;

    /// The record's 128 little-endian bytes.
    fn to_bytes(&self) -> [u8; RECORD_SIZE] {
        let mut out = [0u8; RECORD_SIZE];
        out.copy_from_slice(bytemuck::bytes_of(self));
        out
    }

    /// Decodes a record, checking its length, kind and every enum field.
    fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let kind = kind_of(bytes)?;
        if kind.family() != Self::FAMILY {
            return Err(RecordError::WrongFamily { kind });
        }
        bytemuck::checked::try_pod_read_unaligned(bytes)
            .map_err(|_| RecordError::InvalidField { kind })
    }
}

fn kind_of(bytes: &[u8]) -> Result<EventKind, RecordError> {
    if bytes.len() != RECORD_SIZE {
        return Err(RecordError::Length { len: bytes.len() });
    }
    bytemuck::checked::try_pod_read_unaligned::<EventKind>(&bytes[..1])
        .map_err(|_| RecordError::UnknownKind { kind: bytes[0] })
}

macro_rules! record {
    ($ty:ident, $family:ident, $variant:ident) => {
        impl Record for $ty {
            const FAMILY: Family = Family::$family;
            fn header(&self) -> &Header {
                &self.header
            }
        }
        impl From<$ty> for Event {
            fn from(record: $ty) -> Event {
                Event::$variant(record)
            }
        }
    };
}

record!(MarketEvent, Market, Market);
record!(BookUpdate, Book, Book);
record!(OrderIntent, Intent, Intent);
record!(ExecReport, Exec, Exec);
record!(Command, Command, Command);

impl Event {
    /// The record's header.
    pub fn header(&self) -> &Header {
        match self {
            Event::Market(r) => &r.header,
            Event::Book(r) => &r.header,
            Event::Intent(r) => &r.header,
            Event::Exec(r) => &r.header,
            Event::Command(r) => &r.header,
        }
    }

    /// The record's header, mutably (for stamping).
    pub fn header_mut(&mut self) -> &mut Header {
        match self {
            Event::Market(r) => &mut r.header,
            Event::Book(r) => &mut r.header,
            Event::Intent(r) => &mut r.header,
            Event::Exec(r) => &mut r.header,
            Event::Command(r) => &mut r.header,
        }
    }

    /// The record's kind.
    pub fn kind(&self) -> EventKind {
        self.header().kind
    }

    /// The record's 128 little-endian bytes.
    pub fn to_bytes(&self) -> [u8; RECORD_SIZE] {
        match self {
            Event::Market(r) => r.to_bytes(),
            Event::Book(r) => r.to_bytes(),
            Event::Intent(r) => r.to_bytes(),
            Event::Exec(r) => r.to_bytes(),
            Event::Command(r) => r.to_bytes(),
        }
    }

    /// Decodes any record; the kind byte selects the type.
    pub fn from_bytes(bytes: &[u8]) -> Result<Event, RecordError> {
        Ok(match kind_of(bytes)?.family() {
            Family::Market => Event::Market(MarketEvent::from_bytes(bytes)?),
            Family::Book => Event::Book(BookUpdate::from_bytes(bytes)?),
            Family::Intent => Event::Intent(OrderIntent::from_bytes(bytes)?),
            Family::Exec => Event::Exec(ExecReport::from_bytes(bytes)?),
            Family::Command => Event::Command(Command::from_bytes(bytes)?),
        })
    }
}

#[cfg(test)]
mod tests;
