//! The store's tables, created and upgraded by numbered migrations.
//!
//! Money, prices and quantities are the engine's fixed-point raw integers
//! (10^-8 units), never floats; the REST API writes them as exact decimal
//! strings. Every row that comes from a journal record is keyed by that
//! record's sequence number in its journal (`order_events` and `fills` by
//! the `orders` journal's, `market_snapshots` and `pnl_snapshots` by the
//! `md` journal's), so ingesting a record twice is a no-op; `ingest` holds
//! each journal's next sequence number, moved in the same transaction as the
//! rows. Orders are keyed by the client order id's 64-bit value (strategy
//! in the top 16 bits), its text `pt-<strategy>-<counter>` beside it.

/// `(version, SQL)`, applied in order; a database records the versions it has.
pub const MIGRATIONS: &[(i64, &str)] = &[(1, V1)];

const V1: &str = "
CREATE TABLE ingest (
    journal TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE TABLE order_events (
    seq INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    target TEXT,
    strategy INTEGER NOT NULL,
    instrument INTEGER NOT NULL,
    ticker TEXT,
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    cum_qty INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    reject_code INTEGER NOT NULL,
    reject_reason TEXT,
    venue_ref TEXT,
    requested_mode TEXT NOT NULL,
    effective_mode TEXT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id);
CREATE TABLE fills (
    seq INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    strategy INTEGER NOT NULL,
    instrument INTEGER NOT NULL,
    ticker TEXT,
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    liquidity TEXT NOT NULL,
    trade_id TEXT,
    mode TEXT NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    strategy INTEGER NOT NULL,
    instrument INTEGER NOT NULL,
    ticker TEXT,
    side TEXT NOT NULL,
    price INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    cum_qty INTEGER NOT NULL,
    fees INTEGER NOT NULL,
    state TEXT NOT NULL,
    requested_mode TEXT NOT NULL,
    mode TEXT NOT NULL,
    venue_order_id TEXT,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    last_seq INTEGER NOT NULL
);
CREATE INDEX orders_state ON orders (state);
CREATE INDEX orders_last ON orders (last_seq);
CREATE TABLE positions (
    mode TEXT NOT NULL,
    instrument INTEGER NOT NULL,
    ticker TEXT,
    qty INTEGER NOT NULL,
    cost_basis INTEGER NOT NULL,
    realized INTEGER NOT NULL,
    traded INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    PRIMARY KEY (mode, instrument)
);
CREATE TABLE pnl_snapshots (
    seq INTEGER NOT NULL,
    mode TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    realized INTEGER NOT NULL,
    unrealized INTEGER NOT NULL,
    fees INTEGER NOT NULL,
    cash INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (seq, mode)
) WITHOUT ROWID;
CREATE TABLE market_snapshots (
    seq INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    instrument INTEGER NOT NULL,
    ticker TEXT,
    bid INTEGER,
    bid_qty INTEGER,
    ask INTEGER,
    ask_qty INTEGER,
    stale INTEGER NOT NULL
);
CREATE INDEX market_snapshots_ticker ON market_snapshots (ticker, seq);
CREATE TABLE markets (
    instrument INTEGER PRIMARY KEY,
    ticker TEXT,
    bid INTEGER,
    bid_qty INTEGER,
    ask INTEGER,
    ask_qty INTEGER,
    stale INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ns INTEGER NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE TABLE config_versions (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE engine_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_ns INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    ended_ns INTEGER,
    exit TEXT
);
";
