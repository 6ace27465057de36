//! The account reads reconciliation makes: `GET /portfolio/orders` and
//! `GET /portfolio/fills`, read in place page by page (nothing allocated;
//! a malformed body is a [`WireError`]).

use super::wire::WireError;
use pt_engine::model::{Money, Price, Qty, Side};
use pt_feed::json::Scanner;

/// `GET` the account's orders (a page; `cursor` appended for the next).
pub const ORDERS_PATH: &str = "/trade-api/v2/portfolio/orders";
/// `GET` the account's fills.
pub const FILLS_PATH: &str = "/trade-api/v2/portfolio/fills";

/// `POST` creates an order group.
pub const GROUPS_PATH: &str = "/trade-api/v2/portfolio/order_groups/create";

/// The `order_group_id` of a create-group response.
pub fn parse_group_id(body: &[u8]) -> Option<&[u8]> {
    let mut s = Scanner::new(body);
    s.begin_object().ok()?;
    let mut id = None;
    while let Some(key) = s.next_key().ok()? {
        if key == b"order_group_id" {
            id = Some(s.string().ok()?);
        } else {
            s.skip_value().ok()?;
        }
    }
    id.filter(|i| !i.is_empty() && i.len() <= 64)
}

/// `GET` as of when the account reads' data is.
pub const AS_OF_PATH: &str = "/trade-api/v2/exchange/user_data_timestamp";

/// The `as_of_time` of a `user_data_timestamp` response, unix ms.
pub fn parse_as_of(body: &[u8]) -> Option<i64> {
    let mut s = Scanner::new(body);
    s.begin_object().ok()?;
    let mut at = None;
    while let Some(key) = s.next_key().ok()? {
        if key == b"as_of_time" {
            at = pt_feed::kalshi::parse_rfc3339(s.string().ok()?).map(|n| n.0 / 1_000_000);
        } else {
            s.skip_value().ok()?;
        }
    }
    at
}

/// One order as the venue lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueOrder<'a> {
    /// The venue's id.
    pub order_id: &'a [u8],
    /// Ours; empty for an order placed without one.
    pub client_order_id: &'a [u8],
    /// The market.
    pub ticker: &'a [u8],
    /// `resting`, `canceled` or `executed`.
    pub status: &'a [u8],
    /// Buy or sell YES.
    pub side: Side,
    /// YES price.
    pub price: Price,
    /// Filled so far.
    pub filled: Qty,
    /// Still working.
    pub remaining: Qty,
}

/// One fill as the venue lists it (without our client id since
/// 2026-03-30: orders are matched by the venue's order id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueFill<'a> {
    /// The trade.
    pub trade_id: &'a [u8],
    /// The venue's order id.
    pub order_id: &'a [u8],
    /// Contracts.
    pub count: Qty,
    /// YES price.
    pub price: Price,
    /// Whether the order took liquidity.
    pub is_taker: bool,
    /// Fee in dollars.
    pub fee: Money,
}

fn qty(s: &mut Scanner<'_>, field: &'static str) -> Result<Qty, WireError> {
    Qty::parse_bytes(s.string()?).map_err(|_| WireError::Bad(field))
}

fn price(s: &mut Scanner<'_>, field: &'static str) -> Result<Price, WireError> {
    Price::parse_bytes(s.string()?).map_err(|_| WireError::Bad(field))
}

/// Reads one page of `{"orders": [...], "cursor": "..."}`; the cursor is
/// returned (empty on the last page).
pub fn parse_orders<'a>(
    body: &'a [u8],
    mut each: impl FnMut(VenueOrder<'a>),
) -> Result<&'a [u8], WireError> {
    let mut s = Scanner::new(body);
    s.begin_object()?;
    let mut cursor: &[u8] = b"";
    while let Some(key) = s.next_key()? {
        match key {
            b"cursor" => {
                if !s.null()? {
                    cursor = s.string()?;
                }
            }
            b"orders" => {
                s.begin_array()?;
                while s.next_element()? {
                    each(read_order(&mut s)?);
                }
            }
            _ => s.skip_value()?,
        }
    }
    s.end()?;
    Ok(cursor)
}

fn read_order<'a>(s: &mut Scanner<'a>) -> Result<VenueOrder<'a>, WireError> {
    s.begin_object()?;
    let mut o = VenueOrder {
        order_id: b"",
        client_order_id: b"",
        ticker: b"",
        status: b"",
        side: Side::Buy,
        price: Price::ZERO,
        filled: Qty::ZERO,
        remaining: Qty::ZERO,
    };
    let mut have_side = false;
    while let Some(key) = s.next_key()? {
        match key {
            b"order_id" => o.order_id = s.string()?,
            b"client_order_id" => {
                if !s.null()? {
                    o.client_order_id = s.string()?;
                }
            }
            b"ticker" => o.ticker = s.string()?,
            b"status" => o.status = s.string()?,
            b"book_side" => {
                o.side = match s.string()? {
                    b"bid" => Side::Buy,
                    b"ask" => Side::Sell,
                    _ => return Err(WireError::Bad("book_side")),
                };
                have_side = true;
            }
            b"yes_price_dollars" => o.price = price(s, "yes_price_dollars")?,
            b"fill_count_fp" => o.filled = qty(s, "fill_count_fp")?,
            b"remaining_count_fp" => o.remaining = qty(s, "remaining_count_fp")?,
            _ => s.skip_value()?,
        }
    }
    if o.order_id.is_empty() {
        return Err(WireError::Missing("order_id"));
    }
    if !have_side {
        return Err(WireError::Missing("book_side"));
    }
    Ok(o)
}

/// Reads one page of `{"fills": [...], "cursor": "..."}`.
pub fn parse_fills<'a>(
    body: &'a [u8],
    mut each: impl FnMut(VenueFill<'a>),
) -> Result<&'a [u8], WireError> {
    let mut s = Scanner::new(body);
    s.begin_object()?;
    let mut cursor: &[u8] = b"";
    while let Some(key) = s.next_key()? {
        match key {
            b"cursor" => {
                if !s.null()? {
                    cursor = s.string()?;
                }
            }
            b"fills" => {
                s.begin_array()?;
                while s.next_element()? {
                    s.begin_object()?;
                    let mut f = VenueFill {
                        trade_id: b"",
                        order_id: b"",
                        count: Qty::ZERO,
                        price: Price::ZERO,
                        is_taker: false,
                        fee: Money::ZERO,
                    };
                    while let Some(key) = s.next_key()? {
                        match key {
                            b"trade_id" => f.trade_id = s.string()?,
                            b"order_id" => f.order_id = s.string()?,
                            b"count_fp" => f.count = qty(&mut s, "count_fp")?,
                            b"yes_price_dollars" => f.price = price(&mut s, "yes_price_dollars")?,
                            b"is_taker" => f.is_taker = s.bool()?,
                            b"fee_cost" => {
                                f.fee = Money::parse_bytes(s.string()?)
                                    .map_err(|_| WireError::Bad("fee_cost"))?;
                            }
                            _ => s.skip_value()?,
                        }
                    }
                    if f.trade_id.is_empty() || f.order_id.is_empty() {
                        return Err(WireError::Missing("trade_id"));
                    }
                    each(f);
                }
            }
            _ => s.skip_value()?,
        }
    }
    s.end()?;
    Ok(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_orders_and_fills() {
        let orders = br#"{"orders":[{"order_id":"a","client_order_id":"pt-1-2","ticker":"T","status":"resting","book_side":"ask","yes_price_dollars":"0.5500","fill_count_fp":"1.00","remaining_count_fp":"2.00","extra":{"x":[1]}},{"order_id":"b","client_order_id":"","ticker":"T","status":"canceled","book_side":"bid","yes_price_dollars":"0.1000","fill_count_fp":"0.00","remaining_count_fp":"0.00"}],"cursor":"next"}"#;
        let mut got = Vec::new();
        let cursor = parse_orders(orders, |o| got.push(o)).unwrap();
        assert_eq!(cursor, b"next");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].side, Side::Sell);
        assert_eq!(got[0].remaining, Qty::parse("2").unwrap());
        assert_eq!(got[1].client_order_id, b"");
        assert!(parse_orders(br#"{"orders":[{"order_id":"a"}]}"#, |_| {}).is_err());
        let fills = br#"{"fills":[{"trade_id":"t1","order_id":"a","count_fp":"1.00","yes_price_dollars":"0.5500","is_taker":false,"fee_cost":"0.0044"}],"cursor":""}"#;
        let mut got = Vec::new();
        assert_eq!(parse_fills(fills, |f| got.push(f)).unwrap(), b"");
        assert_eq!(got[0].fee, Money::parse("0.0044").unwrap());
        assert!(parse_fills(b"{\"fills\":[{}]}", |_| {}).is_err());
        assert_eq!(
            parse_as_of(br#"{"as_of_time":"2026-12-07T12:00:00.123Z"}"#),
            Some(1_796_644_800_123)
        );
        assert_eq!(parse_as_of(b"{}"), None);
    }
}
