//! LOBSTER files: the message file (one order event per line) and the
//! orderbook file (the top levels after each event), parsed without panics
//! into typed rows, and a replay that drives a [`Ladder`] from them.
//!
//! Message columns: time (seconds after midnight, decimal), type (1 new
//! order, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden
//! execution, 6 cross trade, 7 halt), order id, size, price (dollars ×
//! 10,000), direction (1 buy, −1 sell; for executions, the side of the
//! resting order). Orderbook columns: ask price, ask size, bid price, bid
//! size, repeated per level; an empty level is 9999999999 / −9999999999
//! with size 0.

use pt_engine::book::{Ladder, plain_header};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{BookUpdate, InstrumentId, Nanos, Price, Qty, Side};

/// A line that could not be read: where, which column, what was there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LobsterError {
    /// 1-based line number.
    pub line: usize,
    /// The column's name.
    pub field: &'static str,
    /// What was found (shortened).
    pub value: String,
    /// What was expected.
    pub expected: &'static str,
}

impl core::fmt::Display for LobsterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "line {}: {} is {:?}; expected {}",
            self.line, self.field, self.value, self.expected
        )
    }
}

impl std::error::Error for LobsterError {}

/// A message's event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// 1: a new limit order.
    Submit,
    /// 2: part of an order cancelled.
    PartialCancel,
    /// 3: an order deleted.
    Delete,
    /// 4: a visible order executed.
    Execute,
    /// 5: a hidden order executed (no visible change).
    ExecuteHidden,
    /// 6: a cross trade (no visible change).
    Cross,
    /// 7: a trading halt indicator.
    Halt,
}

/// One message-file row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// Time after midnight.
    pub time: Nanos,
    /// Event type.
    pub kind: MessageType,
    /// LOBSTER's order id.
    pub order_id: u64,
    /// Shares.
    pub size: Qty,
    /// Price.
    pub price: Price,
    /// The side of the (resting) order.
    pub side: Side,
}

/// One level of an orderbook row; `None` when the level is empty.
pub type Level = Option<(Price, Qty)>;

/// The first level of an orderbook row (deeper levels are ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopRow {
    /// Best ask.
    pub ask: Level,
    /// Best bid.
    pub bid: Level,
}

fn field<'a>(
    cols: &mut impl Iterator<Item = &'a str>,
    line: usize,
    name: &'static str,
) -> Result<&'a str, LobsterError> {
    cols.next().map(str::trim).ok_or(LobsterError {
        line,
        field: name,
        value: String::new(),
        expected: "a value (the line has too few columns)",
    })
}

fn bad(line: usize, field: &'static str, value: &str, expected: &'static str) -> LobsterError {
    LobsterError {
        line,
        field,
        value: value.chars().take(40).collect(),
        expected,
    }
}

fn int(line: usize, name: &'static str, text: &str) -> Result<i64, LobsterError> {
    text.parse::<i64>()
        .map_err(|_| bad(line, name, text, "a whole number"))
}

/// LOBSTER price (dollars × 10,000) to a `Price`.
fn price(line: usize, name: &'static str, text: &str) -> Result<Price, LobsterError> {
    int(line, name, text)?
        .checked_mul(10_000)
        .map(Price::from_raw)
        .ok_or_else(|| bad(line, name, text, "a price in dollars × 10,000 within range"))
}

fn shares(line: usize, name: &'static str, text: &str) -> Result<Qty, LobsterError> {
    let n = int(line, name, text)?;
    n.checked_mul(100_000_000)
        .filter(|_| n >= 0)
        .map(Qty::from_raw)
        .ok_or_else(|| bad(line, name, text, "a share count from 0 within range"))
}

/// Parses one message-file line (`line` is its 1-based number, for errors).
pub fn parse_message(text: &str, line: usize) -> Result<Message, LobsterError> {
    let mut cols = text.split(',');
    let time_text = field(&mut cols, line, "time")?;
    let time = parse_seconds(time_text).ok_or_else(|| {
        bad(
            line,
            "time",
            time_text,
            "seconds after midnight, like 34200.017459617",
        )
    })?;
    let kind_text = field(&mut cols, line, "type")?;
    let kind = match kind_text {
        "1" => MessageType::Submit,
        "2" => MessageType::PartialCancel,
        "3" => MessageType::Delete,
        "4" => MessageType::Execute,
        "5" => MessageType::ExecuteHidden,
        "6" => MessageType::Cross,
        "7" => MessageType::Halt,
        other => return Err(bad(line, "type", other, "an event type from 1 to 7")),
    };
    let id_text = field(&mut cols, line, "order id")?;
    let order_id = id_text
        .parse::<u64>()
        .map_err(|_| bad(line, "order id", id_text, "a whole number from 0"))?;
    let size = shares(line, "size", field(&mut cols, line, "size")?)?;
    let price = price(line, "price", field(&mut cols, line, "price")?)?;
    let dir = field(&mut cols, line, "direction")?;
    let side = match dir {
        "1" => Side::Buy,
        "-1" => Side::Sell,
        other => return Err(bad(line, "direction", other, "1 (buy) or -1 (sell)")),
    };
    if let Some(extra) = cols.next() {
        return Err(bad(line, "line", extra, "six columns"));
    }
    Ok(Message {
        time,
        kind,
        order_id,
        size,
        price,
        side,
    })
}

/// Seconds with up to nine decimals to nanoseconds.
fn parse_seconds(text: &str) -> Option<Nanos> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = whole.parse::<u32>().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    Some(Nanos(i64::from(secs) * 1_000_000_000 + nanos))
}

/// Parses the first level of an orderbook-file line.
pub fn parse_top(text: &str, line: usize) -> Result<TopRow, LobsterError> {
    let mut cols = text.split(',');
    let ask_p = field(&mut cols, line, "ask price 1")?;
    let ask_s = field(&mut cols, line, "ask size 1")?;
    let bid_p = field(&mut cols, line, "bid price 1")?;
    let bid_s = field(&mut cols, line, "bid size 1")?;
    let level =
        |p: &str, s: &str, pn: &'static str, sn: &'static str| -> Result<Level, LobsterError> {
            let size = shares(line, sn, s)?;
            if p == "9999999999" || p == "-9999999999" || size.is_zero() {
                return Ok(None);
            }
            Ok(Some((price(line, pn, p)?, size)))
        };
    Ok(TopRow {
        ask: level(ask_p, ask_s, "ask price 1", "ask size 1")?,
        bid: level(bid_p, bid_s, "bid price 1", "bid size 1")?,
    })
}

/// Replays messages on a [`Ladder`], seeded from an orderbook row. When a
/// side's best level empties, the new best comes from the orderbook row
/// that follows the message (levels remembered from earlier may have
/// changed unseen beyond the top).
#[derive(Debug)]
pub struct Replay {
    /// The book.
    pub book: Ladder,
    /// Messages applied.
    pub applied: u64,
    /// Times a side's best level was taken from the orderbook row.
    pub refills: u64,
}

/// A price grid for LOBSTER equities: one cent from one cent to `max`.
pub fn equity_grid(max: Price) -> Option<PriceGrid> {
    let cent = Price::from_raw(1_000_000);
    PriceGrid::uniform(cent, max, cent).ok()
}

impl Replay {
    /// A book over `grid` holding `seed`'s levels.
    pub fn new(
        instrument: InstrumentId,
        grid: PriceGrid,
        seed: &TopRow,
    ) -> Result<Replay, pt_engine::book::BookError> {
        let mut book = Ladder::new(instrument, grid);
        let h = plain_header(instrument, 0);
        if let Some((p, q)) = seed.bid {
            book.set(Side::Buy, p, q, &h)?;
        }
        if let Some((p, q)) = seed.ask {
            book.set(Side::Sell, p, q, &h)?;
        }
        Ok(Replay {
            book,
            applied: 0,
            refills: 0,
        })
    }

    /// Applies one message, then refills an emptied best level from `after`
    /// (the orderbook row for this message). Returns the book's top.
    pub fn apply(
        &mut self,
        m: &Message,
        after: &TopRow,
    ) -> Result<BookUpdate, pt_engine::book::BookError> {
        self.applied += 1;
        let mut h = plain_header(InstrumentId(0), self.applied);
        h.venue_ts = m.time;
        let side_before = match m.side {
            Side::Buy => self.book.best_bid(),
            Side::Sell => self.book.best_ask(),
        };
        let mut update = match m.kind {
            MessageType::Submit => self.book.apply_delta(m.side, m.price, m.size, &h)?,
            MessageType::PartialCancel | MessageType::Delete | MessageType::Execute => {
                let have = self.book.qty_at(m.side, m.price);
                // Never below zero: the file only lists the visible part.
                let take = Qty::from_raw(m.size.raw().min(have.raw()));
                self.book
                    .apply_delta(m.side, m.price, Qty::from_raw(-take.raw()), &h)?
            }
            MessageType::ExecuteHidden | MessageType::Cross | MessageType::Halt => {
                self.book.update(&h)
            }
        };
        // A best level that emptied: the next one is in the orderbook row.
        let (now, row) = match m.side {
            Side::Buy => (self.book.best_bid(), after.bid),
            Side::Sell => (self.book.best_ask(), after.ask),
        };
        let emptied = side_before.is_some_and(|(p, _)| {
            now.is_none_or(|(np, _)| np != p) && self.book.qty_at(m.side, p).is_zero()
        });
        if emptied && now != row {
            update = match row {
                Some((p, q)) => self.book.reset_best(m.side, p, q, &h)?,
                None => self.book.clear_side(m.side, &h),
            };
            self.refills += 1;
        }
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_errors_name_the_column() {
        let m = parse_message("34200.18960767,1,11885113,21,2238100,1", 2).unwrap();
        assert_eq!(m.time, Nanos(34_200_189_607_670));
        assert_eq!(m.kind, MessageType::Submit);
        assert_eq!(m.price, Price::parse("223.81").unwrap());
        assert_eq!(m.size, Qty::parse("21").unwrap());
        assert_eq!(m.side, Side::Buy);
        let e = parse_message("34200.1,9,1,1,1,1", 7).unwrap_err();
        assert_eq!((e.line, e.field), (7, "type"));
        assert!(parse_message("34200.1,1,1,-5,1,1", 1).unwrap_err().field == "size");
        assert!(parse_message("x,1,1,1,1,1", 1).unwrap_err().field == "time");
        assert!(parse_message("1,1,1,1,1", 1).unwrap_err().field == "direction");
        assert!(parse_message("", 1).is_err());
        let top = parse_top("2239500,100,-9999999999,0", 1).unwrap();
        assert_eq!(top.bid, None);
        assert_eq!(
            top.ask,
            Some((Price::parse("223.95").unwrap(), Qty::parse("100").unwrap()))
        );
        assert!(parse_top("1,2,3", 4).unwrap_err().field == "bid size 1");
    }
}
