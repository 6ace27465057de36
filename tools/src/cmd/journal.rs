//! `pt journal info|dump|tail|verify`: inspect any journal.

use anyhow::{Context, bail};
use pt_engine::model::journal_kind::{ALL_KINDS, event_kind, journal_kind};
use pt_engine::model::{Event, EventKind};
use pt_journal::{StartAt, Tailer};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// What to do with a journal.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Journal {
    /// Segments, sequence range, the writer's pid and named tailers.
    Info(InfoArgs),
    /// Print records from the beginning (or --from SEQ) up to the newest.
    Dump(ReadArgs),
    /// Print records as they are appended, from the newest on (or --from SEQ).
    Tail(ReadArgs),
    /// Check every record's checksum and sequence; exit 1 at the first bad one.
    Verify(InfoArgs),
    /// Remove the oldest segments beyond an age or size budget. Never removes
    /// the segment being written or one a named tailer has not finished.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct PruneArgs {
    /// The journal directory.
    dir: PathBuf,
    /// Keep at most this much: a number of bytes with an optional K, M, G or
    /// T suffix (powers of 1024), such as 512M or 20G.
    #[arg(long, value_parser = parse_size)]
    max_bytes: Option<u64>,
    /// Remove segments whose every record is older than this: a number with
    /// s, m, h or d, such as 36h or 7d.
    #[arg(long, value_parser = parse_age)]
    max_age: Option<Duration>,
    /// List what would be removed without removing it.
    #[arg(long)]
    dry_run: bool,
}

fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        Some(b'T' | b't') => (&text[..text.len() - 1], 40),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("invalid size {text:?}; expected a number of bytes with an optional K, M, G or T suffix, such as 512M"))
}

fn parse_age(text: &str) -> Result<Duration, String> {
    let unit = match text.as_bytes().last() {
        Some(b's') => 1,
        Some(b'm') => 60,
        Some(b'h') => 3600,
        Some(b'd') => 86_400,
        _ => 0,
    };
    text.get(..text.len().saturating_sub(1))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|_| unit > 0)
        .and_then(|n| n.checked_mul(unit))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            format!("invalid age {text:?}; expected a number with s, m, h or d, such as 36h")
        })
}

#[derive(Debug, clap::Args)]
pub(crate) struct InfoArgs {
    /// The journal directory.
    dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReadArgs {
    /// The journal directory.
    dir: PathBuf,
    /// Start at this sequence number.
    #[arg(long, value_name = "SEQ")]
    from: Option<u64>,
    /// Only records of this kind: an engine event name (trade, fill,
    /// book-update, ...) or a number (277, 0x115). Repeat for several.
    #[arg(long, value_name = "K", value_parser = parse_kind)]
    kind: Vec<u16>,
    /// Keep waiting for new records (dump); tail always follows.
    #[arg(long)]
    follow: bool,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
}

fn kind_name(kind: EventKind) -> String {
    let debug = format!("{kind:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn parse_kind(text: &str) -> Result<u16, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(kind) = ALL_KINDS
        .iter()
        .find(|k| kind_name(**k) == lower || format!("{k:?}").to_ascii_lowercase() == lower)
    {
        return Ok(journal_kind(*kind));
    }
    let parsed = match lower.strip_prefix("0x") {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => lower.parse::<u16>(),
    };
    parsed.map_err(|_| {
        let names: Vec<String> = ALL_KINDS.iter().map(|k| kind_name(*k)).collect();
        format!(
            "unknown kind {text:?}; expected a number (277, 0x115) or one of: {}",
            names.join(", ")
        )
    })
}

pub(crate) fn run(command: Journal) -> anyhow::Result<()> {
    match command {
        Journal::Info(args) => info(&args),
        Journal::Verify(args) => verify(&args),
        Journal::Dump(args) => read(&args, false),
        Journal::Tail(args) => read(&args, true),
        Journal::Prune(args) => prune(&args),
    }
}

fn prune(args: &PruneArgs) -> anyhow::Result<()> {
    if args.max_bytes.is_none() && args.max_age.is_none() {
        bail!("give --max-bytes, --max-age or both: nothing would be removed otherwise");
    }
    let policy = pt_journal::Retention {
        max_bytes: args.max_bytes,
        max_age: args.max_age,
    };
    let now = pt_engine::model::Nanos::now().0;
    let removed = if args.dry_run {
        pt_journal::removable(&args.dir, policy, now)?
            .iter()
            .map(|h| h.number)
            .collect()
    } else {
        pt_journal::prune(&args.dir, policy, now)
            .with_context(|| format!("cannot prune journal {}", args.dir.display()))?
    };
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    match (removed.first(), removed.last()) {
        (Some(first), Some(last)) => {
            println!("{verb} {} segments ({first}..={last})", removed.len())
        }
        _ => println!("nothing to remove"),
    }
    Ok(())
}

fn info(args: &InfoArgs) -> anyhow::Result<()> {
    let info = pt_journal::info(&args.dir)
        .with_context(|| format!("cannot read journal {}", args.dir.display()))?;
    let tailers = pt_journal::named_positions(&args.dir)?;
    let bytes: u64 = info.segments.iter().map(|s| s.header.size).sum();
    let records: u64 = info.segments.iter().map(|s| s.records).sum();
    if args.json {
        let segments: Vec<Value> = info
            .segments
            .iter()
            .map(|s| {
                json!({"number": s.header.number, "first_seq": s.header.first_seq, "records": s.records,
                       "created_ns": s.header.created_ns, "size": s.header.size, "used": s.used, "finished": s.finished})
            })
            .collect();
        let tailers: Vec<Value> = tailers
            .iter()
            .map(|(n, p)| json!({"name": n, "segment": p.segment, "next_seq": p.next_seq}))
            .collect();
        println!(
            "{}",
            json!({"dir": args.dir, "segments": segments, "first_seq": info.first_seq, "next_seq": info.next_seq,
                   "records": records, "bytes": bytes, "writer_pid": info.writer_pid, "tailers": tailers})
        );
        return Ok(());
    }
    println!("journal   {}", args.dir.display());
    println!(
        "records   {records} (sequence {} .. {})",
        info.first_seq.map_or("-".into(), |s| s.to_string()),
        info.next_seq
    );
    println!(
        "segments  {} ({} bytes on disk)",
        info.segments.len(),
        bytes
    );
    println!(
        "writer    {}",
        info.writer_pid
            .map_or("none running".to_owned(), |pid| format!("process {pid}"))
    );
    println!(
        "{:>8} {:>14} {:>10} {:>12} {:>12} {:>8}",
        "segment", "first seq", "records", "used", "size", "state"
    );
    for s in &info.segments {
        println!(
            "{:>8} {:>14} {:>10} {:>12} {:>12} {:>8}",
            s.header.number,
            s.header.first_seq,
            s.records,
            s.used,
            s.header.size,
            if s.finished { "closed" } else { "open" }
        );
    }
    for (name, p) in tailers {
        println!(
            "tailer    {name}: next sequence {} (segment {})",
            p.next_seq, p.segment
        );
    }
    Ok(())
}

fn verify(args: &InfoArgs) -> anyhow::Result<()> {
    let report = pt_journal::verify(&args.dir)
        .with_context(|| format!("cannot read journal {}", args.dir.display()))?;
    if args.json {
        let problem = report.problem.as_ref().map(|p| {
            json!({"segment": p.segment, "offset": p.offset, "expected_seq": p.expected_seq, "what": p.what})
        });
        println!(
            "{}",
            json!({"segments": report.segments, "records": report.records, "ok": problem.is_none(), "problem": problem})
        );
    } else {
        match &report.problem {
            None => println!(
                "ok: {} segments, {} records",
                report.segments, report.records
            ),
            Some(p) => println!(
                "bad record after {} good ones: segment {} offset {} (sequence {}): {}",
                report.records, p.segment, p.offset, p.expected_seq, p.what
            ),
        }
    }
    if report.problem.is_some() {
        std::process::exit(1);
    }
    Ok(())
}

fn read(args: &ReadArgs, tail: bool) -> anyhow::Result<()> {
    let start = match (args.from, tail) {
        (Some(seq), _) => StartAt::Seq(seq),
        (None, true) => StartAt::End,
        (None, false) => StartAt::Beginning,
    };
    let follow = tail || args.follow;
    let mut tailer = loop {
        match Tailer::open(&args.dir, start) {
            Ok(t) => break t,
            Err(pt_journal::JournalError::Empty { .. }) if follow => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read journal {}", args.dir.display()));
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut printed = 0u64;
    loop {
        if args.limit.is_some_and(|limit| printed >= limit) {
            break;
        }
        let Some(record) = tailer.next()? else {
            out.flush().ok();
            if !follow {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        if !args.kind.is_empty() && !args.kind.contains(&record.kind) {
            continue;
        }
        printed += 1;
        let line = render(&record, args.json);
        if let Err(e) = writeln!(out, "{line}") {
            // The reader went away (`| head`): stop quietly.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            bail!("cannot write output: {e}");
        }
    }
    out.flush().ok();
    Ok(())
}

fn render(record: &pt_journal::RecordRef<'_>, as_json: bool) -> String {
    let decoded = event_kind(record.kind).and_then(|_| Event::from_bytes(record.payload).ok());
    let kind = match event_kind(record.kind) {
        Some(k) => kind_name(k),
        None => format!("{:#06x}", record.kind),
    };
    let fields = decoded.map(|e| describe(&e));
    if as_json {
        let mut object = json!({"seq": record.seq, "timestamp": record.timestamp, "kind": kind,
                                "kind_code": record.kind, "flags": record.flags, "len": record.payload.len()});
        match fields {
            Some(fields) => {
                object["event"] =
                    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }
            None => object["payload_hex"] = Value::String(hex(record.payload)),
        }
        return object.to_string();
    }
    let mut line = format!(
        "{:>10} {} {:<14}",
        record.seq,
        pt_engine::model::Nanos(record.timestamp),
        kind
    );
    match fields {
        Some(fields) => {
            for (k, v) in fields.into_iter().skip(1) {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                line.push_str(&format!(" {k}={v}"));
            }
        }
        None => line.push_str(&format!(
            " len={} payload={}",
            record.payload.len(),
            hex(record.payload)
        )),
    }
    line
}

/// A venue's 16-byte id in the UUID form the venue prints it in.
fn uuid(id: &[u8; 16]) -> String {
    let h = hex(id);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn hex(bytes: &[u8]) -> String {
    const LIMIT: usize = 256;
    let mut s: String = bytes
        .iter()
        .take(LIMIT)
        .map(|b| format!("{b:02x}"))
        .collect();
    if bytes.len() > LIMIT {
        s.push_str("...");
    }
    s
}

fn describe(event: &Event) -> Vec<(&'static str, Value)> {
    let h = event.header();
    let mut f: Vec<(&'static str, Value)> = vec![
        ("kind", json!(kind_name(h.kind))),
        ("instrument", json!(h.instrument.0)),
        ("venue", json!(h.venue.0)),
        ("event_seq", json!(h.seq)),
        ("recv_ts", json!(h.recv_ts.0)),
    ];
    if h.venue_ts.is_set() {
        f.push(("venue_ts", json!(h.venue_ts.0)));
    }
    let s = |v: &dyn std::fmt::Display| json!(v.to_string());
    match event {
        Event::Market(m) => {
            f.push(("side", json!(format!("{:?}", m.side).to_lowercase())));
            f.push(("price", s(&m.price)));
            f.push(("qty", s(&m.qty)));
            match h.kind {
                EventKind::Trade => f.push(("trade_id", json!(m.trade_id))),
                EventKind::SnapshotBegin => f.push(("levels", json!(m.levels))),
                EventKind::Status => {
                    f.push(("status", json!(format!("{:?}", m.status).to_lowercase())));
                    if m.gap_expected != 0 || m.gap_received != 0 {
                        f.push(("gap_expected", json!(m.gap_expected)));
                        f.push(("gap_received", json!(m.gap_received)));
                    }
                }
                _ => {}
            }
        }
        Event::Book(b) => {
            f.push(("bid", s(&b.best_bid)));
            f.push(("bid_qty", s(&b.best_bid_qty)));
            f.push(("ask", s(&b.best_ask)));
            f.push(("ask_qty", s(&b.best_ask_qty)));
            f.push((
                "changed",
                json!(
                    format!("{:?} {}@{}", b.changed_side, b.changed_qty, b.changed_price)
                        .to_lowercase()
                ),
            ));
            f.push(("book_flags", json!(b.book_flags)));
            f.push(("version", json!(b.version)));
        }
        Event::Intent(o) => {
            f.push(("order", s(&o.client_order_id)));
            if h.kind != EventKind::OrderNew {
                f.push(("target", s(&o.target)));
            }
            f.push(("side", json!(format!("{:?}", o.side).to_lowercase())));
            f.push(("price", s(&o.price)));
            f.push(("qty", s(&o.qty)));
            f.push(("tif", json!(format!("{:?}", o.time_in_force))));
            f.push(("order_flags", json!(o.order_flags)));
            f.push(("strategy", json!(o.strategy.0)));
        }
        Event::Exec(x) => {
            f.push(("order", s(&x.client_order_id)));
            f.push(("side", json!(format!("{:?}", x.side).to_lowercase())));
            f.push(("price", s(&x.price)));
            f.push(("qty", s(&x.qty)));
            f.push(("cum_qty", s(&x.cum_qty)));
            if !x.fee.is_zero() {
                f.push(("fee", s(&x.fee)));
            }
            if h.kind == EventKind::Fill {
                f.push((
                    "liquidity",
                    json!(format!("{:?}", x.liquidity).to_lowercase()),
                ));
            }
            if h.kind == EventKind::Reject {
                f.push(("reject_code", json!(x.reject_code.0)));
            }
            if let Some(id) = x.trade_id() {
                f.push(("trade_id", json!(uuid(&id))));
            }
            if let Some(id) = x.venue_order_id() {
                f.push(("venue_order_id", json!(uuid(&id))));
            }
            f.push(("mode", json!(x.effective_mode.name())));
            if x.requested_mode != x.effective_mode {
                f.push(("requested_mode", json!(x.requested_mode.name())));
            }
            f.push(("strategy", json!(x.strategy().0)));
        }
        Event::Command(c) => {
            f.push(("action", json!(format!("{:?}", c.action))));
            f.push(("scope", json!(format!("{:?}", c.scope).to_lowercase())));
            f.push(("strategy", json!(c.strategy.0)));
            f.push(("target", json!(c.target)));
            f.push(("arg", json!(c.arg)));
            f.push(("issued_by", json!(c.issued_by)));
        }
    }
    f
}
