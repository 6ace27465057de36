//! The one writer of a journal.

use crate::error::{JournalError, io};
use crate::files::{IndexFile, index_path, list_segments, prepare, read_header, segment_path};
use crate::format::{
    HeaderError, KIND_SEGMENT_END, SegmentHeader, record, record_crc, record_span, segment,
};
use crate::inspect::scan_segment;
use crate::lock::WriterLock;
use crate::map::WriteMap;
use crate::prepare::Preparer;
use crate::scan::{BadRecord, WalkEnd, walk};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// When written records reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Left in the page cache for the OS to write back: survives a crash of
    /// the process, not of the host. Fastest.
    PageCache,
    /// Also written to disk by a background thread at this interval, and when
    /// a segment is finished.
    Periodic(Duration),
    /// Written to disk when [`Writer::flush`] is called, and when a segment is
    /// finished.
    OnDemand,
}

/// How a journal is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    /// Size of each segment file (at least 64 KiB, a multiple of 4096).
    pub segment_size: u64,
    /// When records reach the disk.
    pub durability: Durability,
    /// Every this many records, the segment's sparse index records where one is.
    pub index_interval: u32,
    /// Applied by the writer's helper thread at every segment roll. Removed
    /// segments are recycled as new ones (no page allocation in steady
    /// state). `None`: keep everything.
    pub retention: Option<crate::inspect::Retention>,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            segment_size: 64 << 20,
            durability: Durability::PageCache,
            index_interval: 1024,
            retention: None,
        }
    }
}

/// What opening the journal found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Segments in the journal after opening.
    pub segments: usize,
    /// Records found in the last segment.
    pub tail_records: u64,
    /// The sequence number the next record gets.
    pub next_seq: u64,
    /// Bytes after the last valid record that were cut.
    pub cut: Option<Cut>,
    /// The pid of a writer that died holding the lock.
    pub stale_lock_pid: Option<u32>,
    /// Segment files that held no record and that no end marker pointed to
    /// (prepared, or started by a roll the process did not finish), removed.
    pub blank_removed: Vec<u64>,
}

/// Bytes cut from the tail on recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Segment number.
    pub segment: u64,
    /// Offset of the first byte cut.
    pub offset: u64,
    /// Bytes cut (up to the last non-zero byte).
    pub bytes: u64,
    /// What was there: a damaged record, or `None` for the bytes of a record
    /// that was being written and never committed.
    pub reason: Option<BadRecord>,
}

impl core::fmt::Display for Recovery {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} segments, next sequence {}",
            self.segments, self.next_seq
        )?;
        if let Some(cut) = &self.cut {
            write!(
                f,
                "; cut {} bytes at segment {} offset {}",
                cut.bytes, cut.segment, cut.offset
            )?;
            match cut.reason {
                Some(reason) => write!(f, " ({reason})")?,
                None => f.write_str(" (a record that was never committed)")?,
            }
        }
        if let Some(pid) = self.stale_lock_pid {
            write!(
                f,
                "; took over the lock of process {pid}, which is no longer running"
            )?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Active {
    number: u64,
    file: File,
    map: WriteMap,
    index: IndexFile,
    offset: usize,
    flushed_to: usize,
}

/// Background `fdatasync` of the active segment.
#[derive(Debug)]
struct Flusher {
    file: Arc<Mutex<Option<File>>>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Flusher {
    fn start(interval: Duration, file: File) -> std::io::Result<Flusher> {
        let shared = Arc::new(Mutex::new(Some(file)));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, s) = (shared.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name("pt-journal-sync".into())
            .spawn(move || {
                // Relaxed: a stop request needs no ordering with other memory.
                while !s.load(Ordering::Relaxed) {
                    std::thread::park_timeout(interval);
                    if let Ok(guard) = f.lock()
                        && let Some(file) = guard.as_ref()
                    {
                        let _ = file.sync_data();
                    }
                }
            })?;
        Ok(Flusher {
            file: shared,
            stop,
            handle: Some(handle),
        })
    }

    fn switch_to(&self, file: File) {
        if let Ok(mut guard) = self.file.lock() {
            *guard = Some(file);
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

/// The single writer of a journal directory.
#[derive(Debug)]
pub struct Writer {
    dir: PathBuf,
    config: WriterConfig,
    active: Active,
    next_seq: u64,
    since_index: u32,
    preparer: Preparer,
    flusher: Option<Flusher>,
    _lock: WriterLock,
}

/// Space claimed for one record; fill [`Claim::payload`] then [`Claim::commit`].
/// Dropped without committing, nothing is written.
#[derive(Debug)]
pub struct Claim<'w> {
    writer: &'w mut Writer,
    len: usize,
    flags: u16,
    committed: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.committed {
            // Abandoned: clear what was written so the file holds no bytes
            // of a record that does not exist.
            self.payload().fill(0);
        }
    }
}

/// The wall clock, ns since the Unix epoch (segment creation times, retention).
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

impl Writer {
    /// Opens (or creates) the journal in `dir`, taking the writer lock and
    /// repairing a torn tail.
    pub fn open(dir: &Path, config: WriterConfig) -> Result<(Writer, Recovery), JournalError> {
        if config.segment_size < 64 << 10
            || !config.segment_size.is_multiple_of(4096)
            || config.segment_size > 1 << 40
        {
            return Err(JournalError::Config(format!(
                "segment size {} is invalid; expected a multiple of 4096 from 65536 to 2^40",
                config.segment_size
            )));
        }
        if config.index_interval == 0 {
            return Err(JournalError::Config(
                "index interval must be at least 1".into(),
            ));
        }
        std::fs::create_dir_all(dir).map_err(io("create the journal directory", dir))?;
        let (lock, stale_lock_pid) = WriterLock::acquire(dir)?;
        let mut recovery = Recovery {
            stale_lock_pid,
            ..Recovery::default()
        };

        let numbers = list_segments(dir).map_err(io("list", dir))?;
        let mut headers: Vec<SegmentHeader> = Vec::with_capacity(numbers.len());
        for (i, &number) in numbers.iter().enumerate() {
            match read_header(dir, number).map_err(io("read", segment_path(dir, number)))? {
                Ok(h) if h.number == number => headers.push(h),
                Ok(_) => {
                    return Err(JournalError::BadHeader {
                        segment: number,
                        error: HeaderError::Magic,
                    });
                }
                // A blank segment at the end was prepared and never started.
                Err(HeaderError::Blank | HeaderError::Short) if i + 1 == numbers.len() => {
                    remove_unstarted(dir, number, &mut recovery)?;
                }
                // A roll killed while writing the header: the segment before
                // has no end marker, so nothing was ever written here.
                Err(HeaderError::Crc | HeaderError::Magic)
                    if i + 1 == numbers.len() && ends_open(dir, headers.last())? =>
                {
                    remove_unstarted(dir, number, &mut recovery)?;
                }
                Err(error) => {
                    return Err(JournalError::BadHeader {
                        segment: number,
                        error,
                    });
                }
            }
        }

        // A roll killed after starting the next segment and before marking
        // the end of this one: the newest segment holds no record and no end
        // marker points to it, so it was never started.
        if let [.., prev, last] = headers[..] {
            let (newest, bad) = scan_segment(dir, &last)?;
            if newest.records == 0 && bad.is_none() && ends_open(dir, Some(&prev))? {
                remove_unstarted(dir, last.number, &mut recovery)?;
                headers.pop();
            }
        }

        let (active, next_seq) = match headers.last() {
            None => (start_segment(dir, &config, 0, 0)?, 0),
            Some(last) => recover_tail(dir, &config, last, &mut recovery)?,
        };
        recovery.segments = list_segments(dir).map_err(io("list", dir))?.len();
        recovery.next_seq = next_seq;

        let mut preparer = Preparer::start(
            dir.to_path_buf(),
            config.segment_size,
            config.index_interval,
            config.retention,
        )
        .map_err(io("start the segment preparer for", dir))?;
        preparer.request(active.number + 1);
        let flusher = match config.durability {
            Durability::Periodic(interval) => {
                let file = active
                    .file
                    .try_clone()
                    .map_err(io("open", segment_path(dir, active.number)))?;
                Some(Flusher::start(interval, file).map_err(io("start the sync thread for", dir))?)
            }
            _ => None,
        };
        let writer = Writer {
            dir: dir.to_path_buf(),
            config,
            active,
            next_seq,
            since_index: 0,
            preparer,
            flusher,
            _lock: lock,
        };
        Ok((writer, recovery))
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sequence number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The largest payload a record may have.
    pub fn max_payload(&self) -> usize {
        (self.active.map.len().min(self.config.segment_size as usize))
            .saturating_sub(segment::HEADER_LEN + 2 * record::HEADER_LEN)
    }

    /// Claims space for a record of `len` payload bytes, rolling to a new
    /// segment first if this one is full.
    #[inline]
    pub fn claim(&mut self, len: usize) -> Result<Claim<'_>, JournalError> {
        let needed = record_span(len) + record::HEADER_LEN;
        if self.active.offset + needed > self.active.map.len() {
            if len > self.max_payload() {
                return Err(JournalError::TooLarge {
                    len,
                    max: self.max_payload(),
                });
            }
            self.roll()?;
        }
        Ok(Claim {
            writer: self,
            len,
            flags: 0,
            committed: false,
        })
    }

    /// Appends one record; returns its sequence number.
    #[inline]
    pub fn append(
        &mut self,
        kind: u16,
        timestamp: i64,
        payload: &[u8],
    ) -> Result<u64, JournalError> {
        if kind == 0 || kind == KIND_SEGMENT_END {
            return Err(JournalError::ReservedKind(kind));
        }
        let mut claim = self.claim(payload.len())?;
        claim.payload().copy_from_slice(payload);
        claim.commit(kind, timestamp)
    }

    /// Writes every record appended so far to disk.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        let a = &mut self.active;
        let start = a.flushed_to.min(a.offset);
        a.map
            .flush_range(start, a.offset - start)
            .map_err(io("sync", segment_path(&self.dir, a.number)))?;
        a.flushed_to = a.offset;
        Ok(())
    }

    fn roll(&mut self) -> Result<(), JournalError> {
        let number = self.active.number + 1;
        let mut next = self
            .preparer
            .take(number)
            .map_err(io("prepare", segment_path(&self.dir, number)))?;
        let header = SegmentHeader {
            number,
            first_seq: self.next_seq,
            created_ns: now_ns(),
            size: next.map.len() as u64,
        };
        next.map.bytes_mut()[..segment::HEADER_LEN].copy_from_slice(&header.encode());
        // The next segment is whole before the end marker sends readers to it.
        let old = &mut self.active;
        let at = old.offset;
        old.map.bytes_mut()[at + record::KIND_AT..at + record::KIND_AT + 2]
            .copy_from_slice(&KIND_SEGMENT_END.to_le_bytes());
        old.map.publish_len(at, record::COMMITTED);
        if self.config.durability != Durability::PageCache {
            old.map
                .flush_range(0, old.map.len())
                .map_err(io("sync", segment_path(&self.dir, old.number)))?;
        }
        let finished = core::mem::replace(
            &mut self.active,
            Active {
                number,
                file: next.file,
                map: next.map,
                index: next.index,
                offset: segment::HEADER_LEN,
                flushed_to: 0,
            },
        );
        self.preparer.retire(crate::files::Retired {
            number: finished.number,
            file: finished.file,
            map: finished.map,
            index: finished.index,
        });
        self.since_index = 0;
        if let Some(flusher) = &self.flusher
            && let Ok(file) = self.active.file.try_clone()
        {
            flusher.switch_to(file);
        }
        self.preparer.request(number + 1);
        Ok(())
    }
}

impl Claim<'_> {
    /// The payload bytes to fill.
    #[inline]
    pub fn payload(&mut self) -> &mut [u8] {
        let at = self.writer.active.offset + record::HEADER_LEN;
        &mut self.writer.active.map.bytes_mut()[at..at + self.len]
    }

    /// Sets the record's flags.
    pub fn set_flags(&mut self, flags: u16) {
        self.flags = flags;
    }

    /// Publishes the record; returns its sequence number.
    #[inline]
    pub fn commit(mut self, kind: u16, timestamp: i64) -> Result<u64, JournalError> {
        if kind == 0 || kind == KIND_SEGMENT_END {
            return Err(JournalError::ReservedKind(kind));
        }
        self.committed = true;
        let len = self.len;
        let flags = self.flags;
        let w = &mut *self.writer;
        let at = w.active.offset;
        let seq = w.next_seq;
        let span = record_span(len);
        let bytes = w.active.map.bytes_mut();
        {
            let header = &mut bytes[at..at + record::HEADER_LEN];
            header[record::KIND_AT..record::KIND_AT + 2].copy_from_slice(&kind.to_le_bytes());
            header[record::FLAGS_AT..record::FLAGS_AT + 2].copy_from_slice(&flags.to_le_bytes());
            header[record::SEQ_AT..record::SEQ_AT + 8].copy_from_slice(&seq.to_le_bytes());
            header[record::TIMESTAMP_AT..record::TIMESTAMP_AT + 8]
                .copy_from_slice(&timestamp.to_le_bytes());
            header[record::RESERVED_AT..record::RESERVED_AT + 4].fill(0);
        }
        // Padding may hold bytes of an abandoned claim; keep the file clean.
        bytes[at + record::HEADER_LEN + len..at + span].fill(0);
        let crc = record_crc(
            &bytes[at..at + record::HEADER_LEN],
            &bytes[at + record::HEADER_LEN..at + record::HEADER_LEN + len],
        );
        bytes[at + record::CRC_AT..at + record::CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
        w.active.map.publish_len(at, len as u32 | record::COMMITTED);
        w.active.offset = at + span;
        w.next_seq = seq + 1;
        w.since_index += 1;
        if w.since_index >= w.config.index_interval {
            w.since_index = 0;
            w.active.index.push(seq, at as u64);
        }
        Ok(seq)
    }
}

/// Whether segment `header` (if any) lacks its end marker.
fn ends_open(dir: &Path, header: Option<&SegmentHeader>) -> Result<bool, JournalError> {
    match header {
        Some(h) => Ok(!scan_segment(dir, h)?.0.finished),
        None => Ok(false),
    }
}

/// Removes segment `number` and its index: prepared or started by a roll
/// that never finished, it holds no record.
fn remove_unstarted(dir: &Path, number: u64, recovery: &mut Recovery) -> Result<(), JournalError> {
    let path = segment_path(dir, number);
    std::fs::remove_file(&path).map_err(io("remove", &path))?;
    let _ = std::fs::remove_file(index_path(dir, number));
    recovery.blank_removed.push(number);
    Ok(())
}

fn start_segment(
    dir: &Path,
    config: &WriterConfig,
    number: u64,
    first_seq: u64,
) -> Result<Active, JournalError> {
    let mut p = prepare(dir, number, config.segment_size, config.index_interval)
        .map_err(io("create", segment_path(dir, number)))?;
    let header = SegmentHeader {
        number,
        first_seq,
        created_ns: now_ns(),
        size: config.segment_size,
    };
    p.map.bytes_mut()[..segment::HEADER_LEN].copy_from_slice(&header.encode());
    Ok(Active {
        number,
        file: p.file,
        map: p.map,
        index: p.index,
        offset: segment::HEADER_LEN,
        flushed_to: 0,
    })
}

/// Scans the last segment, cuts whatever follows its last valid record, and
/// returns it ready for appending.
fn recover_tail(
    dir: &Path,
    config: &WriterConfig,
    last: &SegmentHeader,
    recovery: &mut Recovery,
) -> Result<(Active, u64), JournalError> {
    let path = segment_path(dir, last.number);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io("open", &path))?;
    // Segments are created at full size; a different length means the file
    // was cut or padded by something other than this writer.
    let len = file.metadata().map_err(io("read", &path))?.len();
    if len != last.size {
        return Err(JournalError::BadHeader {
            segment: last.number,
            error: HeaderError::Size,
        });
    }
    let mut map = WriteMap::new(&file).map_err(io("map", &path))?;
    let w = walk(map.bytes(), |at| map.len_word(at), last.first_seq);
    let (offset, seq) = (w.offset, last.first_seq + w.records);
    recovery.tail_records = w.records;
    let ended = w.end == WalkEnd::Marker;
    let reason = match w.end {
        WalkEnd::Bad(bad) => Some(bad),
        _ => None,
    };
    if !ended {
        let tail = &mut map.bytes_mut()[offset..];
        if let Some(last_nonzero) = tail.iter().rposition(|&b| b != 0) {
            tail[..=last_nonzero].fill(0);
            recovery.cut = Some(Cut {
                segment: last.number,
                offset: offset as u64,
                bytes: last_nonzero as u64 + 1,
                reason,
            });
            map.flush_range(offset, last_nonzero + 1)
                .map_err(io("sync", &path))?;
        }
    }
    let mut index = IndexFile::create(dir, last.number, map.len() as u64, config.index_interval)
        .map_err(io("open the index of", &path))?;
    index.truncate_from(offset as u64);
    if ended {
        // Crashed between finishing this segment and starting the next.
        drop(map);
        return Ok((start_segment(dir, config, last.number + 1, seq)?, seq));
    }
    let flushed_to = offset;
    Ok((
        Active {
            number: last.number,
            file,
            map,
            index,
            offset,
            flushed_to,
        },
        seq,
    ))
}
