//! `pt-journal`: the system of record.
//!
//! A journal is a directory of fixed-size, memory-mapped segment files
//! holding 8-byte-aligned, checksummed records with consecutive sequence
//! numbers. One [`Writer`] per journal (a lock file names its pid) appends
//! with zero-copy [`Writer::claim`] + [`Claim::commit`] or [`Writer::append`];
//! any number of [`Tailer`]s, in any process, read through read-only maps and
//! never see a partial record. Opening the writer recovers from a crash:
//! it cuts a torn tail and resumes the sequence ([`Recovery`]). The format is
//! specified in `docs/JOURNAL-FORMAT.md` and pinned by [`format`]'s tests.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod crc;
mod error;
mod files;
pub mod format;
mod inspect;
mod lock;
mod map;
mod prepare;
mod scan;
mod tailer;
mod writer;

pub use error::JournalError;
pub use inspect::{
    JournalInfo, Problem, Retention, SegmentInfo, VerifyReport, info, prune, removable, verify,
};
pub use lock::LOCK_FILE;
pub use scan::{BadRecord, RecordRef, SegmentCheck, check_segment};
pub use tailer::{Position, StartAt, TAILERS_DIR, Tailer, named_positions};
pub use writer::{Claim, Cut, Durability, Recovery, Writer, WriterConfig};
