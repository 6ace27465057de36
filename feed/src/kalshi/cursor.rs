//! A [`Scanner`] that knows which message and field it is reading, so every
//! failure becomes a [`DecodeError`] with the value's byte range.
//!
//! The scanner may run over a sub-slice of the frame (a `msg` object met
//! before the `type` key); `base` maps its offsets back to the frame.

use super::error::{DecodeError, ErrorKind, Span};
use crate::json::{JsonError, Scanner};
use pt_engine::model::{FixedError, Nanos, Price, Qty};

#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    s: Scanner<'a>,
    /// Frame offset of the scanner's byte 0.
    base: usize,
    /// The scanner's input, to trim whitespace off error spans.
    buf: &'a [u8],
    /// The message type being decoded, for errors.
    pub(crate) message: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `frame[start..end]` (clamped to the frame).
    pub(crate) fn new(frame: &'a [u8], start: usize, end: usize, message: &'static str) -> Self {
        let end = end.min(frame.len());
        let start = start.min(end);
        let buf = frame.get(start..end).unwrap_or(&[]);
        Cursor {
            s: Scanner::new(buf),
            base: start,
            buf,
            message,
        }
    }

    /// The frame offset of the next byte.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.base + self.s.pos()
    }

    /// The frame offset of the next non-whitespace byte (or the end).
    fn value_start(&self, from: usize) -> usize {
        let rel = from.saturating_sub(self.base);
        let ws = self
            .buf
            .get(rel..)
            .unwrap_or(&[])
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        from + ws
    }

    pub(crate) fn err(
        &self,
        field: &'static str,
        start: usize,
        end: usize,
        kind: ErrorKind,
    ) -> DecodeError {
        let start = self.value_start(start);
        DecodeError {
            message: self.message,
            field,
            span: Span {
                start,
                end: end.max(start),
            },
            kind,
        }
    }

    /// A JSON error while reading `field`'s value that began at `start`.
    fn json(&self, field: &'static str, start: usize, e: JsonError) -> DecodeError {
        let end = match e {
            // A value of the wrong JSON type: show all of it.
            JsonError::Unexpected { at, .. } if self.base + at == self.value_start(start) => {
                let mut whole = Scanner::new(self.buf.get(at..).unwrap_or(&[]));
                let len = whole.skip_value().map_or(1, |()| whole.pos());
                self.base + at + len
            }
            JsonError::Eof { .. } => self.base + self.buf.len(),
            JsonError::Unexpected { at, .. }
            | JsonError::BadNumber { at }
            | JsonError::BadString { at }
            | JsonError::TooDeep { at } => (self.base + at + 1).min(self.base + self.buf.len()),
        };
        self.err(field, start, end, ErrorKind::Json(e))
    }

    /// A missing required field of the object at `obj`.
    pub(crate) fn missing(&self, field: &'static str, obj: Span) -> DecodeError {
        DecodeError {
            message: self.message,
            field,
            span: obj,
            kind: ErrorKind::Missing,
        }
    }

    pub(crate) fn invalid(
        &self,
        field: &'static str,
        span: Span,
        expected: &'static str,
    ) -> DecodeError {
        DecodeError {
            message: self.message,
            field,
            span,
            kind: ErrorKind::Invalid { expected },
        }
    }

    #[inline]
    pub(crate) fn begin_object(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        let start = self.pos();
        self.s
            .begin_object()
            .map_err(|e| self.json(field, start, e))?;
        Ok(self.value_start(start))
    }

    #[inline]
    pub(crate) fn begin_array(&mut self, field: &'static str) -> Result<(), DecodeError> {
        let start = self.pos();
        self.s.begin_array().map_err(|e| self.json(field, start, e))
    }

    #[inline]
    pub(crate) fn next_element(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let start = self.pos();
        self.s
            .next_element()
            .map_err(|e| self.json(field, start, e))
    }

    #[inline]
    pub(crate) fn next_key(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        let start = self.pos();
        self.s.next_key().map_err(|e| self.json("", start, e))
    }

    /// Peeks the first byte of the next value.
    #[inline]
    pub(crate) fn peek(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let start = self.pos();
        self.s
            .peek("a value")
            .map_err(|e| self.json(field, start, e))
    }

    /// Skips a value, returning its span.
    #[inline]
    pub(crate) fn skip(&mut self, field: &'static str) -> Result<Span, DecodeError> {
        let start = self.pos();
        self.s
            .skip_value()
            .map_err(|e| self.json(field, start, e))?;
        Ok(Span {
            start: self.value_start(start),
            end: self.pos(),
        })
    }

    /// Checks that only whitespace remains.
    pub(crate) fn end(&mut self) -> Result<(), DecodeError> {
        let start = self.pos();
        self.s.end().map_err(|e| self.json("", start, e))
    }

    /// A string's raw bytes (escapes left encoded) and its span with quotes.
    #[inline]
    pub(crate) fn raw_str(&mut self, field: &'static str) -> Result<(&'a [u8], Span), DecodeError> {
        let start = self.pos();
        let v = self.s.string().map_err(|e| self.json(field, start, e))?;
        let end = self.pos();
        Ok((
            v,
            Span {
                start: end - v.len() - 2,
                end,
            },
        ))
    }

    /// A string as `&str` (escapes left encoded; ids and tickers have none).
    #[inline]
    pub(crate) fn str(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let (v, span) = self.raw_str(field)?;
        core::str::from_utf8(v)
            .map_err(|_| self.err(field, span.start, span.end, ErrorKind::NotUtf8))
    }

    /// A string, or `None` for `null`.
    pub(crate) fn opt_str(&mut self, field: &'static str) -> Result<Option<&'a str>, DecodeError> {
        if self.null(field)? {
            return Ok(None);
        }
        self.str(field).map(Some)
    }

    fn null(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let start = self.pos();
        self.s.null().map_err(|e| self.json(field, start, e))
    }

    #[inline]
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos();
        self.s.u64().map_err(|e| self.json(field, start, e))
    }

    #[inline]
    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let start = self.pos();
        self.s.i64().map_err(|e| self.json(field, start, e))
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let start = self.pos();
        self.s.bool().map_err(|e| self.json(field, start, e))
    }

    /// A fixed-point value from a decimal string (`"0.5600"`) or a JSON
    /// number (`300`, the legacy integer counts), as raw 1e-8 units.
    #[inline]
    fn fixed_raw(
        &mut self,
        field: &'static str,
        parse: fn(&[u8]) -> Result<i64, FixedError>,
    ) -> Result<(i64, Span), DecodeError> {
        let start = self.pos();
        let text = if self.peek(field)? == b'"' {
            self.s.string()
        } else {
            self.s.number_text()
        }
        .map_err(|e| self.json(field, start, e))?;
        let end = self.pos();
        let span = Span {
            start: self.value_start(start),
            end,
        };
        parse(text)
            .map(|v| (v, span))
            .map_err(|e| self.err(field, span.start, span.end, ErrorKind::Fixed(e)))
    }

    /// A dollar price: a decimal string (or number), checked to lie in
    /// `0..=1` when `unit` (binary contract prices).
    #[inline]
    pub(crate) fn price(&mut self, field: &'static str, unit: bool) -> Result<Price, DecodeError> {
        let (raw, span) = self.fixed_raw(field, |t| Price::parse_bytes(t).map(Price::raw))?;
        if unit && !(0..=Price::ONE.raw()).contains(&raw) {
            return Err(self.invalid(field, span, "a price between 0 and 1 dollar"));
        }
        Ok(Price::from_raw(raw))
    }

    /// A dollar amount (money, may be negative).
    pub(crate) fn money(&mut self, field: &'static str) -> Result<Price, DecodeError> {
        self.price(field, false)
    }

    /// A count: a decimal string (`"10.00"`) or an integer number.
    #[inline]
    pub(crate) fn qty(&mut self, field: &'static str) -> Result<Qty, DecodeError> {
        let (raw, _) = self.fixed_raw(field, |t| Qty::parse_bytes(t).map(Qty::raw))?;
        Ok(Qty::from_raw(raw))
    }

    /// A count that must not be negative.
    #[inline]
    pub(crate) fn size(&mut self, field: &'static str) -> Result<Qty, DecodeError> {
        let (raw, span) = self.fixed_raw(field, |t| Qty::parse_bytes(t).map(Qty::raw))?;
        if raw < 0 {
            return Err(self.invalid(field, span, "a count of zero or more"));
        }
        Ok(Qty::from_raw(raw))
    }

    /// A legacy integer price in cents (`96` is $0.96), in `0..=100`.
    pub(crate) fn cents(&mut self, field: &'static str) -> Result<Price, DecodeError> {
        let start = self.pos();
        let c = self.i64(field)?;
        if !(0..=100).contains(&c) {
            let end = self.pos();
            return Err(self.err(
                field,
                start,
                end,
                ErrorKind::Invalid {
                    expected: "cents between 0 and 100",
                },
            ));
        }
        Ok(Price::from_raw(c * (Price::ONE.raw() / 100)))
    }

    /// An integer scaled by `unit_raw` raw units (legacy money fields).
    pub(crate) fn scaled_int(
        &mut self,
        field: &'static str,
        unit_raw: i64,
    ) -> Result<Price, DecodeError> {
        let start = self.pos();
        let v = self.i64(field)?;
        let end = self.pos();
        v.checked_mul(unit_raw).map(Price::from_raw).ok_or_else(|| {
            self.err(
                field,
                start,
                end,
                ErrorKind::Invalid {
                    expected: "an amount that fits in 64 bits at 1e-8",
                },
            )
        })
    }

    /// Integer seconds since the epoch.
    pub(crate) fn secs(&mut self, field: &'static str) -> Result<Nanos, DecodeError> {
        self.scaled_time(field, 1_000_000_000)
    }

    /// Integer milliseconds since the epoch.
    #[inline]
    pub(crate) fn millis(&mut self, field: &'static str) -> Result<Nanos, DecodeError> {
        self.scaled_time(field, 1_000_000)
    }

    fn scaled_time(&mut self, field: &'static str, unit: i64) -> Result<Nanos, DecodeError> {
        let start = self.pos();
        let v = self.i64(field)?;
        let end = self.pos();
        v.checked_mul(unit).map(Nanos).ok_or_else(|| {
            self.err(
                field,
                start,
                end,
                ErrorKind::Invalid {
                    expected: "a time within the i64 nanosecond range",
                },
            )
        })
    }

    /// Milliseconds since the epoch as a decimal string (Polymarket).
    pub(crate) fn millis_str(&mut self, field: &'static str) -> Result<Nanos, DecodeError> {
        let (v, span) = self.raw_str(field)?;
        crate::json::parse_i64(v)
            .and_then(|ms| ms.checked_mul(1_000_000))
            .map(Nanos)
            .ok_or_else(|| {
                self.invalid(
                    field,
                    span,
                    "milliseconds since the epoch as a decimal string",
                )
            })
    }
}
