//! `pt engine` trading live against a `pt sim run` process, SIGKILLed at
//! 30 moments while its maker's orders are in flight, restarted each time
//! (it rebuilds from its journal and reconciles before trading), then
//! stopped with SIGTERM. Afterwards, at the simulator: no client order id
//! has two venue orders, nothing rests, every fill the simulator made is in
//! the orders journal exactly once, and the ledger rebuilt from the journal
//! holds the simulator's positions and its cash the simulator's balance.

mod support;

use pt_engine::model::{Event, EventKind, InstrumentId, Mode, Qty};
use pt_tests::TestDir;
use pt_tools::engine::config::EngineConfig;
use pt_tools::engine::core::{Core, LiveVenue};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::process::{Child, keygen, pt, start_sim_with};

const KILLS: usize = 30;
const MARKETS: [&str; 2] = ["PTSIM-26DEC31-M000", "PTSIM-26DEC31-M001"];

fn events(dir: &Path) -> Vec<Event> {
    let Ok(mut t) = pt_journal::Tailer::open(dir, pt_journal::StartAt::Beginning) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(Some(r)) = t.next() {
        out.push(Event::from_bytes(r.payload).unwrap());
    }
    out
}

fn live_intents(dir: &Path) -> usize {
    events(dir)
        .iter()
        .filter(|e| matches!(e, Event::Intent(i) if i.effective_mode == Mode::Live))
        .count()
}

/// Waits until the simulator's account reads are later than now.
fn caught_up(rt: &tokio::runtime::Runtime, client: &pt_sim::client::Client) {
    let asked = pt_sim::server::now_ms();
    loop {
        let (status, v) = rt.block_on(client.request("GET", "/exchange/user_data_timestamp", None));
        assert_eq!(status, 200, "{v}");
        let as_of = pt_feed::kalshi::parse_rfc3339(v["as_of_time"].as_str().unwrap().as_bytes())
            .unwrap()
            .0
            / 1_000_000;
        if as_of > asked {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every item of a paged list at the simulator.
fn all(
    rt: &tokio::runtime::Runtime,
    client: &pt_sim::client::Client,
    path: &str,
    field: &str,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let url = format!("{path}?limit=1000&cursor={cursor}");
        let (status, v) = rt.block_on(client.request("GET", &url, None));
        assert_eq!(status, 200, "{url}: {v}");
        out.extend(v[field].as_array().cloned().unwrap_or_default());
        cursor = v["cursor"].as_str().unwrap_or_default().to_owned();
        if cursor.is_empty() {
            return out;
        }
    }
}

/// A `pt sim run` process, and a live engine's key, config and data
/// directory for it.
struct Setup {
    dir: TestDir,
    key: std::path::PathBuf,
    ca: std::path::PathBuf,
    addr: std::net::SocketAddr,
    config: std::path::PathBuf,
    orders_dir: std::path::PathBuf,
    _sim: Child,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let dir = TestDir::new(name);
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        let key = dir.join("engine.pem");
        keygen("pt-engine", &dir.join("keys"), &key);
        let ca = dir.join("ca.pem");
        // Its account reads lag the exchange by 200 ms, as Kalshi's do.
        let (sim, addr) =
            start_sim_with(&dir.join("keys"), &ca, 400, &["--user-data-lag-ms", "200"]);
        std::fs::write(
            dir.join("risk.toml"),
            "[rate]\ncapacity = 4000\nrefill_per_second = 4000\n",
        )
        .unwrap();
        let config = dir.join("pt.toml");
        let markets: Vec<String> = MARKETS.iter().map(|m| format!("{m:?}")).collect();
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\nmode = \"live\"\nlive_enabled = true\nheartbeat_ms = 50\n\
             risk_policy = \"risk.toml\"\n\n[feed]\nport = {}\nca = \"ca.pem\"\n\
             key_id = \"pt-engine\"\nkey_file = \"engine.pem\"\nmarkets = [{}]\n\n\
             [[strategy]]\nkind = \"mm\"\nrequote_ticks = 1\n",
                addr.port(),
                markets.join(", ")
            ),
        )
        .unwrap();
        let orders_dir = dir.join("data").join("orders");
        Setup {
            key,
            ca,
            addr,
            config,
            orders_dir,
            _sim: sim,
            dir,
        }
    }

    fn start(&self) -> Child {
        Child(
            pt().args(["engine", "--every", "60", "--config"])
                .arg(&self.config)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    }

    /// A signed client of the engine's account at the simulator.
    fn client(&self) -> (tokio::runtime::Runtime, pt_sim::client::Client) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let signer = Arc::new(pt_net::auth::Signer::from_pem_file("pt-engine", &self.key).unwrap());
        let ca = std::fs::read_to_string(&self.ca).unwrap();
        let client = pt_sim::client::Client::to(self.addr, Some(&ca), Some(signer));
        (rt, client)
    }

    /// Waits until the engine has journaled `n` live orders in all.
    fn wait_orders(&self, engine: &mut Child, n: usize, what: &str) {
        let until = Instant::now() + Duration::from_secs(30);
        while live_intents(&self.orders_dir) < n {
            if let Some(status) = engine.0.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read as _;
                let _ = engine.0.stderr.take().unwrap().read_to_string(&mut err);
                panic!("{what}: the engine exited ({status}): {err}");
            }
            assert!(Instant::now() < until, "{what}: no live order");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, and the engine's stderr once it exited successfully.
    fn stop(&self, mut engine: Child) -> String {
        let pid = engine.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = engine.0.wait().unwrap();
        let mut stderr = String::new();
        use std::io::Read as _;
        let _ = engine.0.stderr.take().unwrap().read_to_string(&mut stderr);
        assert!(status.success(), "{stderr}");
        stderr
    }

    /// The simulator's account against the orders journal: no client id
    /// placed twice, nothing resting, every venue fill journaled once,
    /// positions and balance equal to the rebuilt ledger's, and no order
    /// left open in it.
    fn check(&self, stderr: &str) {
        let (dir, key, ca, addr, config, orders_dir) = (
            &self.dir,
            &self.key,
            &self.ca,
            self.addr,
            &self.config,
            &self.orders_dir,
        );
        let _ = (dir, key, ca, addr);
        let (rt, client) = self.client();
        caught_up(&rt, &client);
        // What the simulator holds.
        let venue_orders = all(&rt, &client, "/portfolio/orders", "orders");
        let mut per_id: HashMap<String, usize> = HashMap::new();
        for o in &venue_orders {
            let id = o["client_order_id"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "an order without our id: {o}");
            *per_id.entry(id.to_owned()).or_default() += 1;
        }
        let doubled: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            doubled.is_empty(),
            "client ids with two venue orders: {doubled:?}"
        );
        let resting: Vec<_> = venue_orders
            .iter()
            .filter(|o| o["status"] == "resting")
            .collect();
        assert!(
            resting.is_empty(),
            "{} orders still rest after the stop: {stderr}",
            resting.len()
        );

        // Every venue fill is journaled once.
        let journal = events(orders_dir);
        let mut journaled: HashMap<[u8; 16], usize> = HashMap::new();
        for e in &journal {
            if let Event::Exec(r) = e
                && r.header.kind == EventKind::Fill
                && r.effective_mode == Mode::Live
            {
                *journaled
                    .entry(r.trade_id().expect("a live fill has its trade id"))
                    .or_default() += 1;
            }
        }
        let venue_fills = all(&rt, &client, "/portfolio/fills", "fills");
        let trades: HashSet<[u8; 16]> = venue_fills
            .iter()
            .map(|f| pt_gateway::kalshi::wire::uuid16(f["trade_id"].as_str().unwrap().as_bytes()))
            .collect();
        assert_eq!(trades.len(), venue_fills.len());
        for f in &venue_fills {
            let t = pt_gateway::kalshi::wire::uuid16(f["trade_id"].as_str().unwrap().as_bytes());
            if journaled.get(&t) != Some(&1) {
                let order = venue_orders.iter().find(|o| o["order_id"] == f["order_id"]);
                let cid =
                    order.map(|o| o["client_order_id"].as_str().unwrap_or_default().to_owned());
                let history: Vec<String> = journal
                    .iter()
                    .filter_map(|e| match e {
                        Event::Intent(i)
                            if Some(i.client_order_id.to_string()) == cid
                                || Some(i.target.to_string()) == cid =>
                        {
                            Some(format!("{:?} {}", i.header.kind, i.client_order_id))
                        }
                        Event::Exec(r) if Some(r.client_order_id.to_string()) == cid => {
                            Some(format!(
                                "{:?} cum {} code {}",
                                r.header.kind, r.cum_qty, r.reject_code.0
                            ))
                        }
                        _ => None,
                    })
                    .collect();
                panic!(
                    "a venue fill journaled {:?} times: {f}\nits order {order:?}\nits journal: {history:#?}",
                    journaled.get(&t)
                );
            }
        }
        assert_eq!(
            journaled.len(),
            trades.len(),
            "the journal holds fills the venue did not make"
        );

        // The ledger rebuilt from the journal holds the venue's positions.
        let cfg = EngineConfig::load(config).unwrap();
        let recovered: Vec<(Event, pt_engine::model::Nanos)> =
            pt_tools::engine::run::read_events(orders_dir).unwrap();
        let core = Core::new(
            &cfg,
            Vec::new(),
            &recovered,
            &[],
            LiveVenue::Off(pt_gateway::Disconnected),
        )
        .unwrap();
        let ledger = core.gateway().ledger(Mode::Live);
        let open = core.gateway().oms().snapshot();
        if let Some(o) = open.first() {
            let history: Vec<String> = recovered
                .iter()
                .filter_map(|(e, _)| match e {
                    Event::Intent(i) if i.client_order_id == o.id || i.target == o.id => {
                        Some(format!(
                            "{:?} {} qty {} price {}",
                            i.header.kind, i.client_order_id, i.qty, i.price
                        ))
                    }
                    Event::Exec(r) if r.client_order_id == o.id => Some(format!(
                        "{:?} qty {} cum {} code {}",
                        r.header.kind, r.qty, r.cum_qty, r.reject_code.0
                    )),
                    _ => None,
                })
                .collect();
            let history = &history[history.len().saturating_sub(12)..];
            panic!(
                "orders left open in the journal: {open:#?}\nthe first one's history: {history:#?}\nthe engine said: {stderr}"
            );
        }
        let positions = all(&rt, &client, "/portfolio/positions", "market_positions");
        for (i, m) in MARKETS.iter().enumerate() {
            let venue = positions
                .iter()
                .find(|p| p["ticker"] == *m)
                .map_or(Qty::ZERO, |p| {
                    Qty::parse(p["position_fp"].as_str().unwrap()).unwrap()
                });
            assert_eq!(ledger.position(InstrumentId(i as u32)).qty, venue, "{m}");
        }
        let (status, balance) = rt.block_on(client.request("GET", "/portfolio/balance", None));
        assert_eq!(status, 200);
        let balance =
            pt_engine::model::Money::parse(balance["balance_dollars"].as_str().unwrap()).unwrap();
        eprintln!(
            "venue balance {balance}, ledger cash {} fees {}",
            ledger.cash, ledger.fees
        );
        eprintln!(
            "{KILLS} kills: {} venue orders, {} fills, {} journal records",
            venue_orders.len(),
            trades.len(),
            journal.len()
        );
    }
}

#[test]
fn a_live_engine_killed_30_times_loses_and_doubles_nothing() {
    let s = Setup::new("live-crash");
    // A fixed seed: the same 30 moments on every run.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..KILLS {
        let before = live_intents(&s.orders_dir);
        let mut engine = s.start();
        // Kill once it has sent new live orders, a random moment after.
        s.wait_orders(&mut engine, before + 1, &format!("round {round}"));
        std::thread::sleep(Duration::from_millis(next() % 150));
        engine.0.kill().unwrap(); // SIGKILL
        engine.0.wait().unwrap();
    }

    // The last run trades, then stops cleanly: its orders are cancelled.
    let before = live_intents(&s.orders_dir);
    let mut engine = s.start();
    s.wait_orders(&mut engine, before + 4, "the last run");
    std::thread::sleep(Duration::from_millis(500));
    let stderr = s.stop(engine);
    s.check(&stderr);
}

/// Posts the simulator's faults (`{}` clears them).
fn faults(
    s: &Setup,
    rt: &tokio::runtime::Runtime,
    client: &pt_sim::client::Client,
    body: serde_json::Value,
) {
    let _ = s;
    let (status, v) =
        rt.block_on(client.raw_request("POST", "/sim/admin/faults", Some(&body), None));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn a_misbehaving_venue_loses_no_order_and_the_kill_switch_holds() {
    let s = Setup::new("live-faults");
    let (rt, client) = s.client();
    let mut engine = s.start();
    s.wait_orders(&mut engine, 4, "before the faults");
    // Each fault for a while, the engine trading through it.
    let schedule = [
        serde_json::json!({"reject_orders": 0.5}),
        serde_json::json!({"error_burst": 20}),
        serde_json::json!({"delay_ms": 300}),
        serde_json::json!({"rate_limit_tier": "basic"}),
    ];
    for fault in schedule {
        let before = live_intents(&s.orders_dir);
        faults(&s, &rt, &client, fault.clone());
        std::thread::sleep(Duration::from_millis(700));
        s.wait_orders(&mut engine, before + 1, &format!("under {fault}"));
    }
    // Dropped connections: every socket to the venue is cut.
    faults(&s, &rt, &client, serde_json::json!({}));
    let (status, _) =
        rt.block_on(client.raw_request("POST", "/sim/admin/drop_connections", None, None));
    assert_eq!(status, 200);
    let before = live_intents(&s.orders_dir);
    s.wait_orders(&mut engine, before + 2, "after the connections dropped");
    // The kill switch, tripped while the venue is slow: nothing new goes
    // out and what rests is cancelled.
    faults(&s, &rt, &client, serde_json::json!({"delay_ms": 100}));
    let mut commands =
        pt_tools::engine::commands::CommandWriter::open(&s.dir.join("data")).unwrap();
    let kill = pt_tools::engine::run::global(
        pt_engine::model::CommandAction::TripKillSwitch,
        pt_engine::model::Nanos::now(),
    );
    commands
        .send(&kill, pt_engine::model::Nanos::now())
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let resting = all(&rt, &client, "/portfolio/orders", "orders")
            .into_iter()
            .filter(|o| o["status"] == "resting")
            .count();
        if resting == 0 {
            break;
        }
        assert!(
            Instant::now() < until,
            "{resting} orders still rest after the kill"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let after_kill = live_intents(&s.orders_dir);
    std::thread::sleep(Duration::from_millis(700));
    let approved_after: usize = events(&s.orders_dir)
        .iter()
        .skip_while(|e| !matches!(e, Event::Command(c) if c.action == pt_engine::model::CommandAction::TripKillSwitch))
        .filter(|e| matches!(e, Event::Intent(i) if i.effective_mode == Mode::Live && i.header.kind == EventKind::OrderNew))
        .count();
    assert_eq!(
        approved_after, 0,
        "a new live order was approved after the kill"
    );
    // Only cancels may follow: an order in flight at the kill that the slow
    // venue acknowledged after the check above is cancelled too.
    let later: Vec<EventKind> = events(&s.orders_dir)
        .iter()
        .filter_map(|e| match e {
            Event::Intent(i) if i.effective_mode == Mode::Live => Some(i.header.kind),
            _ => None,
        })
        .skip(after_kill)
        .collect();
    assert!(
        later.iter().all(|k| *k == EventKind::OrderCancel),
        "live intents other than cancels after the kill: {later:?}"
    );
    faults(&s, &rt, &client, serde_json::json!({}));
    let stderr = s.stop(engine);
    // The operator's line shows the venue and what it went through.
    let venue_line = stderr
        .lines()
        .rev()
        .find(|l| l.contains("venue "))
        .unwrap_or_default();
    assert!(
        venue_line.contains("rate-limited") && venue_line.contains("reconciliations"),
        "{stderr}"
    );
    assert!(!venue_line.contains("(0 writes"), "{venue_line}");
    // Refusals are named by their reason, the venue's by its own codes
    // rather than one "venue" count.
    let reasons = venue_line
        .split("rejects ")
        .nth(1)
        .and_then(|r| r.split("  venue").next())
        .unwrap_or_default();
    let names: Vec<&str> = reasons
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches(" (")
        .trim_end_matches(')')
        .split(", ")
        .filter_map(|item| item.rsplit_once(' ').map(|(name, _)| name))
        .collect();
    assert!(
        !names.is_empty() && !names.contains(&"venue"),
        "{venue_line}"
    );
    s.check(&stderr);
}
