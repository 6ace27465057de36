//! The journal across processes: a writer killed with SIGKILL at random
//! moments, and a tailer in one process reading while another writes.

use pt_journal::{StartAt, Tailer, Writer, WriterConfig, verify};
use pt_tests::{CHILD_KIND, TestDir, child_payload, child_timestamp};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SEGMENT: u64 = 64 << 10;

fn spawn_writer(dir: &Path, count: u64, retention: u64) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_journal-child"))
        .arg(dir)
        .arg(SEGMENT.to_string())
        .arg(count.to_string())
        .arg(retention.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start journal-child");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Every record in the journal, checked against what the child writes;
/// returns the next sequence number. Records start at 0 unless retention
/// removed the oldest.
fn check_prefix(dir: &Path) -> u64 {
    let mut tailer = Tailer::open(dir, StartAt::Beginning).unwrap();
    let mut expected = tailer.position().next_seq;
    while let Some(r) = tailer.next().unwrap() {
        assert_eq!(r.seq, expected, "sequence gap");
        assert_eq!(r.kind, CHILD_KIND);
        assert_eq!(r.timestamp, child_timestamp(expected));
        assert_eq!(
            r.payload,
            &child_payload(expected)[..],
            "payload of {expected}"
        );
        expected += 1;
    }
    expected
}

/// A deterministic pseudo-random stream for the kill moments.
struct Moments(u64);

impl Moments {
    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[test]
fn sigkilled_writer_recovers_to_a_prefix_with_every_reported_record() {
    kill_and_recover("crash", 50, 0);
}

#[test]
fn sigkilled_writer_recycling_segments_recovers_too() {
    // Retention of four segments: kills land while segments are recycled.
    kill_and_recover("crash-recycle", 20, 4 * SEGMENT);
}

fn kill_and_recover(tag: &str, kills: usize, retention: u64) {
    let dir = TestDir::new(tag);
    let mut moments = Moments(0x9E37_79B9_7F4A_7C15);
    let mut reported_total = 0u64;
    let mut cuts = 0;
    for round in 0..kills {
        let (mut child, lines) = spawn_writer(&dir, 0, retention);
        let opened = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("child opened the journal");
        let resumed: u64 = opened
            .strip_prefix("open ")
            .and_then(|n| n.parse().ok())
            .expect("open line");
        assert!(
            resumed >= reported_total,
            "round {round}: resumed at {resumed} below reported {reported_total}"
        );
        // Let it append for a random while, then kill it mid-stride.
        let run_for = Duration::from_micros(200 + moments.next_below(20_000));
        let started = Instant::now();
        let mut highest: Option<u64> = None;
        while started.elapsed() < run_for {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(1))
                && let Ok(seq) = line.parse::<u64>()
            {
                highest = Some(seq);
            }
        }
        child.kill().expect("SIGKILL the writer");
        let _ = child.wait();
        // Lines already in the pipe were reported before the kill.
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(50)) {
            if let Ok(seq) = line.parse::<u64>() {
                highest = Some(seq);
            }
        }
        if let Some(h) = highest {
            reported_total = h + 1;
        }
        let (writer, recovery) = Writer::open(
            &dir,
            WriterConfig {
                segment_size: SEGMENT,
                ..WriterConfig::default()
            },
        )
        .unwrap();
        if recovery.cut.is_some() {
            cuts += 1;
        }
        assert!(
            recovery.next_seq >= reported_total,
            "round {round}: lost reported records: {recovery}"
        );
        drop(writer);
        let found = check_prefix(&dir);
        assert_eq!(found, recovery.next_seq, "round {round}");
        assert_eq!(verify(&dir).unwrap().problem, None, "round {round}");
    }
    assert!(
        reported_total > 1000,
        "the child wrote too little to test anything: {reported_total}"
    );
    println!("{kills} kills, {reported_total} records reported, {cuts} torn tails cut");
}

#[test]
fn a_tailer_in_another_process_reads_while_the_writer_appends() {
    let dir = TestDir::new("xproc");
    const N: u64 = 200_000;
    let (mut child, lines) = spawn_writer(&dir, N, 0);
    lines
        .recv_timeout(Duration::from_secs(20))
        .expect("child opened the journal");
    let mut tailer = loop {
        match Tailer::open(&dir, StartAt::Beginning) {
            Ok(t) => break t,
            Err(_) => std::thread::yield_now(),
        }
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut expected = 0u64;
    let mut caught_up = 0u64;
    while expected < N {
        match tailer.next().unwrap() {
            Some(r) => {
                assert_eq!(r.seq, expected);
                assert_eq!(
                    r.payload,
                    &child_payload(expected)[..],
                    "record {expected} read whole"
                );
                expected += 1;
            }
            None => {
                caught_up += 1;
                assert!(Instant::now() < deadline, "stalled at {expected}");
                std::thread::yield_now();
            }
        }
    }
    assert!(child.wait().unwrap().success());
    assert!(tailer.next().unwrap().is_none());
    assert!(
        caught_up > 0,
        "the tailer never caught up with the writer, so it never raced it"
    );
    assert!(
        tailer.position().segment > 10,
        "records crossed many segments"
    );
}
