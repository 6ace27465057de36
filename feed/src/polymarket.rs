//! Polymarket CLOB market channel: the `book` message, decoded in place.
//!
//! `{"event_type":"book","asset_id":"…","market":"0x…","timestamp":"1770921570954",
//! "hash":"…","bids":[{"price":"0.48","size":"48.34"},…],"asks":[…],
//! "tick_size":"0.01","last_trade_price":"0.870"}`, keys in any order,
//! unknown keys skipped. The ladders are [`BookLevels`]: validated once
//! while decoding (price in 0..=1, size ≥ 0), kept as a byte range and
//! re-scanned lazily, so iterating neither allocates nor fails. They are
//! yielded in the order sent (Polymarket sends bids ascending and asks
//! descending: the best level last). The older key names `buys`/`sells`
//! are accepted for `bids`/`asks`.
//!
//! Other `event_type`s (`price_change`, `last_trade_price`,
//! `tick_size_change`) are refused with [`ErrorKind::UnsupportedEventType`]
//! naming the value; [`BookDecoder`] counts them by that name
//! ([`BookDecoder::other_event_types`]). A frame that is a JSON array of books (the initial
//! dump on subscribe) is not handled here: split it first.
//!
//! Errors are the Kalshi decoder's [`DecodeError`] (message `"book"`).

use crate::kalshi::{Cursor, DecodeError, ErrorCounters, ErrorKind, Span, closed, req};
use crate::kinds::UnknownKinds;
use pt_engine::model::{Nanos, Price, Qty};

/// A decoded `book` message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Book<'a> {
    /// The outcome token (`asset_id`).
    pub asset_id: &'a str,
    /// The market (condition id, `market`).
    pub market: &'a str,
    /// `timestamp` (milliseconds, sent as a string).
    pub timestamp: Nanos,
    /// The book's `hash`, when sent.
    pub hash: Option<&'a str>,
    /// Bids (`bids` or `buys`), in the order sent.
    pub bids: BookLevels<'a>,
    /// Asks (`asks` or `sells`), in the order sent.
    pub asks: BookLevels<'a>,
    /// `tick_size`, when sent.
    pub tick_size: Option<Price>,
    /// `last_trade_price`, when sent.
    pub last_trade_price: Option<Price>,
}

/// Validated levels `[{"price":"0.48","size":"48.34"}, ...]`; yields
/// `(price, size)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookLevels<'a> {
    frame: &'a [u8],
    span: Span,
    len: u32,
}

impl<'a> BookLevels<'a> {
    /// Number of levels.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The array's bytes in the frame.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Iterates the levels in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = (Price, Qty)> + use<'a> {
        let mut c = Cursor::new(self.frame, self.span.start, self.span.end, "book");
        let mut left = if c.begin_array("").is_ok() {
            self.len
        } else {
            0
        };
        core::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            match c.next_element("") {
                // Validated while decoding; a failure cannot happen and
                // would end the iteration rather than panic.
                Ok(true) => level(&mut c, "").ok(),
                _ => None,
            }
        })
    }

    fn read(c: &mut Cursor<'a>, frame: &'a [u8], field: &'static str) -> Result<Self, DecodeError> {
        c.peek(field)?;
        let start = c.pos();
        c.begin_array(field)?;
        let mut len = 0u32;
        while c.next_element(field)? {
            level(c, field)?;
            len = len.saturating_add(1);
        }
        Ok(BookLevels {
            frame,
            span: Span {
                start,
                end: c.pos(),
            },
            len,
        })
    }
}

fn level(c: &mut Cursor<'_>, field: &'static str) -> Result<(Price, Qty), DecodeError> {
    let start = c.begin_object(field)?;
    let (mut price, mut size) = (None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"price" => price = Some(c.price("price", true)?),
            b"size" => size = Some(c.size("size")?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = closed(c, start);
    Ok((req(c, price, "price", obj)?, req(c, size, "size", obj)?))
}

/// Decodes one `book` message.
pub fn decode_book(frame: &[u8]) -> Result<Book<'_>, DecodeError> {
    let mut c = Cursor::new(frame, 0, frame.len(), "book");
    let start = c.begin_object("")?;
    let (mut event_type, mut asset_id, mut market, mut timestamp, mut hash) =
        (None, None, None, None, None);
    let (mut bids, mut asks, mut tick, mut last) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"event_type" => {
                let (v, span) = c.raw_str("event_type")?;
                if v != b"book" {
                    return Err(c.err(
                        "event_type",
                        span.start,
                        span.end,
                        ErrorKind::UnsupportedEventType,
                    ));
                }
                event_type = Some(());
            }
            b"asset_id" => asset_id = Some(c.str("asset_id")?),
            b"market" => market = Some(c.str("market")?),
            b"timestamp" => timestamp = Some(c.millis_str("timestamp")?),
            b"hash" => hash = c.opt_str("hash")?,
            b"bids" | b"buys" => bids = Some(BookLevels::read(&mut c, frame, "bids")?),
            b"asks" | b"sells" => asks = Some(BookLevels::read(&mut c, frame, "asks")?),
            b"tick_size" => tick = Some(c.price("tick_size", true)?),
            b"last_trade_price" => last = Some(c.price("last_trade_price", true)?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = closed(&c, start);
    c.end()?;
    req(&c, event_type, "event_type", obj)?;
    Ok(Book {
        asset_id: req(&c, asset_id, "asset_id", obj)?,
        market: req(&c, market, "market", obj)?,
        timestamp: req(&c, timestamp, "timestamp", obj)?,
        hash,
        bids: req(&c, bids, "bids", obj)?,
        asks: req(&c, asks, "asks", obj)?,
        tick_size: tick,
        last_trade_price: last,
    })
}

/// [`decode_book`] with counters (single-threaded feed stage).
#[derive(Clone, Debug, Default)]
pub struct BookDecoder {
    /// Books decoded.
    pub books: u64,
    /// Frames refused, by error kind.
    pub errors: ErrorCounters,
    /// Frames of an `event_type` other than `book`, by that `event_type`
    /// as sent (each also counted in `errors.unsupported_event_type`).
    pub other_event_types: UnknownKinds,
}

impl BookDecoder {
    /// Decodes one frame and counts the outcome.
    pub fn decode<'a>(&mut self, frame: &'a [u8]) -> Result<Book<'a>, DecodeError> {
        let r = decode_book(frame);
        match &r {
            Ok(_) => self.books += 1,
            Err(e) => {
                self.errors.count(&e.kind);
                if let Some(kind) = e.refused_kind(frame) {
                    self.other_event_types.count(kind);
                }
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &[u8] = br#"{"market":"0xbd31","asset_id":"5255","timestamp":"1729084877448","hash":"3cd4","bids":[{"price":"0.01","size":"6225.9"},{"size":"850","price":"0.48"}],"asks":[{"price":"0.99","size":"37776"}],"event_type":"book","tick_size":"0.01","last_trade_price":"0.870","extra":{"x":[1]}}"#;

    #[test]
    fn decodes_a_book_in_any_key_order() {
        let b = decode_book(BOOK).unwrap();
        assert_eq!(
            (b.asset_id, b.market, b.hash),
            ("5255", "0xbd31", Some("3cd4"))
        );
        assert_eq!(b.timestamp, Nanos(1_729_084_877_448_000_000));
        let bids: Vec<_> = b.bids.iter().collect();
        assert_eq!(
            bids,
            [
                (Price::parse("0.01").unwrap(), Qty::parse("6225.9").unwrap()),
                (Price::parse("0.48").unwrap(), Qty::parse("850").unwrap()),
            ]
        );
        assert_eq!(b.bids.len(), 2);
        assert_eq!(b.asks.iter().count(), 1);
        assert_eq!(b.tick_size, Some(Price::parse("0.01").unwrap()));
        assert_eq!(b.last_trade_price, Some(Price::parse("0.87").unwrap()));
    }

    #[test]
    fn other_event_types_are_named() {
        let f = br#"{"event_type":"price_change","market":"0x1"}"#;
        let e = decode_book(f).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedEventType);
        assert_eq!(e.field, "event_type");
        assert_eq!(&f[e.span.start..e.span.end], br#""price_change""#);
        assert!(e.display(f).to_string().contains("price_change"));
    }

    #[test]
    fn bad_levels_name_the_field_and_value() {
        let f = br#"{"event_type":"book","asset_id":"1","market":"m","timestamp":"1","bids":[{"price":"1.5","size":"1"}],"asks":[]}"#;
        let e = decode_book(f).unwrap_err();
        assert_eq!((e.message, e.field), ("book", "price"));
        assert_eq!(&f[e.span.start..e.span.end], br#""1.5""#);
        let f = br#"{"event_type":"book","asset_id":"1","market":"m","timestamp":"1","bids":[{"price":"0.5"}],"asks":[]}"#;
        let e = decode_book(f).unwrap_err();
        assert_eq!((e.field, e.kind), ("size", ErrorKind::Missing));
        let f = br#"{"event_type":"book","asset_id":"1","market":"m","timestamp":"1","bids":[]}"#;
        assert_eq!(decode_book(f).unwrap_err().field, "asks");
        let f = br#"{"event_type":"book","asset_id":"1","market":"m","timestamp":"x1","bids":[],"asks":[]}"#;
        assert_eq!(decode_book(f).unwrap_err().field, "timestamp");
        let f = br#"{"event_type":"book","asset_id":"1","market":"m","timestamp":"1","bids":[],"asks":[]} x"#;
        assert!(matches!(
            decode_book(f).unwrap_err().kind,
            ErrorKind::Json(_)
        ));
    }

    #[test]
    fn counters() {
        let mut d = BookDecoder::default();
        d.decode(BOOK).unwrap();
        d.decode(b"{").unwrap_err();
        assert_eq!((d.books, d.errors.json, d.errors.total()), (1, 1, 1));
    }

    #[test]
    fn other_event_types_are_counted_by_name() {
        let mut d = BookDecoder::default();
        let price_change = br#"{"event_type":"price_change","market":"0x1","price_changes":[]}"#;
        d.decode(price_change).unwrap_err();
        d.decode(price_change).unwrap_err();
        d.decode(br#"{"market":"0x1","event_type":"brand_new"}"#)
            .unwrap_err();
        d.decode(BOOK).unwrap();
        // Not a kind: a missing or non-string `event_type`.
        d.decode(br#"{"market":"0x1"}"#).unwrap_err();
        d.decode(br#"{"event_type":7}"#).unwrap_err();
        assert_eq!(d.other_event_types.get(b"price_change"), 2);
        assert_eq!(
            d.other_event_types.to_string(),
            "price_change=2 brand_new=1"
        );
        assert_eq!(d.errors.unsupported_event_type, 3);
        assert_eq!((d.books, d.errors.total()), (1, 5));
    }

    proptest::proptest! {
        #[test]
        fn mutated_books_never_panic(i in 0usize..400, b in proptest::num::u8::ANY, cut in 0usize..400) {
            let mut f = BOOK.to_vec();
            if let Some(x) = f.get_mut(i) { *x = b; }
            f.truncate(cut.max(i));
            if let Ok(book) = decode_book(&f) {
                proptest::prop_assert_eq!(book.bids.iter().count(), book.bids.len());
                proptest::prop_assert_eq!(book.asks.iter().count(), book.asks.len());
            }
        }
    }
}
