//! The pure matching engine of `pt sim`: books, accounts, fees and settlement.
//!
//! # Model
//!
//! Every market is a binary contract that pays $1 if it settles YES. It has
//! one book on the YES price: bids buy YES at `p`, asks sell YES at `p`, which
//! is the same as buying NO at `1 − p` (the server translates Kalshi's "NO bid
//! at q" into a YES ask at `1 − q` before it gets here). Orders match by
//! price-time priority and every trade is at the resting (maker) order's price.
//!
//! Cash moves per fill, exactly, in fixed point at 1e-8 dollars ([`Money`]):
//!
//! - a bid fill of `n` at `p` pays `n × p` and adds `+n` to the position;
//! - an ask fill of `n` at `p` pays `n × (1 − p)` (the NO leg) and adds `−n`;
//! - when a fill reduces an opposite position, each netted YES/NO pair pays
//!   out $1 at once;
//! - fees are charged per trade (per match) and go to [`Exchange::fees_collected`].
//!
//! Both legs of a trade together pay exactly `n` dollars, so at any moment
//! `total_cash + fees_collected + Σ open_interest × $1` equals the cash that
//! was deposited; settlement pays out the open interest and closes the market.
//! The [`HOUSE`] account provides background liquidity and is never
//! balance-checked; its cash may go negative.
//!
//! Order quantities follow Kalshi: `remaining_count` is what still rests on the
//! book (zero once the order is canceled or executed), `fill_count` what
//! traded, and [`Order::canceled_count`] what was taken off without trading
//! (cancel, decrease, expiry, self-trade prevention, IOC/FOK remainders), so
//! `fill_count + remaining_count + canceled_count == initial_count` always.
//!
//! Nothing here does I/O or reads a clock: callers pass `now_ms`, and every
//! state change is reported as [`Event`]s appended to the caller's vector, in
//! the order it happened. Order, fill and trade ids are UUID-shaped strings
//! from a seeded generator, so a run is reproducible from its seed.
//!
//! # Memory
//!
//! The exchange keeps every order and fill of ordinary users, so they can be
//! read back. A user marked with [`Exchange::set_ephemeral`] (the background
//! model's accounts) leaves no history: its orders are forgotten as soon as
//! they stop resting and its fills are only reported as events, so a
//! simulator that runs for days holds only what rests on its books.

use core::fmt;
use core::hash::{BuildHasherDefault, Hasher};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque, btree_map};

use pt_engine::instrument::PriceGrid;
use pt_engine::model::{Price, Qty, UNIT};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// Money in dollars at 1e-8 (same scale as [`Price`]).
pub type Money = i64;
/// An account.
pub type UserId = u32;
/// The background liquidity account: never balance-checked.
pub const HOUSE: UserId = 0;

/// The largest count one order may have: a billion contracts. It keeps every
/// fee and cost computation far inside `i128`.
pub const MAX_COUNT: Qty = Qty::from_raw(1_000_000_000 * UNIT);

/// Raw units in one cent.
const CENT: Money = 1_000_000;
/// Counts are whole hundredths of a contract: raw units per hundredth.
const COUNT_STEP: i64 = 1_000_000;

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
    const fn crosses(self, limit: Price, resting: Price) -> bool {
        match self {
            BookSide::Bid => resting.raw() <= limit.raw(),
            BookSide::Ask => resting.raw() >= limit.raw(),
        }
    }

    /// The signed position change of a fill of `n` on this side.
    const fn signed(self, n: i64) -> i64 {
        match self {
            BookSide::Bid => n,
            BookSide::Ask => -n,
        }
    }

    /// How much of `position` (signed raw contracts) an order on this side
    /// would close: a bid closes NO (negative), an ask closes YES.
    const fn reducible(self, position: i64) -> i64 {
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
    fn new(status: u16, code: &'static str, message: String) -> Reject {
        Reject {
            status,
            code,
            message,
        }
    }

    fn market_not_found(ticker: &str) -> Reject {
        Reject::new(
            404,
            "market_not_found",
            format!("ticker {ticker:?}: no such market"),
        )
    }

    fn order_not_found(order_id: &str) -> Reject {
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

/// Fee rates in basis points of `count × P × (1 − P)`, rounded up to the
/// cent per trade (Kalshi's formula).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSchedule {
    /// Rate charged to the taker (700 = 0.07).
    pub taker_bps: i64,
    /// Rate charged to the maker (negative = rebate).
    pub maker_bps: i64,
}

impl Default for FeeSchedule {
    fn default() -> Self {
        FeeSchedule {
            taker_bps: 700,
            maker_bps: 0,
        }
    }
}

/// The fee of one trade of `count` at `price`: `bps / 10000 × count × P ×
/// (1 − P)` rounded up to the next whole cent, computed exactly. Zero for a
/// non-positive count or a price outside (0, 1); `bps` is clamped to
/// ±10000.
pub fn trade_fee(bps: i64, count: Qty, price: Price) -> Money {
    let (c, p, u) = (
        i128::from(count.raw()),
        i128::from(price.raw()),
        i128::from(UNIT),
    );
    if c <= 0 || p <= 0 || p >= u {
        return 0;
    }
    let bps = i128::from(bps.clamp(-10_000, 10_000));
    // Fee in cents = bps/1e4 × (c/u) × (p/u) × ((u−p)/u) × 100.
    let denominator = 100 * u * u * u;
    let cents = bps
        .checked_mul(c)
        .and_then(|v| v.checked_mul(p * (u - p)))
        // Ceiling for either sign: floor((a + b − 1) / b) with b > 0.
        .and_then(|num| num.checked_add(denominator - 1))
        .map(|num| num.div_euclid(denominator));
    match cents {
        Some(cents) => saturate(cents.saturating_mul(i128::from(CENT))),
        None => i64::MAX,
    }
}

/// `count × price` in money; exact for two-decimal counts and prices of at
/// most six decimals (truncated toward zero beyond).
fn notional(count: Qty, price: Price) -> Money {
    saturate(i128::from(count.raw()) * i128::from(price.raw()) / i128::from(UNIT))
}

/// What the `side` leg of `count` at `price` costs: `count × p` for a bid,
/// `count × (1 − p)` for an ask. The two legs always sum to `count × $1`.
fn leg_cost(side: BookSide, count: Qty, price: Price) -> Money {
    match side {
        BookSide::Bid => notional(count, price),
        BookSide::Ask => count.raw().saturating_sub(notional(count, price)),
    }
}

fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

fn qty_add(a: Qty, b: Qty) -> Qty {
    Qty::from_raw(a.raw().saturating_add(b.raw()))
}

fn qty_sub(a: Qty, b: Qty) -> Qty {
    Qty::from_raw(a.raw().saturating_sub(b.raw()))
}

fn dollars(m: Money) -> String {
    Price::from_raw(m).to_string()
}

/// Checks an order count: positive, at most two decimals, at most [`MAX_COUNT`].
fn check_count(field: &str, count: Qty) -> Result<(), Reject> {
    if count.raw() <= 0 || count.raw() % COUNT_STEP != 0 || count > MAX_COUNT {
        return Err(Reject::new(
            400,
            "invalid_count",
            format!(
                "{field} {count} is invalid; expected a positive number of contracts with at most 2 decimals, at most {MAX_COUNT}"
            ),
        ));
    }
    Ok(())
}

/// Checks a price: strictly inside (0, 1) and on the market's grid.
fn check_price(spec: &MarketSpec, price: Price) -> Result<(), Reject> {
    if price.raw() <= 0 || price >= Price::ONE || spec.grid.index_of(price).is_none() {
        let range = match (spec.grid.min(), spec.grid.max()) {
            (Some(lo), Some(hi)) => format!(" ({lo} to {hi})"),
            _ => String::new(),
        };
        return Err(Reject::new(
            400,
            "invalid_price",
            format!(
                "price {price} is invalid for {}; expected a price strictly between 0 and 1 on the market's tick grid{range}",
                spec.ticker
            ),
        ));
    }
    Ok(())
}

/// A fast, non-cryptographic hasher for the internal maps (FxHash's
/// multiply-rotate). Their keys are generated ids and account numbers, so
/// SipHash's flooding resistance buys nothing here.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Where the 32 hex digits of a UUID-shaped id are (the rest are hyphens).
const UUID_DIGITS: [usize; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35,
];

/// Lowercase hex digits.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Each byte's value as a lowercase hex digit, 0xFF if it is none.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        table[HEX_DIGITS[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The 128 bits of a UUID-shaped id (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`,
/// lowercase hex) as written by [`IdGen::uuid`]; `None` for any other string,
/// so two ids are equal exactly when their keys are. Branch-free: the digits
/// of random ids defeat a branch predictor.
fn uuid_key(id: &str) -> Option<u128> {
    let bytes: &[u8; 36] = id.as_bytes().try_into().ok()?;
    let mut bad = (bytes[8] ^ b'-') | (bytes[13] ^ b'-') | (bytes[18] ^ b'-') | (bytes[23] ^ b'-');
    let mut half = |digits: &[usize]| {
        digits.iter().fold(0u64, |acc, &at| {
            let v = HEX_VALUE[usize::from(bytes[at])];
            bad |= v & 0xF0;
            (acc << 4) | u64::from(v & 0x0F)
        })
    };
    let (hi, lo) = (half(&UUID_DIGITS[..16]), half(&UUID_DIGITS[16..]));
    (bad == 0).then_some((u128::from(hi) << 64) | u128::from(lo))
}

/// Deterministic UUID-shaped ids from a splitmix64 stream.
#[derive(Debug, Clone)]
struct IdGen(u64);

impl IdGen {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A version-4-shaped UUID: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    fn uuid(&mut self) -> String {
        self.uuid_with_key().1
    }

    /// A UUID and its [`uuid_key`].
    fn uuid_with_key(&mut self) -> (u128, String) {
        let a = (self.next_u64() & !0xF000) | 0x4000;
        let b = (self.next_u64() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        let mut text = [b'-'; 36];
        for (half, digits) in [(a, &UUID_DIGITS[..16]), (b, &UUID_DIGITS[16..])] {
            for (n, &at) in digits.iter().enumerate() {
                text[at] = HEX_DIGITS[((half >> (60 - 4 * n)) & 0xF) as usize];
            }
        }
        // ASCII by construction.
        let id = std::str::from_utf8(&text).map_or_else(|_| String::new(), str::to_owned);
        ((u128::from(a) << 64) | u128::from(b), id)
    }
}

/// One side of a book: price → queue of order indices, oldest first.
type Ladder = BTreeMap<Price, VecDeque<usize>>;

/// A side's levels, best first (without boxing the iterator).
enum Levels<'a> {
    Bids(core::iter::Rev<btree_map::Iter<'a, Price, VecDeque<usize>>>),
    Asks(btree_map::Iter<'a, Price, VecDeque<usize>>),
}

impl<'a> Iterator for Levels<'a> {
    type Item = (&'a Price, &'a VecDeque<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Levels::Bids(it) => it.next(),
            Levels::Asks(it) => it.next(),
        }
    }
}

/// A listed market and its book.
#[derive(Debug)]
struct Market {
    spec: MarketSpec,
    bids: Ladder,
    asks: Ladder,
    positions: BTreeMap<UserId, Position>,
    last_price: Option<Price>,
    volume: Qty,
    outcome: Option<Outcome>,
}

impl Market {
    #[cfg(test)]
    fn ladder(&self, side: BookSide) -> &Ladder {
        match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        }
    }

    fn ladder_mut(&mut self, side: BookSide) -> &mut Ladder {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }

    /// The side's levels, best first.
    fn levels(&self, side: BookSide) -> Levels<'_> {
        match side {
            BookSide::Bid => Levels::Bids(self.bids.iter().rev()),
            BookSide::Ask => Levels::Asks(self.asks.iter()),
        }
    }

    /// The best price of a side and the oldest order there.
    fn best_front(&self, side: BookSide) -> Option<(Price, usize)> {
        let best = match side {
            BookSide::Bid => self.bids.last_key_value(),
            BookSide::Ask => self.asks.first_key_value(),
        };
        best.and_then(|(p, q)| q.front().map(|&i| (*p, i)))
    }

    /// Whether an order on `side` at `price` would trade with the book.
    fn would_cross(&self, side: BookSide, price: Price) -> bool {
        self.best_front(side.opposite())
            .is_some_and(|(best, _)| side.crosses(price, best))
    }

    fn link(&mut self, side: BookSide, price: Price, idx: usize) {
        self.ladder_mut(side)
            .entry(price)
            .or_default()
            .push_back(idx);
    }

    fn unlink(&mut self, side: BookSide, price: Price, idx: usize) {
        let ladder = self.ladder_mut(side);
        if let Some(queue) = ladder.get_mut(&price) {
            if let Some(at) = queue.iter().position(|&i| i == idx) {
                queue.remove(at);
            }
            if queue.is_empty() {
                ladder.remove(&price);
            }
        }
    }

    /// Indices of every resting order, bids then asks.
    fn resting(&self) -> Vec<usize> {
        self.bids
            .values()
            .chain(self.asks.values())
            .flatten()
            .copied()
            .collect()
    }

    fn open_interest(&self) -> Qty {
        Qty::from_raw(
            self.positions
                .values()
                .map(|p| p.position.raw().max(0))
                .fold(0i64, i64::saturating_add),
        )
    }

    fn closed(&self, now_ms: i64) -> bool {
        self.outcome.is_some() || self.spec.close_time_ms <= now_ms
    }

    fn level_total(queue: &VecDeque<usize>, orders: &OrderStore) -> Qty {
        queue
            .iter()
            .filter_map(|&i| orders.get(i))
            .fold(Qty::ZERO, |sum, o| qty_add(sum, o.remaining_count))
    }

    fn stats(&self, orders: &OrderStore, paused: bool) -> MarketStats {
        let best = |side| {
            self.levels(side).next().map(|(p, q)| Level {
                price: *p,
                count: Market::level_total(q, orders),
            })
        };
        MarketStats {
            last_price: self.last_price,
            volume: self.volume,
            open_interest: self.open_interest(),
            best_bid: best(BookSide::Bid),
            best_ask: best(BookSide::Ask),
            outcome: self.outcome,
            paused,
        }
    }
}

/// One stored order.
#[derive(Debug)]
struct Entry {
    order: Order,
    /// [`uuid_key`] of its id.
    key: u128,
    /// Placement number, unique for the exchange's lifetime: tells an order
    /// from a later one reusing its slot.
    seq: u64,
    /// Its user keeps no history: the entry goes once the order stops
    /// resting.
    ephemeral: bool,
}

/// Orders in a slab: every order of ordinary users, the resting orders of
/// ephemeral ones. An index (held by a book queue or the expiry heap) stays
/// valid while its order is stored; a freed slot is reused by a new order.
#[derive(Debug, Default)]
struct OrderStore {
    slots: Vec<Option<Entry>>,
    /// Free slots, reused last-freed first.
    free: Vec<usize>,
    next_seq: u64,
    by_id: FxMap<u128, usize>,
    /// Every order of each ordinary user, oldest first (ephemeral users'
    /// orders are not listed here).
    by_user: FxMap<UserId, Vec<usize>>,
    /// Client ids of resting orders, per user.
    live_client_ids: FxMap<UserId, FxMap<String, usize>>,
    /// (expiry ms, placement number, slot) of resting orders with an
    /// expiration; entries for orders no longer resting, or whose slot now
    /// holds another order, are skipped when popped.
    expiries: BinaryHeap<Reverse<(i64, u64, usize)>>,
    /// Users that keep no history (a handful: a list beats a hash).
    ephemeral: Vec<UserId>,
}

impl OrderStore {
    fn entry(&self, idx: usize) -> Option<&Entry> {
        self.slots.get(idx).and_then(Option::as_ref)
    }

    fn get(&self, idx: usize) -> Option<&Order> {
        self.entry(idx).map(|e| &e.order)
    }

    fn get_mut(&mut self, idx: usize) -> Option<&mut Order> {
        self.slots
            .get_mut(idx)
            .and_then(Option::as_mut)
            .map(|e| &mut e.order)
    }

    /// Stored orders with their slots.
    fn iter(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e)))
    }

    fn is_ephemeral(&self, user: UserId) -> bool {
        self.ephemeral.contains(&user)
    }

    /// Stores a new order; returns its slot.
    fn insert(&mut self, order: Order, key: u128) -> usize {
        let user = order.user;
        let ephemeral = self.is_ephemeral(user);
        let entry = Entry {
            order,
            key,
            seq: self.next_seq,
            ephemeral,
        };
        self.next_seq += 1;
        let idx = match self.free.pop() {
            Some(idx) => {
                self.slots[idx] = Some(entry);
                idx
            }
            None => {
                self.slots.push(Some(entry));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(key, idx);
        if !ephemeral {
            self.by_user.entry(user).or_default().push(idx);
        }
        idx
    }

    /// The slot of the order with id `order_id`.
    fn find(&self, order_id: &str) -> Option<usize> {
        uuid_key(order_id).and_then(|key| self.by_id.get(&key).copied())
    }

    /// Removes order `idx` if its user is ephemeral and it no longer rests
    /// (it is then off the book); returns it.
    fn release_if_done(&mut self, idx: usize) -> Option<Order> {
        let e = self.entry(idx)?;
        if !e.ephemeral || e.order.status == OrderStatus::Resting {
            return None;
        }
        self.forget_client_id(idx);
        let e = self.slots.get_mut(idx)?.take()?;
        self.by_id.remove(&e.key);
        self.free.push(idx);
        Some(e.order)
    }

    /// Order `idx`'s final state for a caller: taken out if it is released,
    /// else a copy.
    fn conclude(&mut self, idx: usize) -> Option<Order> {
        self.release_if_done(idx).or_else(|| self.get(idx).cloned())
    }

    fn client_id_taken(&self, user: UserId, cid: &str, except: Option<usize>) -> bool {
        self.live_client_ids
            .get(&user)
            .and_then(|m| m.get(cid))
            .is_some_and(|&i| Some(i) != except)
    }

    /// Keeps the live client id index in step with order `idx`'s status.
    fn sync_client_id(&mut self, idx: usize) {
        let Some(o) = self.get(idx) else { return };
        let Some(cid) = &o.client_order_id else {
            return;
        };
        if o.status == OrderStatus::Resting {
            let (user, cid) = (o.user, cid.clone());
            self.live_client_ids
                .entry(user)
                .or_default()
                .insert(cid, idx);
        } else {
            self.forget_client_id(idx);
        }
    }

    fn forget_client_id(&mut self, idx: usize) {
        // The slab by field, so the client id map can change meanwhile.
        let Some(Some(Entry { order: o, .. })) = self.slots.get(idx) else {
            return;
        };
        let Some(cid) = &o.client_order_id else {
            return;
        };
        if let Some(ids) = self.live_client_ids.get_mut(&o.user)
            && ids.get(cid) == Some(&idx)
        {
            ids.remove(cid);
        }
    }
}

impl core::ops::Index<usize> for OrderStore {
    type Output = Order;

    /// The order in slot `idx`, which must hold one.
    fn index(&self, idx: usize) -> &Order {
        self.get(idx)
            .expect("an order's slot holds it while it is stored")
    }
}

impl core::ops::IndexMut<usize> for OrderStore {
    fn index_mut(&mut self, idx: usize) -> &mut Order {
        self.get_mut(idx)
            .expect("an order's slot holds it while it is stored")
    }
}

/// Cash, fills and fees.
#[derive(Debug, Default)]
struct Ledger {
    accounts: BTreeMap<UserId, Money>,
    /// Each ordinary user's fills, oldest first (ephemeral users' are not
    /// kept).
    fills: FxMap<UserId, Vec<Fill>>,
    fees_collected: Money,
}

impl Ledger {
    fn credit(&mut self, user: UserId, amount: Money) {
        let cash = self.accounts.entry(user).or_insert(0);
        *cash = cash.saturating_add(amount);
    }
}

/// The exchange: markets, accounts, and every order and fill of users that
/// keep history (see [`Exchange::set_ephemeral`]).
#[derive(Debug)]
pub struct Exchange {
    fees: FeeSchedule,
    ids: IdGen,
    paused: bool,
    markets: BTreeMap<String, Market>,
    orders: OrderStore,
    ledger: Ledger,
}

/// Everything one market's matching touches, borrowed apart from the
/// exchange so the book, orders and ledger can change together.
struct Ctx<'a> {
    market: &'a mut Market,
    orders: &'a mut OrderStore,
    ledger: &'a mut Ledger,
    ids: &'a mut IdGen,
    fees: FeeSchedule,
    now_ms: i64,
    events: &'a mut Vec<Event>,
    /// The order the request is about: kept even once done, so the caller
    /// can return its final state (then [`OrderStore::conclude`]).
    subject: Option<usize>,
}

impl Ctx<'_> {
    fn book_delta(&mut self, side: BookSide, price: Price, delta: i64, cause: usize) {
        let Some(o) = self.orders.get(cause) else {
            return;
        };
        self.events.push(Event::BookDelta {
            ticker: self.market.spec.ticker.clone(),
            side,
            price,
            delta: Qty::from_raw(delta),
            user: o.user,
            client_order_id: o.client_order_id.clone(),
            ts_ms: self.now_ms,
        });
    }

    /// Reports order `idx`'s state. An ephemeral user's order that no
    /// longer rests is released here, and moved into the event.
    fn order_event(&mut self, idx: usize) {
        if self.subject != Some(idx)
            && let Some(o) = self.orders.release_if_done(idx)
        {
            self.events.push(Event::Order(o));
        } else if let Some(o) = self.orders.get(idx) {
            self.events.push(Event::Order(o.clone()));
        }
    }

    /// Takes resting order `idx` off the book as canceled; returns the count
    /// removed.
    fn cancel_resting(&mut self, idx: usize) -> Qty {
        let Some(o) = self.orders.get_mut(idx) else {
            return Qty::ZERO;
        };
        if o.status != OrderStatus::Resting {
            return Qty::ZERO;
        }
        let (side, price, removed) = (o.side, o.price, o.remaining_count);
        o.canceled_count = qty_add(o.canceled_count, removed);
        o.remaining_count = Qty::ZERO;
        o.status = OrderStatus::Canceled;
        o.last_update_ms = self.now_ms;
        self.market.unlink(side, price, idx);
        self.orders.forget_client_id(idx);
        if removed.raw() > 0 {
            self.book_delta(side, price, -removed.raw(), idx);
        }
        self.order_event(idx);
        removed
    }

    /// How much of `taker`'s remaining count could trade right now, after
    /// self-trade prevention (for fill-or-kill).
    fn fillable(&self, taker: usize) -> Qty {
        let Some(t) = self.orders.get(taker) else {
            return Qty::ZERO;
        };
        let mut total = 0i64;
        for (&price, queue) in self.market.levels(t.side.opposite()) {
            if !t.side.crosses(t.price, price) {
                break;
            }
            for o in queue.iter().filter_map(|&i| self.orders.get(i)) {
                if o.user == t.user {
                    match t.self_trade_prevention {
                        SelfTradePrevention::TakerAtCross => return Qty::from_raw(total),
                        SelfTradePrevention::Maker => continue,
                    }
                }
                total = total.saturating_add(o.remaining_count.raw());
                if total >= t.remaining_count.raw() {
                    return Qty::from_raw(total);
                }
            }
        }
        Qty::from_raw(total)
    }

    /// Matches `taker` against the opposite side; returns whether self-trade
    /// prevention stopped it (its remainder must then be canceled).
    fn match_taker(&mut self, taker: usize) -> bool {
        let Some(t) = self.orders.get(taker) else {
            return false;
        };
        let (side, limit, user, stp) = (t.side, t.price, t.user, t.self_trade_prevention);
        loop {
            let remaining = self
                .orders
                .get(taker)
                .map_or(0, |t| t.remaining_count.raw());
            if remaining <= 0 {
                return false;
            }
            let Some((price, maker)) = self.market.best_front(side.opposite()) else {
                return false;
            };
            if !side.crosses(limit, price) {
                return false;
            }
            let Some(m) = self.orders.get(maker) else {
                // An index with no order: drop it rather than loop.
                self.market.unlink(side.opposite(), price, maker);
                continue;
            };
            if m.user == user {
                match stp {
                    SelfTradePrevention::TakerAtCross => return true,
                    SelfTradePrevention::Maker => {
                        self.cancel_resting(maker);
                        continue;
                    }
                }
            }
            if m.status != OrderStatus::Resting || m.remaining_count.raw() <= 0 {
                self.market.unlink(side.opposite(), price, maker);
                continue;
            }
            let n = Qty::from_raw(remaining.min(m.remaining_count.raw()));
            self.execute(taker, maker, n, price);
        }
    }

    /// One trade of `n` at the maker's `price`.
    fn execute(&mut self, taker: usize, maker: usize, n: Qty, price: Price) {
        let trade_id = self.ids.uuid();
        let taker_side = self.orders.get(taker).map_or(BookSide::Bid, |o| o.side);
        self.events.push(Event::Trade(Trade {
            trade_id: trade_id.clone(),
            ticker: self.market.spec.ticker.clone(),
            yes_price: price,
            count: n,
            taker_side,
            ts_ms: self.now_ms,
        }));
        let taker_fee = trade_fee(self.fees.taker_bps, n, price);
        let maker_fee = trade_fee(self.fees.maker_bps, n, price);
        self.apply_fill(taker, n, price, true, taker_fee, &trade_id);
        self.apply_fill(maker, n, price, false, maker_fee, &trade_id);
        self.ledger.fees_collected = self
            .ledger
            .fees_collected
            .saturating_add(taker_fee)
            .saturating_add(maker_fee);
        self.market.volume = qty_add(self.market.volume, n);
        self.market.last_price = Some(price);
        // The maker's level shrinks; the taker caused it.
        self.book_delta(taker_side.opposite(), price, -n.raw(), taker);
        if let Some(m) = self.orders.get(maker)
            && m.remaining_count.raw() <= 0
        {
            self.market.unlink(m.side, m.price, maker);
            self.orders.sync_client_id(maker);
        }
        self.order_event(maker);
    }

    /// Books one side of a trade: order, position, cash, fill record.
    fn apply_fill(
        &mut self,
        idx: usize,
        n: Qty,
        price: Price,
        is_taker: bool,
        fee: Money,
        trade_id: &str,
    ) {
        let Some(Some(Entry {
            order: o,
            ephemeral,
            ..
        })) = self.orders.slots.get_mut(idx)
        else {
            return;
        };
        let cost = leg_cost(o.side, n, price);
        o.fill_count = qty_add(o.fill_count, n);
        o.remaining_count = qty_sub(o.remaining_count, n);
        if o.remaining_count.raw() <= 0 {
            o.status = OrderStatus::Executed;
        }
        if is_taker {
            o.taker_fill_cost = o.taker_fill_cost.saturating_add(cost);
            o.taker_fees = o.taker_fees.saturating_add(fee);
        } else {
            o.maker_fill_cost = o.maker_fill_cost.saturating_add(cost);
            o.maker_fees = o.maker_fees.saturating_add(fee);
        }
        o.last_update_ms = self.now_ms;
        let pos = self.market.positions.entry(o.user).or_default();
        let payout = book_fill(pos, o.side, n, price, self.now_ms);
        pos.fees_paid = pos.fees_paid.saturating_add(fee);
        let fill = Fill {
            fill_id: self.ids.uuid(),
            trade_id: trade_id.to_owned(),
            order_id: o.order_id.clone(),
            client_order_id: o.client_order_id.clone(),
            user: o.user,
            ticker: o.ticker.clone(),
            side: o.side,
            yes_price: price,
            count: n,
            is_taker,
            fee,
            ts_ms: self.now_ms,
            post_position: pos.position,
        };
        self.ledger
            .credit(o.user, payout.saturating_sub(cost).saturating_sub(fee));
        if !*ephemeral {
            self.ledger
                .fills
                .entry(fill.user)
                .or_default()
                .push(fill.clone());
        }
        self.events.push(Event::Fill(fill));
    }

    /// After matching: rests `idx`'s remainder, or cancels it when
    /// `cancel_rest`; sets the final status and reports the order.
    fn finish(&mut self, idx: usize, cancel_rest: bool) {
        let now_ms = self.now_ms;
        let Some(Some(Entry { order: o, seq, .. })) = self.orders.slots.get_mut(idx) else {
            return;
        };
        let seq = *seq;
        o.last_update_ms = now_ms;
        let remaining = o.remaining_count;
        let mut rested = None;
        if remaining.raw() <= 0 {
            o.status = OrderStatus::Executed;
        } else if cancel_rest {
            o.canceled_count = qty_add(o.canceled_count, remaining);
            o.remaining_count = Qty::ZERO;
            o.status = OrderStatus::Canceled;
        } else {
            o.status = OrderStatus::Resting;
            rested = Some((o.side, o.price, o.expiration_ts));
        }
        if let Some((side, price, expiration)) = rested {
            self.market.link(side, price, idx);
            if let Some(ts) = expiration {
                self.orders
                    .expiries
                    .push(Reverse((ts.saturating_mul(1000), seq, idx)));
            }
            self.book_delta(side, price, remaining.raw(), idx);
        }
        self.orders.sync_client_id(idx);
        self.order_event(idx);
    }
}

/// Applies a fill of `n` on `side` at `price` to a position; returns the
/// payout of the YES/NO pairs it netted ($1 each).
fn book_fill(pos: &mut Position, side: BookSide, n: Qty, price: Price, now_ms: i64) -> Money {
    let old = pos.position.raw();
    let signed = side.signed(n.raw());
    let reducing = old != 0 && (old > 0) != (signed > 0);
    let netted = if reducing {
        n.raw().min(old.saturating_abs())
    } else {
        0
    };
    let netted_cost = leg_cost(side, Qty::from_raw(netted), price);
    let opening_cost = leg_cost(side, Qty::from_raw(n.raw() - netted), price);
    if netted > 0 {
        // Average cost: the netted share of the old position's basis.
        let old_abs = old.saturating_abs();
        let basis = if netted == old_abs {
            pos.market_exposure
        } else {
            saturate(i128::from(pos.market_exposure) * i128::from(netted) / i128::from(old_abs))
        };
        pos.market_exposure = pos.market_exposure.saturating_sub(basis);
        pos.realized_pnl = pos
            .realized_pnl
            .saturating_add(netted)
            .saturating_sub(basis)
            .saturating_sub(netted_cost);
    }
    pos.market_exposure = pos.market_exposure.saturating_add(opening_cost);
    pos.position = Qty::from_raw(old.saturating_add(signed));
    pos.total_traded = pos
        .total_traded
        .saturating_add(netted_cost.saturating_add(opening_cost));
    pos.last_updated_ms = now_ms;
    netted
}

impl Exchange {
    /// An empty exchange. `seed` makes the generated ids deterministic.
    pub fn new(fees: FeeSchedule, seed: u64) -> Exchange {
        Exchange {
            fees,
            ids: IdGen(seed),
            paused: false,
            markets: BTreeMap::new(),
            orders: OrderStore::default(),
            ledger: Ledger::default(),
        }
    }

    /// Lists a market; a duplicate ticker is rejected.
    pub fn add_market(&mut self, spec: MarketSpec) -> Result<(), Reject> {
        if self.markets.contains_key(&spec.ticker) {
            return Err(Reject::new(
                409,
                "market_already_exists",
                format!(
                    "ticker {:?} is already listed; expected a new ticker",
                    spec.ticker
                ),
            ));
        }
        self.markets.insert(
            spec.ticker.clone(),
            Market {
                spec,
                bids: Ladder::new(),
                asks: Ladder::new(),
                positions: BTreeMap::new(),
                last_price: None,
                volume: Qty::ZERO,
                outcome: None,
            },
        );
        Ok(())
    }

    /// Opens (or resets) an account with `balance`. [`HOUSE`] needs none.
    pub fn open_account(&mut self, user: UserId, balance: Money) {
        self.ledger.accounts.insert(user, balance);
    }

    /// The exchange keeps no history for `user`: its orders are forgotten
    /// once they no longer rest and its fills are not stored, so
    /// [`Exchange::order`] and [`Exchange::orders`] see only its resting
    /// orders and [`Exchange::fills`] nothing. Its account, positions, fees
    /// and the public events are unaffected. For the background liquidity
    /// accounts, which place orders forever: memory stays bounded by what
    /// rests. History the user already has is dropped.
    pub fn set_ephemeral(&mut self, user: UserId) {
        let orders = &mut self.orders;
        if orders.is_ephemeral(user) {
            return;
        }
        orders.ephemeral.push(user);
        for idx in orders.by_user.remove(&user).unwrap_or_default() {
            if let Some(Some(e)) = orders.slots.get_mut(idx) {
                e.ephemeral = true;
            }
            orders.release_if_done(idx);
        }
        self.ledger.fills.remove(&user);
    }

    fn ctx<'a>(
        &'a mut self,
        ticker: &str,
        now_ms: i64,
        events: &'a mut Vec<Event>,
    ) -> Result<Ctx<'a>, Reject> {
        let market = self
            .markets
            .get_mut(ticker)
            .ok_or_else(|| Reject::market_not_found(ticker))?;
        Ok(Ctx {
            market,
            orders: &mut self.orders,
            ledger: &mut self.ledger,
            ids: &mut self.ids,
            fees: self.fees,
            now_ms,
            events,
            subject: None,
        })
    }

    fn open_market(&self, ticker: &str, now_ms: i64) -> Result<&Market, Reject> {
        let market = self
            .markets
            .get(ticker)
            .ok_or_else(|| Reject::market_not_found(ticker))?;
        if self.paused {
            return Err(Reject::new(
                409,
                "trading_is_paused",
                "trading is paused; expected orders only after it resumes".to_owned(),
            ));
        }
        if market.closed(now_ms) {
            return Err(Reject::new(
                409,
                "market_closed",
                format!("ticker {ticker:?} is closed to trading"),
            ));
        }
        Ok(market)
    }

    /// The worst-case fee of trading `count` from `side` at `limit`: at the
    /// fillable price nearest 0.50, where `P × (1 − P)` is largest.
    fn worst_fee(&self, side: BookSide, count: Qty, limit: Price, post_only: bool) -> Money {
        let half = Price::from_raw(UNIT / 2);
        let p = match side {
            BookSide::Bid => limit.min(half),
            BookSide::Ask => limit.max(half),
        };
        let bps = if post_only {
            self.fees.maker_bps
        } else {
            self.fees.taker_bps.max(self.fees.maker_bps)
        };
        trade_fee(bps, count, p).max(0)
    }

    /// Rejects unless `user` can pay for `count` at `price`; the part that
    /// only closes an opposite position (worth its own payout) costs nothing.
    fn check_balance(
        &self,
        market: &Market,
        user: UserId,
        side: BookSide,
        count: Qty,
        price: Price,
        post_only: bool,
    ) -> Result<(), Reject> {
        if user == HOUSE {
            return Ok(());
        }
        let position = market.positions.get(&user).map_or(0, |p| p.position.raw());
        let closing = side.reducible(position).min(count.raw());
        let opening = Qty::from_raw(count.raw() - closing);
        let needed = leg_cost(side, opening, price)
            .saturating_add(self.worst_fee(side, count, price, post_only));
        let balance = self.balance(user);
        if balance < needed {
            return Err(Reject::new(
                400,
                "insufficient_balance",
                format!(
                    "balance ${} is below the ${} this order may cost (count {count} at {price} plus fees)",
                    dollars(balance),
                    dollars(needed)
                ),
            ));
        }
        Ok(())
    }

    fn own_resting(&self, user: UserId, order_id: &str) -> Result<usize, Reject> {
        let idx = self
            .orders
            .find(order_id)
            .ok_or_else(|| Reject::order_not_found(order_id))?;
        let o = self
            .orders
            .get(idx)
            .filter(|o| o.user == user)
            .ok_or_else(|| Reject::order_not_found(order_id))?;
        if o.status != OrderStatus::Resting {
            return Err(Reject::new(
                404,
                "not_found",
                format!(
                    "order_id {order_id:?} is {:?}, not resting; only resting orders can change",
                    o.status
                ),
            ));
        }
        Ok(idx)
    }

    fn check_client_id(
        &self,
        user: UserId,
        cid: Option<&str>,
        except: Option<usize>,
    ) -> Result<(), Reject> {
        match cid {
            Some(cid) if self.orders.client_id_taken(user, cid, except) => Err(Reject::new(
                409,
                "order_already_exists",
                format!(
                    "client_order_id {cid:?} is already used by a resting order; expected a new id"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Places an order and matches it; returns its state afterwards. Orders
    /// whose expiration has passed are expired first.
    pub fn place(
        &mut self,
        order: NewOrder,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        self.expire(now_ms, events);
        let market = self.open_market(&order.ticker, now_ms)?;
        check_count("count", order.count)?;
        check_price(&market.spec, order.price)?;
        if order.expiration_ts.is_some() && order.time_in_force != TimeInForce::GoodTillCanceled {
            return Err(Reject::new(
                400,
                "invalid_parameters",
                format!(
                    "expiration_ts {:?} cannot be combined with time_in_force {:?}; expected no expiration for IOC and FOK orders",
                    order.expiration_ts, order.time_in_force
                ),
            ));
        }
        self.check_client_id(order.user, order.client_order_id.as_deref(), None)?;
        let mut count = order.count;
        if order.reduce_only {
            let position = market
                .positions
                .get(&order.user)
                .map_or(0, |p| p.position.raw());
            let reducible = order.side.reducible(position);
            if reducible == 0 {
                return Err(Reject::new(
                    409,
                    "reduce_only_no_position",
                    format!(
                        "reduce_only {:?} order in {} would not reduce the position {}; expected a position on the other side",
                        order.side,
                        order.ticker,
                        Qty::from_raw(position)
                    ),
                ));
            }
            count = count.min(Qty::from_raw(reducible));
        }
        if order.post_only && market.would_cross(order.side, order.price) {
            return Err(Reject::new(
                409,
                "post_only_cross",
                format!(
                    "post_only {:?} at price {} would cross the book; expected a price that rests",
                    order.side, order.price
                ),
            ));
        }
        self.check_balance(
            market,
            order.user,
            order.side,
            count,
            order.price,
            order.post_only,
        )?;

        let expired_on_arrival = order
            .expiration_ts
            .is_some_and(|ts| ts.saturating_mul(1000) <= now_ms);
        let fok = order.time_in_force == TimeInForce::FillOrKill;
        let cancel_rest =
            order.time_in_force != TimeInForce::GoodTillCanceled || expired_on_arrival;
        let (key, order_id) = self.ids.uuid_with_key();
        // The market by field, so the ticker can move into the order.
        let market = self
            .markets
            .get_mut(&order.ticker)
            .ok_or_else(|| Reject::market_not_found(&order.ticker))?;
        let idx = self.orders.insert(
            Order {
                order_id,
                user: order.user,
                client_order_id: order.client_order_id,
                ticker: order.ticker,
                side: order.side,
                price: order.price,
                initial_count: count,
                fill_count: Qty::ZERO,
                remaining_count: count,
                canceled_count: Qty::ZERO,
                status: OrderStatus::Resting,
                time_in_force: order.time_in_force,
                self_trade_prevention: order.self_trade_prevention,
                post_only: order.post_only,
                reduce_only: order.reduce_only,
                expiration_ts: order.expiration_ts,
                taker_fees: 0,
                maker_fees: 0,
                taker_fill_cost: 0,
                maker_fill_cost: 0,
                created_ms: now_ms,
                last_update_ms: now_ms,
                cancel_order_on_pause: order.cancel_order_on_pause,
            },
            key,
        );

        let mut ctx = Ctx {
            market,
            orders: &mut self.orders,
            ledger: &mut self.ledger,
            ids: &mut self.ids,
            fees: self.fees,
            now_ms,
            events,
            subject: Some(idx),
        };
        if fok && ctx.fillable(idx) < count {
            ctx.finish(idx, true);
        } else {
            let stopped = ctx.match_taker(idx);
            ctx.finish(idx, cancel_rest || stopped);
        }
        self.orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(""))
    }

    /// Cancels a resting order of `user`; returns its state and the count
    /// taken off the book.
    pub fn cancel(
        &mut self,
        user: UserId,
        order_id: &str,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<(Order, Qty), Reject> {
        let idx = self.own_resting(user, order_id)?;
        let ticker = self.orders[idx].ticker.clone();
        let mut ctx = self.ctx(&ticker, now_ms, events)?;
        ctx.subject = Some(idx);
        let reduced = ctx.cancel_resting(idx);
        let order = self
            .orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(order_id))?;
        Ok((order, reduced))
    }

    /// Changes a resting order's price and/or total count (`count` is the
    /// filled count plus the new resting count). A price change or a larger
    /// resting count re-enters the order: it loses time priority and may
    /// trade. A smaller count at the same price keeps its place. `ticker` and
    /// `side` must be the order's.
    #[allow(clippy::too_many_arguments)]
    pub fn amend(
        &mut self,
        user: UserId,
        order_id: &str,
        ticker: &str,
        side: BookSide,
        price: Price,
        count: Qty,
        updated_client_order_id: Option<String>,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        self.expire(now_ms, events);
        let idx = self.own_resting(user, order_id)?;
        let current = self.orders[idx].clone();
        if current.ticker != ticker || current.side != side {
            return Err(Reject::new(
                400,
                "invalid_parameters",
                format!(
                    "ticker {ticker:?} / side {side:?} do not match order {order_id:?}; expected {:?} / {:?}",
                    current.ticker, current.side
                ),
            ));
        }
        let market = self.open_market(ticker, now_ms)?;
        check_price(&market.spec, price)?;
        check_count("count", count)?;
        if count <= current.fill_count {
            return Err(Reject::new(
                400,
                "invalid_count",
                format!(
                    "count {count} must exceed the {} already filled; cancel the order instead",
                    current.fill_count
                ),
            ));
        }
        self.check_client_id(user, updated_client_order_id.as_deref(), Some(idx))?;
        let new_remaining = qty_sub(count, current.fill_count);
        let keeps_priority = price == current.price && new_remaining <= current.remaining_count;
        if !keeps_priority {
            if current.post_only && market.would_cross(side, price) {
                return Err(Reject::new(
                    409,
                    "post_only_cross",
                    format!(
                        "post_only order amended to price {price} would cross the book; expected a price that rests"
                    ),
                ));
            }
            self.check_balance(market, user, side, new_remaining, price, current.post_only)?;
        }

        // Accepted: apply.
        self.orders.forget_client_id(idx);
        let o = &mut self.orders[idx];
        if let Some(cid) = updated_client_order_id {
            o.client_order_id = Some(cid);
        }
        o.initial_count = count;
        o.canceled_count = Qty::ZERO;
        o.last_update_ms = now_ms;
        let mut ctx = self.ctx(ticker, now_ms, events)?;
        ctx.subject = Some(idx);
        if keeps_priority {
            let shrink = qty_sub(current.remaining_count, new_remaining);
            ctx.orders[idx].remaining_count = new_remaining;
            if shrink.raw() > 0 {
                ctx.book_delta(side, price, -shrink.raw(), idx);
            }
            ctx.orders.sync_client_id(idx);
            ctx.order_event(idx);
        } else {
            ctx.market.unlink(side, current.price, idx);
            ctx.book_delta(side, current.price, -current.remaining_count.raw(), idx);
            let o = &mut ctx.orders[idx];
            o.price = price;
            o.remaining_count = new_remaining;
            let stopped = ctx.match_taker(idx);
            ctx.finish(idx, stopped);
        }
        self.orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(order_id))
    }

    /// Reduces a resting order's remaining count by `reduce_by` or to
    /// `reduce_to` (exactly one); it keeps its time priority. Reducing to
    /// zero cancels it.
    pub fn decrease(
        &mut self,
        user: UserId,
        order_id: &str,
        reduce_by: Option<Qty>,
        reduce_to: Option<Qty>,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        let idx = self.own_resting(user, order_id)?;
        let remaining = self.orders[idx].remaining_count;
        let target = match (reduce_by, reduce_to) {
            (Some(by), None) => {
                check_count("reduce_by", by)?;
                qty_sub(remaining, by).max(Qty::ZERO)
            }
            (None, Some(to)) => {
                if to.raw() < 0 || to.raw() % COUNT_STEP != 0 || to > remaining {
                    return Err(Reject::new(
                        400,
                        "invalid_count",
                        format!(
                            "reduce_to {to} is invalid; expected a count with at most 2 decimals from 0 to the remaining {remaining}"
                        ),
                    ));
                }
                to
            }
            _ => {
                return Err(Reject::new(
                    400,
                    "invalid_parameters",
                    "reduce_by, reduce_to: expected exactly one of the two".to_owned(),
                ));
            }
        };
        let ticker = self.orders[idx].ticker.clone();
        let mut ctx = self.ctx(&ticker, now_ms, events)?;
        ctx.subject = Some(idx);
        if target.raw() == 0 {
            ctx.cancel_resting(idx);
        } else if target < remaining {
            let o = &mut ctx.orders[idx];
            let shrink = qty_sub(remaining, target);
            o.remaining_count = target;
            o.canceled_count = qty_add(o.canceled_count, shrink);
            o.last_update_ms = now_ms;
            let (side, price) = (o.side, o.price);
            ctx.book_delta(side, price, -shrink.raw(), idx);
            ctx.order_event(idx);
        }
        self.orders
            .conclude(idx)
            .ok_or_else(|| Reject::order_not_found(order_id))
    }

    /// Cancels resting orders whose `expiration_ts × 1000 <= now_ms`.
    pub fn expire(&mut self, now_ms: i64, events: &mut Vec<Event>) {
        while let Some(&Reverse((at, seq, idx))) = self.orders.expiries.peek() {
            if at > now_ms {
                break;
            }
            self.orders.expiries.pop();
            let Some(e) = self.orders.entry(idx) else {
                continue;
            };
            if e.seq != seq || e.order.status != OrderStatus::Resting {
                continue;
            }
            let ticker = e.order.ticker.clone();
            if let Ok(mut ctx) = self.ctx(&ticker, now_ms, events) {
                ctx.cancel_resting(idx);
            }
        }
    }

    /// Settles a market: cancels its resting orders, pays $1 per YES
    /// contract (`Yes`) or per NO contract (`No`), zeroes the positions and
    /// closes the market.
    pub fn settle(
        &mut self,
        ticker: &str,
        outcome: Outcome,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let mut ctx = self.ctx(ticker, now_ms, events)?;
        if ctx.market.outcome.is_some() {
            return Err(Reject::new(
                409,
                "market_closed",
                format!("ticker {ticker:?} is already settled"),
            ));
        }
        for idx in ctx.market.resting() {
            ctx.cancel_resting(idx);
        }
        for (&user, pos) in ctx.market.positions.iter_mut() {
            let held = pos.position.raw();
            let payout = match outcome {
                Outcome::Yes => held.max(0),
                Outcome::No => held.saturating_neg().max(0),
            };
            pos.realized_pnl = pos
                .realized_pnl
                .saturating_add(payout)
                .saturating_sub(pos.market_exposure);
            pos.market_exposure = 0;
            pos.position = Qty::ZERO;
            pos.last_updated_ms = now_ms;
            ctx.ledger.credit(user, payout);
        }
        ctx.market.outcome = Some(outcome);
        ctx.events.push(Event::Settled {
            ticker: ticker.to_owned(),
            outcome,
            ts_ms: now_ms,
        });
        Ok(())
    }

    /// Pauses or resumes trading on every market. Pausing cancels the
    /// resting orders placed with `cancel_order_on_pause`.
    pub fn set_paused(&mut self, paused: bool, now_ms: i64, events: &mut Vec<Event>) {
        self.paused = paused;
        if !paused {
            return;
        }
        let tickers: Vec<String> = self.markets.keys().cloned().collect();
        for ticker in tickers {
            let Ok(mut ctx) = self.ctx(&ticker, now_ms, events) else {
                continue;
            };
            for idx in ctx.market.resting() {
                if ctx.orders.get(idx).is_some_and(|o| o.cancel_order_on_pause) {
                    ctx.cancel_resting(idx);
                }
            }
        }
    }

    // ---- reads ----

    /// Whether trading is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The fee rates in force.
    pub fn fee_schedule(&self) -> FeeSchedule {
        self.fees
    }

    /// Every market with its statistics, by ticker.
    pub fn markets(&self) -> impl Iterator<Item = (&MarketSpec, MarketStats)> {
        self.markets
            .values()
            .map(|m| (&m.spec, m.stats(&self.orders, self.paused)))
    }

    /// One market with its statistics.
    pub fn market(&self, ticker: &str) -> Option<(&MarketSpec, MarketStats)> {
        self.markets
            .get(ticker)
            .map(|m| (&m.spec, m.stats(&self.orders, self.paused)))
    }

    /// The aggregated book, `depth` levels a side (0 = all).
    pub fn book(&self, ticker: &str, depth: usize) -> Option<BookView> {
        let market = self.markets.get(ticker)?;
        let depth = if depth == 0 { usize::MAX } else { depth };
        let side = |side| {
            market
                .levels(side)
                .take(depth)
                .map(|(p, q)| Level {
                    price: *p,
                    count: Market::level_total(q, &self.orders),
                })
                .collect()
        };
        Some(BookView {
            bids: side(BookSide::Bid),
            asks: side(BookSide::Ask),
        })
    }

    /// One of `user`'s orders (for an ephemeral user, only a resting one).
    pub fn order(&self, user: UserId, order_id: &str) -> Option<&Order> {
        let idx = self.orders.find(order_id)?;
        self.orders.get(idx).filter(|o| o.user == user)
    }

    /// All of `user`'s orders, newest first (for an ephemeral user, its
    /// resting ones).
    pub fn orders(&self, user: UserId) -> Vec<&Order> {
        if self.orders.is_ephemeral(user) {
            // Not indexed by user: a scan of what is stored, which is
            // rare and bounded by the resting orders.
            let mut mine: Vec<&Entry> = self
                .orders
                .iter()
                .map(|(_, e)| e)
                .filter(|e| e.order.user == user)
                .collect();
            mine.sort_unstable_by_key(|e| Reverse(e.seq));
            return mine.into_iter().map(|e| &e.order).collect();
        }
        self.orders.by_user.get(&user).map_or_else(Vec::new, |ids| {
            ids.iter()
                .rev()
                .filter_map(|&i| self.orders.get(i))
                .collect()
        })
    }

    /// All of `user`'s fills, newest first (none for an ephemeral user).
    pub fn fills(&self, user: UserId) -> Vec<&Fill> {
        self.ledger
            .fills
            .get(&user)
            .map_or_else(Vec::new, |fills| fills.iter().rev().collect())
    }

    /// `user`'s positions, by ticker, in every market where they traded.
    pub fn positions(&self, user: UserId) -> Vec<(&str, &Position)> {
        self.markets
            .values()
            .filter_map(|m| m.positions.get(&user).map(|p| (m.spec.ticker.as_str(), p)))
            .collect()
    }

    /// `user`'s cash (0 without an account).
    pub fn balance(&self, user: UserId) -> Money {
        self.ledger.accounts.get(&user).copied().unwrap_or(0)
    }

    /// Fees charged so far.
    pub fn fees_collected(&self) -> Money {
        self.ledger.fees_collected
    }

    /// Slots in the order store (stored orders plus free slots).
    #[cfg(test)]
    fn order_slots(&self) -> usize {
        self.orders.slots.len()
    }

    /// Sum of every account's cash, [`HOUSE`]'s included (which may be
    /// negative).
    pub fn total_cash(&self) -> Money {
        saturate(self.ledger.accounts.values().map(|&c| i128::from(c)).sum())
    }
}
