//! `pt engine`, `pt signal`, `pt replay` and `pt demo` as a user runs them:
//! real processes, a real `pt sim run` on loopback, real journals.

mod support;

use pt_tests::TestDir;
use pt_tools::engine::config::EngineConfig;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::process::{Child, keygen, pt, start_sim};

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn config_error(toml: &str) -> String {
    EngineConfig::from_toml(toml, "pt.toml", Path::new("."))
        .expect_err("the config is refused")
        .to_string()
}

const FEED: &str = "[feed]\nmarkets = [\"A\", \"B\"]\n";

#[test]
fn config_errors_name_the_key_the_line_and_what_was_expected() {
    let cases: &[(String, &[&str])] = &[
        (
            format!("mode = \"papr\"\n{FEED}"),
            &[
                "pt.toml:1:",
                "mode = \"papr\"",
                "\"paper\", \"shadow\", \"live\"",
            ],
        ),
        (
            format!("{FEED}colour = 1\n"),
            &["pt.toml:3:", "unknown field `colour`"],
        ),
        (
            format!("heartbeat_ms = \"0\"\n{FEED}"),
            &["pt.toml:1:", "heartbeat_ms = \"0\"", "at least 1"],
        ),
        (
            format!("{FEED}[[strategy]]\nkind = \"maker\"\n"),
            &["pt.toml:4:", "strategy[0].kind = \"maker\"", "\"mm\""],
        ),
        (
            format!("{FEED}[[strategy]]\nkind = \"mm\"\nthreshold = \"0.02\"\n"),
            &[
                "pt.toml:5:",
                "strategy[0].threshold",
                "no such parameter for a \"mm\" strategy",
            ],
        ),
        (
            format!("{FEED}[[strategy]]\nkind = \"mm\"\nsize = \"-5\"\n"),
            &[
                "pt.toml:5:",
                "strategy[0].size = \"-5\"",
                "positive number of contracts",
            ],
        ),
        (
            format!("{FEED}[[strategy]]\nkind = \"taker\"\nmarkets = [\"C\"]\n"),
            &["pt.toml:5:", "\"C\" is not in feed.markets"],
        ),
        (
            format!("{FEED}[paper]\ncancel_rule = \"front\"\n"),
            &["pt.toml:4:", "\"back\", \"pro_rata\""],
        ),
        (
            "[feed]\nmarkets = []\n".to_owned(),
            &["pt.toml:2:", "at least one market"],
        ),
        (
            format!("{FEED}key_file = \"k.pem\"\n"),
            &["pt.toml:3:", "feed.key_id is not"],
        ),
        ("mode = \"paper\"\n".to_owned(), &["missing field `feed`"]),
        (
            format!("{FEED}[placement]\nmode = \"pinned\"\n"),
            &["pt.toml:4:", "placement.mode", "\"fused\", \"threads\""],
        ),
        (
            format!("{FEED}[placement]\nmd_ring = 1000\n"),
            &["pt.toml:4:", "placement.md_ring = \"1000\"", "power of two"],
        ),
    ];
    for (toml, wanted) in cases {
        let e = config_error(toml);
        for w in *wanted {
            assert!(e.contains(w), "{toml:?}\ngave {e:?}\nwithout {w:?}");
        }
    }
}

#[test]
fn the_example_config_checks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../pt.example.toml");
    let out = pt()
        .args(["engine", "--check-config", "--config", path])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(": ok")
            && stdout.contains("4 markets")
            && stdout.contains("strategy 2: Taker"),
        "{stdout}"
    );
}

/// Waits until `dir` holds a journal with at least `n` records.
fn wait_records(dir: &Path, n: u64, what: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(i) = pt_journal::info(dir)
            && i.next_seq >= n
        {
            return;
        }
        assert!(
            Instant::now() < until,
            "{what}: {} never held {n} records",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every engine event in a journal.
fn events(dir: &Path) -> Vec<pt_engine::model::Event> {
    let mut t = pt_journal::Tailer::open(dir, pt_journal::StartAt::Beginning).unwrap();
    let mut out = Vec::new();
    while let Some(r) = t.next().unwrap() {
        out.push(pt_engine::model::Event::from_bytes(r.payload).unwrap());
    }
    out
}

#[test]
fn the_engine_trades_a_simulator_takes_a_signal_and_stops_cleanly_on_sigterm() {
    use pt_engine::model::{Event, EventKind};
    let dir = TestDir::new("engine-run");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let key = dir.join("engine.pem");
    keygen("pt-engine", &dir.join("keys"), &key);
    let ca = dir.join("ca.pem");
    let (_sim, addr) = start_sim(&dir.join("keys"), &ca, 500);
    // An order budget of a higher tier than the default ten orders a second.
    std::fs::write(
        dir.join("risk.toml"),
        "[rate]\ncapacity = 4000\nrefill_per_second = 4000\n",
    )
    .unwrap();
    let config = dir.join("pt.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nheartbeat_ms = 50\nrisk_policy = \"risk.toml\"\n\n[placement]\nmode = \"threads\"\n\n[feed]\nport = {}\nca = \"ca.pem\"\nkey_id = \"pt-engine\"\nkey_file = \"engine.pem\"\nmarkets = [\"PTSIM-26DEC31-M000\", \"PTSIM-26DEC31-M001\"]\n\n[[strategy]]\nkind = \"mm\"\n\n[[strategy]]\nkind = \"taker\"\nmax_qty = \"3\"\n",
            addr.port()
        ),
    )
    .unwrap();

    // A key others can read is refused before anything starts.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = pt()
        .args(["engine", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let (_, stderr) = text(&refused);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("can be read by others") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    let mut engine = Child(
        pt().args(["engine", "--every", "1", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let data = dir.join("data");
    // Market data flows and the maker quotes.
    wait_records(&data.join("md"), 200, "market data");
    wait_records(&data.join("orders"), 4, "the maker's quotes");
    // A signal far above any price makes the taker buy.
    let sent = pt()
        .args(["signal", "--config"])
        .arg(&config)
        .args([
            "--market",
            "PTSIM-26DEC31-M001",
            "--probability",
            "0.99",
            "--confidence",
            "1",
            "--ttl",
            "30",
        ])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{:?}", text(&sent));
    let until = Instant::now() + Duration::from_secs(20);
    let taker_order = loop {
        let found = events(&data.join("orders"))
            .into_iter()
            .find_map(|e| match e {
                Event::Intent(i) if i.strategy.0 == 2 && i.header.kind == EventKind::OrderNew => {
                    Some(i)
                }
                _ => None,
            });
        if let Some(i) = found {
            break i;
        }
        assert!(
            Instant::now() < until,
            "the taker never acted on the signal"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(taker_order.header.instrument.0, 1);
    assert_eq!(taker_order.side, pt_engine::model::Side::Buy);

    // A parameter changes while it runs: the maker's quotes shrink to 2.
    let wrong = pt()
        .args(["param", "--config"])
        .arg(&config)
        .args(["--strategy", "1", "threshold=0.1"])
        .output()
        .unwrap();
    let (_, stderr) = text(&wrong);
    assert!(!wrong.status.success());
    assert!(
        stderr.contains("no such parameter") && stderr.contains("half_spread"),
        "{stderr}"
    );
    let changed = pt()
        .args(["param", "--config"])
        .arg(&config)
        .args(["--strategy", "1", "size=2"])
        .output()
        .unwrap();
    assert!(changed.status.success(), "{:?}", text(&changed));
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let two = events(&data.join("orders")).into_iter().any(|e| {
            matches!(e, Event::Intent(i) if i.strategy.0 == 1
                && matches!(i.header.kind, EventKind::OrderNew | EventKind::OrderReplace)
                && i.qty == pt_engine::model::Qty::from_units(2).unwrap())
        });
        if two {
            break;
        }
        assert!(
            Instant::now() < until,
            "the maker never quoted the new size"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A risk policy reload, as `pt run` sends one: the version written,
    // then the command naming it. The maker's 2 contracts are over the new
    // limit of 1, and the replay below must switch at the same place.
    let (version, _) = pt_gateway::PolicyVersions::in_data_dir(&data)
        .add(
            "[order]\nmax_qty = 1\n[rate]\ncapacity = 4000\nrefill_per_second = 4000\n",
            "test",
        )
        .unwrap();
    let mut reload = pt_tools::engine::run::global(
        pt_engine::model::CommandAction::ReloadRisk,
        pt_engine::model::Nanos::now(),
    );
    reload.arg = version;
    pt_control::commands::CommandWriter::open(&data)
        .unwrap()
        .send(&reload, pt_engine::model::Nanos::now())
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while !events(&data.join("orders")).into_iter().any(
        |e| matches!(e, Event::Exec(r) if r.reject_code == pt_engine::model::RejectCode::MAX_QTY),
    ) {
        assert!(
            Instant::now() < until,
            "no order refused under the reloaded policy"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // SIGTERM: the quotes are cancelled and the engine exits on its own.
    let pid = engine.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let until = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = engine.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < until,
            "the engine did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read as _;
    engine
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("stopped; 0 orders still open"), "{stderr}");
    let orders = events(&data.join("orders"));
    assert!(
        orders
            .iter()
            .any(|e| matches!(e, Event::Exec(r) if r.header.kind == EventKind::Cancelled))
    );
    // The signal went into md/ where the engine applied it.
    assert!(events(&data.join("md")).iter().any(
        |e| matches!(e, Event::Command(c) if c.action == pt_engine::model::CommandAction::Signal)
    ));

    // The run replays to the same orders.
    let replay = pt()
        .arg("replay")
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&replay);
    assert!(replay.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("identical"), "{stdout}");
}

/// The number before `word` in `line` ("… 72 fills …").
fn number_before(line: &str, word: &str) -> u64 {
    line.split(word)
        .next()
        .and_then(|s| s.trim_end().rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {word:?} in {line:?}"))
}

#[test]
fn a_market_data_ring_that_stays_full_marks_books_stale_and_they_resync() {
    let dir = TestDir::new("demo-overflow");
    let out = pt()
        .args([
            "demo",
            "--seconds",
            "3",
            "--plain",
            "--markets",
            "4",
            "--rate",
            "50000",
        ])
        .args(["--threads", "--md-ring", "2", "--data-dir"])
        .arg(&*dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let counters = stdout
        .lines()
        .rev()
        .find(|l| l.contains("md overflow"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(number_before(counters, " dropped") > 0, "{counters}");
    assert!(number_before(counters, " stale marks") > 0, "{counters}");
    let resyncs: u64 = counters
        .split("resyncs ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(resyncs > 0, "{counters}");
    // The heartbeats carry the ring's counters to the control plane.
    let carried = events(&dir.join("md"))
        .into_iter()
        .filter_map(|e| match e {
            pt_engine::model::Event::Command(c)
                if c.action == pt_engine::model::CommandAction::Heartbeat =>
            {
                Some((c.args[1], c.args[2]))
            }
            _ => None,
        })
        .max()
        .unwrap_or_else(|| panic!("no heartbeat in md/"));
    assert!(carried.0 > 0 && carried.1 > 0, "{carried:?}");
    // The stale marks are inputs like any other: the run still replays.
    let replay = pt().arg("replay").arg(&*dir).output().unwrap();
    let (stdout, stderr) = text(&replay);
    assert!(replay.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("identical"), "{stdout}");
}

#[test]
fn the_demo_trades_and_its_journals_replay_byte_for_byte() {
    let dir = TestDir::new("demo");
    let out = pt()
        .args([
            "demo",
            "--seconds",
            "4",
            "--plain",
            "--markets",
            "6",
            "--signal-every-ms",
            "100",
            "--data-dir",
        ])
        .arg(&*dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Summary:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let fills = number_before(summary, " fills");
    assert!(fills > 0, "nothing filled in 4 s: {summary}");
    assert!(summary.contains("0 orders left open"), "{summary}");
    assert!(
        stdout.contains("pt replay"),
        "the summary says how to look at the journals"
    );
    check_positions_and_limits(&dir, &stdout);
    for journal in ["md", "orders", "commands"] {
        let v = pt()
            .args(["journal", "verify"])
            .arg(dir.join(journal))
            .output()
            .unwrap();
        assert!(v.status.success(), "{journal}: {:?}", text(&v));
    }
    let replay = pt().arg("replay").arg(&*dir).output().unwrap();
    let (stdout, stderr) = text(&replay);
    assert!(replay.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("identical"), "{stdout}");
}

/// Each market's final position in the demo's view equals the sum of its
/// fills in `orders/`, and no fill ever took a strategy past its
/// `max_position` (mm 40, taker 50, as the demo configures them) or the
/// account past the policy's 500 an instrument; no order was larger than
/// the policy's 100 contracts.
fn check_positions_and_limits(dir: &Path, stdout: &str) {
    use pt_engine::model::{Event, EventKind, Side};
    use std::collections::HashMap;
    let unit = pt_engine::model::Qty::ONE.raw();
    let mut account: HashMap<u32, i64> = HashMap::new();
    let mut by_strategy: HashMap<(u16, u32), i64> = HashMap::new();
    for e in events(&dir.join("orders")) {
        match e {
            Event::Exec(r) if r.header.kind == EventKind::Fill => {
                let n = r.qty.raw() / unit * if r.side == Side::Buy { 1 } else { -1 };
                let i = r.header.instrument.0;
                let a = account.entry(i).or_default();
                *a += n;
                assert!(a.abs() <= 500, "instrument {i} reached {a}");
                let strategy = r.strategy().0;
                let s = by_strategy.entry((strategy, i)).or_default();
                *s += n;
                let cap = if strategy == 1 { 40 } else { 50 };
                assert!(
                    s.abs() <= cap,
                    "strategy {strategy} reached {s} in instrument {i}"
                );
            }
            Event::Intent(i) if i.header.kind == EventKind::OrderNew => {
                assert!(i.qty.raw() <= 100 * unit, "an order of {}", i.qty);
            }
            _ => {}
        }
    }
    assert!(!account.is_empty(), "no fills");
    // The last view's table: `  TICKER  bid ask our-bid our-ask position [stale]`.
    let mut shown: HashMap<u32, i64> = HashMap::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(m) = words
            .first()
            .and_then(|w| w.strip_prefix("PTSIM-26DEC31-M"))
            && let Ok(i) = m.parse::<u32>()
        {
            let position = words
                .iter()
                .rev()
                .find_map(|w| w.parse::<i64>().ok())
                .unwrap_or_else(|| panic!("no position in {line:?}"));
            shown.insert(i, position);
        }
    }
    for (i, sum) in &account {
        assert_eq!(
            shown.get(i).copied().unwrap_or(0),
            *sum,
            "market {i}: the view against the fills"
        );
    }
}

/// The start-up contract: the engine prints a readiness line with a nonce,
/// and takes the nonce back with the key on stdin; a wrong nonce is refused.
#[test]
fn a_supervised_engine_takes_its_key_on_stdin_after_the_nonce() {
    use std::io::{BufRead as _, BufReader, Write as _};
    let dir = TestDir::new("engine-stdin");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let key = dir.join("engine.pem");
    keygen("pt-engine", &dir.join("keys"), &key);
    let pem = std::fs::read_to_string(&key).unwrap();
    let (_sim, addr) = start_sim(&dir.join("keys"), &dir.join("ca.pem"), 500);
    let config = dir.join("pt.toml");
    // No key_file: the key comes on stdin.
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\n[feed]\nport = {}\nca = \"ca.pem\"\nkey_id = \"pt-engine\"\nmarkets = [\"PTSIM-26DEC31-M000\"]\n\n[[strategy]]\nkind = \"mm\"\n",
            addr.port()
        ),
    )
    .unwrap();
    let start = |answer: &dyn Fn(&str) -> String| {
        let mut child = Child(
            pt().args(["engine", "--stdin-secrets", "--config"])
                .arg(&config)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let nonce = line
            .trim()
            .strip_prefix("pt-engine ready nonce=")
            .unwrap_or_else(|| panic!("readiness line: {line:?}"))
            .to_owned();
        assert_eq!(nonce.len(), 32, "{nonce}");
        let mut stdin = child.0.stdin.take().unwrap();
        stdin.write_all(answer(&nonce).as_bytes()).unwrap();
        // Held open: a supervised engine stops when its stdin closes.
        (child, stdin)
    };
    // A wrong nonce: refused, and nothing starts.
    let (mut wrong, _stdin) = start(&|_| format!("nonce=00000000000000000000000000000000\n{pem}"));
    let status = wrong.0.wait().unwrap();
    let mut stderr = String::new();
    use std::io::Read as _;
    wrong
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("the first line must be `nonce="),
        "{stderr}"
    );
    // The right one: the engine signs its connection with the key and runs.
    let (mut engine, _stdin) = start(&|nonce| format!("nonce={nonce}\n{pem}"));
    wait_records(
        &dir.join("data").join("md"),
        50,
        "market data with the key from stdin",
    );
    let pid = engine.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(engine.0.wait().unwrap().success());
    // The key went nowhere near the journals or the data directory.
    let marker = pem.lines().nth(1).unwrap();
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    files(&dir.join("data"), &mut all);
    assert!(all.len() >= 3, "the journals: {all:?}");
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(marker),
            "{}",
            path.display()
        );
    }
}
