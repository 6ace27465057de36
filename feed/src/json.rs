//! A schema-directed JSON scanner for venue messages.
//!
//! Venue decoders know the shape they expect, so they walk the bytes in
//! place instead of building a document: [`Scanner`] hands out object keys,
//! strings and numbers as slices of the input and skips whatever a decoder
//! does not ask for. Nothing is allocated and nothing is copied; escapes in
//! strings are validated but left encoded (keys, tickers and decimal strings
//! never contain them, and a decoder that needs one decoded says so).
//!
//! Every malformed input is a [`JsonError`] carrying the byte offset, what
//! was found and what was expected; nothing panics.

use core::fmt;

/// Nesting deeper than this is refused by [`Scanner::skip_value`].
pub const MAX_DEPTH: u32 = 64;

/// Why the bytes are not the JSON the decoder expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The input ended early.
    Eof {
        /// What was expected next.
        expected: &'static str,
    },
    /// A byte other than the one expected.
    Unexpected {
        /// Byte offset in the input.
        at: usize,
        /// The byte found.
        found: u8,
        /// What was expected there.
        expected: &'static str,
    },
    /// A number that is not valid JSON or does not fit in an `i64`.
    BadNumber {
        /// Byte offset of the number.
        at: usize,
    },
    /// A control byte or a bad escape inside a string.
    BadString {
        /// Byte offset of the bad byte.
        at: usize,
    },
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    TooDeep {
        /// Byte offset where the limit was hit.
        at: usize,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JsonError::Eof { expected } => write!(f, "input ended; expected {expected}"),
            JsonError::Unexpected {
                at,
                found,
                expected,
            } => write!(
                f,
                "byte {:?} at offset {at}; expected {expected}",
                char::from(found)
            ),
            JsonError::BadNumber { at } => {
                write!(
                    f,
                    "number at offset {at} is not a JSON integer that fits in 64 bits"
                )
            }
            JsonError::BadString { at } => write!(
                f,
                "string byte at offset {at} is a control character or a bad escape"
            ),
            JsonError::TooDeep { at } => write!(
                f,
                "nesting at offset {at} is deeper than {MAX_DEPTH} levels"
            ),
        }
    }
}

impl std::error::Error for JsonError {}

/// A cursor over one JSON document.
#[derive(Clone, Debug)]
pub struct Scanner<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The container just opened: its first member needs no comma.
    first: bool,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Scanner<'a> {
        Scanner {
            buf,
            pos: 0,
            first: false,
        }
    }

    /// The current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next byte that is not whitespace, without consuming it.
    #[inline]
    pub fn peek(&mut self, expected: &'static str) -> Result<u8, JsonError> {
        while let Some(&b) = self.buf.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Ok(b);
            }
            self.pos += 1;
        }
        Err(JsonError::Eof { expected })
    }

    #[inline]
    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), JsonError> {
        let found = self.peek(expected)?;
        if found != byte {
            return Err(self.unexpected(found, expected));
        }
        self.pos += 1;
        Ok(())
    }

    fn unexpected(&self, found: u8, expected: &'static str) -> JsonError {
        JsonError::Unexpected {
            at: self.pos,
            found,
            expected,
        }
    }

    /// Consumes the `{` that opens an object.
    #[inline]
    pub fn begin_object(&mut self) -> Result<(), JsonError> {
        self.expect(b'{', "'{' opening an object")?;
        self.first = true;
        Ok(())
    }

    /// The next key of the current object, with its `:` consumed, or `None`
    /// when the object closes (its `}` consumed). Call after
    /// [`Scanner::begin_object`] and after reading or skipping each value.
    #[inline]
    pub fn next_key(&mut self) -> Result<Option<&'a [u8]>, JsonError> {
        let mut b = self.peek("a key or '}'")?;
        if b == b'}' {
            self.pos += 1;
            self.first = false;
            return Ok(None);
        }
        if !core::mem::take(&mut self.first) {
            if b != b',' {
                return Err(self.unexpected(b, "',' or '}' after a value"));
            }
            self.pos += 1;
            b = self.peek("a key")?;
        }
        if b != b'"' {
            return Err(self.unexpected(b, "a quoted key"));
        }
        let key = self.string()?;
        self.expect(b':', "':' after a key")?;
        Ok(Some(key))
    }

    /// Consumes the `[` that opens an array.
    #[inline]
    pub fn begin_array(&mut self) -> Result<(), JsonError> {
        self.expect(b'[', "'[' opening an array")?;
        self.first = true;
        Ok(())
    }

    /// Whether another element follows (its `,` consumed), or `false` when
    /// the array closes (its `]` consumed). Call after
    /// [`Scanner::begin_array`] and after reading each element.
    #[inline]
    pub fn next_element(&mut self) -> Result<bool, JsonError> {
        let b = self.peek("an element or ']'")?;
        if b == b']' {
            self.pos += 1;
            self.first = false;
            return Ok(false);
        }
        if !core::mem::take(&mut self.first) {
            if b != b',' {
                return Err(self.unexpected(b, "',' or ']' after an element"));
            }
            self.pos += 1;
        }
        Ok(true)
    }

    /// A string's contents, without the quotes and with escapes left as
    /// they are.
    #[inline]
    pub fn string(&mut self) -> Result<&'a [u8], JsonError> {
        self.expect(b'"', "a '\"' opening a string")?;
        let start = self.pos;
        loop {
            self.pos += special_byte(self.buf.get(self.pos..).unwrap_or_default());
            match self.buf.get(self.pos) {
                None => return Err(JsonError::Eof { expected: "'\"'" }),
                Some(b'"') => {
                    let s = &self.buf[start..self.pos];
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => {
                    let at = self.pos;
                    match self.buf.get(self.pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2
                        }
                        Some(b'u') => {
                            let hex = self.buf.get(self.pos + 2..self.pos + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(JsonError::BadString { at });
                            }
                            self.pos += 6;
                        }
                        _ => return Err(JsonError::BadString { at }),
                    }
                }
                Some(_) => return Err(JsonError::BadString { at: self.pos }),
            }
        }
    }

    /// The text of a number, validated as JSON number syntax.
    #[inline]
    pub fn number_text(&mut self) -> Result<&'a [u8], JsonError> {
        let first = self.peek("a number")?;
        let start = self.pos;
        let bad = JsonError::BadNumber { at: start };
        if first == b'-' {
            self.pos += 1;
        }
        let int_start = self.pos;
        self.digits();
        let int_len = self.pos - int_start;
        if int_len == 0 {
            return Err(if first == b'-' {
                bad
            } else {
                self.unexpected(first, "a number")
            });
        }
        if int_len > 1 && self.buf[int_start] == b'0' {
            return Err(bad);
        }
        if self.buf.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(bad);
            }
        }
        if matches!(self.buf.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.buf.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(bad);
            }
        }
        Ok(&self.buf[start..self.pos])
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.buf.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// An integer that fits in an `i64`.
    #[inline]
    pub fn i64(&mut self) -> Result<i64, JsonError> {
        let at = self.pos;
        let text = self.number_text()?;
        parse_i64(text).ok_or(JsonError::BadNumber { at })
    }

    /// A non-negative integer that fits in a `u64`.
    #[inline]
    pub fn u64(&mut self) -> Result<u64, JsonError> {
        let at = self.pos;
        let text = self.number_text()?;
        parse_u64(text).ok_or(JsonError::BadNumber { at })
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, JsonError> {
        match self.peek("true or false")? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            b => Err(self.unexpected(b, "true or false")),
        }
    }

    /// Consumes a `null` if one is next and says whether it was.
    pub fn null(&mut self) -> Result<bool, JsonError> {
        if self.peek("a value")? == b'n' {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), JsonError> {
        if self.buf.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            return Ok(());
        }
        match self.buf.get(self.pos) {
            Some(&b) => Err(self.unexpected(b, "true, false or null")),
            None => Err(JsonError::Eof {
                expected: "true, false or null",
            }),
        }
    }

    /// Skips one value of any type, however nested (up to [`MAX_DEPTH`]).
    pub fn skip_value(&mut self) -> Result<(), JsonError> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: u32) -> Result<(), JsonError> {
        match self.peek("a value")? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep { at: self.pos });
                }
                self.begin_object()?;
                while self.next_key()?.is_some() {
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep { at: self.pos });
                }
                self.begin_array()?;
                while self.next_element()? {
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            b't' | b'f' => self.bool().map(|_| ()),
            b'n' => self.literal(b"null"),
            _ => self.number_text().map(|_| ()),
        }
    }

    /// Checks that only whitespace remains.
    pub fn end(&mut self) -> Result<(), JsonError> {
        match self.peek("end of input") {
            Err(JsonError::Eof { .. }) => Ok(()),
            Ok(b) => Err(self.unexpected(b, "end of input")),
            Err(e) => Err(e),
        }
    }
}

/// Flags (each byte's high bit) of the bytes of the little-endian word `w`
/// that end a plain run inside a string: a quote, a backslash or a control
/// byte.
///
/// A byte equal to `c` is a zero byte of `w ^ c`, and
/// `(x - 0x01…01) & !x & 0x80…80` flags zero bytes (and bytes below 0x20
/// when 0x20…20 is subtracted instead). Borrows can flag a byte after a
/// real match, never before one, so the lowest flag is exact; only the
/// lowest may be used.
#[inline(always)]
pub(crate) fn string_stops(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (slash.wrapping_sub(ONES) & !slash)
        | (w.wrapping_sub(ONES * 0x20) & !w))
        & HIGH
}

/// The offset of the first byte of `s` that ends a plain run inside a
/// string (see [`string_stops`]), eight bytes at a time; `s.len()` when
/// none.
#[inline]
pub(crate) fn special_byte(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(chunk) = s.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let flags = string_stops(u64::from_le_bytes(*chunk));
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + s[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(s.len() - i)
}

/// Parses ASCII digits with an optional leading `-` into an `i64`.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    match text.split_first() {
        Some((b'-', rest)) => {
            let v = parse_u64(rest)?;
            if v == 1 << 63 {
                Some(i64::MIN)
            } else {
                i64::try_from(v).ok().map(|v| -v)
            }
        }
        _ => i64::try_from(parse_u64(text)?).ok(),
    }
}

/// Parses ASCII digits into a `u64`.
pub fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_an_object_and_skips_what_it_is_not_asked_for() {
        let doc = br#" {"a": 1, "b": [1, {"x": [true, null]}, "s\"q"], "c": "0.5600", "d": -7} "#;
        let mut s = Scanner::new(doc);
        s.begin_object().unwrap();
        let mut seen = Vec::new();
        while let Some(k) = s.next_key().unwrap() {
            match k {
                b"a" => seen.push(("a", s.u64().unwrap() as i64)),
                b"d" => seen.push(("d", s.i64().unwrap())),
                b"c" => {
                    assert_eq!(s.string().unwrap(), b"0.5600");
                }
                _ => s.skip_value().unwrap(),
            }
        }
        s.end().unwrap();
        assert_eq!(seen, [("a", 1), ("d", -7)]);
    }

    #[test]
    fn errors_name_the_offset_and_what_was_expected() {
        let mut s = Scanner::new(br#"{"a" 1}"#);
        s.begin_object().unwrap();
        assert_eq!(
            s.next_key(),
            Err(JsonError::Unexpected {
                at: 5,
                found: b'1',
                expected: "':' after a key"
            })
        );
        let mut s = Scanner::new(br#"{"a": 01}"#);
        s.begin_object().unwrap();
        s.next_key().unwrap();
        assert_eq!(s.u64(), Err(JsonError::BadNumber { at: 6 }));
        let mut s = Scanner::new(b"\"ab\x01\"");
        assert_eq!(s.string(), Err(JsonError::BadString { at: 3 }));
        let mut s = Scanner::new(b"[1, 2");
        s.begin_array().unwrap();
        assert!(s.next_element().unwrap());
        s.u64().unwrap();
        assert!(s.next_element().unwrap());
        s.u64().unwrap();
        assert!(matches!(s.next_element(), Err(JsonError::Eof { .. })));
        assert_eq!(Scanner::new(b"99999999999999999999").u64().ok(), None);
        for bad in [
            &br#"{"a":1 "b":2}"#[..],
            br#"{,"a":1}"#,
            br#"{"a":1,}"#,
            b"[1,]",
            b"[,1]",
            b"[1 2]",
        ] {
            assert!(
                Scanner::new(bad).skip_value().is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn special_byte_finds_the_first_quote_backslash_or_control(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let want = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(bytes.len());
            proptest::prop_assert_eq!(special_byte(&bytes), want);
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed_into() {
        let deep = vec![b'['; 10_000];
        assert!(matches!(
            Scanner::new(&deep).skip_value(),
            Err(JsonError::TooDeep { .. })
        ));
    }

    #[test]
    fn integer_edges() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = Scanner::new(&bytes).skip_value();
        }

        #[test]
        fn agrees_with_serde_json_on_what_is_valid(v in json_value()) {
            let text = serde_json::to_vec(&v).unwrap();
            let mut s = Scanner::new(&text);
            proptest::prop_assert_eq!(s.skip_value(), Ok(()));
            proptest::prop_assert_eq!(s.end(), Ok(()));
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "\\PC*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-z_]{0,6}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
