//! Journal append throughput (64-byte payloads, one thread) against the same
//! records written through a `BufWriter<File>`, in one run. Journals live in
//! /dev/shm when it exists (page-cache speed, no disk write-back).
//!
//! `cargo bench -p pt-benches --bench journal`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pt_benches::journal::{PAYLOAD, append, append_bufwriter, bench_dir, config, trim};
use pt_journal::Writer;
use std::time::Duration;

fn appends(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("append_{PAYLOAD}b"));
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(30)
        .throughput(Throughput::Elements(1));

    let dir = bench_dir("criterion-append");
    let (mut writer, _) = Writer::open(&dir, config()).expect("open bench journal");
    group.bench_function("pt-journal", |b| {
        b.iter_custom(|n| {
            let elapsed = append(&mut writer, n);
            trim(&dir);
            elapsed
        })
    });
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);

    let file_dir = bench_dir("criterion-bufwriter");
    std::fs::create_dir_all(&file_dir).expect("bench dir");
    let path = file_dir.join("records.bin");
    let mut seq = 0;
    group.bench_function("bufwriter-file", |b| {
        b.iter_custom(|n| {
            let file = std::fs::File::create(&path).expect("create");
            let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
            let elapsed = append_bufwriter(&mut out, seq, n);
            seq += n;
            elapsed
        })
    });
    let _ = std::fs::remove_dir_all(&file_dir);
    group.finish();
}

criterion_group!(benches, appends);
criterion_main!(benches);
