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
use support::process::{Child, keygen, pt, start_sim};

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

#[test]
fn a_live_engine_killed_30_times_loses_and_doubles_nothing() {
    let dir = TestDir::new("live-crash");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let key = dir.join("engine.pem");
    keygen("pt-engine", &dir.join("keys"), &key);
    let ca = dir.join("ca.pem");
    let (_sim, addr) = start_sim(&dir.join("keys"), &ca, 400);
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
    let start = || {
        Child(
            pt().args(["engine", "--every", "60", "--config"])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    };
    // A fixed seed: the same 30 moments on every run.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..KILLS {
        let before = live_intents(&orders_dir);
        let mut engine = start();
        // Kill once it has sent new live orders, a random moment after.
        let until = Instant::now() + Duration::from_secs(30);
        while live_intents(&orders_dir) <= before {
            if let Some(status) = engine.0.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read as _;
                let _ = engine.0.stderr.take().unwrap().read_to_string(&mut err);
                panic!("round {round}: the engine exited ({status}): {err}");
            }
            assert!(Instant::now() < until, "round {round}: no live order");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(next() % 150));
        engine.0.kill().unwrap(); // SIGKILL
        engine.0.wait().unwrap();
    }

    // The last run trades, then stops cleanly: its orders are cancelled.
    let before = live_intents(&orders_dir);
    let mut engine = start();
    let until = Instant::now() + Duration::from_secs(30);
    while live_intents(&orders_dir) < before + 4 {
        assert!(Instant::now() < until, "the last run never traded");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
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

    // What the simulator holds.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = Arc::new(pt_net::auth::Signer::from_pem_file("pt-engine", &key).unwrap());
    let client = pt_sim::client::Client::to(
        addr,
        Some(&std::fs::read_to_string(&ca).unwrap()),
        Some(signer),
    );
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
    let journal = events(&orders_dir);
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
            let cid = order.map(|o| o["client_order_id"].as_str().unwrap_or_default().to_owned());
            let history: Vec<String> = journal
                .iter()
                .filter_map(|e| match e {
                    Event::Intent(i)
                        if Some(i.client_order_id.to_string()) == cid
                            || Some(i.target.to_string()) == cid =>
                    {
                        Some(format!("{:?} {}", i.header.kind, i.client_order_id))
                    }
                    Event::Exec(r) if Some(r.client_order_id.to_string()) == cid => Some(format!(
                        "{:?} cum {} code {}",
                        r.header.kind, r.cum_qty, r.reject_code.0
                    )),
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
    let cfg = EngineConfig::load(&config).unwrap();
    let recovered: Vec<(Event, pt_engine::model::Nanos)> =
        pt_tools::engine::run::read_events(&orders_dir).unwrap();
    let core = Core::new(
        &cfg,
        Vec::new(),
        &recovered,
        LiveVenue::Off(pt_gateway::Disconnected),
    )
    .unwrap();
    let ledger = core.gateway().ledger(Mode::Live);
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
