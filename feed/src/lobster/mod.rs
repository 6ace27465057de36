//! LOBSTER files: the message file (one order event per line) and the
//! orderbook file (the top N levels after each event, any N), parsed
//! without panics into typed rows, and a [`Replay`] that drives a
//! [`Ladder`](pt_engine::book::Ladder) from them.
//!
//! Message columns: time (seconds after midnight, decimal), type (1 new
//! order, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden
//! execution, 6 cross trade, 7 halt), order id, size, price (dollars ×
//! 10,000), direction (1 buy, −1 sell; for executions, the side of the
//! resting order). Orderbook columns: ask price, ask size, bid price, bid
//! size, repeated per level; an empty level is 9999999999 / −9999999999
//! with size 0.
//!
//! Times may carry any number of decimals (LOBSTER's own files have event
//! times like `35821.088778456004`); they are rounded to the nearest
//! nanosecond, a half rounding up (away from zero).
//!
//! [`Recording::parse`] reads a message file and its orderbook file
//! together. A malformed line is an error naming the line, the column, the
//! value and what was expected; with [`BadLines::Skip`] the pair is left
//! out instead, every skip is kept in [`Recording::skipped`], and the next
//! good pair is marked so that a replay reseeds its book from that row
//! rather than carry on from a book that missed a message.

mod replay;

pub use replay::Replay;

use pt_engine::instrument::PriceGrid;
use pt_engine::model::{Nanos, Price, Qty, Side};

/// A line that could not be read: where, which column, what was there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LobsterError {
    /// Which file: `"message"` or `"orderbook"`.
    pub file: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column number (0 when the line as a whole is at fault).
    pub column: usize,
    /// The column's name, like `time` or `bid price 3`.
    pub field: String,
    /// What was found (shortened).
    pub value: String,
    /// What was expected.
    pub expected: &'static str,
}

impl core::fmt::Display for LobsterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} file line {}, column {} ({}): found {:?}; expected {}",
            self.file, self.line, self.column, self.field, self.value, self.expected
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

/// One orderbook-file row: the non-empty levels of each side, best first,
/// out of the `depth` levels a side the file carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookRow {
    /// Levels a side in the file (columns / 4).
    pub depth: usize,
    /// Asks, lowest first.
    pub asks: Vec<(Price, Qty)>,
    /// Bids, highest first.
    pub bids: Vec<(Price, Qty)>,
}

impl BookRow {
    /// One side's levels, best first.
    pub fn side(&self, side: Side) -> &[(Price, Qty)] {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// The best bid.
    pub fn bid(&self) -> Option<(Price, Qty)> {
        self.bids.first().copied()
    }

    /// The best ask.
    pub fn ask(&self) -> Option<(Price, Qty)> {
        self.asks.first().copied()
    }
}

/// Where a line failed, before the file and line are known.
struct Bad {
    column: usize,
    field: Field,
    value: String,
    expected: &'static str,
}

/// A column's name: fixed, or a level column with its level number.
#[derive(Clone, Copy)]
enum Field {
    Named(&'static str),
    Level(&'static str, usize),
}

impl Field {
    fn render(self) -> String {
        match self {
            Field::Named(n) => n.to_owned(),
            Field::Level(n, level) => format!("{n} {level}"),
        }
    }
}

impl Bad {
    fn new(column: usize, field: Field, value: &str, expected: &'static str) -> Bad {
        Bad {
            column,
            field,
            value: value.chars().take(40).collect(),
            expected,
        }
    }

    fn at(self, file: &'static str, line: usize) -> LobsterError {
        LobsterError {
            file,
            line,
            column: self.column,
            field: self.field.render(),
            value: self.value,
            expected: self.expected,
        }
    }
}

fn int(column: usize, field: Field, text: &str) -> Result<i64, Bad> {
    text.parse::<i64>()
        .map_err(|_| Bad::new(column, field, text, "a whole number"))
}

/// LOBSTER price (dollars × 10,000) to a `Price`.
fn price(column: usize, field: Field, text: &str) -> Result<Price, Bad> {
    int(column, field, text)?
        .checked_mul(10_000)
        .filter(|p| *p > 0)
        .map(Price::from_raw)
        .ok_or_else(|| {
            Bad::new(
                column,
                field,
                text,
                "a positive price in dollars × 10,000 within range",
            )
        })
}

fn shares(column: usize, field: Field, text: &str) -> Result<Qty, Bad> {
    let n = int(column, field, text)?;
    n.checked_mul(100_000_000)
        .filter(|_| n >= 0)
        .map(Qty::from_raw)
        .ok_or_else(|| Bad::new(column, field, text, "a share count from 0 within range"))
}

/// Parses one message-file line (`line` is its 1-based number, for errors).
pub fn parse_message(text: &str, line: usize) -> Result<Message, LobsterError> {
    message(text).map_err(|b| b.at("message", line))
}

const MESSAGE_COLUMNS: [&str; 6] = ["time", "type", "order id", "size", "price", "direction"];

fn message(text: &str) -> Result<Message, Bad> {
    let mut cols = text.split(',').map(str::trim);
    let mut next = |column: usize| {
        let field = Field::Named(MESSAGE_COLUMNS[column - 1]);
        cols.next()
            .map(|v| (column, field, v))
            .ok_or_else(|| Bad::new(column, field, "", "a value (the line has too few columns)"))
    };
    let (c, f, time_text) = next(1)?;
    let time = parse_seconds(time_text).ok_or_else(|| {
        Bad::new(
            c,
            f,
            time_text,
            "seconds after midnight, like 34200.017459617",
        )
    })?;
    let (c, f, kind_text) = next(2)?;
    let kind = match kind_text {
        "1" => MessageType::Submit,
        "2" => MessageType::PartialCancel,
        "3" => MessageType::Delete,
        "4" => MessageType::Execute,
        "5" => MessageType::ExecuteHidden,
        "6" => MessageType::Cross,
        "7" => MessageType::Halt,
        other => return Err(Bad::new(c, f, other, "an event type from 1 to 7")),
    };
    let (c, f, id_text) = next(3)?;
    let order_id = id_text
        .parse::<u64>()
        .map_err(|_| Bad::new(c, f, id_text, "a whole number from 0"))?;
    let (c, f, size_text) = next(4)?;
    let size = shares(c, f, size_text)?;
    let (c, f, price_text) = next(5)?;
    // Halts carry price -1; their price is never used.
    let price = match (kind, price_text) {
        (MessageType::Halt, _) => Price::ZERO,
        _ => price(c, f, price_text)?,
    };
    let (c, f, dir) = next(6)?;
    let side = match dir {
        "1" => Side::Buy,
        "-1" => Side::Sell,
        other => return Err(Bad::new(c, f, other, "1 (buy) or -1 (sell)")),
    };
    if let Some(extra) = cols.next() {
        return Err(Bad::new(7, Field::Named("line"), extra, "six columns"));
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

/// Decimal seconds, any number of decimals, to nanoseconds rounded to the
/// nearest (a half rounds up).
fn parse_seconds(text: &str) -> Option<Nanos> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !digits(whole) || !digits(frac) {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    if frac.as_bytes().get(9).is_some_and(|&b| b >= b'5') {
        nanos += 1;
    }
    secs.checked_mul(1_000_000_000)?
        .checked_add(nanos)
        .map(Nanos)
}

/// Parses an orderbook-file line of any level count.
pub fn parse_row(text: &str, line: usize) -> Result<BookRow, LobsterError> {
    let mut row = BookRow::default();
    parse_row_into(text, line, &mut row)?;
    Ok(row)
}

/// [`parse_row`] into a reused row.
pub fn parse_row_into(text: &str, line: usize, row: &mut BookRow) -> Result<(), LobsterError> {
    book_row(text, row).map_err(|b| b.at("orderbook", line))
}

const EMPTY_ASK: &str = "9999999999";
const EMPTY_BID: &str = "-9999999999";

fn book_row(text: &str, row: &mut BookRow) -> Result<(), Bad> {
    row.asks.clear();
    row.bids.clear();
    let mut cols = text.split(',').map(str::trim);
    let mut level = 0;
    loop {
        let mut chunk = [""; 4];
        let mut got = 0;
        for slot in &mut chunk {
            match cols.next() {
                Some(c) => {
                    *slot = c;
                    got += 1;
                }
                None => break,
            }
        }
        match got {
            4 => {}
            0 if level > 0 => break,
            _ => {
                return Err(Bad::new(
                    level * 4 + got + 1,
                    Field::Named("line"),
                    &(level * 4 + got).to_string(),
                    "a multiple of four columns (ask price, ask size, bid price, bid size per level)",
                ));
            }
        }
        level_into(row, level, &chunk)?;
        level += 1;
    }
    row.depth = level;
    Ok(())
}

/// Level `level` (0-based) of a row from its four columns.
fn level_into(row: &mut BookRow, level: usize, chunk: &[&str; 4]) -> Result<(), Bad> {
    let base = level * 4 + 1;
    let n = level + 1;
    let sides = [
        (Side::Sell, base, "ask price", "ask size", EMPTY_ASK),
        (Side::Buy, base + 2, "bid price", "bid size", EMPTY_BID),
    ];
    for (k, (side, column, pn, sn, empty)) in sides.into_iter().enumerate() {
        let (p, s) = (chunk[2 * k], chunk[2 * k + 1]);
        let size = shares(column + 1, Field::Level(sn, n), s)?;
        if p == empty || size.is_zero() {
            continue;
        }
        let price = price(column, Field::Level(pn, n), p)?;
        let levels = match side {
            Side::Sell => &mut row.asks,
            Side::Buy => &mut row.bids,
        };
        if levels.len() != level {
            return Err(Bad::new(
                column,
                Field::Level(pn, n),
                p,
                "no level after an empty one (empty levels come last)",
            ));
        }
        if let Some(&(prev, _)) = levels.last() {
            let ordered = match side {
                Side::Sell => price > prev,
                Side::Buy => price < prev,
            };
            if !ordered {
                return Err(Bad::new(
                    column,
                    Field::Level(pn, n),
                    p,
                    "a price worse than the level before (asks rising, bids falling)",
                ));
            }
        }
        levels.push((price, size));
    }
    Ok(())
}

/// What to do with a malformed line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadLines {
    /// Stop at the first one with its error.
    Fail,
    /// Leave its pair out, keep the error in [`Recording::skipped`] and
    /// mark the next good pair for a reseed.
    Skip,
}

/// One message with the orderbook row after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The message.
    pub message: Message,
    /// The top levels after it.
    pub row: BookRow,
    /// The pair before this one was skipped: reseed the book from `row`
    /// instead of applying `message`.
    pub reseed: bool,
}

/// A message file and its orderbook file, paired line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// The pairs, in file order (skipped ones left out).
    pub steps: Vec<Step>,
    /// Levels a side in the orderbook file.
    pub depth: usize,
    /// Every malformed line that was skipped (with [`BadLines::Skip`]).
    pub skipped: Vec<LobsterError>,
}

impl Recording {
    /// Reads both files' text. The files must have the same number of
    /// lines and one level count throughout.
    pub fn parse(messages: &str, rows: &str, bad: BadLines) -> Result<Recording, LobsterError> {
        let mut rec = Recording::default();
        let mut m_lines = messages.lines();
        let mut r_lines = rows.lines();
        let mut line = 0;
        let mut reseed = false;
        loop {
            line += 1;
            let (m, r) = match (m_lines.next(), r_lines.next()) {
                (None, None) => break,
                (Some(m), Some(r)) => (m, r),
                (m, _) => {
                    let file = if m.is_none() { "message" } else { "orderbook" };
                    return Err(Bad::new(
                        0,
                        Field::Named("line"),
                        "end of file",
                        "as many lines as the other file",
                    )
                    .at(file, line));
                }
            };
            let pair = parse_message(m, line).and_then(|message| {
                let row = parse_row(r, line)?;
                if rec.depth != 0 && row.depth != rec.depth {
                    return Err(Bad::new(
                        0,
                        Field::Named("line"),
                        &(row.depth * 4).to_string(),
                        "the same number of columns on every line",
                    )
                    .at("orderbook", line));
                }
                Ok((message, row))
            });
            match (pair, bad) {
                (Ok((message, row)), _) => {
                    rec.depth = row.depth;
                    rec.steps.push(Step {
                        message,
                        row,
                        reseed: std::mem::take(&mut reseed),
                    });
                }
                (Err(e), BadLines::Fail) => return Err(e),
                (Err(e), BadLines::Skip) => {
                    rec.skipped.push(e);
                    reseed = true;
                }
            }
        }
        Ok(rec)
    }
}

/// A price grid for LOBSTER equities: one cent from one cent to `max`.
pub fn equity_grid(max: Price) -> Option<PriceGrid> {
    let cent = Price::from_raw(1_000_000);
    PriceGrid::uniform(cent, max, cent).ok()
}

#[cfg(test)]
mod tests;
