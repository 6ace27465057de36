//! Journal measurements shared by `benches/benches/journal.rs` and
//! `pt-bench journal`.

use hdrhistogram::Histogram;
use pt_journal::{Retention, StartAt, Tailer, Writer, WriterConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Payload size of the append benchmarks.
pub const PAYLOAD: usize = 64;

/// A fresh directory for a bench journal: in `/dev/shm` (memory, no disk
/// write-back) when it exists, otherwise the system temp directory.
pub fn bench_dir(tag: &str) -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("pt-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The writer config of the benches: 64 MiB segments, page-cache durability.
pub fn config() -> WriterConfig {
    WriterConfig::default()
}

/// The bench config with retention at 256 MiB: at its budget the writer
/// recycles removed segments instead of creating new ones.
pub fn config_recycling() -> WriterConfig {
    WriterConfig {
        retention: Some(Retention {
            max_bytes: Some(256 << 20),
            ..Retention::default()
        }),
        ..config()
    }
}

/// Removes every finished segment, keeping disk use bounded between runs.
pub fn trim(dir: &Path) {
    let _ = pt_journal::prune(
        dir,
        Retention {
            max_bytes: Some(1),
            ..Retention::default()
        },
        0,
    );
}

/// Time to append `n` records of [`PAYLOAD`] bytes.
pub fn append(writer: &mut Writer, n: u64) -> Duration {
    let payload = [0x5Au8; PAYLOAD];
    let start = Instant::now();
    for i in 0..n {
        let _ = writer.append(1, i as i64, &payload);
    }
    start.elapsed()
}

/// Time for `n` appends into a fresh journal whose first segment is already
/// prepared and holds them all: the append path without segment creation.
/// `n` must fit one segment (about 690,000 records of 64 bytes in 64 MiB).
pub fn append_burst(n: u64) -> Duration {
    let dir = bench_dir("burst");
    let (mut writer, _) = Writer::open(&dir, config()).expect("open bench journal");
    settle();
    let took = append(&mut writer, n);
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
    took
}

/// The same records framed the same way (length, kind, sequence, time,
/// CRC32C, payload) through a `BufWriter<File>`: the plain-file journal
/// an application would write without a memory map.
pub fn append_bufwriter(
    out: &mut std::io::BufWriter<std::fs::File>,
    first_seq: u64,
    n: u64,
) -> Duration {
    let payload = [0x5Au8; PAYLOAD];
    let start = Instant::now();
    for seq in first_seq..first_seq + n {
        let mut header = [0u8; 32];
        header[..4].copy_from_slice(&(PAYLOAD as u32 | 1 << 31).to_le_bytes());
        header[4..6].copy_from_slice(&1u16.to_le_bytes());
        header[8..16].copy_from_slice(&seq.to_le_bytes());
        header[16..24].copy_from_slice(&(seq as i64).to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&header[4..24]), &payload);
        header[24..28].copy_from_slice(&crc.to_le_bytes());
        let _ = out.write_all(&header);
        let _ = out.write_all(&payload);
    }
    let _ = out.flush();
    start.elapsed()
}

/// Nanoseconds one `Instant::now()` pair costs (median of many), to read
/// per-append latencies against.
pub fn clock_overhead_ns() -> u64 {
    let mut samples: Vec<u64> = (0..10_001)
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Per-append latency of `n` appends, each timed with `Instant` (the
/// histogram includes one clock read, see [`clock_overhead_ns`]).
pub fn append_latency(writer: &mut Writer, n: u64) -> Histogram<u64> {
    let mut h = pt_engine::pipeline::new_histogram();
    let payload = [0x5Au8; PAYLOAD];
    for i in 0..n {
        let start = Instant::now();
        let _ = writer.append(1, i as i64, &payload);
        h.saturating_record(start.elapsed().as_nanos() as u64);
    }
    h
}

fn wall_ns() -> i64 {
    pt_engine::model::Nanos::now().0
}

/// Appends `n` records, one every `interval`, each stamped with the wall
/// clock just before it is appended.
pub fn paced_writer(writer: &mut Writer, n: u64, interval: Duration) {
    let payload = [0x5Au8; PAYLOAD];
    let start = Instant::now();
    for i in 0..n {
        let due = start + interval.mul_f64(i as f64);
        while Instant::now() < due {
            core::hint::spin_loop();
        }
        let _ = writer.append(1, wall_ns(), &payload);
    }
}

/// Busy-polls a tailer until `n` records arrive; the histogram holds each
/// record's wall-clock age when the tailer saw it.
pub fn timed_tailer(dir: &Path, n: u64, timeout: Duration) -> Histogram<u64> {
    let mut h = pt_engine::pipeline::new_histogram();
    let deadline = Instant::now() + timeout;
    let mut tailer = loop {
        match Tailer::open(dir, StartAt::Beginning) {
            Ok(t) => break t,
            Err(_) if Instant::now() < deadline => std::thread::yield_now(),
            Err(_) => return h,
        }
    };
    let mut seen = 0;
    while seen < n && Instant::now() < deadline {
        match tailer.next() {
            Ok(Some(r)) => {
                let age = wall_ns() - r.timestamp;
                h.saturating_record(age.max(1) as u64);
                seen += 1;
            }
            Ok(None) => core::hint::spin_loop(),
            Err(_) => break,
        }
    }
    h
}

/// Writer-to-tailer latency between two threads pinned to the first two
/// cores, the writer appending one record every `interval`.
pub fn tail_latency_threads(n: u64, interval: Duration) -> Histogram<u64> {
    let dir = bench_dir("tail-threads");
    let placement = crate::Placement::first_two_cores();
    let (mut writer, _) = Writer::open(&dir, config()).expect("open bench journal");
    let tail_dir = dir.clone();
    let tailer = std::thread::spawn(move || {
        if let Some(id) = placement.peer {
            core_affinity::set_for_current(core_affinity::CoreId { id });
        }
        timed_tailer(&tail_dir, n, Duration::from_secs(120))
    });
    if let Some(id) = placement.driver {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    settle();
    paced_writer(&mut writer, n, interval);
    let h = tailer
        .join()
        .unwrap_or_else(|_| pt_engine::pipeline::new_histogram());
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
    h
}

/// Waits out the writer's background preparation of its next segment
/// (about 45 ms for 64 MiB here), which would otherwise compete for the two
/// cores the measurement uses.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

/// Builds a journal of about `bytes` with 1000-byte records and a torn
/// record at its tail; returns its directory and the records written.
pub fn build_large(bytes: u64) -> (PathBuf, u64) {
    let dir = bench_dir("recovery");
    let (mut writer, _) = Writer::open(&dir, config()).expect("open bench journal");
    let payload = vec![0xA5u8; 1000];
    let n = bytes / 1032;
    for i in 0..n {
        let _ = writer.append(1, i as i64, &payload);
    }
    // Start a record and never commit it: what a crash leaves behind.
    let mut claim = writer.claim(500).expect("claim");
    claim.payload().fill(0xEE);
    // Forgetting the claim skips its clean-up, so its bytes stay behind
    // the last record exactly as a killed writer leaves them.
    std::mem::forget(claim);
    drop(writer);
    (dir, n)
}

/// Time for `Writer::open` to recover the journal in `dir`.
pub fn time_recovery(dir: &Path) -> (Duration, pt_journal::Recovery) {
    let start = Instant::now();
    let (writer, recovery) = Writer::open(dir, config()).expect("recover");
    let elapsed = start.elapsed();
    drop(writer);
    (elapsed, recovery)
}
