//! What the exchange takes and reports: sides, order types, orders, fills,
//! trades, events, rejects, and the read-only views.

use super::*;

/// A side of the YES book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookSide {
    /// Buy YES at the price.
    Bid,
    /// Sell YES at the price, i.e. buy NO at one minus the price.
    Ask,
}

impl BookSide {
    /// The other side.
    pub const fn opposite(self) -> BookSide {
        match self {
            BookSide::Bid => BookSide::Ask,
            BookSide::Ask => BookSide::Bid,
        }
    }

    /// Whether an incoming order on this side at `limit` trades with a
    /// resting order on the opposite side at `resting`.
    pub(crate) const fn crosses(self, limit: Price, resting: Price) -> bool {
        match self {
            BookSide::Bid => resting.raw() <= limit.raw(),
            BookSide::Ask => resting.raw() >= limit.raw(),
        }
    }

    /// How much of `position` (signed raw contracts) an order on this side
    /// would close: a bid closes NO (negative), an ask closes YES.
    pub(crate) const fn reducible(self, position: i64) -> i64 {
        let closable = match self {
            BookSide::Bid => position.saturating_neg(),
            BookSide::Ask => position,
        };
        if closable > 0 { closable } else { 0 }
    }
}

/// How long an order stays on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// The remainder rests until canceled (or until `expiration_ts`).
    GoodTillCanceled,
    /// The remainder is canceled after matching.
    ImmediateOrCancel,
    /// Fills completely at once or not at all.
    FillOrKill,
}

/// What happens when an order would trade with its own user's resting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTradePrevention {
    /// The incoming order's remainder is canceled there.
    TakerAtCross,
    /// The resting order is canceled and matching continues.
    Maker,
}

/// An order's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// On the book with a remaining count.
    Resting,
    /// Taken off the book before filling completely.
    Canceled,
    /// Filled completely.
    Executed,
}

/// How a market settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// YES contracts pay $1.
    Yes,
    /// NO contracts pay $1.
    No,
}

/// A market as listed.
#[derive(Debug, Clone)]
pub struct MarketSpec {
    /// Market ticker, unique in the exchange.
    pub ticker: String,
    /// The event the market belongs to.
    pub event_ticker: String,
    /// Human title.
    pub title: String,
    /// Valid YES prices.
    pub grid: PriceGrid,
    /// Orders are rejected from this time on (ms since the Unix epoch).
    pub close_time_ms: i64,
}

/// An order as submitted.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Who places it.
    pub user: UserId,
    /// Market ticker.
    pub ticker: String,
    /// The client's own id; unique among the user's resting orders.
    pub client_order_id: Option<String>,
    /// Book side.
    pub side: BookSide,
    /// Contracts, at most two decimals.
    pub count: Qty,
    /// YES limit price, on the market's grid.
    pub price: Price,
    /// How long the remainder stays.
    pub time_in_force: TimeInForce,
    /// What to do on a self-cross.
    pub self_trade_prevention: SelfTradePrevention,
    /// Reject instead of taking liquidity.
    pub post_only: bool,
    /// Only reduce the user's position; the count is capped to it.
    pub reduce_only: bool,
    /// Unix seconds at which a resting remainder is canceled. A time already
    /// past makes the order immediate-or-cancel (as Kalshi does).
    pub expiration_ts: Option<i64>,
    /// Cancel the order when trading is paused.
    pub cancel_order_on_pause: bool,
}

/// An order's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Exchange-assigned id (UUID-shaped).
    pub order_id: String,
    /// Owner.
    pub user: UserId,
    /// The client's own id.
    pub client_order_id: Option<String>,
    /// Market ticker.
    pub ticker: String,
    /// Book side.
    pub side: BookSide,
    /// YES limit price.
    pub price: Price,
    /// Total count: as placed (after a reduce-only cap), or as last amended.
    pub initial_count: Qty,
    /// Contracts traded.
    pub fill_count: Qty,
    /// Contracts still resting (zero unless `status` is `Resting`).
    pub remaining_count: Qty,
    /// Contracts taken off without trading (cancel, decrease, expiry,
    /// self-trade prevention, IOC/FOK remainder). Reset by an amend, which
    /// redefines the total.
    pub canceled_count: Qty,
    /// Lifecycle state.
    pub status: OrderStatus,
    /// As submitted.
    pub time_in_force: TimeInForce,
    /// As submitted.
    pub self_trade_prevention: SelfTradePrevention,
    /// As submitted.
    pub post_only: bool,
    /// As submitted.
    pub reduce_only: bool,
    /// As submitted (unix seconds).
    pub expiration_ts: Option<i64>,
    /// Fees paid on fills where this order took liquidity.
    pub taker_fees: Money,
    /// Fees paid on fills where this order rested.
    pub maker_fees: Money,
    /// What this order paid for contracts it took: `count × price` for a
    /// bid, `count × (1 − price)` for an ask (the NO leg).
    pub taker_fill_cost: Money,
    /// The same for fills where it rested.
    pub maker_fill_cost: Money,
    /// When it was placed (ms).
    pub created_ms: i64,
    /// When it last changed (ms).
    pub last_update_ms: i64,
    /// As submitted.
    pub cancel_order_on_pause: bool,
}

/// One side of one trade, as its user sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fill {
    /// Unique id of this fill.
    pub fill_id: String,
    /// The trade it is a side of.
    pub trade_id: String,
    /// The order that filled.
    pub order_id: String,
    /// That order's client id.
    pub client_order_id: Option<String>,
    /// Owner.
    pub user: UserId,
    /// Market ticker.
    pub ticker: String,
    /// The order's side.
    pub side: BookSide,
    /// Trade price (the maker's).
    pub yes_price: Price,
    /// Contracts.
    pub count: Qty,
    /// Whether the order took liquidity.
    pub is_taker: bool,
    /// Fee charged to this user for this fill.
    pub fee: Money,
    /// When (ms).
    pub ts_ms: i64,
    /// The user's position in the market after the fill.
    pub post_position: Qty,
}

/// A public trade.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// Unique id.
    pub trade_id: String,
    /// Market ticker.
    pub ticker: String,
    /// Trade price (the maker's).
    pub yes_price: Price,
    /// Contracts.
    pub count: Qty,
    /// The incoming order's side.
    pub taker_side: BookSide,
    /// When (ms).
    pub ts_ms: i64,
}

/// A state change, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A resting level changed by `delta` (signed) on `side` at YES price
    /// `price`: a new rest, a maker fill, a cancel, decrease, amend, expiry or
    /// settlement clearing. `user`/`client_order_id` name the order that
    /// caused it: the taker for a fill, otherwise the order whose resting
    /// quantity changed.
    BookDelta {
        /// Market ticker.
        ticker: String,
        /// Book side of the level.
        side: BookSide,
        /// YES price of the level.
        price: Price,
        /// Signed change of resting quantity.
        delta: Qty,
        /// Owner of the causing order.
        user: UserId,
        /// Client id of the causing order.
        client_order_id: Option<String>,
        /// When (ms).
        ts_ms: i64,
    },
    /// A trade.
    Trade(Trade),
    /// One side of a trade.
    Fill(Fill),
    /// The order's state after any change (placed, filled, canceled, amended,
    /// decreased, expired).
    Order(Order),
    /// The market settled; positions were paid and cleared.
    Settled {
        /// Market ticker.
        ticker: String,
        /// How it settled.
        outcome: Outcome,
        /// When (ms).
        ts_ms: i64,
    },
}

/// Why a request was refused; nothing changed (except orders that expired
/// before the request was looked at, reported in the events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// HTTP-like status.
    pub status: u16,
    /// Kalshi-style snake_case code.
    pub code: &'static str,
    /// A sentence naming the field, the value and what was expected.
    pub message: String,
}

impl Reject {
    pub(crate) fn new(status: u16, code: &'static str, message: String) -> Reject {
        Reject {
            status,
            code,
            message,
        }
    }

    pub(crate) fn market_not_found(ticker: &str) -> Reject {
        Reject::new(
            404,
            "market_not_found",
            format!("ticker {ticker:?}: no such market"),
        )
    }

    pub(crate) fn order_not_found(order_id: &str) -> Reject {
        Reject::new(
            404,
            "not_found",
            format!("order_id {order_id:?}: no such order for this user"),
        )
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for Reject {}

/// One aggregated price level.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// YES price.
    pub price: Price,
    /// Total resting count.
    pub count: Qty,
}

/// Aggregated book of one market.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BookView {
    /// Best (highest) first.
    pub bids: Vec<Level>,
    /// Best (lowest) first.
    pub asks: Vec<Level>,
}

/// A user's position in one market.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    /// Contracts: positive YES, negative NO.
    pub position: Qty,
    /// Sum of what the user paid for contracts (fill costs).
    pub total_traded: Money,
    /// Cost basis of the current position (average cost).
    pub market_exposure: Money,
    /// Payouts minus the cost basis of what was netted or settled (fees
    /// excluded; see `fees_paid`).
    pub realized_pnl: Money,
    /// Fees paid in this market.
    pub fees_paid: Money,
    /// When it last changed (ms).
    pub last_updated_ms: i64,
}

/// A market's live statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketStats {
    /// Price of the last trade.
    pub last_price: Option<Price>,
    /// Contracts traded.
    pub volume: Qty,
    /// Sum of positive positions (= sum of negative ones, negated).
    pub open_interest: Qty,
    /// Best bid level.
    pub best_bid: Option<Level>,
    /// Best ask level.
    pub best_ask: Option<Level>,
    /// Set once settled.
    pub outcome: Option<Outcome>,
    /// Whether trading is paused (exchange-wide).
    pub paused: bool,
}
