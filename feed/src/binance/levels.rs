//! Price levels (`[["price","qty"], ...]`) read lazily from the frame.
//!
//! [`decode`](super::decode) walks each levels array once, parsing every
//! pair to reject bad input up front, and keeps only the array's bytes and
//! its length. [`Levels::iter`] walks the same bytes again when the book
//! applies them: parsing a level twice costs less than storing it anywhere,
//! and nothing is allocated.

use super::error::{Cause, DecodeError, Span};
use crate::json::{JsonError, Scanner};
use pt_engine::model::{Price, Qty};

/// The levels of one side of a depth update or snapshot, validated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Levels<'a> {
    /// The array, `[` to `]`.
    bytes: &'a [u8],
    /// Where the array lies in the frame.
    span: Span,
    len: u32,
}

impl core::fmt::Debug for Levels<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> Levels<'a> {
    /// No levels.
    pub const EMPTY: Levels<'static> = Levels {
        bytes: b"[]",
        span: Span { start: 0, end: 0 },
        len: 0,
    };

    /// Number of levels.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the array lies in the frame it was decoded from.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The levels in wire order, as (price, absolute quantity).
    pub fn iter(&self) -> LevelIter<'a> {
        let mut scan = Scanner::new(self.bytes);
        let left = if scan.begin_array().is_ok() {
            self.len
        } else {
            0
        };
        LevelIter { scan, left }
    }

    /// Validates the array at the scanner (which reads `frame`) and returns
    /// it; `field` names it in errors.
    pub(crate) fn read(
        scan: &mut Scanner<'a>,
        frame: &'a [u8],
        field: &'static str,
    ) -> Result<Levels<'a>, DecodeError> {
        const EXPECTED: &str = "an array of [\"price\", \"qty\"] pairs";
        let start = value_start(scan);
        let arr_err = |e| json_error(field, EXPECTED, start, e, frame);
        scan.begin_array().map_err(arr_err)?;
        let mut len: u32 = 0;
        while scan.next_element().map_err(arr_err)? {
            read_level(scan).map_err(|fault| {
                let mut e = fault.into_error(field, frame);
                e.level = Some(len);
                e
            })?;
            len = len.checked_add(1).ok_or_else(|| {
                DecodeError::new(
                    field,
                    Span {
                        start,
                        end: scan.pos(),
                    },
                    "fewer than 2^32 levels",
                    Cause::OutOfRange,
                )
            })?;
        }
        let span = Span {
            start,
            end: scan.pos(),
        };
        Ok(Levels {
            bytes: span.of(frame),
            span,
            len,
        })
    }
}

impl<'a> IntoIterator for Levels<'a> {
    type Item = (Price, Qty);
    type IntoIter = LevelIter<'a>;
    fn into_iter(self) -> LevelIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Levels<'a> {
    type Item = (Price, Qty);
    type IntoIter = LevelIter<'a>;
    fn into_iter(self) -> LevelIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Levels`].
#[derive(Clone, Debug)]
pub struct LevelIter<'a> {
    scan: Scanner<'a>,
    left: u32,
}

impl Iterator for LevelIter<'_> {
    type Item = (Price, Qty);

    #[inline]
    fn next(&mut self) -> Option<(Price, Qty)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The bytes were validated by `Levels::read`, so neither step
        // fails; if one did, the iteration would end rather than panic.
        match self.scan.next_element() {
            Ok(true) => {}
            _ => {
                self.left = 0;
                return None;
            }
        }
        match read_level(&mut self.scan) {
            Ok(level) => Some(level),
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

/// Where and why one level failed.
struct LevelFault {
    start: usize,
    expected: &'static str,
    cause: Cause,
    /// End of the value when known (a decimal string); otherwise derived
    /// from the JSON error.
    end: Option<usize>,
}

impl LevelFault {
    fn into_error(self, field: &'static str, frame: &[u8]) -> DecodeError {
        if let (Cause::Json(e), None) = (self.cause, self.end) {
            return json_error(field, self.expected, self.start, e, frame);
        }
        DecodeError::new(
            field,
            Span {
                start: self.start,
                end: self.end.unwrap_or(self.start),
            },
            self.expected,
            self.cause,
        )
    }
}

const PAIR: &str = "a [\"price\", \"qty\"] pair";
const PRICE: &str = "price: a positive decimal string";
const QTY: &str = "qty: a non-negative decimal string";

/// One `["price","qty"]` pair.
#[inline]
fn read_level(scan: &mut Scanner<'_>) -> Result<(Price, Qty), LevelFault> {
    let start = value_start(scan);
    let fault = |expected, start| {
        move |e| LevelFault {
            start,
            expected,
            cause: Cause::Json(e),
            end: None,
        }
    };
    scan.begin_array().map_err(fault(PAIR, start))?;
    let price = decimal(scan, PRICE, Price::parse_bytes)?;
    let qty = decimal(scan, QTY, Qty::parse_bytes)?;
    if price.0.raw() <= 0 {
        return Err(LevelFault {
            start: price.1.start,
            expected: PRICE,
            cause: Cause::OutOfRange,
            end: Some(price.1.end),
        });
    }
    if qty.0.raw() < 0 {
        return Err(LevelFault {
            start: qty.1.start,
            expected: QTY,
            cause: Cause::OutOfRange,
            end: Some(qty.1.end),
        });
    }
    let at = value_start(scan);
    if scan.next_element().map_err(fault(PAIR, at))? {
        return Err(LevelFault {
            start,
            expected: PAIR,
            cause: Cause::WrongType,
            end: Some(at + 1),
        });
    }
    Ok((price.0, qty.0))
}

/// The next element of a pair: a quoted decimal.
#[inline]
fn decimal<T>(
    scan: &mut Scanner<'_>,
    expected: &'static str,
    parse: fn(&[u8]) -> Result<T, pt_engine::model::FixedError>,
) -> Result<(T, Span), LevelFault> {
    let at = value_start(scan);
    let json = |e| LevelFault {
        start: at,
        expected,
        cause: Cause::Json(e),
        end: None,
    };
    if !scan.next_element().map_err(json)? {
        return Err(LevelFault {
            start: at,
            expected,
            cause: Cause::WrongType,
            end: Some(at + 1),
        });
    }
    let start = value_start(scan);
    let text = scan.string().map_err(|e| LevelFault {
        start,
        expected,
        cause: Cause::Json(e),
        end: None,
    })?;
    let span = Span {
        start,
        end: scan.pos(),
    };
    match parse(text) {
        Ok(v) => Ok((v, span)),
        Err(e) => Err(LevelFault {
            start,
            expected,
            cause: Cause::Fixed(e),
            end: Some(span.end),
        }),
    }
}

/// The offset of the next value, whitespace skipped.
#[inline]
pub(crate) fn value_start(scan: &mut Scanner<'_>) -> usize {
    let _ = scan.peek("a value");
    scan.pos()
}

/// A JSON error on `field`'s value that starts at `start`. The span covers
/// the whole value when it is well-formed JSON of another type (so the
/// error can show it), else runs to the byte the scanner stopped at.
pub(crate) fn json_error(
    field: &'static str,
    expected: &'static str,
    start: usize,
    e: JsonError,
    frame: &[u8],
) -> DecodeError {
    let stop = match e {
        JsonError::Eof { .. } => frame.len(),
        JsonError::Unexpected { at, .. }
        | JsonError::BadNumber { at }
        | JsonError::BadString { at }
        | JsonError::TooDeep { at } => at.saturating_add(1).min(frame.len()),
    };
    let whole = frame.get(start..).and_then(|rest| {
        let mut s = Scanner::new(rest);
        s.skip_value().ok().map(|()| start + s.pos())
    });
    DecodeError::new(
        field,
        Span {
            start,
            end: whole.unwrap_or(stop).max(start),
        },
        expected,
        Cause::Json(e),
    )
}
