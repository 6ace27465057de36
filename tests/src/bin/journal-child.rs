//! A journal writer process for the crash and cross-process tests.
//!
//! `journal-child DIR SEGMENT_SIZE COUNT [RETENTION_BYTES]` opens the journal
//! (recovering it; with RETENTION_BYTES, keeping about that much and
//! recycling removed segments), appends records until COUNT have been written
//! in total (0: forever), and
//! reports on stdout: `open NEXT_SEQ` once, then the sequence number of every
//! record it committed, flushing every 16 records.

use pt_journal::{Writer, WriterConfig};
use pt_tests::{CHILD_KIND, child_payload, child_timestamp};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(size), Some(count)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: journal-child DIR SEGMENT_SIZE COUNT");
        std::process::exit(2);
    };
    let (Ok(size), Ok(count)) = (size.parse::<u64>(), count.parse::<u64>()) else {
        eprintln!("journal-child: SEGMENT_SIZE and COUNT must be numbers");
        std::process::exit(2);
    };
    let config = WriterConfig {
        segment_size: size,
        index_interval: 16,
        ..WriterConfig::default()
    };
    let (mut writer, recovery) = match Writer::open(std::path::Path::new(dir), config) {
        Ok(opened) => opened,
        Err(err) => {
            eprintln!("journal-child: {err}");
            std::process::exit(1);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let _ = writeln!(out, "open {}", recovery.next_seq);
    let _ = out.flush();
    loop {
        let seq = writer.next_seq();
        if count != 0 && seq >= count {
            break;
        }
        match writer.append(CHILD_KIND, child_timestamp(seq), &child_payload(seq)) {
            Ok(committed) => {
                let _ = writeln!(out, "{committed}");
                if committed % 16 == 15 {
                    let _ = out.flush();
                }
            }
            Err(err) => {
                eprintln!("journal-child: {err}");
                std::process::exit(1);
            }
        }
    }
    let _ = out.flush();
}
