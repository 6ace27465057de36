//! Kalshi's V2 order endpoints on the wire: request bodies written straight
//! into the connection's buffer, and response bodies read in place.
//!
//! Money and counts are Kalshi's fixed-point strings: prices in dollars
//! with four decimals (six when finer), counts with two. A value that
//! cannot be written exactly is an error, never rounded. Responses are read
//! with the feed's schema-directed scanner: nothing is allocated, and a
//! malformed body is a [`WireError`], never a panic (fuzzed by
//! `fuzz_targets/kalshi_rest`).

use pt_engine::model::{ClientOrderId, Price, Qty, Side, TimeInForce, order_flags};
use pt_feed::json::{JsonError, Scanner};
use std::fmt;
use std::io::Write as _;

/// The API prefix every path starts with.
pub const PREFIX: &str = "/trade-api/v2";
/// `POST`: create one order.
pub const CREATE_PATH: &str = "/trade-api/v2/portfolio/events/orders";
/// `POST` creates, `DELETE` cancels, a batch of orders.
pub const BATCH_PATH: &str = "/trade-api/v2/portfolio/events/orders/batched";
/// A venue order id is a UUID: 36 characters.
pub const ORDER_ID_LEN: usize = 36;

/// A request that cannot be written exactly, or a response that cannot be
/// read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// A price is not a whole number of micro-dollars in (0, 1).
    Price(i64),
    /// A count is not a positive whole number of hundredths.
    Count(i64),
    /// The body is not the JSON expected.
    Json(JsonError),
    /// A required field is missing.
    Missing(&'static str),
    /// A field holds a value of the wrong form.
    Bad(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Price(raw) => write!(
                f,
                "price {} cannot be sent exactly; expected (0, 1) in steps of $0.000001",
                Price::from_raw(*raw)
            ),
            WireError::Count(raw) => write!(
                f,
                "count {} cannot be sent exactly; expected a positive count in steps of 0.01",
                Qty::from_raw(*raw)
            ),
            WireError::Json(e) => write!(f, "response body: {e}"),
            WireError::Missing(field) => write!(f, "response body: `{field}` is missing"),
            WireError::Bad(field) => write!(f, "response body: `{field}` is malformed"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<JsonError> for WireError {
    fn from(e: JsonError) -> Self {
        WireError::Json(e)
    }
}

/// Raw units (1e-8) per micro-dollar and per hundredth of a contract.
const MICRO: i64 = 100;
const HUNDREDTH: i64 = 1_000_000;
const ONE: i64 = 100_000_000;

/// Writes a price as `"0.5600"` (quoted): four decimals, or six when the
/// price needs them.
pub fn put_price(w: &mut Vec<u8>, p: Price) -> Result<(), WireError> {
    let raw = p.raw();
    if raw <= 0 || raw >= ONE || raw % MICRO != 0 {
        return Err(WireError::Price(raw));
    }
    let micro = raw / MICRO;
    let _ = if micro % 100 == 0 {
        write!(w, "\"0.{:04}\"", micro / 100)
    } else {
        write!(w, "\"0.{micro:06}\"")
    };
    Ok(())
}

/// Writes a count as `"10.00"` (quoted).
pub fn put_count(w: &mut Vec<u8>, q: Qty) -> Result<(), WireError> {
    let raw = q.raw();
    if raw <= 0 || raw % HUNDREDTH != 0 {
        return Err(WireError::Count(raw));
    }
    let _ = write!(w, "\"{}.{:02}\"", raw / ONE, (raw % ONE) / HUNDREDTH);
    Ok(())
}

/// What a create request says.
#[derive(Clone, Copy, Debug)]
pub struct NewOrder<'a> {
    /// The market.
    pub ticker: &'a str,
    /// Ours, as the venue will echo it.
    pub client_order_id: ClientOrderId,
    /// Buy (`bid`) or sell (`ask`) YES.
    pub side: Side,
    /// Contracts.
    pub qty: Qty,
    /// YES price.
    pub price: Price,
    /// How long it works.
    pub time_in_force: TimeInForce,
    /// [`order_flags`].
    pub flags: u8,
    /// The order group its strategy trades in, if any.
    pub order_group_id: Option<&'a str>,
}

/// Writes a `CreateOrderV2Request` object.
pub fn put_new_order(w: &mut Vec<u8>, o: &NewOrder<'_>) -> Result<(), WireError> {
    let start = w.len();
    let result = put_new_order_fields(w, o);
    if result.is_err() {
        w.truncate(start);
    }
    result
}

fn put_new_order_fields(w: &mut Vec<u8>, o: &NewOrder<'_>) -> Result<(), WireError> {
    let _ = write!(
        w,
        "{{\"ticker\":\"{}\",\"client_order_id\":\"{}\",\"side\":\"{}\",\"count\":",
        o.ticker,
        o.client_order_id,
        side_text(o.side)
    );
    put_count(w, o.qty)?;
    w.extend_from_slice(b",\"price\":");
    put_price(w, o.price)?;
    let tif = match o.time_in_force {
        TimeInForce::GoodTillCancelled => "good_till_canceled",
        TimeInForce::ImmediateOrCancel => "immediate_or_cancel",
        TimeInForce::FillOrKill => "fill_or_kill",
    };
    let _ = write!(
        w,
        ",\"time_in_force\":\"{tif}\",\"self_trade_prevention_type\":\"taker_at_cross\",\
         \"post_only\":{},\"reduce_only\":{},\"cancel_order_on_pause\":true",
        o.flags & order_flags::POST_ONLY != 0,
        o.flags & order_flags::REDUCE_ONLY != 0
    );
    if let Some(group) = o.order_group_id {
        let _ = write!(w, ",\"order_group_id\":\"{group}\"");
    }
    w.push(b'}');
    Ok(())
}

fn side_text(side: Side) -> &'static str {
    match side {
        Side::Buy => "bid",
        Side::Sell => "ask",
    }
}

/// Writes an amend body: the order's new price and its new total count
/// (filled + remaining, as Kalshi counts it).
pub fn put_amend(
    w: &mut Vec<u8>,
    ticker: &str,
    side: Side,
    price: Price,
    total: Qty,
) -> Result<(), WireError> {
    let start = w.len();
    let _ = write!(
        w,
        "{{\"ticker\":\"{ticker}\",\"side\":\"{}\",\"price\":",
        side_text(side)
    );
    let result = put_price(w, price)
        .and_then(|()| {
            w.extend_from_slice(b",\"count\":");
            put_count(w, total)
        })
        .map(|()| w.push(b'}'));
    if result.is_err() {
        w.truncate(start);
    }
    result
}

/// Writes a decrease body: `reduce_to` the given remaining count.
pub fn put_decrease(w: &mut Vec<u8>, reduce_to: Qty) -> Result<(), WireError> {
    let start = w.len();
    w.extend_from_slice(b"{\"reduce_to\":");
    let result = put_count(w, reduce_to).map(|()| w.push(b'}'));
    if result.is_err() {
        w.truncate(start);
    }
    result
}

/// Writes a batched cancel body for `order_ids`.
pub fn put_batch_cancel<'a>(w: &mut Vec<u8>, order_ids: impl IntoIterator<Item = &'a [u8]>) {
    w.extend_from_slice(b"{\"orders\":[");
    for (i, id) in order_ids.into_iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        w.extend_from_slice(b"{\"order_id\":\"");
        w.extend_from_slice(id);
        w.extend_from_slice(b"\"}");
    }
    w.extend_from_slice(b"]}");
}

/// Writes an order's `amend` or `decrease` path into a fixed buffer (no
/// allocation); the length written, truncated to the buffer.
pub fn order_path_into(buf: &mut [u8], order_id: &[u8], action: &str) -> usize {
    let mut cursor = &mut buf[..];
    let len = cursor.len();
    let _ = cursor
        .write_all(CREATE_PATH.as_bytes())
        .and_then(|()| cursor.write_all(b"/"))
        .and_then(|()| cursor.write_all(order_id))
        .and_then(|()| cursor.write_all(b"/"))
        .and_then(|()| cursor.write_all(action.as_bytes()));
    len - cursor.len()
}

/// A create (or amend) response: `CreateOrderV2Response`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderAck<'a> {
    /// The venue's order id.
    pub order_id: &'a [u8],
    /// Ours, when echoed.
    pub client_order_id: Option<&'a [u8]>,
    /// Contracts filled on placement.
    pub fill_count: Qty,
    /// Contracts still working (0 for an IOC after placement).
    pub remaining_count: Qty,
    /// The venue's time, unix ms.
    pub ts_ms: i64,
}

/// Reads a create response.
pub fn parse_ack(body: &[u8]) -> Result<OrderAck<'_>, WireError> {
    let mut s = Scanner::new(body);
    s.begin_object()?;
    let (mut order_id, mut client_order_id, mut fill, mut remaining, mut ts) =
        (None, None, None, None, 0);
    while let Some(key) = s.next_key()? {
        match key {
            b"order_id" => order_id = Some(s.string()?),
            b"client_order_id" => {
                if s.null()? {
                    client_order_id = None;
                } else {
                    client_order_id = Some(s.string()?);
                }
            }
            b"fill_count" => {
                fill =
                    Some(Qty::parse_bytes(s.string()?).map_err(|_| WireError::Bad("fill_count"))?);
            }
            b"remaining_count" => {
                remaining = Some(
                    Qty::parse_bytes(s.string()?).map_err(|_| WireError::Bad("remaining_count"))?,
                );
            }
            b"ts_ms" => ts = s.i64()?,
            _ => s.skip_value()?,
        }
    }
    s.end()?;
    let order_id = order_id.ok_or(WireError::Missing("order_id"))?;
    if order_id.is_empty() || order_id.len() > 64 {
        return Err(WireError::Bad("order_id"));
    }
    Ok(OrderAck {
        order_id,
        client_order_id,
        fill_count: fill.ok_or(WireError::Missing("fill_count"))?,
        remaining_count: remaining.ok_or(WireError::Missing("remaining_count"))?,
        ts_ms: ts,
    })
}

/// The venue's reason for refusing a request, from either error shape:
/// `{"code", "message", "details"}` (documented), `{"error": {"code", ...}}`
/// (nested), or `{"error": "text"}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VenueError<'a> {
    /// The machine code (`post_only_cross`), empty when none was sent.
    pub code: &'a [u8],
    /// The human message, empty when none was sent.
    pub message: &'a [u8],
}

/// Reads an error body; a body that is not JSON gives an empty error
/// (the status alone then decides).
pub fn parse_error(body: &[u8]) -> VenueError<'_> {
    read_error(body).unwrap_or_default()
}

fn read_error(body: &[u8]) -> Result<VenueError<'_>, WireError> {
    let mut s = Scanner::new(body);
    s.begin_object()?;
    let mut e = VenueError::default();
    while let Some(key) = s.next_key()? {
        match key {
            b"code" => e.code = s.string()?,
            b"message" => e.message = s.string()?,
            b"error" => {
                if s.peek("an error object or text")? == b'{' {
                    s.begin_object()?;
                    while let Some(key) = s.next_key()? {
                        match key {
                            b"code" => e.code = s.string()?,
                            b"message" => e.message = s.string()?,
                            _ => s.skip_value()?,
                        }
                    }
                } else if !s.null()? {
                    e.message = s.string()?;
                }
            }
            _ => s.skip_value()?,
        }
    }
    Ok(e)
}

/// One item of a batched response: its order's ack, or its error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchItem<'a> {
    /// The item succeeded: the venue's order id and, for a create, its ack.
    Done {
        /// The venue's order id, when the item names one.
        order_id: Option<&'a [u8]>,
        /// Ours, when echoed.
        client_order_id: Option<&'a [u8]>,
    },
    /// The item failed.
    Failed {
        /// Ours, when echoed.
        client_order_id: Option<&'a [u8]>,
        /// The venue's order id, when echoed.
        order_id: Option<&'a [u8]>,
        /// Why.
        error: VenueError<'a>,
    },
}

/// Calls `each` for every item of a batched response (`{"orders": [...]}`),
/// in request order.
pub fn parse_batch<'a>(
    body: &'a [u8],
    mut each: impl FnMut(BatchItem<'a>),
) -> Result<usize, WireError> {
    let mut s = Scanner::new(body);
    s.begin_object()?;
    let mut n = 0;
    while let Some(key) = s.next_key()? {
        if key != b"orders" {
            s.skip_value()?;
            continue;
        }
        s.begin_array()?;
        while s.next_element()? {
            s.begin_object()?;
            let (mut order_id, mut client, mut error) = (None, None, None);
            while let Some(key) = s.next_key()? {
                match key {
                    b"order_id" if !s.null()? => order_id = Some(s.string()?),
                    b"client_order_id" if !s.null()? => client = Some(s.string()?),
                    b"error" if !s.null()? => {
                        let mut e = VenueError::default();
                        s.begin_object()?;
                        while let Some(key) = s.next_key()? {
                            match key {
                                b"code" => e.code = s.string()?,
                                b"message" => e.message = s.string()?,
                                _ => s.skip_value()?,
                            }
                        }
                        error = Some(e);
                    }
                    b"order_id" | b"client_order_id" | b"error" => {}
                    _ => s.skip_value()?,
                }
            }
            each(match error {
                Some(error) => BatchItem::Failed {
                    client_order_id: client,
                    order_id,
                    error,
                },
                None => BatchItem::Done {
                    order_id,
                    client_order_id: client,
                },
            });
            n += 1;
        }
    }
    s.end()?;
    Ok(n)
}

/// A venue id's 16 bytes: a UUID's 128 bits, or a 128-bit FNV-1a hash of
/// any other text (so any id deduplicates).
pub fn uuid16(text: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let digits = text.iter().filter(|&&b| b != b'-');
    let mut n = 0;
    let mut ok = text.len() == 36;
    for (i, &d) in digits.enumerate() {
        let Some(v) = (d as char).to_digit(16) else {
            ok = false;
            break;
        };
        if i >= 32 {
            ok = false;
            break;
        }
        out[i / 2] |= (v as u8) << if i % 2 == 0 { 4 } else { 0 };
        n += 1;
    }
    if ok && n == 32 {
        return out;
    }
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in text {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    h.to_be_bytes()
}

/// The text of a UUID's 16 bytes (lowercase, hyphenated), as the venue
/// writes its order ids.
pub fn uuid_text(bytes: &[u8; 16]) -> [u8; ORDER_ID_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; ORDER_ID_LEN];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0xF)];
        at += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pt_engine::model::StrategyId;

    fn text(f: impl FnOnce(&mut Vec<u8>) -> Result<(), WireError>) -> Result<String, WireError> {
        let mut w = b"prefix".to_vec();
        let r = f(&mut w);
        if r.is_err() {
            assert_eq!(w, b"prefix", "a failed write leaves nothing behind");
        }
        r.map(|()| String::from_utf8(w[6..].to_vec()).unwrap())
    }

    #[test]
    fn uuids_round_trip_and_other_ids_hash() {
        let id = b"3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d";
        let bytes = uuid16(id);
        assert_eq!(&uuid_text(&bytes), id);
        assert_ne!(uuid16(b"trade-1"), uuid16(b"trade-2"));
        assert_ne!(uuid16(b"trade-1"), [0; 16]);
    }

    #[test]
    fn fixed_point_strings_are_exact_or_refused() {
        let p = |s: &str| text(|w| put_price(w, Price::parse(s).unwrap()));
        assert_eq!(p("0.56").unwrap(), "\"0.5600\"");
        assert_eq!(p("0.01").unwrap(), "\"0.0100\"");
        assert_eq!(p("0.0123").unwrap(), "\"0.0123\"");
        assert_eq!(p("0.012345").unwrap(), "\"0.012345\"");
        assert_eq!(p("0.99").unwrap(), "\"0.9900\"");
        for bad in ["0", "1", "1.5", "0.0000001", "-0.5"] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let c = |s: &str| text(|w| put_count(w, Qty::parse(s).unwrap()));
        assert_eq!(c("10").unwrap(), "\"10.00\"");
        assert_eq!(c("0.5").unwrap(), "\"0.50\"");
        assert_eq!(c("123456").unwrap(), "\"123456.00\"");
        for bad in ["0", "0.001", "-1"] {
            assert!(c(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_create_body_is_the_v2_request() {
        let o = NewOrder {
            ticker: "KXBTC-25",
            client_order_id: ClientOrderId::new(StrategyId(2), 17).unwrap(),
            side: Side::Sell,
            qty: Qty::parse("3").unwrap(),
            price: Price::parse("0.42").unwrap(),
            time_in_force: TimeInForce::GoodTillCancelled,
            flags: order_flags::POST_ONLY,
            order_group_id: Some("g-1"),
        };
        let body = text(|w| put_new_order(w, &o)).unwrap();
        assert_eq!(
            body,
            r#"{"ticker":"KXBTC-25","client_order_id":"pt-2-17","side":"ask","count":"3.00","price":"0.4200","time_in_force":"good_till_canceled","self_trade_prevention_type":"taker_at_cross","post_only":true,"reduce_only":false,"cancel_order_on_pause":true,"order_group_id":"g-1"}"#
        );
        let bad = NewOrder {
            price: Price::from_raw(1),
            ..o
        };
        assert_eq!(text(|w| put_new_order(w, &bad)), Err(WireError::Price(1)));
        let amend = text(|w| {
            put_amend(
                w,
                "T",
                Side::Buy,
                Price::parse("0.3").unwrap(),
                Qty::parse("5").unwrap(),
            )
        })
        .unwrap();
        assert_eq!(
            amend,
            r#"{"ticker":"T","side":"bid","price":"0.3000","count":"5.00"}"#
        );
        assert_eq!(
            text(|w| put_decrease(w, Qty::parse("2").unwrap())).unwrap(),
            r#"{"reduce_to":"2.00"}"#
        );
        let mut w = Vec::new();
        put_batch_cancel(&mut w, [&b"a"[..], b"b"]);
        assert_eq!(w, br#"{"orders":[{"order_id":"a"},{"order_id":"b"}]}"#);
        let mut buf = [0u8; 64];
        let n = order_path_into(&mut buf, b"abc", "amend");
        assert_eq!(
            &buf[..n],
            b"/trade-api/v2/portfolio/events/orders/abc/amend"
        );
        let mut short = [0u8; 10];
        assert_eq!(order_path_into(&mut short, b"abc", "amend"), 10);
    }

    #[test]
    fn responses_are_read_in_place() {
        let ack = br#"{"order_id":"3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d","client_order_id":"pt-1-9","fill_count":"2.00","remaining_count":"8.00","average_fill_price":"0.5600","ts_ms":1715793600123}"#;
        let a = parse_ack(ack).unwrap();
        assert_eq!(a.order_id, b"3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d");
        assert_eq!(a.client_order_id, Some(&b"pt-1-9"[..]));
        assert_eq!(a.fill_count, Qty::parse("2").unwrap());
        assert_eq!(a.remaining_count, Qty::parse("8").unwrap());
        assert_eq!(a.ts_ms, 1_715_793_600_123);
        assert_eq!(
            parse_ack(br#"{"fill_count":"1.00"}"#),
            Err(WireError::Missing("order_id"))
        );
        assert!(parse_ack(br#"{"order_id":"x","fill_count":"x","remaining_count":"1"}"#).is_err());
        assert!(parse_ack(b"not json").is_err());

        let documented =
            parse_error(br#"{"code":"post_only_cross","message":"would cross","details":"x"}"#);
        assert_eq!(
            (documented.code, documented.message),
            (&b"post_only_cross"[..], &b"would cross"[..])
        );
        let nested =
            parse_error(br#"{"error":{"code":"market_closed","message":"closed","service":"x"}}"#);
        assert_eq!(nested.code, b"market_closed");
        let plain = parse_error(br#"{"error":"too many requests"}"#);
        assert_eq!(
            (plain.code, plain.message),
            (&b""[..], &b"too many requests"[..])
        );
        assert_eq!(parse_error(b"<html>"), VenueError::default());

        let batch = br#"{"orders":[{"order_id":"a","client_order_id":"pt-1-1","fill_count":"0.00","error":null},{"client_order_id":"pt-1-2","error":{"code":"insufficient_balance","message":"m","details":"m"}}]}"#;
        let mut items = Vec::new();
        assert_eq!(parse_batch(batch, |i| items.push(i)).unwrap(), 2);
        assert_eq!(
            items[0],
            BatchItem::Done {
                order_id: Some(b"a"),
                client_order_id: Some(b"pt-1-1")
            }
        );
        assert!(
            matches!(items[1], BatchItem::Failed { error, .. } if error.code == b"insufficient_balance")
        );
    }
}
