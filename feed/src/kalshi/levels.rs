//! Lazy, validated views of the arrays inside a frame: book levels,
//! lists of strings and the subscription list.
//!
//! Decoding walks each array once to validate every element and count
//! them; the view keeps only the array's byte range. Iterating walks the
//! bytes again and, because they were validated, cannot fail: an element
//! that somehow did not parse would end the iteration early, and
//! [`Levels::len`] would then disagree with the number yielded (never
//! observed; the fuzz target `kalshi_decode` checks they agree).

use super::cursor::Cursor;
use super::error::{DecodeError, Span};
use super::msg::Subscribed;
use pt_engine::model::{Price, Qty};

/// Book levels `[[price, count], ...]` as sent: `[["0.0800","300.00"]]`
/// (fixed point), `[["0.080",300]]` (dollars, legacy counts) or
/// `[[8,300]]` (legacy cents). Yields `(price, count)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Levels<'a> {
    frame: &'a [u8],
    span: Span,
    len: u32,
    cents: bool,
}

impl<'a> Levels<'a> {
    /// Number of levels.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none (also when the side was absent).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The array's bytes in the frame (empty when the side was absent).
    pub fn span(&self) -> Span {
        self.span
    }

    /// Iterates the levels in the order sent.
    pub fn iter(&self) -> LevelIter<'a> {
        LevelIter {
            c: Cursor::new(
                self.frame,
                self.span.start,
                self.span.end,
                "orderbook_snapshot",
            ),
            left: self.len,
            cents: self.cents,
            started: false,
        }
    }

    /// Reads and validates the array at the cursor. `cents`: bare integer
    /// prices are cents (the legacy `yes`/`no` keys).
    pub(crate) fn read(
        c: &mut Cursor<'a>,
        frame: &'a [u8],
        field: &'static str,
        cents: bool,
    ) -> Result<Self, DecodeError> {
        c.peek(field)?;
        let start = c.pos();
        c.begin_array(field)?;
        let mut len = 0u32;
        while c.next_element(field)? {
            level(c, field, cents)?;
            len = len.saturating_add(1);
        }
        Ok(Levels {
            frame,
            span: Span {
                start,
                end: c.pos(),
            },
            len,
            cents,
        })
    }
}

fn level(
    c: &mut Cursor<'_>,
    field: &'static str,
    cents: bool,
) -> Result<(Price, Qty), DecodeError> {
    let start = c.pos();
    let pair = |c: &Cursor<'_>| {
        c.invalid(
            field,
            Span {
                start,
                end: c.pos(),
            },
            "a [price, count] pair",
        )
    };
    c.begin_array(field)?;
    if !c.next_element(field)? {
        return Err(pair(c));
    }
    let price = if cents && c.peek(field)? != b'"' {
        c.cents(field)?
    } else {
        c.price(field, true)?
    };
    if !c.next_element(field)? {
        return Err(pair(c));
    }
    let qty = c.size(field)?;
    if c.next_element(field)? {
        return Err(pair(c));
    }
    Ok((price, qty))
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
    c: Cursor<'a>,
    left: u32,
    cents: bool,
    started: bool,
}

impl Iterator for LevelIter<'_> {
    type Item = (Price, Qty);

    #[inline]
    fn next(&mut self) -> Option<(Price, Qty)> {
        if self.left == 0 {
            return None;
        }
        let step = (|| {
            if !core::mem::replace(&mut self.started, true) {
                self.c.begin_array("")?;
            }
            if !self.c.next_element("")? {
                return Ok(None);
            }
            level(&mut self.c, "", self.cents).map(Some)
        })();
        match step {
            Ok(Some(l)) => {
                self.left -= 1;
                Some(l)
            }
            // Unreachable for validated bytes; stop rather than panic.
            _ => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

/// A validated JSON array of strings (`market_tickers`). Yields `&str`
/// with JSON escapes left encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strings<'a> {
    frame: &'a [u8],
    span: Span,
    len: u32,
}

impl<'a> Strings<'a> {
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Iterates the strings in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let mut c = Cursor::new(self.frame, self.span.start, self.span.end, "ok");
        let ok = c.begin_array("").is_ok();
        let mut left = if ok { self.len } else { 0 };
        core::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            match c.next_element("") {
                Ok(true) => c.str("").ok(),
                _ => None,
            }
        })
    }

    pub(crate) fn read(
        c: &mut Cursor<'a>,
        frame: &'a [u8],
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        c.peek(field)?;
        let start = c.pos();
        c.begin_array(field)?;
        let mut len = 0u32;
        while c.next_element(field)? {
            c.str(field)?;
            len = len.saturating_add(1);
        }
        Ok(Strings {
            frame,
            span: Span {
                start,
                end: c.pos(),
            },
            len,
        })
    }
}

/// The validated subscription list `[{"channel":..,"sid":..}, ...]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Subscriptions<'a> {
    frame: &'a [u8],
    span: Span,
    len: u32,
}

impl<'a> Subscriptions<'a> {
    /// Number of subscriptions.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Iterates the subscriptions in order.
    pub fn iter(&self) -> impl Iterator<Item = Subscribed<'a>> + use<'a> {
        let mut c = Cursor::new(
            self.frame,
            self.span.start,
            self.span.end,
            "list_subscriptions",
        );
        let ok = c.begin_array("").is_ok();
        let mut left = if ok { self.len } else { 0 };
        core::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            match c.next_element("") {
                Ok(true) => subscription(&mut c).ok(),
                _ => None,
            }
        })
    }

    pub(crate) fn read(c: &mut Cursor<'a>, frame: &'a [u8]) -> Result<Self, DecodeError> {
        c.peek("msg")?;
        let start = c.pos();
        c.begin_array("msg")?;
        let mut len = 0u32;
        while c.next_element("msg")? {
            subscription(c)?;
            len = len.saturating_add(1);
        }
        Ok(Subscriptions {
            frame,
            span: Span {
                start,
                end: c.pos(),
            },
            len,
        })
    }
}

/// `{"channel": "...", "sid": n}` (the `subscribed` body and list items).
pub(crate) fn subscription<'a>(c: &mut Cursor<'a>) -> Result<Subscribed<'a>, DecodeError> {
    let start = c.begin_object("msg")?;
    let (mut channel, mut sid) = (None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"channel" => channel = Some(c.str("channel")?),
            b"sid" => sid = Some(c.u64("sid")?),
            _ => {
                c.skip("")?;
            }
        }
    }
    let obj = Span {
        start,
        end: c.pos(),
    };
    Ok(Subscribed {
        channel: channel.ok_or_else(|| c.missing("channel", obj))?,
        sid: sid.ok_or_else(|| c.missing("sid", obj))?,
    })
}
