//! Memory maps of segment files: the crate's only `unsafe`.
//!
//! The writer maps a segment read-write, readers (in any process) read-only.
//! The one word shared between them is a record's length word: the writer
//! publishes it with a release store after everything else in the record is
//! written, readers load it with acquire before they look at anything else.
//! Bytes of a committed record never change again, so a reader may hold a
//! slice of them.

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;
use std::sync::atomic::{AtomicU32, Ordering};

/// A read-write map of a whole segment file, held by the one writer.
#[derive(Debug)]
pub(crate) struct WriteMap {
    map: MmapMut,
}

impl WriteMap {
    /// Maps all of `file` read-write, faulting its pages in now.
    pub(crate) fn new(file: &File) -> std::io::Result<WriteMap> {
        // SAFETY: the file is a segment of a journal this process holds the
        // writer lock for, so no other process writes it; readers only read.
        // Truncation by another process would be a misuse the lock file
        // exists to prevent.
        let map = unsafe { MmapOptions::new().populate().map_mut(file)? };
        Ok(WriteMap { map })
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// Writes one byte in each page so that first writes on the append path
    /// do not take page faults.
    pub(crate) fn prefault(&mut self) {
        let page = 4096;
        let bytes: &mut [u8] = &mut self.map;
        let mut at = 0;
        while at < bytes.len() {
            bytes[at] = 0;
            at += page;
        }
    }

    /// Publishes a record's length word. Release: every byte of the record
    /// written before this is visible to a reader that loads the word with
    /// acquire and sees this value.
    #[inline]
    pub(crate) fn publish_len(&self, at: usize, word: u32) {
        assert!(
            at.is_multiple_of(8) && at + 4 <= self.map.len(),
            "length word out of place"
        );
        // SAFETY: `at` is in bounds and 8-aligned within a page-aligned map,
        // so the pointer is valid and aligned for an AtomicU32; the map lives
        // as long as `self`; no `&mut` to these bytes exists during the call
        // (`&self`).
        let word_ref = unsafe { &*(self.map.as_ptr().add(at) as *const AtomicU32) };
        word_ref.store(word, Ordering::Release);
    }

    /// Reads a length word (the writer's own view; no other writer exists).
    #[inline]
    pub(crate) fn len_word(&self, at: usize) -> u32 {
        load_len(&self.map, at)
    }

    /// Writes dirty pages of `range` to the file.
    pub(crate) fn flush_range(&self, start: usize, len: usize) -> std::io::Result<()> {
        self.map.flush_range(start, len)
    }
}

/// A read-only map of a whole segment file.
#[derive(Debug)]
pub(crate) struct ReadMap {
    map: Mmap,
}

impl ReadMap {
    pub(crate) fn new(file: &File) -> std::io::Result<ReadMap> {
        // SAFETY: read-only map of a journal segment. The only writer appends
        // into space no reader has seen as committed and never rewrites a
        // committed record; readers look at a record only after its length
        // word's acquire load (see `load_len`). Segment files are created at
        // full size and never shrunk while mapped.
        let map = unsafe { MmapOptions::new().map(file)? };
        Ok(ReadMap { map })
    }

    /// The bytes of a range the caller knows to be committed (or, for a
    /// journal no writer holds, anything).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Acquire-loads the length word at `at`; 0 when out of bounds.
    #[inline]
    pub(crate) fn len_word(&self, at: usize) -> u32 {
        load_len(&self.map, at)
    }
}

/// Acquire load of the length word at `at`: pairs with `publish_len`.
#[inline]
fn load_len(bytes: &[u8], at: usize) -> u32 {
    if !at.is_multiple_of(4) || at.checked_add(4).is_none_or(|end| end > bytes.len()) {
        return 0;
    }
    // SAFETY: in bounds (checked above) and 4-aligned (`at` is, and the map
    // starts on a page boundary); AtomicU32 has the layout of u32; the
    // reference is only used for one load, which never writes, so it is sound
    // on a read-only map too.
    let word = unsafe { &*(bytes.as_ptr().add(at) as *const AtomicU32) };
    word.load(Ordering::Acquire)
}

/// Asks the file system to allocate all of `file`'s `len` bytes now (one call
/// instead of a page fault per page later). Best effort: a file system without
/// `fallocate` simply leaves the work to the faults.
pub(crate) fn allocate(file: &File, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Ok(len) = libc::off_t::try_from(len) else {
            return;
        };
        // SAFETY: `fallocate` on a file descriptor this function borrows for
        // the duration of the call; mode 0 only allocates space and never
        // touches memory of this process.
        let _ = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len);
}
