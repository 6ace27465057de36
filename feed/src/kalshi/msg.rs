//! The decoded Kalshi WebSocket v2 messages. Strings borrow from the frame;
//! numbers are parsed (`Price`/`Qty` at 1e-8, times as [`Nanos`]).
//!
//! Where Kalshi sends both a fixed-point field (`price_dollars`, `count_fp`)
//! and a legacy integer field (`price` in cents, `count`), the fixed-point
//! one wins; the legacy one is read only when the fixed-point one is absent.

use super::levels::{Levels, Strings, Subscriptions};
use pt_engine::model::{Nanos, Price, Qty};

/// A decoded frame: the envelope fields and the typed body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Subscription id (`sid`), top level (for `subscribed` it is in `msg`
    /// and copied here).
    pub sid: Option<u64>,
    /// Per-subscription sequence number; absent on `ticker`, `fill`,
    /// `market_position`, `user_order` and most control messages.
    pub seq: Option<u64>,
    /// The command id this answers (`id`), for control messages.
    pub id: Option<u64>,
    /// The body.
    pub msg: Msg<'a>,
}

/// One variant per server message `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg<'a> {
    /// `subscribed`: a channel subscription was made.
    Subscribed(Subscribed<'a>),
    /// `unsubscribed`: the envelope's `sid` is gone (no body).
    Unsubscribed,
    /// `ok` with an object body: `update_subscription` succeeded.
    Ok(UpdateOk<'a>),
    /// `list_subscriptions`, or `ok` whose body is an array (the answer to
    /// the `list_subscriptions` command as the spec shows it).
    ListSubscriptions(Subscriptions<'a>),
    /// `error`: a command failed.
    Error(ErrorMsg<'a>),
    /// `orderbook_snapshot`.
    OrderbookSnapshot(OrderbookSnapshot<'a>),
    /// `orderbook_delta`.
    OrderbookDelta(OrderbookDelta<'a>),
    /// `ticker`.
    Ticker(Ticker<'a>),
    /// `trade`.
    Trade(Trade<'a>),
    /// `fill`: one of our orders traded.
    Fill(Fill<'a>),
    /// `market_lifecycle_v2`.
    MarketLifecycle(MarketLifecycle<'a>),
    /// `event_lifecycle`.
    EventLifecycle(EventLifecycle<'a>),
    /// `multivariate_lookup`.
    MultivariateLookup(MultivariateLookup<'a>),
    /// `market_position`.
    MarketPosition(MarketPosition<'a>),
    /// `order_group_updates`.
    OrderGroupUpdate(OrderGroupUpdate<'a>),
    /// `user_order`.
    UserOrder(UserOrder<'a>),
    /// `rfq_created`.
    RfqCreated(Rfq<'a>),
    /// `rfq_deleted`.
    RfqDeleted(Rfq<'a>),
    /// `quote_created`.
    QuoteCreated(Quote<'a>),
    /// `quote_accepted`.
    QuoteAccepted(Quote<'a>),
    /// `quote_executed`.
    QuoteExecuted(QuoteExecuted<'a>),
}

/// A contract side as Kalshi names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum YesNo {
    /// `"yes"`.
    Yes,
    /// `"no"`.
    No,
}

/// `bid` or `ask` (the V2 `book_side`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookSide {
    /// `"bid"`.
    Bid,
    /// `"ask"`.
    Ask,
}

/// `buy` or `sell`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `"buy"`.
    Buy,
    /// `"sell"`.
    Sell,
}

/// `subscribed` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscribed<'a> {
    /// The channel name (`"orderbook_delta"`).
    pub channel: &'a str,
    /// The new subscription id.
    pub sid: u64,
}

/// `ok` body after `update_subscription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateOk<'a> {
    /// The subscription's markets after the update, when sent.
    pub market_tickers: Option<Strings<'a>>,
    /// The subscription's market ids after the update, when sent.
    pub market_ids: Option<Strings<'a>>,
}

/// A Kalshi WebSocket error code, kept open: codes the venue adds decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u64);

impl ErrorCode {
    /// 7: the `sid` named in a command does not exist.
    pub const UNKNOWN_SID: ErrorCode = ErrorCode(7);
    /// 10: a channel failed; the subscription is gone.
    pub const CHANNEL_ERROR: ErrorCode = ErrorCode(10);
    /// 25: the server's buffer for this connection overflowed.
    pub const BUFFER_OVERFLOW: ErrorCode = ErrorCode(25);

    /// Whether the subscription is gone and must be made again
    /// (codes 10 and 25, WIRE-FORMAT.md §3).
    pub fn is_terminal(self) -> bool {
        self == Self::CHANNEL_ERROR || self == Self::BUFFER_OVERFLOW
    }
}

/// `error` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorMsg<'a> {
    /// The code (1–28 today).
    pub code: ErrorCode,
    /// The human-readable text (JSON escapes left encoded).
    pub msg: &'a str,
    /// The market concerned, when given.
    pub market_ticker: Option<&'a str>,
    /// The market id concerned, when given.
    pub market_id: Option<&'a str>,
}

/// `orderbook_snapshot` body: both bid ladders, as sent (ascending price).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderbookSnapshot<'a> {
    /// The market.
    pub market_ticker: &'a str,
    /// The market's UUID, when sent.
    pub market_id: Option<&'a str>,
    /// YES bids (`yes_dollars_fp`, else `yes_dollars`, else `yes` cents);
    /// empty when the side is absent.
    pub yes: Levels<'a>,
    /// NO bids, at NO prices or at YES prices when the subscription set
    /// `use_yes_price` (the message does not say which).
    pub no: Levels<'a>,
}

/// `orderbook_delta` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderbookDelta<'a> {
    /// The market.
    pub market_ticker: &'a str,
    /// The market's UUID, when sent.
    pub market_id: Option<&'a str>,
    /// The level's price (`price_dollars`, else `price` cents); on the NO
    /// side a NO price unless the subscription set `use_yes_price`.
    pub price: Price,
    /// Signed change of the level's size (`delta_fp`, else `delta`).
    pub delta: Qty,
    /// Which ladder.
    pub side: YesNo,
    /// Our order's id when our order caused the change.
    pub client_order_id: Option<&'a str>,
    /// Our subaccount when our order caused the change.
    pub subaccount: Option<u64>,
    /// Venue time: `ts_ms`, else the RFC 3339 `ts`; UNSET when neither.
    pub ts: Nanos,
}

/// `ticker` body. Prices are YES prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticker<'a> {
    /// The market.
    pub market_ticker: &'a str,
    /// The market's UUID, when sent.
    pub market_id: Option<&'a str>,
    /// Last trade price (`price_dollars`, else `price`).
    pub price: Price,
    /// Best YES bid (`yes_bid_dollars`, else `yes_bid`).
    pub yes_bid: Price,
    /// Best YES ask (`yes_ask_dollars`, else `yes_ask`).
    pub yes_ask: Price,
    /// Size at the best bid (`yes_bid_size_fp`), when sent.
    pub yes_bid_size: Option<Qty>,
    /// Size at the best ask (`yes_ask_size_fp`), when sent.
    pub yes_ask_size: Option<Qty>,
    /// Size of the last trade (`last_trade_size_fp`), when sent.
    pub last_trade_size: Option<Qty>,
    /// Contracts traded (`volume_fp`, else `volume`), when sent.
    pub volume: Option<Qty>,
    /// Open interest (`open_interest_fp`, else `open_interest`), when sent.
    pub open_interest: Option<Qty>,
    /// `dollar_volume`, when sent.
    pub dollar_volume: Option<i64>,
    /// `dollar_open_interest`, when sent.
    pub dollar_open_interest: Option<i64>,
    /// Venue time: `ts_ms`, else `ts` seconds; UNSET when neither.
    pub ts: Nanos,
}

/// `trade` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade<'a> {
    /// The venue's trade id.
    pub trade_id: &'a str,
    /// The market.
    pub market_ticker: &'a str,
    /// YES price (`yes_price_dollars`, else `yes_price`, else 1 − NO price).
    pub yes_price: Price,
    /// NO price (`no_price_dollars`, else `no_price`, else 1 − YES price).
    pub no_price: Price,
    /// Contracts (`count_fp`, else `count`).
    pub count: Qty,
    /// The side the taker bought.
    pub taker_side: YesNo,
    /// Venue time: `ts_ms`, else `ts` seconds.
    pub ts: Nanos,
}

/// `fill` body (our own fills).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill<'a> {
    /// The venue's trade id.
    pub trade_id: &'a str,
    /// The venue's order id.
    pub order_id: &'a str,
    /// Our client order id, when the order had one.
    pub client_order_id: Option<&'a str>,
    /// The market.
    pub market_ticker: &'a str,
    /// Whether we took liquidity.
    pub is_taker: Option<bool>,
    /// Legacy `side` (the leg).
    pub side: Option<YesNo>,
    /// Legacy `action`.
    pub action: Option<Action>,
    /// V2 `outcome_side` (else legacy `purchased_side`).
    pub outcome_side: Option<YesNo>,
    /// V2 `book_side`.
    pub book_side: Option<BookSide>,
    /// YES price (`yes_price_dollars`, else `yes_price`).
    pub yes_price: Price,
    /// Contracts (`count_fp`, else `count`).
    pub count: Qty,
    /// Fee in dollars (`fee_cost`), when sent.
    pub fee: Option<Price>,
    /// Position after the fill (`post_position_fp`, else `post_position`).
    pub post_position: Option<Qty>,
    /// Venue time: `ts_ms`, else `ts` seconds.
    pub ts: Nanos,
}

/// `market_lifecycle_v2` body. `additional_metadata` is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketLifecycle<'a> {
    /// The market.
    pub market_ticker: &'a str,
    /// `created`, `activated`, `deactivated`, `close_date_updated`,
    /// `determined`, `settled`, or what the venue adds.
    pub event_type: &'a str,
    /// `open_ts` (seconds), when sent.
    pub open_ts: Option<Nanos>,
    /// `close_ts` (seconds), when sent.
    pub close_ts: Option<Nanos>,
    /// `determination_ts` (seconds), when sent.
    pub determination_ts: Option<Nanos>,
    /// `settled_ts` (seconds), when sent.
    pub settled_ts: Option<Nanos>,
    /// `result` (`"yes"`, `"no"`, ...), when sent.
    pub result: Option<&'a str>,
    /// `is_deactivated`, when sent.
    pub is_deactivated: Option<bool>,
}

/// `event_lifecycle` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventLifecycle<'a> {
    /// The event.
    pub event_ticker: &'a str,
    /// Its series, when sent.
    pub series_ticker: Option<&'a str>,
    /// `collateral_return_type`, when sent.
    pub collateral_return_type: Option<&'a str>,
    /// `strike_date` (seconds), when sent.
    pub strike_date: Option<Nanos>,
}

/// `multivariate_lookup` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultivariateLookup<'a> {
    /// The collection.
    pub collection_ticker: &'a str,
    /// The combined event.
    pub event_ticker: &'a str,
    /// The combined market.
    pub market_ticker: &'a str,
    /// The legs chosen: the validated JSON array, undecoded.
    pub selected_markets: &'a [u8],
}

/// `market_position` body (our position in one market).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketPosition<'a> {
    /// The market.
    pub market_ticker: &'a str,
    /// Contracts held, YES positive (`position_fp`, else `position`).
    pub position: Qty,
    /// Cost basis in dollars (`position_cost_dollars`, else legacy
    /// `position_cost` in centi-cents), when sent.
    pub position_cost: Option<Price>,
    /// Realized PnL in dollars (`realized_pnl_dollars`, else centi-cents).
    pub realized_pnl: Option<Price>,
    /// Fees paid in dollars (`fees_paid_dollars`, else centi-cents).
    pub fees_paid: Option<Price>,
    /// Contracts traded (`volume_fp`, else `volume`), when sent.
    pub volume: Option<Qty>,
    /// The subaccount, when sent.
    pub subaccount: Option<u64>,
}

/// `order_group_updates` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderGroupUpdate<'a> {
    /// `created`, `triggered`, `reset`, `deleted`, `limit_updated`, ...
    pub event_type: &'a str,
    /// The group.
    pub order_group_id: &'a str,
    /// `contracts_limit_fp`, when sent.
    pub contracts_limit: Option<Qty>,
}

/// `user_order` body (our order's state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserOrder<'a> {
    /// The venue's order id.
    pub order_id: &'a str,
    /// Our client order id; `None` when absent or empty.
    pub client_order_id: Option<&'a str>,
    /// The market (`ticker`).
    pub ticker: &'a str,
    /// `resting`, `canceled`, `executed`, or what the venue adds.
    pub status: &'a str,
    /// V2 `outcome_side`, when sent.
    pub outcome_side: Option<YesNo>,
    /// V2 `book_side`, when sent.
    pub book_side: Option<BookSide>,
    /// Legacy `side`, when sent.
    pub side: Option<YesNo>,
    /// YES price (`yes_price_dollars`).
    pub yes_price: Price,
    /// `fill_count_fp`.
    pub fill_count: Qty,
    /// `remaining_count_fp`.
    pub remaining_count: Qty,
    /// `initial_count_fp`, when sent.
    pub initial_count: Option<Qty>,
    /// `created_ts_ms`, when sent.
    pub created_ts: Option<Nanos>,
}

/// `rfq_created` / `rfq_deleted` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfq<'a> {
    /// The RFQ id (`id`).
    pub id: &'a str,
    /// `creator_id` (empty when anonymous).
    pub creator_id: &'a str,
    /// The market.
    pub market_ticker: &'a str,
    /// `event_ticker`, when sent.
    pub event_ticker: Option<&'a str>,
    /// `contracts_fp`, else `contracts`, when sent.
    pub contracts: Option<Qty>,
    /// `target_cost_dollars`, when sent.
    pub target_cost: Option<Price>,
}

/// `quote_created` / `quote_accepted` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote<'a> {
    /// The quote.
    pub quote_id: &'a str,
    /// The RFQ it answers.
    pub rfq_id: &'a str,
    /// `quote_creator_id`.
    pub quote_creator_id: &'a str,
    /// The market.
    pub market_ticker: &'a str,
    /// `yes_bid_dollars`, else `yes_bid` cents.
    pub yes_bid: Price,
    /// `no_bid_dollars`, else `no_bid` cents.
    pub no_bid: Price,
    /// `yes_contracts_offered_fp`, else the integer, when sent.
    pub yes_contracts_offered: Option<Qty>,
    /// `no_contracts_offered_fp`, else the integer, when sent.
    pub no_contracts_offered: Option<Qty>,
    /// `accepted_side` (`quote_accepted`).
    pub accepted_side: Option<YesNo>,
    /// `contracts_accepted_fp`, else the integer (`quote_accepted`).
    pub contracts_accepted: Option<Qty>,
}

/// `quote_executed` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteExecuted<'a> {
    /// The quote.
    pub quote_id: &'a str,
    /// The RFQ.
    pub rfq_id: &'a str,
    /// Our order placed by the execution.
    pub order_id: &'a str,
    /// Our client order id for it, when set.
    pub client_order_id: Option<&'a str>,
    /// The market.
    pub market_ticker: &'a str,
}
