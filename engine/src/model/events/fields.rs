//! The small typed fields of event records: kinds and families, sides,
//! statuses, time in force, liquidity, command scopes and actions, reject
//! codes. Each is one byte or two, checked when a record is decoded.

use bytemuck::{CheckedBitPattern, NoUninit};

/// What a record is. The high nibble is the record family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum EventKind {
    /// A venue snapshot begins; levels follow, then [`EventKind::SnapshotEnd`].
    SnapshotBegin = 0x10,
    /// One price level of a snapshot.
    SnapshotLevel = 0x11,
    /// The snapshot is complete; the book is now whole.
    SnapshotEnd = 0x12,
    /// A level's quantity changes by a signed amount (Kalshi `orderbook_delta`).
    LevelDelta = 0x13,
    /// A level's quantity is set to an absolute value (Binance depth diffs).
    LevelSet = 0x14,
    /// A public trade.
    Trade = 0x15,
    /// The market's trading status changed, or a sequence gap was detected.
    #[default]
    Status = 0x16,
    /// Top of book after a market event, from the book stage.
    BookUpdate = 0x20,
    /// A strategy asks for a new order.
    OrderNew = 0x30,
    /// A strategy asks to cancel an order.
    OrderCancel = 0x31,
    /// A strategy asks to change an order's price or quantity.
    OrderReplace = 0x32,
    /// The venue (or simulator) accepted an order.
    Ack = 0x40,
    /// The order was rejected, by the risk gate or the venue.
    Reject = 0x41,
    /// The order was (partly) filled.
    Fill = 0x42,
    /// The order was cancelled.
    Cancelled = 0x43,
    /// The order expired.
    Expired = 0x44,
    /// The venue refused to cancel the order (it is still working, or it
    /// filled first).
    CancelRejected = 0x45,
    /// The venue changed the order's price or quantity (an amend or a
    /// decrease).
    Replaced = 0x46,
    /// The venue refused to change the order; it works unchanged.
    ReplaceRejected = 0x47,
    /// The venue's view of an order (an order update, or a reconciliation
    /// query): its price, quantity and cumulative fill as the venue has them.
    OrderStatus = 0x48,
    /// A request got no answer in time: the order's state is unknown until
    /// an [`EventKind::OrderStatus`] from reconciliation settles it.
    OrderUnknown = 0x49,
    /// An operator or supervisor command.
    Command = 0x50,
}

/// The record families, one per ring type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Market data from a feed.
    Market,
    /// Book updates from the book stage.
    Book,
    /// Order intents from strategies.
    Intent,
    /// Execution reports from the gateway.
    Exec,
    /// Commands from the control plane.
    Command,
}

impl EventKind {
    /// The family (and so the record type) this kind belongs to.
    pub const fn family(self) -> Family {
        match (self as u8) >> 4 {
            0x1 => Family::Market,
            0x2 => Family::Book,
            0x3 => Family::Intent,
            0x4 => Family::Exec,
            _ => Family::Command,
        }
    }
}

/// Order or level side. For binary contracts every side is on the YES ladder:
/// a NO bid at p is a YES [`Side::Sell`] at 1 − p.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum Side {
    /// Bid / buy YES.
    #[default]
    Buy = 0,
    /// Ask / sell YES.
    Sell = 1,
}

impl Side {
    /// The other side.
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

/// Trading status of a market, carried by [`EventKind::Status`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum MarketStatus {
    /// Trading normally.
    #[default]
    Open = 0,
    /// Trading paused by the venue.
    Paused = 1,
    /// Closed; no more trading.
    Closed = 2,
    /// Settled; the outcome is known.
    Settled = 3,
    /// A feed sequence gap: the book is stale until a snapshot arrives.
    Gap = 4,
}

/// How long an order stays working.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum TimeInForce {
    /// Good till cancelled (or until the expiry time, when set).
    #[default]
    GoodTillCancelled = 0,
    /// Fill what crosses now, cancel the rest.
    ImmediateOrCancel = 1,
    /// Fill entirely now or not at all.
    FillOrKill = 2,
}

/// Whether a fill added or removed liquidity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum Liquidity {
    /// Not reported.
    #[default]
    Unknown = 0,
    /// The order was resting.
    Maker = 1,
    /// The order crossed the book.
    Taker = 2,
}

/// What a command applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum Scope {
    /// Everything.
    #[default]
    Global = 0,
    /// One venue (`target` is a [`VenueId`]).
    Venue = 1,
    /// One strategy (`strategy` names it).
    Strategy = 2,
    /// One instrument (`target` is an [`InstrumentId`]).
    Instrument = 3,
}

/// The action of a [`Command`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum CommandAction {
    /// Trip the kill switch of the scope: reject new orders, cancel open ones.
    #[default]
    TripKillSwitch = 0,
    /// Reset a tripped kill switch.
    ResetKillSwitch = 1,
    /// Cancel every open order in the scope.
    CancelAll = 2,
    /// Close every position in the scope.
    Flatten = 3,
    /// Load the risk policy again (`arg` is its version).
    ReloadRisk = 4,
    /// Drain and stop.
    Shutdown = 5,
}

/// A reject reason: the gateway's own codes below 1000, venue codes above.
/// Open so that a venue adding a code never makes a report undecodable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct RejectCode(pub u16);

impl RejectCode {
    /// Not a reject.
    pub const NONE: RejectCode = RejectCode(0);
    /// A risk limit refused the order.
    pub const RISK_LIMIT: RejectCode = RejectCode(1);
    /// A kill switch is tripped.
    pub const KILL_SWITCH: RejectCode = RejectCode(2);
    /// The venue refused it; the venue's own code is in the journal.
    pub const VENUE: RejectCode = RejectCode(1000);
}
