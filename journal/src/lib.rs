//! `pt-journal`: the system of record.
//!
//! This crate will hold the mmap-backed, segmented, append-only journal: one
//! writer per journal guarded by a lock file, read-only tailers in any process,
//! crash recovery that truncates a torn tail, and retention. The format is
//! specified in `docs/JOURNAL-FORMAT.md` once it exists.
//!
//! Nothing is implemented yet; the crate exists so the workspace layout and the
//! dependency graph match `docs/ARCHITECTURE.md`.
#![forbid(unsafe_code)]
