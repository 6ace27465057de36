//! `pt journal` on real journals.

use pt_engine::model::journal_kind::journal_kind;
use pt_engine::model::{
    Event, EventKind, ExecReport, Header, InstrumentId, Liquidity, MarketEvent, Mode, Nanos, Price,
    Qty, Record, Side,
};
use pt_journal::{Writer, WriterConfig};
use pt_tests::TestDir;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn pt(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pt"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn config() -> WriterConfig {
    WriterConfig {
        segment_size: 64 << 10,
        ..WriterConfig::default()
    }
}

fn trade(seq: u64) -> Event {
    Event::Market(MarketEvent {
        header: Header::new(
            EventKind::Trade,
            InstrumentId(3),
            seq,
            Nanos(1_700_000_000_000_000_000),
        ),
        side: Side::Sell,
        price: Price::parse("0.56").unwrap(),
        qty: Qty::parse("10").unwrap(),
        trade_id: 99,
        ..MarketEvent::default()
    })
}

fn write_sample(dir: &Path) {
    let (mut w, _) = Writer::open(dir, config()).unwrap();
    for seq in 0..5 {
        let e = trade(seq);
        w.append(
            journal_kind(e.kind()),
            1_700_000_000_000_000_000 + seq as i64,
            &e.to_bytes(),
        )
        .unwrap();
    }
    let fill = ExecReport {
        header: Header::new(EventKind::Fill, InstrumentId(3), 5, Nanos(1)),
        price: Price::parse("0.55").unwrap(),
        qty: Qty::ONE,
        cum_qty: Qty::ONE,
        venue_ref: [0x5a; 16],
        effective_mode: Mode::Live,
        liquidity: Liquidity::Taker,
        ..ExecReport::default()
    };
    w.append(journal_kind(EventKind::Fill), 5, &fill.to_bytes())
        .unwrap();
    w.append(0x0042, 6, b"\x01\x02\xff").unwrap();
}

#[test]
fn dump_decodes_engine_events_and_shows_others_as_hex() {
    let dir = TestDir::new("dump");
    write_sample(&dir);
    let d = dir.to_str().unwrap();
    let (code, out, err) = pt(&["journal", "dump", d]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert!(
        lines[0].contains("trade")
            && lines[0].contains("price=0.56")
            && lines[0].contains("qty=10")
            && lines[0].contains("side=sell"),
        "{}",
        lines[0]
    );
    assert!(
        lines[5].contains("fill") && lines[5].contains("liquidity=taker"),
        "{}",
        lines[5]
    );
    assert!(
        lines[6].contains("0x0042") && lines[6].contains("payload=0102ff"),
        "{}",
        lines[6]
    );

    let (_, out, _) = pt(&["journal", "dump", d, "--json", "--kind", "fill"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["seq"], 5);
    assert_eq!(v["event"]["price"], "0.55");
    assert_eq!(v["event"]["cum_qty"], "1");
    assert_eq!(
        v["event"]["trade_id"],
        "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a"
    );
    assert_eq!(v["event"]["mode"], "live");
    assert_eq!(v["event"]["requested_mode"], "paper");
    assert_eq!(v["kind"], "fill");

    let (_, out, _) = pt(&[
        "journal", "dump", d, "--from", "3", "--kind", "0x42", "--kind", "trade",
    ]);
    let seqs: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(seqs, ["3", "4", "6"]);

    let (code, _, err) = pt(&["journal", "dump", d, "--kind", "bogus"]);
    assert_ne!(code, 0);
    assert!(err.contains("bogus") && err.contains("trade"), "{err}");
}

#[test]
fn info_and_verify_report_the_journal() {
    let dir = TestDir::new("info");
    write_sample(&dir);
    let d = dir.to_str().unwrap();
    let (code, out, _) = pt(&["journal", "info", d]);
    assert_eq!(code, 0);
    assert!(out.contains("records   7 (sequence 0 .. 7)"), "{out}");
    assert!(out.contains("none running"), "{out}");
    let (_, out, _) = pt(&["journal", "info", d, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["next_seq"], 7);

    let (code, out, _) = pt(&["journal", "verify", d]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ok: 1 segments, 7 records"), "{out}");
    // Flip a payload byte of record 2.
    let seg = dir.join(format!("{:020}.seg", 0));
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[64 + 2 * 160 + 32 + 70] ^= 0xFF;
    std::fs::write(&seg, bytes).unwrap();
    let (code, out, _) = pt(&["journal", "verify", d]);
    assert_eq!(code, 1);
    assert!(
        out.contains("segment 0 offset 384 (sequence 2): record checksum mismatch"),
        "{out}"
    );

    let (code, _, err) = pt(&["journal", "info", "/nonexistent/journal"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/journal"), "{err}");
}

#[test]
fn tail_follows_new_records() {
    let dir = TestDir::new("tail");
    write_sample(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pt"))
        .args(["journal", "tail", dir.to_str().unwrap(), "--limit", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Give the tailer time to position itself at the end, then append.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (mut w, _) = Writer::open(&dir, config()).unwrap();
    for seq in 7..10 {
        let e = trade(seq);
        w.append(journal_kind(e.kind()), seq as i64, &e.to_bytes())
            .unwrap();
    }
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    assert!(child.wait().unwrap().success());
    let seqs: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(seqs, ["7", "8", "9"], "{lines:?}");
}

#[test]
fn prune_removes_old_segments_and_says_so() {
    let dir = TestDir::new("prune");
    let (mut w, _) = Writer::open(&dir, config()).unwrap();
    for seq in 0..3000 {
        let e = trade(seq);
        w.append(journal_kind(e.kind()), seq as i64, &e.to_bytes())
            .unwrap();
    }
    drop(w);
    let d = dir.to_str().unwrap();
    let (code, _, err) = pt(&["journal", "prune", d]);
    assert_ne!(code, 0);
    assert!(err.contains("--max-bytes"), "{err}");
    let (code, _, err) = pt(&["journal", "prune", d, "--max-bytes", "lots"]);
    assert_ne!(code, 0);
    assert!(err.contains("\"lots\""), "{err}");
    let (code, out, _) = pt(&["journal", "prune", d, "--max-bytes", "128K", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("would remove"), "{out}");
    let (code, out, _) = pt(&["journal", "prune", d, "--max-bytes", "128K"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("removed "), "{out}");
    let (_, out, _) = pt(&["journal", "verify", d]);
    assert!(out.starts_with("ok: 2 segments"), "{out}");
    let (_, out, _) = pt(&["journal", "prune", d, "--max-age", "7d"]);
    assert_eq!(out.trim(), "nothing to remove");
}
