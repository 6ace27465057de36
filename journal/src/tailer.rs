//! Readers of a journal, in this process or any other.

use crate::error::{JournalError, io};
use crate::files::{index_lookup, list_segments, read_header, segment_path};
use crate::format::{SegmentHeader, record, segment};
use crate::map::ReadMap;
use crate::scan::{BadRecord, RecordRef, Step, step};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Where a new tailer starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest record still in the journal.
    Beginning,
    /// After the newest record: only records appended from now on.
    End,
    /// The record with this sequence number (or the first after it, if it
    /// was removed; the next one appended, if it is in the future).
    Seq(u64),
}

/// A place in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Segment number.
    pub segment: u64,
    /// Byte offset of the next record in it.
    pub offset: u64,
    /// Sequence number of the next record.
    pub next_seq: u64,
}

/// Folder of named tailers' saved positions.
pub const TAILERS_DIR: &str = "tailers";

/// Reads records in order through read-only maps; never sees a partial record.
#[derive(Debug)]
pub struct Tailer {
    dir: PathBuf,
    segment: u64,
    map: ReadMap,
    offset: usize,
    next_seq: u64,
    skip_below: u64,
    name: Option<String>,
}

fn valid_segments(dir: &Path) -> Result<Vec<SegmentHeader>, JournalError> {
    let mut headers = Vec::new();
    for number in list_segments(dir).map_err(io("list", dir))? {
        if let Ok(Ok(h)) = read_header(dir, number) {
            headers.push(h);
        }
    }
    Ok(headers)
}

fn map_segment(dir: &Path, number: u64) -> Result<ReadMap, JournalError> {
    let path = segment_path(dir, number);
    let file = File::open(&path).map_err(io("open", &path))?;
    ReadMap::new(&file).map_err(io("map", &path))
}

impl Tailer {
    /// A tailer starting at `start`.
    pub fn open(dir: &Path, start: StartAt) -> Result<Tailer, JournalError> {
        let headers = valid_segments(dir)?;
        let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
            return Err(JournalError::Empty {
                dir: dir.to_path_buf(),
            });
        };
        let (from, target) = match start {
            StartAt::Beginning => (first, None),
            StartAt::End => (last, Some(u64::MAX)),
            StartAt::Seq(seq) => (
                headers
                    .iter()
                    .rev()
                    .find(|h| h.first_seq <= seq)
                    .unwrap_or(first),
                Some(seq),
            ),
        };
        let mut tailer = Tailer {
            dir: dir.to_path_buf(),
            segment: from.number,
            map: map_segment(dir, from.number)?,
            offset: segment::HEADER_LEN,
            next_seq: from.first_seq,
            skip_below: 0,
            name: None,
        };
        if let Some(target) = target {
            if let Some((seq, offset)) = index_lookup(dir, from.number, target) {
                // The index is a shortcut; trust it only if a record is there.
                if let Step::Record(..) = step(
                    tailer.map.bytes(),
                    offset as usize,
                    tailer.map.len_word(offset as usize),
                    seq,
                ) {
                    tailer.offset = offset as usize;
                    tailer.next_seq = seq;
                }
            }
            tailer.seek_to(target)?;
        }
        Ok(tailer)
    }

    /// A named tailer: resumes where [`Tailer::save`] last left it, or starts
    /// at `start` the first time. Names are letters, digits, `-` and `_`.
    pub fn open_named(dir: &Path, name: &str, start: StartAt) -> Result<Tailer, JournalError> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(JournalError::Config(format!(
                "tailer name {name:?} is invalid; use letters, digits, '-' and '_'"
            )));
        }
        let path = position_path(dir, name);
        let mut tailer = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let position = parse_position(&text).ok_or_else(|| {
                    JournalError::Config(format!(
                        "{} is not a saved tailer position",
                        path.display()
                    ))
                })?;
                Tailer {
                    dir: dir.to_path_buf(),
                    segment: position.segment,
                    map: map_segment(dir, position.segment)?,
                    offset: position.offset as usize,
                    next_seq: position.next_seq,
                    skip_below: 0,
                    name: None,
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tailer::open(dir, start)?,
            Err(e) => return Err(io("read", &path)(e)),
        };
        tailer.name = Some(name.to_owned());
        Ok(tailer)
    }

    /// Where the tailer is.
    pub fn position(&self) -> Position {
        Position {
            segment: self.segment,
            offset: self.offset as u64,
            next_seq: self.next_seq,
        }
    }

    /// Saves a named tailer's position (atomically: written aside, then renamed).
    pub fn save(&self) -> Result<(), JournalError> {
        let Some(name) = &self.name else {
            return Err(JournalError::Config(
                "only a named tailer has a position to save".into(),
            ));
        };
        let dir = self.dir.join(TAILERS_DIR);
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let path = position_path(&self.dir, name);
        let tmp = path.with_extension("pos.tmp");
        let p = self.position();
        std::fs::write(&tmp, format!("{} {} {}\n", p.segment, p.offset, p.next_seq))
            .map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io("rename", &path))
    }

    /// The next record, or `None` when caught up with the writer. Never blocks.
    // Not `Iterator::next`: the record borrows the tailer's map, which an
    // `Iterator` item cannot.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Result<Option<RecordRef<'_>>, JournalError> {
        loop {
            let word = self.map.len_word(self.offset);
            let (kind, flags, seq, timestamp, len, next) =
                match step(self.map.bytes(), self.offset, word, self.next_seq) {
                    Step::Record(r, next) => {
                        (r.kind, r.flags, r.seq, r.timestamp, r.payload.len(), next)
                    }
                    // Nothing yet, or the bytes of a write in progress (a
                    // crashed writer's torn record until recovery removes it).
                    Step::Empty | Step::Bad(BadRecord::Uncommitted) => {
                        // Nothing new, or this segment was recycled under us:
                        // a reused file no longer carries this segment's header.
                        if !self.segment_is_current() {
                            return Err(JournalError::Recycled {
                                segment: self.segment,
                            });
                        }
                        return Ok(None);
                    }
                    Step::SegmentEnd => {
                        self.enter(self.segment + 1)?;
                        continue;
                    }
                    Step::Bad(error) => {
                        return Err(JournalError::Corrupt {
                            segment: self.segment,
                            offset: self.offset as u64,
                            error,
                        });
                    }
                };
            let at = self.offset + record::HEADER_LEN;
            self.offset = next;
            self.next_seq = seq + 1;
            if seq < self.skip_below {
                continue;
            }
            return Ok(Some(RecordRef {
                kind,
                flags,
                seq,
                timestamp,
                payload: &self.map.bytes()[at..at + len],
            }));
        }
    }

    /// Whether the mapped file still holds the segment this tailer is in.
    fn segment_is_current(&self) -> bool {
        let bytes = self.map.bytes();
        bytes.len() >= segment::HEADER_LEN
            && bytes[segment::MAGIC_AT..segment::MAGIC_AT + 8] == segment::MAGIC
            && crate::format::u64_at(bytes, segment::NUMBER_AT) == self.segment
    }

    /// Moves to the start of segment `number`.
    fn enter(&mut self, number: u64) -> Result<(), JournalError> {
        let header = read_header(&self.dir, number)
            .map_err(io("read", segment_path(&self.dir, number)))?
            .map_err(|error| JournalError::BadHeader {
                segment: number,
                error,
            })?;
        if header.first_seq != self.next_seq {
            return Err(JournalError::SequenceBreak {
                segment: number,
                expected: self.next_seq,
                found: header.first_seq,
            });
        }
        self.map = map_segment(&self.dir, number)?;
        self.segment = number;
        self.offset = segment::HEADER_LEN;
        Ok(())
    }

    /// Advances past every record before `target` without returning them.
    fn seek_to(&mut self, target: u64) -> Result<(), JournalError> {
        loop {
            let word = self.map.len_word(self.offset);
            match step(self.map.bytes(), self.offset, word, self.next_seq) {
                Step::Record(r, next) if r.seq < target => {
                    self.offset = next;
                    self.next_seq = r.seq + 1;
                }
                Step::SegmentEnd => self.enter(self.segment + 1)?,
                _ => break,
            }
        }
        if target != u64::MAX {
            self.skip_below = target;
        }
        Ok(())
    }
}

fn position_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(TAILERS_DIR).join(format!("{name}.pos"))
}

fn parse_position(text: &str) -> Option<Position> {
    let mut parts = text.split_ascii_whitespace().map(str::parse::<u64>);
    let position = Position {
        segment: parts.next()?.ok()?,
        offset: parts.next()?.ok()?,
        next_seq: parts.next()?.ok()?,
    };
    (parts.next().is_none()
        && position.offset >= segment::HEADER_LEN as u64
        && position.offset.is_multiple_of(8))
    .then_some(position)
}

/// Saved positions of every named tailer: `(name, position)`.
pub fn named_positions(dir: &Path) -> Result<Vec<(String, Position)>, JournalError> {
    let folder = dir.join(TAILERS_DIR);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list", &folder)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(io("list", &folder))?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".pos"))
        else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Some(position) = parse_position(&text)
        {
            out.push((name.to_owned(), position));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
