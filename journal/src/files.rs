//! Segment and index files in a journal directory.

use crate::format::{SegmentHeader, record, segment};
use crate::map::WriteMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// File name of segment `number`.
pub(crate) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.seg"))
}

/// File name of segment `number`'s sparse index.
pub(crate) fn index_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.idx"))
}

/// Segment numbers present in `dir`, ascending.
pub(crate) fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".seg")
            && stem.len() == 20
            && let Ok(n) = stem.parse::<u64>()
        {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Reads the header of segment `number`.
pub(crate) fn read_header(
    dir: &Path,
    number: u64,
) -> io::Result<Result<SegmentHeader, crate::format::HeaderError>> {
    use std::io::Read;
    let mut file = File::open(segment_path(dir, number))?;
    let mut bytes = [0u8; segment::HEADER_LEN];
    let mut got = 0;
    while got < bytes.len() {
        let n = file.read(&mut bytes[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(SegmentHeader::decode(&bytes[..got]))
}

/// Name a retired segment's file takes while it is zeroed for reuse; never
/// matches a segment name, so readers and recovery do not see it.
pub(crate) const RECYCLING: &str = "recycling.seg.tmp";

/// A finished segment, kept mapped by the helper thread until retention
/// removes it, so that its file and map can be reused without page faults.
#[derive(Debug)]
pub(crate) struct Retired {
    pub(crate) number: u64,
    pub(crate) file: File,
    pub(crate) map: WriteMap,
    pub(crate) index: IndexFile,
}

/// A segment file created at full size and mapped, its header still blank.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) file: File,
    pub(crate) map: WriteMap,
    pub(crate) index: IndexFile,
}

/// Creates (or reuses a blank) segment `number` of `size` bytes, maps it and
/// faults every page in.
pub(crate) fn prepare(
    dir: &Path,
    number: u64,
    size: u64,
    index_interval: u32,
) -> io::Result<Prepared> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(segment_path(dir, number))?;
    file.set_len(size)?;
    crate::map::allocate(&file, size);
    let mut map = WriteMap::new(&file)?;
    map.prefault();
    let index = IndexFile::create(dir, number, size, index_interval)?;
    Ok(Prepared { file, map, index })
}

/// The sparse index of one segment: every `interval`-th record's sequence
/// number and offset, as 16-byte entries `[seq + 1: u64][offset: u64]`.
/// An entry whose first word is 0 is unused; the writer stores the offset
/// first and the sequence word last.
#[derive(Debug)]
pub(crate) struct IndexFile {
    map: WriteMap,
    next: usize,
}

/// Bytes per index entry.
pub(crate) const INDEX_ENTRY: usize = 16;

impl IndexFile {
    pub(crate) fn create(
        dir: &Path,
        number: u64,
        segment_size: u64,
        interval: u32,
    ) -> io::Result<IndexFile> {
        let max_records = segment_size / record::HEADER_LEN as u64;
        let entries = max_records / u64::from(interval.max(1)) + 2;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(index_path(dir, number))?;
        file.set_len(entries * INDEX_ENTRY as u64)?;
        let map = WriteMap::new(&file)?;
        let mut index = IndexFile { map, next: 0 };
        // Resume after the entries already there (reopening after a crash).
        while index.next + INDEX_ENTRY <= index.map.len()
            && index.entry(index.next / INDEX_ENTRY).is_some()
        {
            index.next += INDEX_ENTRY;
        }
        Ok(index)
    }

    fn entry(&self, i: usize) -> Option<(u64, u64)> {
        let at = i * INDEX_ENTRY;
        let bytes = self.map.bytes().get(at..at + INDEX_ENTRY)?;
        let seq_plus_one = crate::format::u64_at(bytes, 0);
        (seq_plus_one != 0).then(|| (seq_plus_one - 1, crate::format::u64_at(bytes, 8)))
    }

    /// Adds an entry; silently stops when the file is full (the index is
    /// only a shortcut; a reader falls back to scanning).
    pub(crate) fn push(&mut self, seq: u64, offset: u64) {
        let at = self.next;
        let bytes = self.map.bytes_mut();
        if at + INDEX_ENTRY > bytes.len() {
            return;
        }
        bytes[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        bytes[at..at + 8].copy_from_slice(&(seq + 1).to_le_bytes());
        self.next += INDEX_ENTRY;
    }

    /// Removes entries at or beyond `offset` (after recovery cut the tail).
    pub(crate) fn truncate_from(&mut self, offset: u64) {
        let mut i = 0;
        while let Some((_, at)) = self.entry(i) {
            if at >= offset {
                let start = i * INDEX_ENTRY;
                let bytes = self.map.bytes_mut();
                bytes[start..].fill(0);
                self.next = start;
                return;
            }
            i += 1;
        }
    }
}

/// Looks up the best starting offset for `seq` in segment `number`'s index:
/// the offset of the last indexed record at or before it.
pub(crate) fn index_lookup(dir: &Path, number: u64, seq: u64) -> Option<(u64, u64)> {
    let file = File::open(index_path(dir, number)).ok()?;
    let map = crate::map::ReadMap::new(&file).ok()?;
    let bytes = map.bytes();
    let mut best = None;
    let mut at = 0;
    while at + INDEX_ENTRY <= bytes.len() {
        let seq_plus_one = crate::format::u64_at(bytes, at);
        if seq_plus_one == 0 || seq_plus_one - 1 > seq {
            break;
        }
        best = Some((seq_plus_one - 1, crate::format::u64_at(bytes, at + 8)));
        at += INDEX_ENTRY;
    }
    best
}
