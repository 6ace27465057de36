//! Errors of journal operations.

use crate::format::HeaderError;
use crate::scan::BadRecord;
use std::path::PathBuf;

/// Why a journal operation failed.
#[derive(Debug)]
pub enum JournalError {
    /// A file operation failed.
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another live process holds the writer lock.
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The pid written in it, if readable.
        pid: Option<u32>,
    },
    /// A segment header is damaged.
    BadHeader {
        /// Segment number.
        segment: u64,
        /// What is wrong.
        error: HeaderError,
    },
    /// A record in a closed segment is damaged (recovery only repairs the tail).
    Corrupt {
        /// Segment number.
        segment: u64,
        /// Byte offset in the segment.
        offset: u64,
        /// What is wrong.
        error: BadRecord,
    },
    /// The journal directory holds no segments.
    Empty {
        /// The directory.
        dir: PathBuf,
    },
    /// A payload larger than a segment can hold.
    TooLarge {
        /// Requested payload length.
        len: usize,
        /// The largest payload this journal accepts.
        max: usize,
    },
    /// Kind 0 and 0xFFFF are reserved.
    ReservedKind(u16),
    /// Consecutive segments do not continue each other's sequence numbers.
    SequenceBreak {
        /// The later segment.
        segment: u64,
        /// The sequence number it should start with.
        expected: u64,
        /// The one it starts with.
        found: u64,
    },
    /// A configuration value is out of range.
    Config(String),
    /// Retention removed (and the writer reused) the segment this tailer was
    /// reading: it fell further behind than the retention budget allows.
    Recycled {
        /// The segment it was reading.
        segment: u64,
    },
}

impl core::fmt::Display for JournalError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JournalError::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            JournalError::Locked {
                path,
                pid: Some(pid),
            } => write!(
                f,
                "journal is being written by process {pid} (lock file {}); only one writer may hold a journal",
                path.display()
            ),
            JournalError::Locked { path, pid: None } => {
                write!(
                    f,
                    "journal is locked by another writer (lock file {})",
                    path.display()
                )
            }
            JournalError::BadHeader { segment, error } => write!(f, "segment {segment}: {error}"),
            JournalError::Corrupt {
                segment,
                offset,
                error,
            } => {
                write!(f, "segment {segment} offset {offset}: {error}")
            }
            JournalError::Empty { dir } => write!(f, "{} holds no journal segments", dir.display()),
            JournalError::TooLarge { len, max } => {
                write!(
                    f,
                    "payload of {len} bytes is larger than the {max} bytes a segment holds"
                )
            }
            JournalError::ReservedKind(k) => {
                write!(f, "record kind {k:#06x} is reserved; use 1..=0xFFFE")
            }
            JournalError::SequenceBreak {
                segment,
                expected,
                found,
            } => write!(
                f,
                "segment {segment} starts at sequence {found}; the previous segment ends before {expected}"
            ),
            JournalError::Config(msg) => f.write_str(msg),
            JournalError::Recycled { segment } => write!(
                f,
                "segment {segment} was removed by retention while this tailer was reading it; the tailer fell behind the retention budget (use a named tailer to hold segments back)"
            ),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(crate) fn io(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.into();
    move |source| JournalError::Io {
        action,
        path,
        source,
    }
}
