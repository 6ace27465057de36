//! The decoders' reader: a position in the frame that knows which message
//! and field it is reading, so every failure becomes a [`DecodeError`]
//! with the value's byte range.
//!
//! The structural tokens (`{`, `[`, `,`, `:`, keys), strings without
//! escapes and plain integers are read here directly; everything else
//! (skipping unknown values, strings with escapes, numbers with fractions
//! or exponents, literals) and every malformed input goes through
//! [`Scanner`], which validates and reports. Strings are found eight bytes
//! at a time ([`find_special`]). This split is what makes
//! `orderbook_delta` decoding several times faster than serde_json
//! (benches/benches/kalshi_decode.rs); the first version, built on
//! `Scanner` calls alone, was no faster than serde_json.
//!
//! A cursor may read a sub-slice of the frame (a `msg` object met before
//! the `type` key); `base` maps its offsets back to the frame.

use super::error::{DecodeError, ErrorKind, Span};
use crate::json::{JsonError, Scanner};
use pt_engine::model::{FixedError, Nanos, Price, Qty};

#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    /// What this cursor reads: the frame or a `msg` inside it.
    buf: &'a [u8],
    /// Frame offset of `buf`'s byte 0.
    base: usize,
    /// Offset in `buf` of the next byte.
    at: usize,
    /// A container was just opened: its first member needs no comma.
    first: bool,
    /// The message type being decoded, for errors.
    pub(crate) message: &'static str,
}

/// `e` with its offset moved by `by`.
fn shift(e: JsonError, by: usize) -> JsonError {
    match e {
        JsonError::Eof { .. } => e,
        JsonError::Unexpected {
            at,
            found,
            expected,
        } => JsonError::Unexpected {
            at: at + by,
            found,
            expected,
        },
        JsonError::BadNumber { at } => JsonError::BadNumber { at: at + by },
        JsonError::BadString { at } => JsonError::BadString { at: at + by },
        JsonError::TooDeep { at } => JsonError::TooDeep { at: at + by },
    }
}

impl<'a> Cursor<'a> {
    /// A cursor over `frame[start..end]` (clamped to the frame).
    pub(crate) fn new(frame: &'a [u8], start: usize, end: usize, message: &'static str) -> Self {
        let end = end.min(frame.len());
        let start = start.min(end);
        Cursor {
            buf: frame.get(start..end).unwrap_or(&[]),
            base: start,
            at: 0,
            first: false,
            message,
        }
    }

    /// The frame offset of the next byte.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.base + self.at
    }

    /// Skips whitespace; the next byte, if any.
    #[inline]
    fn ws(&mut self) -> Option<u8> {
        loop {
            match self.buf.get(self.at) {
                Some(&b) if b > b' ' => return Some(b),
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.at += 1,
                Some(&b) => return Some(b),
                None => return None,
            }
        }
    }

    /// Runs a [`Scanner`] from the current position and moves past what
    /// it consumed; its errors are reported at frame offsets.
    fn scan<T>(
        &mut self,
        field: &'static str,
        f: impl FnOnce(&mut Scanner<'a>) -> Result<T, JsonError>,
    ) -> Result<T, DecodeError> {
        let from = self.at;
        let mut s = Scanner::new(self.buf.get(from..).unwrap_or(&[]));
        match f(&mut s) {
            Ok(v) => {
                self.at = from + s.pos();
                Ok(v)
            }
            Err(e) => Err(self.json(field, self.base + from, shift(e, self.base + from))),
        }
    }

    /// The frame offset of the next non-whitespace byte from `from` (or the end).
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

    /// A JSON error (offsets in the frame) while reading `field`'s value
    /// that began at frame offset `start`.
    fn json(&self, field: &'static str, start: usize, e: JsonError) -> DecodeError {
        let limit = self.base + self.buf.len();
        let end = match e {
            // A value of the wrong JSON type: show all of it.
            JsonError::Unexpected { at, .. } if at == self.value_start(start) => {
                let from = at.saturating_sub(self.base);
                let mut whole = Scanner::new(self.buf.get(from..).unwrap_or(&[]));
                let len = whole.skip_value().map_or(1, |()| whole.pos());
                at + len
            }
            JsonError::Eof { .. } => limit,
            JsonError::Unexpected { at, .. }
            | JsonError::BadNumber { at }
            | JsonError::BadString { at }
            | JsonError::TooDeep { at } => (at + 1).min(limit),
        };
        self.err(field, start, end.min(limit), ErrorKind::Json(e))
    }

    /// The byte at the current position is not what was expected.
    fn unexpected(
        &self,
        field: &'static str,
        start: usize,
        found: u8,
        expected: &'static str,
    ) -> DecodeError {
        let e = JsonError::Unexpected {
            at: self.pos(),
            found,
            expected,
        };
        self.json(field, start, e)
    }

    fn eof(&self, field: &'static str, start: usize, expected: &'static str) -> DecodeError {
        self.json(field, start, JsonError::Eof { expected })
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

    /// Consumes `open` after whitespace; returns its frame offset.
    #[inline]
    fn open(
        &mut self,
        field: &'static str,
        open: u8,
        expected: &'static str,
    ) -> Result<usize, DecodeError> {
        let start = self.pos();
        match self.ws() {
            Some(b) if b == open => {
                let at = self.pos();
                self.at += 1;
                self.first = true;
                Ok(at)
            }
            Some(b) => Err(self.unexpected(field, start, b, expected)),
            None => Err(self.eof(field, start, expected)),
        }
    }

    /// Consumes `{`; returns its frame offset.
    #[inline]
    pub(crate) fn begin_object(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        self.open(field, b'{', "'{' opening an object")
    }

    #[inline]
    pub(crate) fn begin_array(&mut self, field: &'static str) -> Result<(), DecodeError> {
        self.open(field, b'[', "'[' opening an array").map(|_| ())
    }

    /// Whether another element follows (its `,` consumed), or `false` when
    /// the array closes (its `]` consumed).
    #[inline]
    pub(crate) fn next_element(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let start = self.pos();
        let b = self
            .ws()
            .ok_or_else(|| self.eof(field, start, "an element or ']'"))?;
        if b == b']' {
            self.at += 1;
            self.first = false;
            return Ok(false);
        }
        if !core::mem::take(&mut self.first) {
            if b != b',' {
                return Err(self.unexpected(field, start, b, "',' or ']' after an element"));
            }
            self.at += 1;
        }
        Ok(true)
    }

    /// The next key of the current object, with its `:` consumed, or
    /// `None` when the object closes (its `}` consumed).
    #[inline]
    pub(crate) fn next_key(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        let start = self.pos();
        let mut b = self
            .ws()
            .ok_or_else(|| self.eof("", start, "a key or '}'"))?;
        if b == b'}' {
            self.at += 1;
            self.first = false;
            return Ok(None);
        }
        if !core::mem::take(&mut self.first) {
            if b != b',' {
                return Err(self.unexpected("", start, b, "',' or '}' after a value"));
            }
            self.at += 1;
            b = self.ws().ok_or_else(|| self.eof("", start, "a key"))?;
        }
        if b != b'"' {
            return Err(self.unexpected("", start, b, "a quoted key"));
        }
        let key = self.string_at_quote("")?;
        match self.ws() {
            Some(b':') => {
                self.at += 1;
                Ok(Some(key))
            }
            Some(b) => Err(self.unexpected("", start, b, "':' after a key")),
            None => Err(self.eof("", start, "':' after a key")),
        }
    }

    /// Peeks the first byte of the next value.
    #[inline]
    pub(crate) fn peek(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let start = self.pos();
        self.ws().ok_or_else(|| self.eof(field, start, "a value"))
    }

    /// Skips a value, returning its span.
    #[inline]
    pub(crate) fn skip(&mut self, field: &'static str) -> Result<Span, DecodeError> {
        self.peek(field)?;
        let start = self.pos();
        self.scan(field, Scanner::skip_value)?;
        Ok(Span {
            start,
            end: self.pos(),
        })
    }

    /// Finds the end of the object or array that starts here by counting
    /// brackets outside strings (strings found with [`find_special`],
    /// escapes stepped over), without validating it; scalars are skipped
    /// by the scanner. Only for a value that is decoded again in full
    /// afterwards (the deferred `msg`): that pass validates it as exactly
    /// one JSON value, so a malformed value is still refused.
    pub(crate) fn skip_unvalidated(&mut self, field: &'static str) -> Result<Span, DecodeError> {
        let b = self.peek(field)?;
        if b != b'{' && b != b'[' {
            return self.skip(field);
        }
        let start = self.pos();
        let mut depth = 0usize;
        loop {
            let Some(&b) = self.buf.get(self.at) else {
                return Err(self.eof(field, start, "the end of the value"));
            };
            self.at += 1;
            match b {
                b'"' => loop {
                    let rest = self.buf.get(self.at..).unwrap_or(&[]);
                    let Some(n) = find_special(rest) else {
                        return Err(self.eof(field, start, "'\"'"));
                    };
                    let c = rest.get(n).copied();
                    self.at += n + 1;
                    match c {
                        Some(b'"') => break,
                        Some(b'\\') => self.at += 1,
                        _ => {}
                    }
                },
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.at = self.at.min(self.buf.len());
        Ok(Span {
            start,
            end: self.pos(),
        })
    }

    /// Checks that only whitespace remains.
    pub(crate) fn end(&mut self) -> Result<(), DecodeError> {
        let start = self.pos();
        match self.ws() {
            None => Ok(()),
            Some(b) => Err(self.unexpected("", start, b, "end of input")),
        }
    }

    /// The string whose `"` is at the current position: found quickly when
    /// it has no escapes, else read and validated by [`Scanner::string`].
    #[inline]
    fn string_at_quote(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let open = self.at;
        if let Some(rest) = self.buf.get(open + 1..)
            && let Some(n) = find_special(rest)
            && rest.get(n) == Some(&b'"')
            && let Some(v) = rest.get(..n)
        {
            self.at = open + n + 2;
            return Ok(v);
        }
        self.scan(field, Scanner::string)
    }

    /// A string's raw bytes (escapes left encoded) and its span with quotes.
    #[inline]
    pub(crate) fn raw_str(&mut self, field: &'static str) -> Result<(&'a [u8], Span), DecodeError> {
        self.peek(field)?;
        let start = self.pos();
        let v = self.string_at_quote(field)?;
        Ok((
            v,
            Span {
                start,
                end: self.pos(),
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
        if self.peek(field)? == b'n' {
            self.scan(field, Scanner::null)?;
            return Ok(None);
        }
        self.str(field).map(Some)
    }

    /// A plain JSON integer of at most 18 digits read directly; `None`
    /// for anything else (the caller lets the scanner read or refuse it).
    #[inline]
    fn small_int(&mut self) -> Option<i64> {
        let from = self.at;
        let neg = self.buf.get(from) == Some(&b'-');
        let digits = from + usize::from(neg);
        let mut i = digits;
        let mut v: i64 = 0;
        while let Some(&c) = self.buf.get(i).filter(|c| c.is_ascii_digit()) {
            if i - digits == 18 {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
            i += 1;
        }
        let n = i - digits;
        if n == 0
            || (n > 1 && self.buf.get(digits) == Some(&b'0'))
            || matches!(self.buf.get(i), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.at = i;
        Some(if neg { -v } else { v })
    }

    #[inline]
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        if self.peek(field)? != b'-'
            && let Some(v) = self.small_int()
        {
            return Ok(v.unsigned_abs());
        }
        self.scan(field, Scanner::u64)
    }

    #[inline]
    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        self.peek(field)?;
        match self.small_int() {
            Some(v) => Ok(v),
            None => self.scan(field, Scanner::i64),
        }
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        self.peek(field)?;
        self.scan(field, Scanner::bool)
    }

    /// A fixed-point value from a decimal string (`"0.5600"`) or a JSON
    /// number (`300`, the legacy integer counts), as raw 1e-8 units.
    #[inline]
    fn fixed_raw(
        &mut self,
        field: &'static str,
        parse: fn(&[u8]) -> Result<i64, FixedError>,
    ) -> Result<(i64, Span), DecodeError> {
        let b = self.peek(field)?;
        let start = self.pos();
        let text = if b == b'"' {
            self.string_at_quote(field)?
        } else {
            self.scan(field, Scanner::number_text)?
        };
        let span = Span {
            start,
            end: self.pos(),
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

/// Index of the first `"`, `\` or control byte (< 0x20) in `s`, eight
/// bytes at a time ([`crate::json::special_byte`]).
#[inline]
fn find_special(s: &[u8]) -> Option<usize> {
    let n = crate::json::special_byte(s);
    (n < s.len()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::find_special;

    #[test]
    fn find_special_agrees_with_a_byte_loop() {
        let slow = |s: &[u8]| s.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        let mut buf = [b'a'; 40];
        assert_eq!(find_special(&buf), None);
        for i in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f, 0x0a] {
                for other in [b' ', 0x20, 0x21, 0x7f, 0x80, 0xff, 0x5b] {
                    buf = [other; 40];
                    buf[i] = special;
                    assert_eq!(find_special(&buf), slow(&buf), "{i} {special} {other}");
                    assert_eq!(find_special(&buf[1..]), slow(&buf[1..]));
                }
            }
        }
    }
}
