//! `pt run` as a process, supervising `pt engine` in paper mode on a
//! `pt sim run` feed: its store and control server, the engine SIGKILLed
//! (restarted by the supervisor) and `pt run` itself SIGKILLed (restarted
//! by the test) at random moments, with the store in SQLite and in a real
//! PostgreSQL server. Afterwards the store holds every record of the orders
//! journal exactly once, its positions are the sums of its fills, and no
//! engine outlived its supervisor.

mod support;

use pt_control::db::{Conn, Location, fresh_postgres};
use pt_engine::model::{Event, EventKind};
use pt_tests::TestDir;
use rand::Rng as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::http::{get, get_json};
use support::process::{Child, keygen, pt, start_sim};
use support::run::{healthy, start_run};

const MARKETS: [&str; 4] = [
    "PTSIM-26DEC31-M000",
    "PTSIM-26DEC31-M001",
    "PTSIM-26DEC31-M002",
    "PTSIM-26DEC31-M003",
];

struct Setup {
    dir: TestDir,
    config: PathBuf,
    _sim: Child,
}

impl Setup {
    /// `database`: the `[control]` lines that name the store.
    fn new(name: &str, database: &str) -> Setup {
        let dir = TestDir::new(name);
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        keygen("pt-engine", &dir.join("keys"), &dir.join("engine.pem"));
        let (sim, addr) = start_sim(&dir.join("keys"), &dir.join("ca.pem"), 400);
        let markets: Vec<String> = MARKETS.iter().map(|m| format!("{m:?}")).collect();
        let config = dir.join("pt.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\nmode = \"paper\"\nheartbeat_ms = 50\n\n\
                 [feed]\nport = {}\nca = \"ca.pem\"\nkey_id = \"pt-engine\"\n\
                 key_file = \"engine.pem\"\nmarkets = [{}]\n\n\
                 [control]\nhttp = \"127.0.0.1:0\"\ngrpc = \"127.0.0.1:0\"\nheartbeat_timeout_ms = 2000\n\
                 restart_min_ms = 100\nrestart_max_ms = 400\nstop_timeout_ms = 5000\n\
                 sample_ms = 200\npnl_every_ms = 200\n{database}\n\
                 [[strategy]]\nkind = \"mm\"\nrequote_ticks = 1\n",
                addr.port(),
                markets.join(", ")
            ),
        )
        .unwrap();
        Setup {
            dir,
            config,
            _sim: sim,
        }
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

fn sigkill(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -KILL {pid}");
}

/// The store's answers to `sql` (one integer column).
fn ints(db: &mut Conn, sql: &str) -> Vec<i64> {
    db.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.int(0).unwrap())
        .collect()
}

#[test]
fn the_store_keeps_every_record_once_through_engine_and_supervisor_kills_in_sqlite() {
    let s = Setup::new("control-run-kills", "");
    let db = Location::Sqlite(s.dir.join("data").join("pt.db"));
    kills(&s, &db);
}

#[test]
fn the_store_keeps_every_record_once_through_engine_and_supervisor_kills_in_postgres() {
    let Some(url) = pt_tests::postgres::server("control_run_kills") else {
        return;
    };
    let db = fresh_postgres(
        &url,
        Some(pt_tests::postgres::PASSWORD),
        &pt_tests::postgres::database_name("control_run_kills"),
    )
    .unwrap();
    let Location::Postgres { url, .. } = &db else {
        unreachable!()
    };
    let s = Setup::new(
        "control-run-kills-pg",
        &format!(
            "database = {url:?}\ndatabase_password_env = {:?}",
            pt_tests::postgres::PASSWORD
        ),
    );
    kills(&s, &db);
}

fn kills(s: &Setup, db: &Location) {
    let mut rng = rand::thread_rng();
    let mut run = start_run(&s.config);
    let mut engines = vec![healthy(&run, Duration::from_secs(60))];

    // The API while it trades.
    // Markets are sampled every sample_ms once their books are whole.
    let until = Instant::now() + Duration::from_secs(15);
    let (status, v) = loop {
        let (status, v) = get_json(run.addr, "/api/v1/markets").unwrap();
        if status != 200 || v["items"].as_array().is_some_and(|a| !a.is_empty()) {
            break (status, v);
        }
        if Instant::now() > until {
            break (status, v);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 200, "{v}");
    let tickers: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["ticker"].as_str())
        .collect();
    assert!(!tickers.is_empty(), "markets are sampled: {v}");
    assert!(tickers.iter().all(|t| MARKETS.contains(t)), "{v}");
    let (status, v) = get_json(
        run.addr,
        &format!("/api/v1/markets/{}/history?limit=3", tickers[0]),
    )
    .unwrap();
    assert_eq!(status, 200, "{v}");
    assert!(!v["items"].as_array().unwrap().is_empty(), "{v}");
    let (status, v) = get_json(run.addr, "/api/v1/orders?limit=0").unwrap();
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "bad_request", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("limit"),
        "{v}"
    );
    let (status, v) = get_json(run.addr, "/api/v1/orders?state=resting").unwrap();
    assert_eq!(status, 400, "{v}");
    let (status, v) = get_json(run.addr, "/api/v1/markets/NOPE-1/history").unwrap();
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (404, Some("unknown_market")),
        "{v}"
    );
    let (status, _) = get(run.addr, "/api/v2/orders").unwrap();
    assert_eq!(status, 404);
    let (status, metrics) = get(run.addr, "/metrics").unwrap();
    assert_eq!(status, 200);
    for name in [
        "pt_up 1",
        "pt_md_events_total",
        "pt_orders{state=\"acked\"}",
        "pt_store_lag_seconds_count",
        "pt_md_ring_dropped_total",
        "pt_md_ring_max_depth",
    ] {
        assert!(metrics.contains(name), "{name} in\n{metrics}");
    }

    // The engine killed three times: the supervisor restarts it.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(rng.gen_range(200..1500)));
        let pid = *engines.last().unwrap();
        sigkill(pid);
        let next = loop {
            let p = healthy(&run, Duration::from_secs(60));
            if p != pid {
                break p;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        engines.push(next);
    }
    let (_, v) = get_json(run.addr, "/health").unwrap();
    assert!(v["engine"]["restarts"].as_u64().unwrap() >= 3, "{v}");

    // `pt run` itself killed three times: its engine stops on its own
    // (stdin closes) and a new `pt run` carries on from the store.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..1500)));
        sigkill(run.child.0.id());
        let _ = run.child.0.wait();
        run = start_run(&s.config);
        engines.push(healthy(&run, Duration::from_secs(60)));
    }
    std::thread::sleep(Duration::from_millis(500));

    // A clean stop.
    let pid = run.child.0.id();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = run.child.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < until, "pt run did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let said: Vec<String> = run.lines.try_iter().collect();
    assert!(status.success(), "pt run: {status}; it said {said:?}");

    // No engine outlived its supervisor.
    let until = Instant::now() + Duration::from_secs(10);
    while engines.iter().any(|&p| alive(p)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = engines.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "engines still running: {left:?}");

    // The store against the journal.
    let orders_dir = s.dir.join("data").join("orders");
    let mut t = pt_journal::Tailer::open(&orders_dir, pt_journal::StartAt::Beginning).unwrap();
    let (mut all, mut fills, mut news) = (Vec::new(), Vec::new(), 0usize);
    while let Some(r) = t.next().unwrap() {
        let e = Event::from_bytes(r.payload).unwrap();
        match e {
            Event::Intent(_) | Event::Exec(_) => all.push(r.seq as i64),
            _ => {}
        }
        if let Event::Exec(x) = e
            && x.header.kind == EventKind::Fill
        {
            fills.push(r.seq as i64);
        }
        if let Event::Intent(i) = e
            && i.header.kind == EventKind::OrderNew
        {
            news += 1;
        }
    }
    assert!(news > 20, "the maker placed orders: {news}");
    let mut store = pt_control::store::Store::open(db, &[]).unwrap();
    let db = store.conn();
    assert_eq!(
        ints(db, "SELECT seq FROM order_events ORDER BY seq"),
        all,
        "order events: one row per record"
    );
    assert_eq!(
        ints(db, "SELECT seq FROM fills ORDER BY seq"),
        fills,
        "fills: one row per fill record"
    );
    assert_eq!(
        ints(db, "SELECT next_seq FROM ingest WHERE journal = 'orders'"),
        vec![t.position().next_seq as i64],
        "the store has read the whole orders journal"
    );
    let placed = ints(
        db,
        "SELECT COUNT(*) FROM orders WHERE client_order_id IN (SELECT client_order_id FROM order_events WHERE kind = 'order_new')",
    );
    assert_eq!(placed, vec![news as i64], "every placed order has its row");
    let wrong = ints(
        db,
        "SELECT COUNT(*) FROM positions p WHERE p.qty != (SELECT COALESCE(SUM(CASE f.side WHEN 'buy' THEN f.qty ELSE -f.qty END), 0) FROM fills f WHERE f.mode = p.mode AND f.instrument = p.instrument)",
    );
    assert_eq!(wrong, vec![0], "positions are the sums of the fills");
    let runs = ints(db, "SELECT COUNT(*) FROM engine_runs");
    assert!(runs[0] >= 7, "engine runs recorded: {runs:?}");
    let md = ints(db, "SELECT COUNT(*) FROM market_snapshots");
    assert!(md[0] > 0, "market snapshots: {md:?}");
    let versions = ints(db, "SELECT COUNT(*) FROM config_versions");
    assert_eq!(versions, vec![1], "one config, stored once");
}

#[test]
fn a_bad_control_table_is_refused_naming_the_key_and_line() {
    let dir = TestDir::new("control-bad-config");
    std::fs::create_dir_all(&*dir).unwrap();
    let config = dir.join("pt.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[feed]\nport = 1\nmarkets = [\"A-1\"]\n\n[control]\nhttp = \"0.0.0.0:8680\"\n",
    )
    .unwrap();
    let out = pt()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .arg("--check-config")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":7:") && err.contains("control.http") && err.contains("loopback"),
        "{err}"
    );
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[feed]\nport = 1\nmarkets = [\"A-1\"]\n\n[control]\nrestart_min_ms = \"soon\"\n",
    )
    .unwrap();
    let out = pt()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .arg("--check-config")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("control.restart_min_ms") && err.contains("soon") && err.contains(":7:"),
        "{err}"
    );
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[feed]\nport = 1\nmarkets = [\"A-1\"]\n\n[control]\nhttp_port = 1\n",
    )
    .unwrap();
    let out = pt()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .arg("--check-config")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http_port") && err.contains(":7:"), "{err}");
    for (database, says) in [
        (
            "postgres://pt:hunter2@127.0.0.1/pt",
            "database_password_env",
        ),
        ("postgres://pt@db.example.com/pt", "loopback"),
        ("mysql://pt@127.0.0.1/pt", "postgres://"),
    ] {
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\n[feed]\nport = 1\nmarkets = [\"A-1\"]\n\n[control]\ndatabase = {database:?}\n"
            ),
        )
        .unwrap();
        let out = pt()
            .arg("run")
            .arg("--config")
            .arg(&config)
            .arg("--check-config")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{database}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("control.database") && err.contains(":7:") && err.contains(says),
            "{database}: {err}"
        );
        assert!(
            !err.contains("hunter2"),
            "the password is not repeated: {err}"
        );
    }
}
