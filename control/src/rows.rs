//! The rows the fold produces from journal records, and the journals they
//! come from; the store writes them.

/// A journal the fold reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The gateway's write-ahead journal: intents and execution reports.
    Orders,
    /// Every input the decision path took: market data, commands, heartbeats.
    Md,
}

impl Source {
    /// The journal's folder name, and its name in the store.
    pub const fn name(self) -> &'static str {
        match self {
            Source::Orders => "orders",
            Source::Md => "md",
        }
    }
}

/// One order event (an intent or a report), as `order_events` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEventRow {
    pub seq: u64,
    pub ts_ns: i64,
    pub kind: &'static str,
    /// The client order id's value, and its text.
    pub order_id: u64,
    pub client_order_id: String,
    /// The order a cancel or replace intent refers to.
    pub target: Option<String>,
    pub strategy: u16,
    pub instrument: u32,
    pub side: &'static str,
    pub price: i64,
    pub qty: i64,
    pub cum_qty: i64,
    pub fee: i64,
    pub reject_code: u16,
    pub reject_reason: Option<&'static str>,
    /// The venue's order id, or a fill's trade id (hex).
    pub venue_ref: Option<String>,
    pub requested_mode: &'static str,
    pub effective_mode: &'static str,
}

/// One fill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillRow {
    pub seq: u64,
    pub ts_ns: i64,
    pub client_order_id: String,
    pub strategy: u16,
    pub instrument: u32,
    pub side: &'static str,
    pub price: i64,
    pub qty: i64,
    pub fee: i64,
    pub liquidity: &'static str,
    pub trade_id: Option<String>,
    pub mode: &'static str,
}

/// An order as it stands after a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRow {
    pub seq: u64,
    pub ts_ns: i64,
    pub id: u64,
    pub client_order_id: String,
    pub strategy: u16,
    pub instrument: u32,
    pub side: &'static str,
    pub price: i64,
    pub qty: i64,
    pub cum_qty: i64,
    pub fees: i64,
    pub state: &'static str,
    pub requested_mode: &'static str,
    pub mode: &'static str,
    /// Known once the venue acknowledged it.
    pub venue_order_id: Option<String>,
}

/// The account's holding in one instrument in one mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionRow {
    pub ts_ns: i64,
    pub mode: &'static str,
    pub instrument: u32,
    pub qty: i64,
    pub cost_basis: i64,
    pub realized: i64,
    pub traded: i64,
}

/// A sampled top of book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketRow {
    pub seq: u64,
    pub ts_ns: i64,
    pub instrument: u32,
    pub bid: Option<(i64, i64)>,
    pub ask: Option<(i64, i64)>,
    pub stale: bool,
}

/// One mode's PnL at a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PnlRow {
    pub seq: u64,
    pub ts_ns: i64,
    pub mode: &'static str,
    pub realized: i64,
    pub unrealized: i64,
    pub fees: i64,
    pub cash: i64,
    pub total: i64,
}

/// A row to add (or, for orders, positions and markets, to replace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    OrderEvent(OrderEventRow),
    Fill(FillRow),
    Order(OrderRow),
    Position(PositionRow),
    Market(MarketRow),
    Pnl(PnlRow),
}
