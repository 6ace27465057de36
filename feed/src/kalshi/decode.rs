//! The envelope, the message-type dispatch and the hot-path bodies
//! (`orderbook_snapshot`, `orderbook_delta`, `ticker`, `trade`).
//!
//! One pass over the frame in the usual case: Kalshi sends `type` before
//! `msg`, so the body is decoded in place. When `msg` comes first (keys are
//! unordered in JSON; `pt sim` sorts them, putting `type` last) its byte
//! range is remembered while skipping it and decoded once the type is
//! known: two passes over the body, still no allocation.

use super::bodies;
use super::cursor::Cursor;
use super::error::{DecodeError, ErrorCounters, ErrorKind, Span};
use super::levels::{Levels, Subscriptions, subscription};
use super::msg::{
    BookSide, Envelope, Msg, OrderbookDelta, OrderbookSnapshot, Ticker, Trade, UpdateOk, YesNo,
};
use super::time::parse_rfc3339;
use crate::kinds::UnknownKinds;
use pt_engine::model::{Nanos, Price};

macro_rules! msg_types {
    ($($variant:ident = $name:literal,)*) => {
        /// The server message types, by their `type` string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum MsgType {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl MsgType {
            /// Every type, in counter order.
            pub const ALL: [MsgType; MsgType::COUNT] = [$(MsgType::$variant,)*];
            /// Number of types.
            pub const COUNT: usize = [$($name,)*].len();

            /// The `type` string.
            pub const fn name(self) -> &'static str {
                match self { $(MsgType::$variant => $name,)* }
            }

            /// The type named by a `type` string.
            /// (A scan in declaration order, hot types first; most
            /// candidates fail on length.)
            #[inline]
            pub fn from_bytes(b: &[u8]) -> Option<MsgType> {
                MsgType::ALL.into_iter().find(|t| t.name().as_bytes() == b)
            }
        }
    };
}

msg_types! {
    OrderbookDelta = "orderbook_delta",
    OrderbookSnapshot = "orderbook_snapshot",
    Trade = "trade",
    Ticker = "ticker",
    Subscribed = "subscribed",
    Unsubscribed = "unsubscribed",
    Ok = "ok",
    ListSubscriptions = "list_subscriptions",
    Error = "error",
    Fill = "fill",
    MarketLifecycle = "market_lifecycle_v2",
    EventLifecycle = "event_lifecycle",
    MultivariateLookup = "multivariate_lookup",
    MarketPosition = "market_position",
    OrderGroupUpdates = "order_group_updates",
    UserOrder = "user_order",
    RfqCreated = "rfq_created",
    RfqDeleted = "rfq_deleted",
    QuoteCreated = "quote_created",
    QuoteAccepted = "quote_accepted",
    QuoteExecuted = "quote_executed",
}

/// What a [`Decoder`] has seen: messages by type (index by `MsgType as
/// usize`, or use [`DecodeCounters::decoded`]), errors by kind, and the
/// types it does not know by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeCounters {
    /// Decoded messages per [`MsgType`] (the type of the decoded body: an
    /// `ok` carrying a subscription list counts as `list_subscriptions`).
    pub by_type: [u64; MsgType::COUNT],
    /// Frames refused, by error kind.
    pub errors: ErrorCounters,
    /// Frames whose `type` is none of [`MsgType`], by that `type` as sent
    /// (each also counted in `errors.unknown_type`).
    pub unknown_types: UnknownKinds,
}

impl DecodeCounters {
    /// Messages of type `t` decoded.
    pub fn decoded(&self, t: MsgType) -> u64 {
        self.by_type[t as usize]
    }

    /// All messages decoded.
    pub fn total(&self) -> u64 {
        self.by_type.iter().sum()
    }
}

/// [`decode`] with counters; one per feed stage (single-threaded).
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    /// What has been decoded so far.
    pub counters: DecodeCounters,
}

impl Decoder {
    /// A decoder with zeroed counters.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Decodes one frame and counts the outcome.
    #[inline]
    pub fn decode<'a>(&mut self, frame: &'a [u8]) -> Result<Envelope<'a>, DecodeError> {
        self.count(frame, decode(frame))
    }

    /// [`decode_general`], counted: for a caller that tried the fast path
    /// itself and counted its delta with [`Decoder::count_fast_delta`].
    #[inline]
    pub(crate) fn decode_general<'a>(
        &mut self,
        frame: &'a [u8],
    ) -> Result<Envelope<'a>, DecodeError> {
        self.count(frame, decode_general(frame))
    }

    #[inline]
    pub(crate) fn count_fast_delta(&mut self) {
        self.counters.by_type[MsgType::OrderbookDelta as usize] += 1;
    }

    #[inline]
    fn count<'a>(
        &mut self,
        frame: &[u8],
        r: Result<Envelope<'a>, DecodeError>,
    ) -> Result<Envelope<'a>, DecodeError> {
        match &r {
            Ok(env) => self.counters.by_type[env.msg.msg_type() as usize] += 1,
            Err(e) => {
                self.counters.errors.count(&e.kind);
                if let Some(kind) = e.refused_kind(frame) {
                    self.counters.unknown_types.count(kind);
                }
            }
        }
        r
    }
}

impl Msg<'_> {
    /// The message type of this body.
    pub fn msg_type(&self) -> MsgType {
        match self {
            Msg::Subscribed(_) => MsgType::Subscribed,
            Msg::Unsubscribed => MsgType::Unsubscribed,
            Msg::Ok(_) => MsgType::Ok,
            Msg::ListSubscriptions(_) => MsgType::ListSubscriptions,
            Msg::Error(_) => MsgType::Error,
            Msg::OrderbookSnapshot(_) => MsgType::OrderbookSnapshot,
            Msg::OrderbookDelta(_) => MsgType::OrderbookDelta,
            Msg::Ticker(_) => MsgType::Ticker,
            Msg::Trade(_) => MsgType::Trade,
            Msg::Fill(_) => MsgType::Fill,
            Msg::MarketLifecycle(_) => MsgType::MarketLifecycle,
            Msg::EventLifecycle(_) => MsgType::EventLifecycle,
            Msg::MultivariateLookup(_) => MsgType::MultivariateLookup,
            Msg::MarketPosition(_) => MsgType::MarketPosition,
            Msg::OrderGroupUpdate(_) => MsgType::OrderGroupUpdates,
            Msg::UserOrder(_) => MsgType::UserOrder,
            Msg::RfqCreated(_) => MsgType::RfqCreated,
            Msg::RfqDeleted(_) => MsgType::RfqDeleted,
            Msg::QuoteCreated(_) => MsgType::QuoteCreated,
            Msg::QuoteAccepted(_) => MsgType::QuoteAccepted,
            Msg::QuoteExecuted(_) => MsgType::QuoteExecuted,
        }
    }
}

/// Decodes one Kalshi WebSocket v2 text frame. Unknown keys are skipped;
/// trailing bytes other than whitespace are refused.
///
/// A compact `orderbook_delta` in the current format takes the fast path
/// (`fast.rs`); every other frame, and any delta it gives up on, is read
/// by [`decode_general`], which returns the same result for the frames
/// the fast path accepts.
#[inline]
pub fn decode(frame: &[u8]) -> Result<Envelope<'_>, DecodeError> {
    match super::fast::delta(frame) {
        Some(fast) => Ok(fast.into_envelope()),
        None => decode_general(frame),
    }
}

/// [`decode`] without the `orderbook_delta` fast path: the reference the
/// fast path is tested against (and what `decode` runs for every frame
/// the fast path does not take).
pub fn decode_general(frame: &[u8]) -> Result<Envelope<'_>, DecodeError> {
    let mut c = Cursor::new(frame, 0, frame.len(), "envelope");
    let obj_start = c.begin_object("")?;
    let mut ty: Option<MsgType> = None;
    let (mut sid, mut seq, mut id) = (None, None, None);
    let mut body = None;
    let mut deferred = None;
    while let Some(k) = c.next_key()? {
        match k {
            b"type" => {
                let (t, span) = c.raw_str("type")?;
                if ty.is_some() {
                    return Err(c.invalid("type", span, "a single \"type\" key"));
                }
                let t = MsgType::from_bytes(t)
                    .ok_or_else(|| c.err("type", span.start, span.end, ErrorKind::UnknownType))?;
                c.message = t.name();
                ty = Some(t);
            }
            b"msg" => match ty {
                Some(t) => body = Some(body_of(t, &mut c, frame)?),
                None => deferred = Some(c.skip_unvalidated("msg")?),
            },
            b"sid" => sid = Some(c.u64("sid")?),
            b"seq" => seq = Some(c.u64("seq")?),
            b"id" => id = Some(c.u64("id")?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = Span {
        start: obj_start,
        end: c.pos(),
    };
    c.end()?;
    let Some(t) = ty else {
        return Err(c.missing("type", obj));
    };
    let msg = match (body, deferred) {
        (Some(b), _) => b,
        (None, Some(span)) => {
            let mut m = Cursor::new(frame, span.start, span.end, t.name());
            let b = body_of(t, &mut m, frame)?;
            m.end()?;
            b
        }
        (None, None) => match t {
            MsgType::Unsubscribed => Msg::Unsubscribed,
            MsgType::Ok => Msg::Ok(UpdateOk {
                market_tickers: None,
                market_ids: None,
            }),
            _ => {
                c.message = t.name();
                return Err(c.missing("msg", obj));
            }
        },
    };
    if let Msg::Subscribed(s) = msg {
        sid = sid.or(Some(s.sid));
    }
    Ok(Envelope { sid, seq, id, msg })
}

fn body_of<'a>(t: MsgType, c: &mut Cursor<'a>, frame: &'a [u8]) -> Result<Msg<'a>, DecodeError> {
    Ok(match t {
        MsgType::OrderbookDelta => Msg::OrderbookDelta(delta(c)?),
        MsgType::OrderbookSnapshot => Msg::OrderbookSnapshot(snapshot(c, frame)?),
        MsgType::Trade => Msg::Trade(trade(c)?),
        MsgType::Ticker => Msg::Ticker(ticker(c)?),
        MsgType::Subscribed => Msg::Subscribed(subscription(c)?),
        MsgType::Unsubscribed => {
            c.skip("msg")?;
            Msg::Unsubscribed
        }
        MsgType::Ok | MsgType::ListSubscriptions if c.peek("msg")? == b'[' => {
            Msg::ListSubscriptions(Subscriptions::read(c, frame)?)
        }
        MsgType::Ok | MsgType::ListSubscriptions => Msg::Ok(bodies::update_ok(c, frame)?),
        MsgType::Error => Msg::Error(bodies::error(c)?),
        MsgType::Fill => Msg::Fill(bodies::fill(c)?),
        MsgType::MarketLifecycle => Msg::MarketLifecycle(bodies::market_lifecycle(c)?),
        MsgType::EventLifecycle => Msg::EventLifecycle(bodies::event_lifecycle(c)?),
        MsgType::MultivariateLookup => Msg::MultivariateLookup(bodies::multivariate(c, frame)?),
        MsgType::MarketPosition => Msg::MarketPosition(bodies::market_position(c)?),
        MsgType::OrderGroupUpdates => Msg::OrderGroupUpdate(bodies::order_group(c)?),
        MsgType::UserOrder => Msg::UserOrder(bodies::user_order(c)?),
        MsgType::RfqCreated => Msg::RfqCreated(bodies::rfq(c)?),
        MsgType::RfqDeleted => Msg::RfqDeleted(bodies::rfq(c)?),
        MsgType::QuoteCreated => Msg::QuoteCreated(bodies::quote(c)?),
        MsgType::QuoteAccepted => Msg::QuoteAccepted(bodies::quote(c)?),
        MsgType::QuoteExecuted => Msg::QuoteExecuted(bodies::quote_executed(c)?),
    })
}

/// A required field, or an error naming it.
#[inline]
pub(crate) fn req<T>(
    c: &Cursor<'_>,
    v: Option<T>,
    field: &'static str,
    obj: Span,
) -> Result<T, DecodeError> {
    v.ok_or_else(|| c.missing(field, obj))
}

/// Opens the `msg` object; returns its start.
#[inline]
pub(crate) fn open(c: &mut Cursor<'_>) -> Result<usize, DecodeError> {
    c.begin_object("msg")
}

/// The span of the object opened at `start`, now closed.
#[inline]
pub(crate) fn closed(c: &Cursor<'_>, start: usize) -> Span {
    Span {
        start,
        end: c.pos(),
    }
}

pub(crate) fn yes_no(c: &mut Cursor<'_>, field: &'static str) -> Result<YesNo, DecodeError> {
    let (v, span) = c.raw_str(field)?;
    match v {
        b"yes" => Ok(YesNo::Yes),
        b"no" => Ok(YesNo::No),
        _ => Err(c.invalid(field, span, "\"yes\" or \"no\"")),
    }
}

pub(crate) fn book_side(c: &mut Cursor<'_>, field: &'static str) -> Result<BookSide, DecodeError> {
    let (v, span) = c.raw_str(field)?;
    match v {
        b"bid" => Ok(BookSide::Bid),
        b"ask" => Ok(BookSide::Ask),
        _ => Err(c.invalid(field, span, "\"bid\" or \"ask\"")),
    }
}

/// A `ts` value: integer seconds, or an RFC 3339 string kept unparsed
/// until we know `ts_ms` is absent.
#[derive(Clone, Copy)]
pub(crate) enum Ts<'a> {
    Secs(Nanos),
    Text(&'a [u8], Span),
}

pub(crate) fn ts_value<'a>(c: &mut Cursor<'a>) -> Result<Ts<'a>, DecodeError> {
    if c.peek("ts")? == b'"' {
        let (v, span) = c.raw_str("ts")?;
        Ok(Ts::Text(v, span))
    } else {
        c.secs("ts").map(Ts::Secs)
    }
}

/// Venue time: `ts_ms` when sent, else `ts` (seconds or RFC 3339), else
/// UNSET. A malformed RFC 3339 `ts` is an error only when it is used.
#[inline]
pub(crate) fn venue_ts(
    c: &Cursor<'_>,
    ts_ms: Option<Nanos>,
    ts: Option<Ts<'_>>,
) -> Result<Nanos, DecodeError> {
    match (ts_ms, ts) {
        (Some(t), _) => Ok(t),
        (None, Some(Ts::Secs(t))) => Ok(t),
        (None, Some(Ts::Text(v, span))) => parse_rfc3339(v).ok_or_else(|| {
            c.invalid(
                "ts",
                span,
                "an RFC 3339 time such as \"2022-11-22T20:44:01Z\"",
            )
        }),
        (None, None) => Ok(Nanos::UNSET),
    }
}

fn delta<'a>(c: &mut Cursor<'a>) -> Result<OrderbookDelta<'a>, DecodeError> {
    let start = open(c)?;
    let (mut ticker, mut market_id, mut coid, mut subaccount) = (None, None, None, None);
    let (mut price, mut cents, mut qty, mut legacy_qty, mut side) = (None, None, None, None, None);
    let (mut ts_ms, mut ts) = (None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"market_id" => market_id = Some(c.str("market_id")?),
            b"price_dollars" => price = Some(c.price("price_dollars", true)?),
            b"delta_fp" => qty = Some(c.qty("delta_fp")?),
            b"side" => side = Some(yes_no(c, "side")?),
            b"ts_ms" => ts_ms = Some(c.millis("ts_ms")?),
            b"ts" => ts = Some(ts_value(c)?),
            b"price" => cents = Some(c.cents("price")?),
            b"delta" => legacy_qty = Some(c.qty("delta")?),
            b"client_order_id" => coid = c.opt_str("client_order_id")?,
            b"subaccount" => subaccount = Some(c.u64("subaccount")?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = closed(c, start);
    Ok(OrderbookDelta {
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        market_id,
        price: req(c, price.or(cents), "price_dollars", obj)?,
        delta: req(c, qty.or(legacy_qty), "delta_fp", obj)?,
        side: req(c, side, "side", obj)?,
        client_order_id: coid,
        subaccount,
        ts: venue_ts(c, ts_ms, ts)?,
    })
}

fn snapshot<'a>(c: &mut Cursor<'a>, frame: &'a [u8]) -> Result<OrderbookSnapshot<'a>, DecodeError> {
    let start = open(c)?;
    let (mut ticker, mut market_id) = (None, None);
    // Best format seen per side: 3 = `_dollars_fp`, 2 = `_dollars`, 1 = cents.
    let mut sides: [(u8, Levels<'a>); 2] = Default::default();
    while let Some(k) = c.next_key()? {
        let (side, rank, field, cents) = match k {
            b"market_ticker" => {
                ticker = Some(c.str("market_ticker")?);
                continue;
            }
            b"market_id" => {
                market_id = Some(c.str("market_id")?);
                continue;
            }
            b"yes_dollars_fp" => (0, 3, "yes_dollars_fp", false),
            b"no_dollars_fp" => (1, 3, "no_dollars_fp", false),
            b"yes_dollars" => (0, 2, "yes_dollars", false),
            b"no_dollars" => (1, 2, "no_dollars", false),
            b"yes" => (0, 1, "yes", true),
            b"no" => (1, 1, "no", true),
            _ => {
                c.skip("")?;
                continue;
            }
        };
        let levels = Levels::read(c, frame, field, cents)?;
        if rank > sides[side].0 {
            sides[side] = (rank, levels);
        }
    }
    let obj = closed(c, start);
    let [(_, yes), (_, no)] = sides;
    Ok(OrderbookSnapshot {
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        market_id,
        yes,
        no,
    })
}

fn trade<'a>(c: &mut Cursor<'a>) -> Result<Trade<'a>, DecodeError> {
    let start = open(c)?;
    let (mut trade_id, mut ticker, mut taker) = (None, None, None);
    let (mut yes, mut no, mut yes_c, mut no_c) = (None, None, None, None);
    let (mut count, mut count_legacy, mut ts_ms, mut ts) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"trade_id" => trade_id = Some(c.str("trade_id")?),
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"yes_price_dollars" => yes = Some(c.price("yes_price_dollars", true)?),
            b"no_price_dollars" => no = Some(c.price("no_price_dollars", true)?),
            b"count_fp" => count = Some(c.size("count_fp")?),
            b"taker_side" => taker = Some(yes_no(c, "taker_side")?),
            b"ts_ms" => ts_ms = Some(c.millis("ts_ms")?),
            b"ts" => ts = Some(ts_value(c)?),
            b"yes_price" => yes_c = Some(c.cents("yes_price")?),
            b"no_price" => no_c = Some(c.cents("no_price")?),
            b"count" => count_legacy = Some(c.size("count")?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = closed(c, start);
    let one_minus = |p: Price| Price::from_raw(Price::ONE.raw() - p.raw());
    let (yes, no) = (yes.or(yes_c), no.or(no_c));
    let yes_price = req(c, yes.or(no.map(one_minus)), "yes_price_dollars", obj)?;
    Ok(Trade {
        trade_id: req(c, trade_id, "trade_id", obj)?,
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        yes_price,
        no_price: no.unwrap_or(one_minus(yes_price)),
        count: req(c, count.or(count_legacy), "count_fp", obj)?,
        taker_side: req(c, taker, "taker_side", obj)?,
        ts: venue_ts(c, ts_ms, ts)?,
    })
}

fn ticker<'a>(c: &mut Cursor<'a>) -> Result<Ticker<'a>, DecodeError> {
    let start = open(c)?;
    let (mut ticker, mut market_id) = (None, None);
    let (mut price, mut bid, mut ask) = (None, None, None);
    let (mut price_c, mut bid_c, mut ask_c) = (None, None, None);
    let (mut bid_size, mut ask_size, mut last_size) = (None, None, None);
    let (mut volume, mut volume_l, mut oi, mut oi_l) = (None, None, None, None);
    let (mut dollar_volume, mut dollar_oi, mut ts_ms, mut ts) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"market_id" => market_id = Some(c.str("market_id")?),
            b"price_dollars" => price = Some(c.price("price_dollars", true)?),
            b"yes_bid_dollars" => bid = Some(c.price("yes_bid_dollars", true)?),
            b"yes_ask_dollars" => ask = Some(c.price("yes_ask_dollars", true)?),
            b"yes_bid_size_fp" => bid_size = Some(c.size("yes_bid_size_fp")?),
            b"yes_ask_size_fp" => ask_size = Some(c.size("yes_ask_size_fp")?),
            b"last_trade_size_fp" => last_size = Some(c.size("last_trade_size_fp")?),
            b"volume_fp" => volume = Some(c.size("volume_fp")?),
            b"open_interest_fp" => oi = Some(c.size("open_interest_fp")?),
            b"dollar_volume" => dollar_volume = Some(c.i64("dollar_volume")?),
            b"dollar_open_interest" => dollar_oi = Some(c.i64("dollar_open_interest")?),
            b"ts_ms" => ts_ms = Some(c.millis("ts_ms")?),
            b"ts" => ts = Some(ts_value(c)?),
            b"price" => price_c = Some(c.cents("price")?),
            b"yes_bid" => bid_c = Some(c.cents("yes_bid")?),
            b"yes_ask" => ask_c = Some(c.cents("yes_ask")?),
            b"volume" => volume_l = Some(c.size("volume")?),
            b"open_interest" => oi_l = Some(c.size("open_interest")?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = closed(c, start);
    Ok(Ticker {
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        market_id,
        price: req(c, price.or(price_c), "price_dollars", obj)?,
        yes_bid: req(c, bid.or(bid_c), "yes_bid_dollars", obj)?,
        yes_ask: req(c, ask.or(ask_c), "yes_ask_dollars", obj)?,
        yes_bid_size: bid_size,
        yes_ask_size: ask_size,
        last_trade_size: last_size,
        volume: volume.or(volume_l),
        open_interest: oi.or(oi_l),
        dollar_volume,
        dollar_open_interest: dollar_oi,
        ts: venue_ts(c, ts_ms, ts)?,
    })
}
