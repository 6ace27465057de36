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
    /// Let only risk-reducing orders through in the scope (its trading
    /// state becomes reducing); a reset makes it active again.
    SetReducing = 6,
    /// Set the venue's requested mode (`arg` is the [`Mode`](crate::model::Mode) number).
    SetMode = 7,
    /// A clock tick: the engine's heartbeat, the strategies' timer, and the
    /// time at which the gateway's venues release what they have due.
    Heartbeat = 8,
    /// An external view of one market's probability
    /// ([`Signal`](crate::strategy::Signal)): `target` is the instrument.
    Signal = 9,
    /// Change a strategy's parameter: `strategy` names it, `arg` is the
    /// value in fixed point and `args` the parameter's name
    /// ([`crate::strategy::ParamChange`]).
    SetParam = 10,
    /// Start (`arg` 1) or stop (`arg` 0) strategy `strategy`: a stopped
    /// strategy is given nothing but its own execution reports, and the
    /// gateway cancels its open orders. Unlike its kill switch, this is
    /// the operator's choice, not a refusal: a started strategy whose kill
    /// switch is tripped still has its orders refused.
    SetRunning = 11,
}

/// A reject reason: the gateway's own codes below 1000, venue codes above.
/// Open so that a venue adding a code never makes a report undecodable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct RejectCode(pub u16);

impl RejectCode {
    /// Not a reject.
    pub const NONE: RejectCode = RejectCode(0);
    /// A risk limit refused the order (unspecified).
    pub const RISK_LIMIT: RejectCode = RejectCode(1);
    /// A kill switch in the order's scope is tripped (halted).
    pub const KILL_SWITCH: RejectCode = RejectCode(2);
    /// The quantity is above the policy's per-order maximum.
    pub const MAX_QTY: RejectCode = RejectCode(3);
    /// Quantity × price is above the per-order maximum.
    pub const MAX_NOTIONAL: RejectCode = RejectCode(4);
    /// The price is not on the instrument's price grid.
    pub const OFF_GRID: RejectCode = RejectCode(5);
    /// The price is too far through the opposite best.
    pub const PRICE_COLLAR: RejectCode = RejectCode(6);
    /// The market is paused, closed or settled.
    pub const MARKET_NOT_OPEN: RejectCode = RejectCode(7);
    /// The instrument's book is stale or has never been whole.
    pub const BOOK_STALE: RejectCode = RejectCode(8);
    /// The order would trade with one of our own resting orders.
    pub const SELF_CROSS: RejectCode = RejectCode(9);
    /// The instrument's position would pass its limit.
    pub const POSITION_LIMIT: RejectCode = RejectCode(10);
    /// The instrument's dollar exposure would pass its limit.
    pub const EXPOSURE_LIMIT: RejectCode = RejectCode(11);
    /// The event's position would pass its limit.
    pub const EVENT_POSITION_LIMIT: RejectCode = RejectCode(12);
    /// The event's dollar exposure would pass its limit.
    pub const EVENT_EXPOSURE_LIMIT: RejectCode = RejectCode(13);
    /// The strategy has its maximum of open orders.
    pub const STRATEGY_OPEN_ORDERS: RejectCode = RejectCode(14);
    /// The engine has its maximum of open orders.
    pub const GLOBAL_OPEN_ORDERS: RejectCode = RejectCode(15);
    /// The strategy's daily loss limit was reached (its kill switch tripped).
    pub const DAILY_LOSS: RejectCode = RejectCode(16);
    /// The venue's order-rate budget (token bucket) is spent.
    pub const RATE_LIMIT: RejectCode = RejectCode(17);
    /// The scope only takes risk-reducing orders, and this one adds risk.
    pub const REDUCING_ONLY: RejectCode = RejectCode(18);
    /// The client order id was used before: a resend never makes a second order.
    pub const DUPLICATE_ID: RejectCode = RejectCode(19);
    /// A cancel or replace names no open order.
    pub const UNKNOWN_ORDER: RejectCode = RejectCode(20);
    /// The order is in no state to cancel or replace (pending, final or already cancelling).
    pub const NOT_CANCELLABLE: RejectCode = RejectCode(21);
    /// Live was asked for but the venue has no `live_enabled = true`.
    pub const LIVE_DISABLED: RejectCode = RejectCode(22);
    /// Live was asked for but no risk policy is loaded.
    pub const NO_RISK_POLICY: RejectCode = RejectCode(23);
    /// The quantity is not positive or not a multiple of the instrument's step.
    pub const BAD_QTY: RejectCode = RejectCode(24);
    /// The instrument is not in the registry.
    pub const UNKNOWN_INSTRUMENT: RejectCode = RejectCode(25);
    /// The venue for the effective mode is not connected.
    pub const NO_VENUE: RejectCode = RejectCode(26);
    /// A reduce-only order would increase the position.
    pub const REDUCE_ONLY: RejectCode = RejectCode(27);
    /// The price is outside (0, 1) or the intent is malformed.
    pub const BAD_PRICE: RejectCode = RejectCode(28);
    /// The orders journal refused the write, so nothing was sent.
    pub const JOURNAL: RejectCode = RejectCode(29);
    /// The venue refused it; the venue's own code is in the journal.
    pub const VENUE: RejectCode = RejectCode(1000);

    /// Every gateway code, for listings and tests.
    pub const GATEWAY: [RejectCode; 29] = {
        let mut all = [RejectCode(0); 29];
        let mut i = 0;
        while i < all.len() {
            all[i] = RejectCode(i as u16 + 1);
            i += 1;
        }
        all
    };

    /// A short snake-case name (`max_qty`), as metrics and the console show it.
    pub const fn name(self) -> &'static str {
        match self.0 {
            0 => "none",
            1 => "risk_limit",
            2 => "kill_switch",
            3 => "max_qty",
            4 => "max_notional",
            5 => "off_grid",
            6 => "price_collar",
            7 => "market_not_open",
            8 => "book_stale",
            9 => "self_cross",
            10 => "position_limit",
            11 => "exposure_limit",
            12 => "event_position_limit",
            13 => "event_exposure_limit",
            14 => "strategy_open_orders",
            15 => "global_open_orders",
            16 => "daily_loss",
            17 => "rate_limit",
            18 => "reducing_only",
            19 => "duplicate_id",
            20 => "unknown_order",
            21 => "not_cancellable",
            22 => "live_disabled",
            23 => "no_risk_policy",
            24 => "bad_qty",
            25 => "unknown_instrument",
            26 => "no_venue",
            27 => "reduce_only",
            28 => "bad_price",
            29 => "journal",
            1000.. => "venue",
            _ => "unassigned",
        }
    }
}
