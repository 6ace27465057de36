//! Writes N 64-byte records to the journal at DIR and exits (for tests of
//! readers against a prewritten journal).
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: write_journal DIR N");
        std::process::exit(2);
    };
    let (mut writer, _) =
        pt_journal::Writer::open(std::path::Path::new(&dir), pt_benches::journal::config())
            .expect("open");
    pt_benches::journal::append(&mut writer, n);
}
