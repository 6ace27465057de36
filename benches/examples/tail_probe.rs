//! Splits writer-to-tailer outliers by side: for each record the writer notes
//! how long its append took, and the tailer notes the record's age and how
//! long its own previous poll took. An outlier whose poll gap is long was a
//! stalled tailer; one whose append was long was a stalled writer.
//! `target/release/examples/tail_probe [RECORDS] [INTERVAL_NS]`
use pt_journal::{StartAt, Tailer, Writer};
use std::time::{Duration, Instant};

fn wall() -> i64 {
    pt_engine::model::Nanos::now().0
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().ok());
    let n = args.next().flatten().unwrap_or(200_000);
    let interval = Duration::from_nanos(args.next().flatten().unwrap_or(5_000));
    let dir = pt_benches::journal::bench_dir("tail-probe");
    let placement = pt_benches::Placement::first_two_cores();
    let (mut writer, _) = Writer::open(&dir, pt_benches::journal::config()).expect("open");
    let tail_dir = dir.clone();
    let tailer = std::thread::spawn(move || {
        if let Some(id) = placement.peer {
            core_affinity::set_for_current(core_affinity::CoreId { id });
        }
        let switches = || {
            std::fs::read_to_string("/proc/thread-self/status")
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("ctxt_switches"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let before = switches();
        let mut tailer = Tailer::open(&tail_dir, StartAt::Beginning).expect("tailer");
        let mut out = Vec::with_capacity(n as usize);
        let mut last_poll = wall();
        while (out.len() as u64) < n {
            let now = wall();
            let gap = now - last_poll;
            last_poll = now;
            if let Ok(Some(r)) = tailer.next() {
                let seen = wall();
                out.push((seen - r.timestamp, gap.max(seen - now)));
                last_poll = seen;
            }
        }
        println!(
            "tailer thread before: {before}\ntailer thread after:  {}",
            switches()
        );
        out
    });
    if let Some(id) = placement.driver {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
    pt_benches::journal::settle();
    let payload = [0x5Au8; 64];
    let mut appends = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for i in 0..n {
        let due = start + interval.mul_f64(i as f64);
        while Instant::now() < due {
            core::hint::spin_loop();
        }
        let t = wall();
        let _ = writer.append(1, t, &payload);
        appends.push(wall() - t);
    }
    let seen = tailer.join().expect("tailer thread");
    let (mut tailer_side, mut writer_side, mut neither) = (0, 0, 0);
    let mut ages: Vec<i64> = seen.iter().map(|s| s.0).collect();
    ages.sort_unstable();
    let pct = |p: f64| ages[((ages.len() as f64 * p) as usize).min(ages.len() - 1)];
    let mut episodes = 0;
    let mut stall_total = 0i64;
    for (i, &(age, gap)) in seen.iter().enumerate() {
        if age <= 1_000 {
            continue;
        }
        if i > 0 && seen[i - 1].0 > 1_000 {
            continue;
        }
        episodes += 1;
        stall_total += age;
        if gap > age / 2 {
            tailer_side += 1;
        } else if appends[i] > age / 2 {
            writer_side += 1;
        } else {
            neither += 1;
        }
    }
    println!(
        "{n} records every {interval:?}: age p50 {} p99 {} p99.9 {} max {} ns",
        pct(0.5),
        pct(0.99),
        pct(0.999),
        ages[ages.len() - 1]
    );
    println!(
        "episodes (runs of consecutive outliers): {episodes}, summed first-record ages {} us",
        stall_total / 1000
    );
    println!(
        "episode starts over 1 us: {} (tailer poll stalled {tailer_side}, append slow {writer_side}, neither {neither})",
        tailer_side + writer_side + neither
    );
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
}
