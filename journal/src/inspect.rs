//! Whole-journal checks and summaries, for `pt journal` and retention.

use crate::error::{JournalError, io};
use crate::files::{index_path, list_segments, read_header, segment_path};
use crate::format::SegmentHeader;
use crate::map::ReadMap;
use crate::scan::{BadRecord, WalkEnd, walk};
use crate::tailer::named_positions;
use std::path::Path;
use std::time::Duration;

/// One segment, as `info` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Its header.
    pub header: SegmentHeader,
    /// Records in it.
    pub records: u64,
    /// Bytes used (header, records and end marker).
    pub used: u64,
    /// Whether it ends with an end marker (it is finished).
    pub finished: bool,
}

/// What a journal holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalInfo {
    /// Segments, oldest first.
    pub segments: Vec<SegmentInfo>,
    /// Sequence of the oldest record kept.
    pub first_seq: Option<u64>,
    /// Sequence the next record will get.
    pub next_seq: u64,
    /// The pid in the lock file: the writer, if one is running.
    pub writer_pid: Option<u32>,
}

/// The first problem `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Segment number.
    pub segment: u64,
    /// Byte offset in it.
    pub offset: u64,
    /// Sequence number expected there.
    pub expected_seq: u64,
    /// What is wrong.
    pub what: String,
}

/// The result of `verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Segments checked.
    pub segments: usize,
    /// Valid records before the first problem (or in all).
    pub records: u64,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

pub(crate) fn scan_segment(
    dir: &Path,
    header: &SegmentHeader,
) -> Result<(SegmentInfo, Option<(u64, BadRecord)>), JournalError> {
    let path = segment_path(dir, header.number);
    let file = std::fs::File::open(&path).map_err(io("open", &path))?;
    let map = ReadMap::new(&file).map_err(io("map", &path))?;
    let w = walk(map.bytes(), |at| map.len_word(at), header.first_seq);
    let finished = w.end == WalkEnd::Marker;
    let used = w.offset
        + if finished {
            crate::format::record::HEADER_LEN
        } else {
            0
        };
    let info = SegmentInfo {
        header: *header,
        records: w.records,
        used: used as u64,
        finished,
    };
    let bad = match w.end {
        WalkEnd::Bad(bad) => Some((w.offset as u64, bad)),
        _ => None,
    };
    Ok((info, bad))
}

/// A segment's header, or its number and why it has none.
type HeaderResult = Result<SegmentHeader, (u64, crate::format::HeaderError)>;

fn headers(dir: &Path) -> Result<Vec<HeaderResult>, JournalError> {
    if !dir.is_dir() {
        return Err(JournalError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    let mut out = Vec::new();
    for number in list_segments(dir).map_err(io("list", dir))? {
        match read_header(dir, number).map_err(io("read", segment_path(dir, number)))? {
            Ok(h) => out.push(Ok(h)),
            Err(e) => out.push(Err((number, e))),
        }
    }
    Ok(out)
}

fn writer_pid(dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join(crate::lock::LOCK_FILE)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// Summarises the journal in `dir` (scanning every segment).
pub fn info(dir: &Path) -> Result<JournalInfo, JournalError> {
    let mut segments = Vec::new();
    let mut next_seq = 0;
    for h in headers(dir)? {
        let Ok(h) = h else { continue };
        let (s, _) = scan_segment(dir, &h)?;
        next_seq = h.first_seq + s.records;
        segments.push(s);
    }
    let first_seq = segments.first().map(|s| s.header.first_seq);
    Ok(JournalInfo {
        segments,
        first_seq,
        next_seq,
        writer_pid: writer_pid(dir),
    })
}

/// Checks every record of every segment: headers, checksums, sequence
/// continuity within and across segments, end markers. Reports the first
/// problem.
pub fn verify(dir: &Path) -> Result<VerifyReport, JournalError> {
    let mut all = headers(dir)?;
    // A blank last segment is the next one, prepared but not started.
    if let Some(Err((_, crate::format::HeaderError::Blank))) = all.last() {
        all.pop();
    }
    let mut report = VerifyReport {
        segments: all.len(),
        records: 0,
        problem: None,
    };
    let mut expected: Option<u64> = None;
    let count = all.len();
    for (i, h) in all.into_iter().enumerate() {
        let h = match h {
            Ok(h) => h,
            Err((number, e)) => {
                report.problem = Some(Problem {
                    segment: number,
                    offset: 0,
                    expected_seq: expected.unwrap_or(0),
                    what: e.to_string(),
                });
                return Ok(report);
            }
        };
        if let Some(exp) = expected
            && h.first_seq != exp
        {
            report.problem = Some(Problem {
                segment: h.number,
                offset: 0,
                expected_seq: exp,
                what: format!("segment starts at sequence {}, not {exp}", h.first_seq),
            });
            return Ok(report);
        }
        let (s, bad) = scan_segment(dir, &h)?;
        report.records += s.records;
        if let Some((offset, bad)) = bad {
            report.problem = Some(Problem {
                segment: h.number,
                offset,
                expected_seq: h.first_seq + s.records,
                what: bad.to_string(),
            });
            return Ok(report);
        }
        if !s.finished && i + 1 < count {
            report.problem = Some(Problem {
                segment: h.number,
                offset: s.used,
                expected_seq: h.first_seq + s.records,
                what: "segment ends without an end marker but is not the last".into(),
            });
            return Ok(report);
        }
        expected = Some(h.first_seq + s.records);
    }
    Ok(report)
}

/// How much of a journal to keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Remove segments whose every record is older than this.
    pub max_age: Option<Duration>,
    /// Remove the oldest segments while the journal is larger than this.
    pub max_bytes: Option<u64>,
}

/// Removes segments beyond `policy`, oldest first. Never removes the newest
/// segment (the one being written) or any segment a named tailer has not
/// finished reading. Returns the removed segment numbers.
pub fn prune(dir: &Path, policy: Retention, now_ns: i64) -> Result<Vec<u64>, JournalError> {
    let mut removed = Vec::new();
    for h in removable(dir, policy, now_ns)? {
        let path = segment_path(dir, h.number);
        std::fs::remove_file(&path).map_err(io("remove", &path))?;
        let _ = std::fs::remove_file(index_path(dir, h.number));
        removed.push(h.number);
    }
    Ok(removed)
}

/// The segments `policy` allows removing, oldest first: never the newest,
/// never one at or after a named tailer's position.
pub fn removable(
    dir: &Path,
    policy: Retention,
    now_ns: i64,
) -> Result<Vec<SegmentHeader>, JournalError> {
    let hs: Vec<SegmentHeader> = headers(dir)?.into_iter().filter_map(Result::ok).collect();
    let protected_from = named_positions(dir)?
        .iter()
        .map(|(_, p)| p.segment)
        .min()
        .unwrap_or(u64::MAX);
    let mut total: u64 = hs.iter().map(|h| h.size).sum();
    let mut out = Vec::new();
    for (i, h) in hs.iter().enumerate() {
        let Some(next) = hs.get(i + 1) else { break };
        if h.number >= protected_from {
            break;
        }
        // Every record of a segment is older than the next segment's creation.
        let too_old = policy.max_age.is_some_and(|age| {
            now_ns.saturating_sub(next.created_ns)
                > i64::try_from(age.as_nanos()).unwrap_or(i64::MAX)
        });
        let too_big = policy.max_bytes.is_some_and(|max| total > max);
        if !(too_old || too_big) {
            break;
        }
        total -= h.size;
        out.push(*h);
    }
    Ok(out)
}
