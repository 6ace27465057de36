//! One Binance frame (spot or USD-M futures) into a typed, borrowed [`Msg`].
//!
//! A frame is either the combined-stream envelope
//! `{"stream":"btcusdt@depth@100ms","data":{...}}` or the bare payload (a
//! single-stream connection, or the REST depth snapshot). The decoder makes
//! one pass over the bytes with [`Scanner`], collecting the keys it knows
//! in any order and skipping the rest, then decides the message kind from
//! what it found: `"e":"depthUpdate"`, `"e":"trade"` or `"e":"bookTicker"`
//! (futures), `lastUpdateId` for a snapshot, and an `"u"` without `"e"` for
//! a spot `bookTicker`. A futures diff carries `"pu"`, the previous diff's
//! final update id, kept in [`DepthUpdate::prev_final_update_id`]. `"b"` and `"a"`
//! are arrays of levels in a depth update and decimal strings in a
//! `bookTicker`; the value's own type tells which was sent. Unknown event
//! types decode to [`Msg::Other`] so that a venue addition is counted, by
//! name in [`DecodeStats::unknown`], not fatal. Duplicate keys and trailing bytes are errors.

use super::error::{Cause, DecodeError, ErrorCounts, Span};
use super::levels::{Levels, json_error, value_start};
use crate::json::Scanner;
use crate::kinds::UnknownKinds;
use pt_engine::model::{FixedError, Price, Qty};

/// A `depthUpdate` diff: absolute quantities for the levels that changed
/// between update ids `first_update_id` (`U`) and `final_update_id` (`u`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthUpdate<'a> {
    /// `s`.
    pub symbol: &'a [u8],
    /// `U`.
    pub first_update_id: u64,
    /// `u`.
    pub final_update_id: u64,
    /// `pu` (futures only): the final update id of the diff before this
    /// one on the stream.
    pub prev_final_update_id: Option<u64>,
    /// `E`, milliseconds since the Unix epoch.
    pub event_time: u64,
    /// `b`.
    pub bids: Levels<'a>,
    /// `a`.
    pub asks: Levels<'a>,
}

/// A `bookTicker`: the best bid and ask after update id `update_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker<'a> {
    /// `u`.
    pub update_id: u64,
    /// `s`.
    pub symbol: &'a [u8],
    /// `b`.
    pub bid: Price,
    /// `B`.
    pub bid_qty: Qty,
    /// `a`.
    pub ask: Price,
    /// `A`.
    pub ask_qty: Qty,
    /// `E`, milliseconds since the Unix epoch (futures only).
    pub event_time: Option<u64>,
    /// `T`, the matching engine's time in ms (futures only).
    pub transaction_time: Option<u64>,
}

/// A `trade`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade<'a> {
    /// `s`.
    pub symbol: &'a [u8],
    /// `t`.
    pub id: u64,
    /// `p`.
    pub price: Price,
    /// `q`.
    pub qty: Qty,
    /// `m`: the buyer rested, so the seller was the aggressor.
    pub buyer_is_maker: bool,
    /// `T`, milliseconds since the Unix epoch.
    pub trade_time: u64,
    /// `E`, milliseconds since the Unix epoch.
    pub event_time: u64,
}

/// A REST depth snapshot (`GET /api/v3/depth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot<'a> {
    /// `lastUpdateId`: the book includes every update up to this id.
    pub last_update_id: u64,
    /// `bids`.
    pub bids: Levels<'a>,
    /// `asks`.
    pub asks: Levels<'a>,
}

/// One decoded frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg<'a> {
    /// `depthUpdate`.
    DepthUpdate(DepthUpdate<'a>),
    /// `bookTicker`.
    BookTicker(BookTicker<'a>),
    /// `trade`.
    Trade(Trade<'a>),
    /// REST depth snapshot.
    Snapshot(Snapshot<'a>),
    /// An event type this decoder does not know, kept by name.
    Other {
        /// The `e` value.
        event: &'a [u8],
    },
}

/// Frames decoded, by kind, and errors, by cause.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// [`Msg::DepthUpdate`].
    pub depth_updates: u64,
    /// [`Msg::BookTicker`].
    pub book_tickers: u64,
    /// [`Msg::Trade`].
    pub trades: u64,
    /// [`Msg::Snapshot`].
    pub snapshots: u64,
    /// [`Msg::Other`].
    pub others: u64,
    /// [`Msg::Other`] by event type (`kline=67 aggTrade=91`).
    pub unknown: UnknownKinds,
    /// Errors by cause.
    pub errors: ErrorCounts,
}

impl DecodeStats {
    /// Decodes `frame` and counts the outcome.
    #[inline]
    pub fn decode<'a>(&mut self, frame: &'a [u8]) -> Result<Msg<'a>, DecodeError> {
        let r = decode(frame);
        match &r {
            Ok(Msg::DepthUpdate(_)) => self.depth_updates += 1,
            Ok(Msg::BookTicker(_)) => self.book_tickers += 1,
            Ok(Msg::Trade(_)) => self.trades += 1,
            Ok(Msg::Snapshot(_)) => self.snapshots += 1,
            Ok(Msg::Other { event }) => {
                self.others += 1;
                self.unknown.count(event);
            }
            Err(e) => self.errors.count(&e.cause),
        }
        r
    }
}

/// `"b"`/`"a"`: levels in a depth update, a decimal in a `bookTicker`, an
/// order id in old `trade` payloads.
#[derive(Clone, Copy)]
enum Side<'a> {
    Levels(Levels<'a>),
    Decimal(Price, Span),
    Other(Span),
}

/// The known keys of one object, as found.
#[derive(Default)]
struct Fields<'a> {
    object: Span,
    event: Option<&'a [u8]>,
    event_time: Option<u64>,
    symbol: Option<&'a [u8]>,
    first_id: Option<u64>,
    final_id: Option<(u64, Span)>,
    prev_id: Option<u64>,
    b: Option<Side<'a>>,
    a: Option<Side<'a>>,
    bid_qty: Option<Qty>,
    ask_qty: Option<Qty>,
    trade_id: Option<u64>,
    price: Option<Price>,
    qty: Option<Qty>,
    trade_time: Option<u64>,
    maker: Option<bool>,
    last_update_id: Option<u64>,
    bids: Option<Levels<'a>>,
    asks: Option<Levels<'a>>,
}

/// Decodes one frame. Never panics; every failure names the field.
pub fn decode(frame: &[u8]) -> Result<Msg<'_>, DecodeError> {
    let mut scan = Scanner::new(frame);
    let mut data = None;
    let top = object(&mut scan, frame, Some(&mut data))?;
    let start = value_start(&mut scan);
    scan.end()
        .map_err(|e| json_error("frame", "end of input", start, e, frame))?;
    classify(data.unwrap_or(top))
}

fn dup(field: &'static str, span: Span) -> DecodeError {
    DecodeError::new(field, span, "the key once per object", Cause::Duplicate)
}

/// Stores `value` in `slot` unless the key was already seen.
#[inline]
fn put<T>(
    slot: &mut Option<T>,
    field: &'static str,
    start: usize,
    scan: &Scanner<'_>,
    value: T,
) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(dup(
            field,
            Span {
                start,
                end: scan.pos(),
            },
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads one object. At the top level (`data` is `Some`), a `"data"` key
/// holds the payload of a combined stream.
fn object<'a>(
    scan: &mut Scanner<'a>,
    frame: &'a [u8],
    mut data: Option<&mut Option<Fields<'a>>>,
) -> Result<Fields<'a>, DecodeError> {
    let mut f = Fields::default();
    let obj_start = value_start(scan);
    let json = |field, expected, start| move |e| json_error(field, expected, start, e, frame);
    scan.begin_object()
        .map_err(json("frame", "a JSON object", obj_start))?;
    loop {
        let key_start = value_start(scan);
        let Some(key) = scan
            .next_key()
            .map_err(json("frame", "a key or '}'", key_start))?
        else {
            break;
        };
        let at = value_start(scan);
        macro_rules! int {
            ($slot:expr, $field:literal, $what:literal) => {{
                let v = scan.u64().map_err(json($field, $what, at))?;
                put(&mut $slot, $field, at, scan, v)?;
            }};
        }
        macro_rules! dec {
            ($slot:expr, $ty:ty, $field:literal, $what:literal) => {{
                let v = fixed::<$ty>(scan, frame, $field, $what, at)?;
                put(&mut $slot, $field, at, scan, v.0)?;
            }};
        }
        match key {
            b"e" => {
                let v = scan
                    .string()
                    .map_err(json("e", "an event type string", at))?;
                put(&mut f.event, "e", at, scan, v)?;
            }
            b"s" => {
                let v = scan.string().map_err(json("s", "a symbol string", at))?;
                put(&mut f.symbol, "s", at, scan, v)?;
            }
            b"E" => int!(f.event_time, "E", "the event time in ms (integer)"),
            b"U" => int!(f.first_id, "U", "the first update id (integer)"),
            b"u" => {
                let v = scan
                    .u64()
                    .map_err(json("u", "the final update id (integer)", at))?;
                let span = Span {
                    start: at,
                    end: scan.pos(),
                };
                put(&mut f.final_id, "u", at, scan, (v, span))?;
            }
            b"pu" => int!(f.prev_id, "pu", "the previous final update id (integer)"),
            b"t" => int!(f.trade_id, "t", "the trade id (integer)"),
            b"T" => int!(f.trade_time, "T", "the trade time in ms (integer)"),
            b"lastUpdateId" => int!(
                f.last_update_id,
                "lastUpdateId",
                "the snapshot's last update id (integer)"
            ),
            b"p" => dec!(f.price, Price, "p", "a decimal price string"),
            b"q" => dec!(f.qty, Qty, "q", "a decimal quantity string"),
            b"B" => dec!(f.bid_qty, Qty, "B", "a decimal quantity string"),
            b"A" => dec!(f.ask_qty, Qty, "A", "a decimal quantity string"),
            b"m" => {
                let v = scan.bool().map_err(json("m", "true or false", at))?;
                put(&mut f.maker, "m", at, scan, v)?;
            }
            b"b" => {
                let v = side(scan, frame, "b", at)?;
                put(&mut f.b, "b", at, scan, v)?;
            }
            b"a" => {
                let v = side(scan, frame, "a", at)?;
                put(&mut f.a, "a", at, scan, v)?;
            }
            b"bids" => {
                let v = Levels::read(scan, frame, "bids")?;
                put(&mut f.bids, "bids", at, scan, v)?;
            }
            b"asks" => {
                let v = Levels::read(scan, frame, "asks")?;
                put(&mut f.asks, "asks", at, scan, v)?;
            }
            b"data" if data.is_some() => {
                let inner = object(scan, frame, None)?;
                if let Some(slot) = data.as_deref_mut() {
                    put(slot, "data", at, scan, inner)?;
                }
            }
            _ => scan
                .skip_value()
                .map_err(json("frame", "a JSON value", at))?,
        }
    }
    f.object = Span {
        start: obj_start,
        end: scan.pos(),
    };
    Ok(f)
}

/// A quoted decimal.
fn fixed<'a, T: FixedParse>(
    scan: &mut Scanner<'a>,
    frame: &'a [u8],
    field: &'static str,
    expected: &'static str,
    at: usize,
) -> Result<(T, Span), DecodeError> {
    let text = scan
        .string()
        .map_err(|e| json_error(field, expected, at, e, frame))?;
    let span = Span {
        start: at,
        end: scan.pos(),
    };
    match T::parse(text) {
        Ok(v) => Ok((v, span)),
        Err(e) => Err(DecodeError::new(field, span, expected, Cause::Fixed(e))),
    }
}

trait FixedParse: Sized {
    fn parse(text: &[u8]) -> Result<Self, FixedError>;
}
impl FixedParse for Price {
    fn parse(text: &[u8]) -> Result<Self, FixedError> {
        Price::parse_bytes(text)
    }
}
impl FixedParse for Qty {
    fn parse(text: &[u8]) -> Result<Self, FixedError> {
        Qty::parse_bytes(text)
    }
}

fn side<'a>(
    scan: &mut Scanner<'a>,
    frame: &'a [u8],
    field: &'static str,
    at: usize,
) -> Result<Side<'a>, DecodeError> {
    match scan.peek("a value") {
        Ok(b'[') => Levels::read(scan, frame, field).map(Side::Levels),
        Ok(b'"') => fixed::<Price>(scan, frame, field, "a decimal price string", at)
            .map(|(p, s)| Side::Decimal(p, s)),
        _ => {
            scan.skip_value()
                .map_err(|e| json_error(field, "a JSON value", at, e, frame))?;
            Ok(Side::Other(Span {
                start: at,
                end: scan.pos(),
            }))
        }
    }
}

fn missing(object: Span, field: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::new(field, object, expected, Cause::Missing)
}

fn need<T>(
    v: Option<T>,
    object: Span,
    field: &'static str,
    expected: &'static str,
) -> Result<T, DecodeError> {
    v.ok_or_else(|| missing(object, field, expected))
}

const LEVELS: &str = "an array of [\"price\", \"qty\"] pairs";

fn levels<'a>(
    v: Option<Side<'a>>,
    object: Span,
    field: &'static str,
) -> Result<Levels<'a>, DecodeError> {
    match need(v, object, field, LEVELS)? {
        Side::Levels(l) => Ok(l),
        Side::Decimal(_, span) | Side::Other(span) => {
            Err(DecodeError::new(field, span, LEVELS, Cause::WrongType))
        }
    }
}

const PRICE: &str = "a decimal price string";

fn price(v: Option<Side<'_>>, object: Span, field: &'static str) -> Result<Price, DecodeError> {
    match need(v, object, field, PRICE)? {
        Side::Decimal(p, _) => Ok(p),
        Side::Levels(l) => Err(DecodeError::new(field, l.span(), PRICE, Cause::WrongType)),
        Side::Other(span) => Err(DecodeError::new(field, span, PRICE, Cause::WrongType)),
    }
}

fn classify(f: Fields<'_>) -> Result<Msg<'_>, DecodeError> {
    let o = f.object;
    match f.event {
        Some(b"depthUpdate") => {
            let first_update_id = need(f.first_id, o, "U", "the first update id (integer)")?;
            let (final_update_id, u_span) =
                need(f.final_id, o, "u", "the final update id (integer)")?;
            if final_update_id < first_update_id {
                return Err(DecodeError::new(
                    "u",
                    u_span,
                    "a final update id at or after \"U\"",
                    Cause::OutOfRange,
                ));
            }
            Ok(Msg::DepthUpdate(DepthUpdate {
                symbol: need(f.symbol, o, "s", "a symbol string")?,
                first_update_id,
                final_update_id,
                prev_final_update_id: f.prev_id,
                event_time: need(f.event_time, o, "E", "the event time in ms (integer)")?,
                bids: levels(f.b, o, "b")?,
                asks: levels(f.a, o, "a")?,
            }))
        }
        Some(b"trade") => Ok(Msg::Trade(Trade {
            symbol: need(f.symbol, o, "s", "a symbol string")?,
            id: need(f.trade_id, o, "t", "the trade id (integer)")?,
            price: need(f.price, o, "p", "a decimal price string")?,
            qty: need(f.qty, o, "q", "a decimal quantity string")?,
            buyer_is_maker: need(f.maker, o, "m", "true or false")?,
            trade_time: need(f.trade_time, o, "T", "the trade time in ms (integer)")?,
            event_time: need(f.event_time, o, "E", "the event time in ms (integer)")?,
        })),
        Some(b"bookTicker") => book_ticker(f),
        Some(event) => Ok(Msg::Other { event }),
        None if f.last_update_id.is_some() => Ok(Msg::Snapshot(Snapshot {
            last_update_id: need(f.last_update_id, o, "lastUpdateId", "an integer")?,
            bids: need(f.bids, o, "bids", LEVELS)?,
            asks: need(f.asks, o, "asks", LEVELS)?,
        })),
        None if f.final_id.is_some() => book_ticker(f),
        None => Err(DecodeError::new(
            "frame",
            o,
            "\"e\", \"lastUpdateId\" (snapshot) or \"u\" (bookTicker)",
            Cause::Unrecognised,
        )),
    }
}

/// A `bookTicker`, spot (no `e`) or futures (`"e":"bookTicker"`, with `E`
/// and `T`).
fn book_ticker(f: Fields<'_>) -> Result<Msg<'_>, DecodeError> {
    let o = f.object;
    Ok(Msg::BookTicker(BookTicker {
        update_id: need(f.final_id, o, "u", "an integer")?.0,
        symbol: need(f.symbol, o, "s", "a symbol string")?,
        bid: price(f.b, o, "b")?,
        bid_qty: need(f.bid_qty, o, "B", "a decimal quantity string")?,
        ask: price(f.a, o, "a")?,
        ask_qty: need(f.ask_qty, o, "A", "a decimal quantity string")?,
        event_time: f.event_time,
        transaction_time: f.trade_time,
    }))
}
