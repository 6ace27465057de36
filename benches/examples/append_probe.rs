//! Appends N 64-byte records to a fresh journal; for profiling the append path
//! (`valgrind --tool=callgrind target/release/examples/append_probe`).
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = pt_benches::journal::bench_dir("probe");
    let (mut writer, _) =
        pt_journal::Writer::open(&dir, pt_benches::journal::config()).expect("open");
    let took = pt_benches::journal::append(&mut writer, n);
    println!(
        "{n} appends: {:.1} ns each",
        took.as_nanos() as f64 / n as f64
    );
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
}
