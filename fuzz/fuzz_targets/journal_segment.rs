//! Arbitrary bytes opened as a journal segment never panic: neither the
//! in-memory check, nor a tailer, verify or writer recovery on a file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_journal::{StartAt, Tailer, Writer, WriterConfig};

fuzz_target!(|data: &[u8]| {
    let _ = pt_journal::check_segment(data);
    let dir = std::env::temp_dir().join(format!("pt-fuzz-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if std::fs::write(dir.join(format!("{:020}.seg", 0)), data).is_err() {
        return;
    }
    if let Ok(mut tailer) = Tailer::open(&dir, StartAt::Beginning) {
        for _ in 0..10_000 {
            match tailer.next() {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
    let _ = pt_journal::verify(&dir);
    let _ = pt_journal::info(&dir);
    let config = WriterConfig { segment_size: 64 << 10, ..WriterConfig::default() };
    if let Ok((mut writer, _)) = Writer::open(&dir, config) {
        let _ = writer.append(1, 0, b"after recovery");
    }
});
