//! End-to-end tests and the helper processes they start.
//!
//! `journal-child` is a writer process for the journal's crash and
//! cross-process tests; the deterministic record contents it writes are
//! defined here so the tests can check every byte.
#![deny(unsafe_code)]

pub mod alloc;
pub mod binance_futures;
pub mod data;
pub mod gateway;
pub mod graph;
pub mod postgres;

/// Kind of the records `journal-child` writes.
pub const CHILD_KIND: u16 = 7;

/// The payload of record `seq`: its length varies from 0 to 299 bytes so
/// records straddle segment ends at every alignment.
pub fn child_payload(seq: u64) -> Vec<u8> {
    let len = (seq.wrapping_mul(13) % 300) as usize;
    (0..len)
        .map(|i| (seq as usize).wrapping_mul(31).wrapping_add(i * 7) as u8)
        .collect()
}

/// The timestamp of record `seq`.
pub fn child_timestamp(seq: u64) -> i64 {
    1_700_000_000_000_000_000 + seq as i64
}

/// A fresh directory for one test, removed when the test ends, passed or
/// failed. Dereferences to its path.
#[derive(Debug)]
pub struct TestDir(std::path::PathBuf);

impl TestDir {
    /// `<temp>/pt-test-<tag>-<pid>`, emptied first; `tag` must be unique
    /// within the test binary.
    pub fn new(tag: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!("pt-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TestDir(dir)
    }
}

impl std::ops::Deref for TestDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
