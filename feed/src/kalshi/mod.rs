//! Kalshi WebSocket v2: every server message decoded in place, and book
//! and trade messages turned into engine events.
//!
//! # Method
//!
//! [`decode`] first offers the frame to the `orderbook_delta` fast path
//! (`fast.rs`): a reader for compact delta frames that reads the documented
//! key order straight through and any other order with a first-letter key
//! match, and gives up on anything unusual without deciding an error. Every
//! other frame goes to [`decode_general`], which walks it once with the
//! schema-directed [`crate::json::Scanner`]: envelope keys (`type`, `sid`, `seq`, `id`) are
//! read as they come and the `msg` object is decoded in place when `type`
//! came first, or remembered as a byte range and decoded after the envelope
//! when it did not. Strings (tickers, ids) borrow from the frame; prices
//! and counts are parsed exactly to `Price`/`Qty` (1e-8); times to
//! `Nanos`. Nothing is allocated. Fixed-point fields (`*_dollars`, `*_fp`)
//! are primary; the legacy integer fields (cents, whole contracts) are read
//! only when the fixed-point field is absent, so old recordings decode.
//! Unknown keys (such as the `Clock` of real ticker frames) are skipped;
//! trailing garbage after the object is refused.
//!
//! Snapshot ladders are [`Levels`]: the array is validated once during
//! decoding and kept as a byte range; iterating re-scans it and yields
//! `(Price, Qty)` without allocating or failing.
//!
//! Venue time: `ts_ms` when present, else `ts` (integer seconds, or the
//! RFC 3339 string of `orderbook_delta`, parsed without allocation only
//! when `ts_ms` is absent; a malformed `ts` is then an error).
//!
//! Errors are [`DecodeError`]s naming the message type, the field, the
//! value's byte range and what was expected; `err.display(frame)` shows
//! the value. An unknown `type` is such an error
//! ([`ErrorKind::UnknownType`]): the frame is not decoded. [`Decoder`]
//! counts messages by type, errors by kind, and unknown types by name
//! ([`DecodeCounters::unknown_types`]).
//!
//! # Cost
//!
//! Measured by `benches/benches/kalshi_decode.rs`
//! (`cargo bench -p pt-benches --bench kalshi_decode`) on the shared
//! 2-core VM (no hardware counters; other builds running, so runs vary by
//! up to ±30%), against serde_json with borrowing `#[derive(Deserialize)]`
//! structs extracting the same fields and parsing the same decimals, per
//! message:
//!
//! | message | pt_feed | serde_json | ratio |
//! |---|---|---|---|
//! | `orderbook_delta`, documented order, `type` first (as Kalshi sends) | 91 ns | 345 ns | 3.8× |
//! | `orderbook_delta`, `msg` first, keys sorted (as `pt sim` sends) | 142 ns | 415 ns | 2.9× |
//! | `orderbook_snapshot`, 10 levels a side, levels iterated | 4.08 µs | 2.32 µs | 0.57× |
//! | `ticker` (recorded lines) | 1.17 µs | 1.10 µs | 0.94× |
//! | `trade` (recorded lines) | 679 ns | 574 ns | 0.85× |
//!
//! In instructions (callgrind, `benches/examples/kalshi_probe.rs`), the
//! documented delta costs 1,088 against serde_json's 4,781 (4.4×). The general
//! decoder alone is about as costly as serde_json (4,747 on the same
//! delta): finding string ends and matching keys dominate it, and the
//! snapshot parses every level twice (validation, then iteration), which
//! is the price of lazy, allocation-free levels.

mod bodies;
mod cursor;
mod decode;
mod error;
mod events;
mod fast;
pub mod feed;
mod levels;
mod msg;
pub mod session;
mod tickers;
mod time;
pub use time::parse_rfc3339;

pub use decode::{DecodeCounters, Decoder, MsgType, decode, decode_general};
pub use error::{DecodeError, ErrorCounters, ErrorDisplay, ErrorKind, Span};
pub use events::{EventSource, delta_event, to_events, trade_id_hash, yes_ladder};
pub use levels::{LevelIter, Levels, Strings, Subscriptions};
pub use msg::{
    Action, BookSide, Envelope, ErrorCode, ErrorMsg, EventLifecycle, Fill, MarketLifecycle,
    MarketPosition, Msg, MultivariateLookup, OrderGroupUpdate, OrderbookDelta, OrderbookSnapshot,
    Quote, QuoteExecuted, Rfq, Subscribed, Ticker, Trade, UpdateOk, UserOrder, YesNo,
};

pub(crate) use cursor::Cursor;
pub(crate) use decode::{closed, req};

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod tests;
