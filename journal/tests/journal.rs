//! The journal against an in-memory model, torn tails, tailers, retention.

use proptest::prelude::*;
use pt_journal::{Durability, Retention, StartAt, Tailer, Writer, WriterConfig, prune, verify};
use std::path::{Path, PathBuf};

fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pt-journal-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Removes a test's directory when the test ends, passed or failed.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn small() -> WriterConfig {
    WriterConfig {
        segment_size: 64 << 10,
        index_interval: 8,
        ..WriterConfig::default()
    }
}

fn payload(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as usize * 31 + i * 7) as u8)
        .collect()
}

fn read_all(dir: &Path) -> Vec<(u64, u16, i64, Vec<u8>)> {
    let mut t = Tailer::open(dir, StartAt::Beginning).unwrap();
    let mut out = Vec::new();
    while let Some(r) = t.next().unwrap() {
        out.push((r.seq, r.kind, r.timestamp, r.payload.to_vec()));
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    Append(usize),
    Reopen,
    Abandon(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => (0usize..3000).prop_map(Op::Append),
        1 => Just(Op::Reopen),
        1 => (1usize..500).prop_map(Op::Abandon),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random appends, abandoned claims, segment rolls and reopens: the
    /// journal always reads back exactly what the model holds.
    #[test]
    fn matches_an_in_memory_model(ops in prop::collection::vec(op(), 1..400)) {
        let dir = temp_dir("model");
        let _cleanup = Cleanup(dir.clone());
        let mut model: Vec<(u64, u16, i64, Vec<u8>)> = Vec::new();
        let (mut writer, _) = Writer::open(&dir, small()).unwrap();
        for op in ops {
            match op {
                Op::Append(len) => {
                    let seq = model.len() as u64;
                    let kind = 1 + (seq % 7) as u16;
                    let body = payload(seq, len);
                    prop_assert_eq!(writer.append(kind, seq as i64 * 10, &body).unwrap(), seq);
                    model.push((seq, kind, seq as i64 * 10, body));
                }
                Op::Abandon(len) => {
                    let mut claim = writer.claim(len).unwrap();
                    claim.payload().fill(0xAB);
                }
                Op::Reopen => {
                    drop(writer);
                    let (w, recovery) = Writer::open(&dir, small()).unwrap();
                    prop_assert_eq!(recovery.next_seq, model.len() as u64);
                    prop_assert_eq!(recovery.cut, None);
                    writer = w;
                }
            }
        }
        prop_assert_eq!(read_all(&dir), model.clone());
        let report = verify(&dir).unwrap();
        prop_assert_eq!(report.problem, None);
        prop_assert_eq!(report.records, model.len() as u64);
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn last_segment(dir: &Path) -> PathBuf {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    segs.sort();
    segs.pop().unwrap()
}

/// Writes `bytes` at `offset` of the last segment, as a crash mid-write would.
fn scribble(dir: &Path, offset: u64, bytes: &[u8]) {
    scribble_in(&last_segment(dir), offset, bytes);
}

fn scribble_in(segment: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(segment)
        .unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

/// The state a writer killed in the middle of a roll leaves: the next
/// segment started (its header written, perhaps torn), the end marker of the
/// one before never written.
#[test]
fn a_roll_killed_before_its_end_marker_is_undone() {
    use pt_journal::format::{record, segment};
    for torn_header in [false, true] {
        let dir = temp_dir("torn-roll");
        let _cleanup = Cleanup(dir.clone());
        journal_with(&dir, 1000);
        let info = pt_journal::info(&dir).unwrap();
        let [first, second] = &info.segments[..] else {
            panic!("1000 records fill two segments: {info:?}")
        };
        assert!(first.finished && second.records > 0);
        let marker = first.used - record::HEADER_LEN as u64;
        let newest = last_segment(&dir);
        let first_path = newest.with_file_name(format!("{:020}.seg", first.header.number));
        scribble_in(&first_path, marker, &[0; record::HEADER_LEN]);
        let size = second.header.size as usize;
        scribble_in(
            &newest,
            segment::HEADER_LEN as u64,
            &vec![0; size - segment::HEADER_LEN],
        );
        if torn_header {
            scribble_in(&newest, segment::CRC_AT as u64, &[0xEE; 4]);
        }

        let (mut w, recovery) = Writer::open(&dir, small()).unwrap();
        assert_eq!(
            recovery.blank_removed,
            vec![second.header.number],
            "{recovery}"
        );
        assert_eq!(recovery.next_seq, first.records);
        assert_eq!(recovery.cut, None, "no record was torn");
        // Appending rolls again, this time whole.
        for seq in first.records..first.records + 200 {
            assert_eq!(w.append(1, 0, &payload(seq, 40)).unwrap(), seq);
        }
        drop(w);
        assert_eq!(verify(&dir).unwrap().problem, None);
        let all = read_all(&dir);
        assert_eq!(all.len() as u64, first.records + 200);
        assert!(
            all.iter()
                .enumerate()
                .all(|(i, r)| r.0 == i as u64 && r.3 == payload(i as u64, 40))
        );
    }
}

fn journal_with(dir: &Path, n: u64) -> u64 {
    let (mut w, _) = Writer::open(dir, small()).unwrap();
    for seq in 0..n {
        w.append(1, 0, &payload(seq, 40)).unwrap();
    }
    // Offset where the next record would go in the last segment.
    let t = {
        let mut t = Tailer::open(dir, StartAt::End).unwrap();
        assert!(t.next().unwrap().is_none());
        t.position().offset
    };
    drop(w);
    t
}

#[test]
fn torn_tails_are_cut_and_reported() {
    // 1. Payload written, length word never published.
    let dir = temp_dir("torn1");
    let _cleanup = Cleanup(dir.clone());
    let end = journal_with(&dir, 100);
    scribble(&dir, end + 32, &[0xEE; 40]);
    let (w, recovery) = Writer::open(&dir, small()).unwrap();
    let cut = recovery.cut.expect("garbage after the last record is cut");
    assert_eq!((cut.offset, cut.bytes, cut.reason), (end, 72, None));
    assert_eq!(recovery.next_seq, 100);
    drop(w);
    assert_eq!(read_all(&dir).len(), 100);

    // 2. A committed length word over a record whose checksum is wrong.
    let dir = temp_dir("torn2");
    let _cleanup = Cleanup(dir.clone());
    let end = journal_with(&dir, 50);
    let mut fake = vec![0u8; 72];
    fake[..4].copy_from_slice(&(40u32 | 1 << 31).to_le_bytes());
    fake[4] = 1;
    fake[8..16].copy_from_slice(&50u64.to_le_bytes());
    fake[40..].fill(9);
    scribble(&dir, end, &fake);
    let (mut w, recovery) = Writer::open(&dir, small()).unwrap();
    assert_eq!(
        recovery.cut.unwrap().reason,
        Some(pt_journal::BadRecord::Crc)
    );
    assert_eq!(
        w.append(1, 0, b"after").unwrap(),
        50,
        "the sequence resumes where valid records end"
    );
    drop(w);
    let all = read_all(&dir);
    assert_eq!(all.len(), 51);
    assert_eq!(all[50].3, b"after");

    // 3. A length word without the commit bit.
    let dir = temp_dir("torn3");
    let _cleanup = Cleanup(dir.clone());
    let end = journal_with(&dir, 10);
    scribble(&dir, end, &40u32.to_le_bytes());
    let (_w, recovery) = Writer::open(&dir, small()).unwrap();
    assert_eq!(
        recovery.cut.unwrap().reason,
        Some(pt_journal::BadRecord::Uncommitted)
    );

    // 4. A record claiming to run past the end of the segment.
    let dir = temp_dir("torn4");
    let _cleanup = Cleanup(dir.clone());
    let end = journal_with(&dir, 10);
    scribble(&dir, end, &(0x7000_0000u32 | 1 << 31).to_le_bytes());
    let (_w, recovery) = Writer::open(&dir, small()).unwrap();
    assert_eq!(
        recovery.cut.unwrap().reason,
        Some(pt_journal::BadRecord::Overrun)
    );
}

#[test]
fn verify_reports_the_first_bad_record() {
    let dir = temp_dir("verify");
    let _cleanup = Cleanup(dir.clone());
    journal_with(&dir, 3000); // several segments
    assert_eq!(verify(&dir).unwrap().problem, None);
    // Damage a record in the middle of the first segment.
    use std::io::{Seek, SeekFrom, Write};
    let first = dir.join(format!("{:020}.seg", 0));
    let mut f = std::fs::OpenOptions::new().write(true).open(first).unwrap();
    f.seek(SeekFrom::Start(64 + 72 * 5 + 40)).unwrap();
    f.write_all(&[0xFF]).unwrap();
    let report = verify(&dir).unwrap();
    let problem = report.problem.expect("damage is found");
    assert_eq!(
        (problem.segment, problem.offset, problem.expected_seq),
        (0, 64 + 72 * 5, 5)
    );
    assert!(problem.what.contains("checksum"), "{}", problem.what);
    assert_eq!(report.records, 5);
}

#[test]
fn tailers_start_anywhere_and_follow_across_segments() {
    let dir = temp_dir("tail");
    let _cleanup = Cleanup(dir.clone());
    let (mut w, _) = Writer::open(&dir, small()).unwrap();
    for seq in 0..2500 {
        w.append(2, seq as i64, &payload(seq, 100)).unwrap();
    }
    let mut from = Tailer::open(&dir, StartAt::Seq(1234)).unwrap();
    assert_eq!(from.next().unwrap().unwrap().seq, 1234);
    let mut end = Tailer::open(&dir, StartAt::End).unwrap();
    assert!(end.next().unwrap().is_none());
    let mut future = Tailer::open(&dir, StartAt::Seq(2600)).unwrap();
    for seq in 2500..3000 {
        w.append(2, seq as i64, &payload(seq, 100)).unwrap();
    }
    assert_eq!(end.next().unwrap().unwrap().seq, 2500);
    assert_eq!(future.next().unwrap().unwrap().seq, 2600);
    let mut n = 1235;
    while let Some(r) = from.next().unwrap() {
        assert_eq!(r.seq, n);
        assert_eq!(r.payload, &payload(n, 100)[..]);
        n += 1;
    }
    assert_eq!(n, 3000);
    assert!(from.position().segment > 3, "the tailer crossed segments");
}

#[test]
fn named_tailers_resume_and_hold_back_retention() {
    let dir = temp_dir("named");
    let _cleanup = Cleanup(dir.clone());
    let (mut w, _) = Writer::open(&dir, small()).unwrap();
    for seq in 0..3000 {
        w.append(1, 0, &payload(seq, 100)).unwrap();
    }
    let mut t = Tailer::open_named(&dir, "persist", StartAt::Beginning).unwrap();
    for _ in 0..700 {
        t.next().unwrap().unwrap();
    }
    t.save().unwrap();
    drop(t);
    let mut t = Tailer::open_named(&dir, "persist", StartAt::End).unwrap();
    assert_eq!(
        t.next().unwrap().unwrap().seq,
        700,
        "resumes where it saved"
    );
    let held = t.position().segment;
    drop(t);

    let removed = prune(
        &dir,
        Retention {
            max_bytes: Some(1),
            ..Retention::default()
        },
        0,
    )
    .unwrap();
    assert!(!removed.is_empty());
    assert!(
        removed.iter().all(|&s| s < held),
        "removed {removed:?}, tailer is in segment {held}"
    );
    let mut t = Tailer::open_named(&dir, "persist", StartAt::End).unwrap();
    assert_eq!(
        t.next().unwrap().unwrap().seq,
        700,
        "the tailer's segment survived"
    );
    assert_eq!(
        Tailer::open(&dir, StartAt::Beginning)
            .unwrap()
            .position()
            .segment,
        held
    );

    // Without named tailers, everything but the segment being written goes.
    std::fs::remove_dir_all(dir.join(pt_journal::TAILERS_DIR)).unwrap();
    prune(
        &dir,
        Retention {
            max_bytes: Some(1),
            ..Retention::default()
        },
        0,
    )
    .unwrap();
    let mut t = Tailer::open(&dir, StartAt::Beginning).unwrap();
    w.append(1, 0, b"still writing").unwrap();
    let mut last = None;
    while let Some(r) = t.next().unwrap() {
        last = Some(r.payload.to_vec());
    }
    assert_eq!(last.unwrap(), b"still writing");
    assert!(Tailer::open_named(&dir, "../escape", StartAt::End).is_err());
}

#[test]
fn retention_by_age_keeps_recent_segments() {
    let dir = temp_dir("age");
    let _cleanup = Cleanup(dir.clone());
    let (mut w, _) = Writer::open(&dir, small()).unwrap();
    for seq in 0..2000 {
        w.append(1, 0, &payload(seq, 100)).unwrap();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let hour = std::time::Duration::from_secs(3600);
    assert!(
        prune(
            &dir,
            Retention {
                max_age: Some(hour),
                ..Retention::default()
            },
            now
        )
        .unwrap()
        .is_empty()
    );
    let later = now + 2 * 3600 * 1_000_000_000;
    let removed = prune(
        &dir,
        Retention {
            max_age: Some(hour),
            ..Retention::default()
        },
        later,
    )
    .unwrap();
    assert!(!removed.is_empty());
    assert_eq!(
        Tailer::open(&dir, StartAt::Beginning)
            .unwrap()
            .position()
            .segment,
        *removed.last().unwrap() + 1
    );
}

#[test]
fn one_writer_at_a_time() {
    let dir = temp_dir("lock");
    let _cleanup = Cleanup(dir.clone());
    let (w, recovery) = Writer::open(&dir, small()).unwrap();
    assert_eq!(recovery.stale_lock_pid, None);
    let err = Writer::open(&dir, small()).unwrap_err().to_string();
    assert!(
        err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    drop(w);
    // A pid left behind by a writer that died is taken over with a report.
    std::fs::write(dir.join(pt_journal::LOCK_FILE), "999999999\n").unwrap();
    let (_w, recovery) = Writer::open(&dir, small()).unwrap();
    assert_eq!(recovery.stale_lock_pid, Some(999_999_999));
}

#[test]
fn bad_input_is_refused() {
    let dir = temp_dir("bad");
    let _cleanup = Cleanup(dir.clone());
    assert!(
        Writer::open(
            &dir,
            WriterConfig {
                segment_size: 1000,
                ..small()
            }
        )
        .is_err()
    );
    let (mut w, _) = Writer::open(
        &dir,
        WriterConfig {
            durability: Durability::OnDemand,
            ..small()
        },
    )
    .unwrap();
    assert!(matches!(
        w.append(0, 0, b"x"),
        Err(pt_journal::JournalError::ReservedKind(0))
    ));
    assert!(matches!(
        w.append(0xFFFF, 0, b"x"),
        Err(pt_journal::JournalError::ReservedKind(0xFFFF))
    ));
    let max = w.max_payload();
    assert!(matches!(
        w.append(1, 0, &vec![0; max + 1]),
        Err(pt_journal::JournalError::TooLarge { .. })
    ));
    w.append(1, 0, &vec![7; max]).unwrap();
    w.flush().unwrap();
    assert!(Tailer::open(&temp_dir("none"), StartAt::Beginning).is_err());
}

#[test]
fn periodic_sync_runs_alongside_appends() {
    let dir = temp_dir("periodic");
    let _cleanup = Cleanup(dir.clone());
    let config = WriterConfig {
        durability: Durability::Periodic(std::time::Duration::from_millis(1)),
        ..small()
    };
    let (mut w, _) = Writer::open(&dir, config).unwrap();
    for seq in 0..5000 {
        w.append(3, 0, &payload(seq, 30)).unwrap();
    }
    drop(w);
    assert_eq!(read_all(&dir).len(), 5000);
}

#[test]
fn check_segment_reads_bytes_without_files() {
    let dir = temp_dir("check");
    let _cleanup = Cleanup(dir.clone());
    journal_with(&dir, 20);
    let mut bytes = std::fs::read(last_segment(&dir)).unwrap();
    let check = pt_journal::check_segment(&bytes);
    assert_eq!((check.records, check.problem), (20, None));
    bytes[64 + 72 * 3 + 33] ^= 1;
    let check = pt_journal::check_segment(&bytes);
    assert_eq!(
        (check.records, check.problem),
        (3, Some(pt_journal::BadRecord::Crc))
    );
    assert!(pt_journal::check_segment(&bytes[..50]).header.is_err());
}

#[test]
fn a_cut_short_segment_is_refused_not_a_panic() {
    // Found by the journal_segment fuzz target: a last segment whose file is
    // shorter than its header says.
    let dir = temp_dir("short");
    let _cleanup = Cleanup(dir.clone());
    journal_with(&dir, 5);
    let seg = last_segment(&dir);
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(71).unwrap();
    let err = Writer::open(&dir, small()).unwrap_err().to_string();
    assert!(
        err.contains("segment 0") && err.contains("cut short"),
        "{err}"
    );
    assert!(verify(&dir).unwrap().problem.is_some());
}

#[test]
fn retention_in_the_writer_recycles_segments() {
    let dir = temp_dir("recycle");
    let _cleanup = Cleanup(dir.clone());
    let config = WriterConfig {
        retention: Some(Retention {
            max_bytes: Some(4 * (64 << 10)),
            ..Retention::default()
        }),
        ..small()
    };
    let (mut w, _) = Writer::open(&dir, config).unwrap();
    let mut lagging = Tailer::open(&dir, StartAt::Beginning).unwrap();
    assert_eq!(lagging.next().unwrap(), None);
    for seq in 0..20_000 {
        w.append(1, seq as i64, &payload(seq, 100)).unwrap();
    }
    // Let the helper thread finish the last roll's retention.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let segments = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "seg")
        })
        .count();
    assert!(
        segments <= 7,
        "retention keeps the journal near its budget: {segments} segments"
    );
    // What remains reads back whole and in order, up to the newest record.
    let mut t = Tailer::open(&dir, StartAt::Beginning).unwrap();
    let first = t.next().unwrap().unwrap().seq;
    assert!(first > 0, "old records were removed");
    let mut expected = first + 1;
    while let Some(r) = t.next().unwrap() {
        assert_eq!(r.seq, expected);
        assert_eq!(r.payload, &payload(expected, 100)[..]);
        expected += 1;
    }
    assert_eq!(expected, 20_000);
    assert_eq!(verify(&dir).unwrap().problem, None);
    // A tailer left in segment 0 finds out instead of stalling silently.
    let mut outcome = Ok(None);
    for _ in 0..50_000 {
        outcome = lagging.next().map(|r| r.map(|r| r.seq));
        if outcome.is_err() {
            break;
        }
    }
    let err = outcome.expect_err("a recycled segment is reported");
    assert!(
        matches!(
            err,
            pt_journal::JournalError::Recycled { .. }
                | pt_journal::JournalError::Corrupt { .. }
                | pt_journal::JournalError::SequenceBreak { .. }
        ),
        "{err}"
    );
    // Reopening after all this recovers cleanly.
    drop(w);
    let (w, recovery) = Writer::open(&dir, config).unwrap();
    assert_eq!(recovery.next_seq, 20_000);
    assert_eq!(recovery.cut, None);
    drop(w);
    assert!(!dir.join("recycling.seg.tmp").exists());
}
