//! Decode errors shared by the venue decoders (Kalshi and Polymarket).
//!
//! A [`DecodeError`] is `Copy` and allocation-free: it names the message
//! type, the field and the byte range of the offending value in the frame,
//! and says what was expected. [`DecodeError::display`] renders it together
//! with the frame so the reader sees the value itself.

use crate::json::JsonError;
use core::fmt;
use pt_engine::model::FixedError;

/// A byte range `start..end` in the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes are not the JSON expected here.
    Json(JsonError),
    /// A decimal string or number is not an exact fixed-point value.
    Fixed(FixedError),
    /// A required field is absent (the span covers the object searched).
    Missing,
    /// The value has the right JSON type but is not one of the allowed
    /// values or is out of range.
    Invalid {
        /// What was expected.
        expected: &'static str,
    },
    /// A string that is not UTF-8.
    NotUtf8,
    /// A `type` (Kalshi) the decoder does not know.
    UnknownType,
    /// An `event_type` (Polymarket) the decoder does not handle.
    UnsupportedEventType,
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The message type being decoded (`"orderbook_delta"`), or
    /// `"envelope"` before the type is known.
    pub message: &'static str,
    /// The field whose value is wrong or missing; `""` for the frame itself.
    pub field: &'static str,
    /// The byte range of the offending value in the frame.
    pub span: Span,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl DecodeError {
    /// Renders the error with the offending bytes taken from `frame` (the
    /// frame that was decoded; another frame only shows other bytes).
    pub fn display<'a>(&'a self, frame: &'a [u8]) -> ErrorDisplay<'a> {
        ErrorDisplay { err: self, frame }
    }

    /// The kind the frame was refused for, as the venue sent it: for
    /// [`ErrorKind::UnknownType`] and [`ErrorKind::UnsupportedEventType`],
    /// the string at the error's span in `frame` (the decoded frame)
    /// without its quotes, JSON escapes left encoded. `None` for every
    /// other error, or when the span is not a string in `frame`.
    pub fn refused_kind<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        if !matches!(
            self.kind,
            ErrorKind::UnknownType | ErrorKind::UnsupportedEventType
        ) {
            return None;
        }
        match frame.get(self.span.start..self.span.end)? {
            [b'"', name @ .., b'"'] => Some(name),
            _ => None,
        }
    }
}

/// At most this many bytes of a value are shown.
const SHOW: usize = 80;

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_head(self, f)?;
        write!(f, " (bytes {}..{})", self.span.start, self.span.end)
    }
}

impl std::error::Error for DecodeError {}

fn write_head(e: &DecodeError, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if e.field.is_empty() {
        write!(f, "{}: ", e.message)?;
    } else {
        write!(f, "{}.{}: ", e.message, e.field)?;
    }
    match e.kind {
        ErrorKind::Json(j) => write!(f, "{j}"),
        ErrorKind::Fixed(x) => write!(f, "not an exact decimal: {x}"),
        ErrorKind::Missing => write!(f, "required field is missing"),
        ErrorKind::Invalid { expected } => write!(f, "expected {expected}"),
        ErrorKind::NotUtf8 => write!(f, "string is not UTF-8"),
        ErrorKind::UnknownType => write!(f, "unknown message type"),
        ErrorKind::UnsupportedEventType => write!(f, "unsupported event_type"),
    }
}

/// A [`DecodeError`] with the frame it came from; see [`DecodeError::display`].
#[derive(Debug)]
pub struct ErrorDisplay<'a> {
    err: &'a DecodeError,
    frame: &'a [u8],
}

impl fmt::Display for ErrorDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_head(self.err, f)?;
        let Span { start, end } = self.err.span;
        let end = end.min(self.frame.len());
        let start = start.min(end);
        let value = self.frame.get(start..end).unwrap_or(&[]);
        let shown = value.get(..SHOW).unwrap_or(value);
        write!(f, "; value at bytes {start}..{end}: `")?;
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        if shown.len() < value.len() {
            f.write_str("…")?;
        }
        f.write_str("`")
    }
}

/// Errors counted by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounters {
    /// [`ErrorKind::Json`].
    pub json: u64,
    /// [`ErrorKind::Fixed`].
    pub fixed: u64,
    /// [`ErrorKind::Missing`].
    pub missing: u64,
    /// [`ErrorKind::Invalid`].
    pub invalid: u64,
    /// [`ErrorKind::NotUtf8`].
    pub not_utf8: u64,
    /// [`ErrorKind::UnknownType`].
    pub unknown_type: u64,
    /// [`ErrorKind::UnsupportedEventType`].
    pub unsupported_event_type: u64,
}

impl ErrorCounters {
    /// Counts one error of `kind`.
    pub fn count(&mut self, kind: &ErrorKind) {
        let c = match kind {
            ErrorKind::Json(_) => &mut self.json,
            ErrorKind::Fixed(_) => &mut self.fixed,
            ErrorKind::Missing => &mut self.missing,
            ErrorKind::Invalid { .. } => &mut self.invalid,
            ErrorKind::NotUtf8 => &mut self.not_utf8,
            ErrorKind::UnknownType => &mut self.unknown_type,
            ErrorKind::UnsupportedEventType => &mut self.unsupported_event_type,
        };
        *c += 1;
    }

    /// All errors.
    pub fn total(&self) -> u64 {
        self.json
            + self.fixed
            + self.missing
            + self.invalid
            + self.not_utf8
            + self.unknown_type
            + self.unsupported_event_type
    }
}
