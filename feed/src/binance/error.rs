//! Why a Binance frame did not decode: the field, the byte range of its
//! value in the frame, what was expected, and the underlying cause.

use crate::json::JsonError;
use core::fmt;
use pt_engine::model::FixedError;

/// A byte range `start..end` inside the frame passed to
/// [`decode`](super::decode). `Copy`, unlike `Range<usize>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The bytes of the span in `frame`, clamped to the frame (empty when it
    /// lies outside, e.g. when `frame` is not the decoded one).
    pub fn of<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let end = self.end.min(frame.len());
        frame.get(self.start.min(end)..end).unwrap_or(&[])
    }
}

/// What went wrong with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The bytes are not the JSON expected there.
    Json(JsonError),
    /// A decimal string that is not an exact fixed-point number.
    Fixed(FixedError),
    /// A required field is absent.
    Missing,
    /// The key appears twice in one object.
    Duplicate,
    /// Valid JSON of the wrong type or shape (a string where an array is
    /// needed, a level that is not a `[price, qty]` pair).
    WrongType,
    /// A number outside what the field allows (a negative quantity, a price
    /// that is not positive, `U` after `u`).
    OutOfRange,
    /// The frame has none of the shapes this decoder knows.
    Unrecognised,
}

/// Why a frame did not decode. `Copy` and allocation-free; render the value
/// with [`DecodeError::display`] given the same frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The wire key (`"U"`, `"b"`, `"bids"`, ...), with `[].price` or
    /// `[].qty` for a level's element; `"frame"` for the envelope.
    pub field: &'static str,
    /// Level index within the field's array, for level errors.
    pub level: Option<u32>,
    /// The bytes of the offending value (for [`Cause::Missing`], the object
    /// that lacks the key).
    pub span: Span,
    /// What the decoder expected there.
    pub expected: &'static str,
    /// The underlying error.
    pub cause: Cause,
}

/// Counters by error kind, for [`DecodeStats`](super::DecodeStats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// [`Cause::Json`].
    pub json: u64,
    /// [`Cause::Fixed`].
    pub fixed: u64,
    /// [`Cause::Missing`].
    pub missing: u64,
    /// [`Cause::Duplicate`].
    pub duplicate: u64,
    /// [`Cause::WrongType`].
    pub wrong_type: u64,
    /// [`Cause::OutOfRange`].
    pub out_of_range: u64,
    /// [`Cause::Unrecognised`].
    pub unrecognised: u64,
}

impl ErrorCounts {
    /// Counts one error.
    pub fn count(&mut self, cause: &Cause) {
        let c = match cause {
            Cause::Json(_) => &mut self.json,
            Cause::Fixed(_) => &mut self.fixed,
            Cause::Missing => &mut self.missing,
            Cause::Duplicate => &mut self.duplicate,
            Cause::WrongType => &mut self.wrong_type,
            Cause::OutOfRange => &mut self.out_of_range,
            Cause::Unrecognised => &mut self.unrecognised,
        };
        *c += 1;
    }

    /// All errors counted.
    pub fn total(&self) -> u64 {
        self.json
            + self.fixed
            + self.missing
            + self.duplicate
            + self.wrong_type
            + self.out_of_range
            + self.unrecognised
    }
}

/// Values longer than this are shortened when rendered.
const SHOW_MAX: usize = 64;

impl DecodeError {
    pub(crate) fn new(
        field: &'static str,
        span: Span,
        expected: &'static str,
        cause: Cause,
    ) -> DecodeError {
        DecodeError {
            field,
            level: None,
            span,
            expected,
            cause,
        }
    }

    /// The error with the offending value shown from `frame` (the bytes that
    /// were decoded). Allocates only when formatted.
    pub fn display<'a>(&'a self, frame: &'a [u8]) -> impl fmt::Display + 'a {
        Shown { err: self, frame }
    }
}

struct Shown<'a> {
    err: &'a DecodeError,
    frame: &'a [u8],
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.err.span.of(self.frame);
        let (value, more) = match value.get(..SHOW_MAX) {
            Some(head) if value.len() > SHOW_MAX => (head, "…"),
            _ => (value, ""),
        };
        write!(
            f,
            "{} (value {:?}{more} at bytes {}..{})",
            self.err,
            String::from_utf8_lossy(value),
            self.err.span.start,
            self.err.span.end
        )
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field \"{}\"", self.field)?;
        if let Some(i) = self.level {
            write!(f, " level {i}")?;
        }
        match &self.cause {
            Cause::Json(e) => write!(f, ": {e}; expected {}", self.expected),
            Cause::Fixed(e) => write!(f, ": {e}; expected {}", self.expected),
            Cause::Missing => write!(f, " is missing; expected {}", self.expected),
            Cause::Duplicate => write!(f, " appears twice; expected {}", self.expected),
            Cause::WrongType => write!(f, " has the wrong type; expected {}", self.expected),
            Cause::OutOfRange => write!(f, " is out of range; expected {}", self.expected),
            Cause::Unrecognised => write!(f, ": unrecognised frame; expected {}", self.expected),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Json(e) => Some(e),
            Cause::Fixed(e) => Some(e),
            _ => None,
        }
    }
}
