//! `pt ctl` against `pt run` supervising a live engine on `pt sim run`, all
//! as processes over loopback: tokens and roles are enforced, a mode change
//! is audited, a strategy stops and starts, a risk policy reload takes
//! effect, reflection lists the
//! service, and a kill stops new orders
//! and cancels the resting ones at the simulator.

mod support;

use pt_engine::model::{CommandAction, Event, EventKind, RejectCode};
use pt_tests::TestDir;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::process::{keygen, pt, start_sim};
use support::run::{healthy, start_run};

const MARKETS: [&str; 2] = ["PTSIM-26DEC31-M000", "PTSIM-26DEC31-M001"];
const TOKENS: [(&str, &str, &str); 3] = [
    ("watcher", "viewer", "tok-view-1"),
    ("ops", "operator", "tok-ops-2"),
    ("chief", "admin", "tok-admin-3"),
];

fn ctl(config: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut c = pt();
    c.arg("ctl").arg("--config").arg(config).args(args);
    c.env_remove("PT_TOKEN");
    if let Some(t) = token {
        c.env("PT_TOKEN", t);
    }
    c.stdin(Stdio::null()).output().expect("run pt ctl")
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The engine's resting orders at the simulator.
fn resting(rt: &tokio::runtime::Runtime, client: &pt_sim::client::Client) -> usize {
    let (status, v) =
        rt.block_on(client.request("GET", "/portfolio/orders?status=resting&limit=1000", None));
    assert_eq!(status, 200, "{v}");
    v["orders"].as_array().map_or(0, Vec::len)
}

#[test]
fn ctl_enforces_roles_audits_and_a_kill_cancels_at_the_venue() {
    let dir = TestDir::new("control-ctl");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let key = dir.join("engine.pem");
    keygen("pt-engine", &dir.join("keys"), &key);
    let ca = dir.join("ca.pem");
    let (sim, addr) = start_sim(&dir.join("keys"), &ca, 400);
    std::fs::write(
        dir.join("risk.toml"),
        "[rate]\ncapacity = 4000\nrefill_per_second = 4000\n",
    )
    .unwrap();
    let markets: Vec<String> = MARKETS.iter().map(|m| format!("{m:?}")).collect();
    let mut tokens = String::new();
    for (name, role, token) in TOKENS {
        let hash = pt_control::auth::hash_hex(token);
        tokens.push_str(&format!(
            "\n[[control.token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{hash}\"\n"
        ));
    }
    let config = dir.join("pt.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nmode = \"live\"\nlive_enabled = true\nheartbeat_ms = 50\n\
             risk_policy = \"risk.toml\"\n\n[feed]\nport = {}\nca = \"ca.pem\"\n\
             key_id = \"pt-engine\"\nkey_file = \"engine.pem\"\nmarkets = [{}]\n\n\
             [control]\nhttp = \"127.0.0.1:0\"\ngrpc = \"127.0.0.1:0\"\n{tokens}\n\
             [[strategy]]\nkind = \"mm\"\nrequote_ticks = 1\n",
            addr.port(),
            markets.join(", ")
        ),
    )
    .unwrap();
    let run = start_run(&config);
    healthy(&run, Duration::from_secs(60));
    let grpc = run.grpc.to_string();
    let at = ["--addr", grpc.as_str()];
    let with =
        |extra: &[&str]| -> Vec<String> { at.iter().chain(extra).map(|s| s.to_string()).collect() };
    let run_ctl = |token: Option<&str>, extra: &[&str]| {
        let args = with(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ctl(&config, token, &args)
    };

    // The venue has the maker's resting quotes.
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
    let until = Instant::now() + Duration::from_secs(30);
    while resting(&rt, &client) == 0 {
        assert!(Instant::now() < until, "no resting orders at the simulator");
        std::thread::sleep(Duration::from_millis(100));
    }

    // /health says the venue is connected: market data and live orders.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = support::http::get_json(run.addr, "/health").unwrap();
        if v["venue"]["market_data"] == "connected" && v["venue"]["orders"] == "ready" {
            break;
        }
        assert!(Instant::now() < until, "{v}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // No token, a wrong one, a viewer's kill: refused, each saying why.
    let o = run_ctl(None, &["status"]);
    assert!(
        !o.status.success() && said(&o).contains("PT_TOKEN"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some("not-a-token"), &["status"]);
    assert!(
        !o.status.success() && said(&o).contains("hash-token"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[0].2), &["kill"]);
    assert!(!o.status.success(), "{}", said(&o));
    assert!(
        said(&o).contains("viewer") && said(&o).contains("operator"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[0].2), &["status", "--json"]);
    assert!(o.status.success(), "{}", said(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["engine"]["ready"], true, "{v}");
    assert_eq!(v["trading"], "active", "{v}");

    // Live needs an admin and a confirmation; the admin's is audited.
    let o = run_ctl(Some(TOKENS[1].2), &["mode", "live", "--yes"]);
    assert!(
        !o.status.success() && said(&o).contains("admin"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[2].2), &["mode", "live"]);
    assert!(
        !o.status.success() && said(&o).contains("not confirmed"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[2].2), &["mode", "live", "--yes"]);
    assert!(o.status.success(), "{}", said(&o));

    // A strategy stopped: its quotes leave the venue, and it is reported;
    // started, it quotes again.
    let o = run_ctl(Some(TOKENS[0].2), &["strategy", "stop", "1"]);
    assert!(
        !o.status.success() && said(&o).contains("operator"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[1].2), &["strategy", "stop", "7"]);
    assert!(
        !o.status.success() && said(&o).contains("strategies 1 to 1"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[1].2), &["strategy", "stop", "1"]);
    assert!(o.status.success(), "{}", said(&o));
    let until = Instant::now() + Duration::from_secs(10);
    while resting(&rt, &client) > 0 {
        assert!(
            Instant::now() < until,
            "a stopped strategy's orders rest on"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let o = run_ctl(Some(TOKENS[0].2), &["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        if v["stopped_strategies"] == serde_json::json!([1]) {
            break;
        }
        assert!(Instant::now() < until, "status never showed the stop: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        resting(&rt, &client),
        0,
        "a stopped strategy quotes nothing"
    );
    let o = run_ctl(Some(TOKENS[1].2), &["strategy", "start", "1"]);
    assert!(o.status.success(), "{}", said(&o));
    let until = Instant::now() + Duration::from_secs(15);
    while resting(&rt, &client) == 0 {
        assert!(Instant::now() < until, "the started strategy never quoted");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The risk policy: shown to a viewer, set by an admin only, checked
    // before it is written, and in force once the engine journals it.
    let o = run_ctl(Some(TOKENS[0].2), &["risk", "show", "--json"]);
    assert!(o.status.success(), "{}", said(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 0, "{v}");
    assert!(
        v["source"].as_str().unwrap().ends_with("risk.toml")
            && v["text"].as_str().unwrap().contains("capacity = 4000"),
        "{v}"
    );
    let rejects = |run_ctl: &dyn Fn(Option<&str>, &[&str]) -> Output| -> u64 {
        let o = run_ctl(Some(TOKENS[0].2), &["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["rejects"].as_u64().unwrap()
    };
    let before = rejects(&run_ctl);
    let bad = dir.join("bad-risk.toml");
    std::fs::write(&bad, "[order]\n\nmax_qty = \"-1\"\n").unwrap();
    let o = run_ctl(Some(TOKENS[2].2), &["risk", "set", bad.to_str().unwrap()]);
    assert!(
        !o.status.success()
            && said(&o).contains("bad-risk.toml:3:")
            && said(&o).contains("max_qty"),
        "{}",
        said(&o)
    );
    let tight = dir.join("tight-risk.toml");
    std::fs::write(
        &tight,
        "[order]\nmax_qty = 1\n[rate]\ncapacity = 4000\nrefill_per_second = 4000\n",
    )
    .unwrap();
    let tight_arg = tight.to_str().unwrap();
    let o = run_ctl(Some(TOKENS[1].2), &["risk", "set", tight_arg]);
    assert!(
        !o.status.success() && said(&o).contains("admin"),
        "{}",
        said(&o)
    );
    let o = run_ctl(Some(TOKENS[2].2), &["risk", "set", tight_arg]);
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("version 1"), "{}", said(&o));
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let o = run_ctl(Some(TOKENS[0].2), &["risk", "show", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        if v["version"] == 1 {
            assert!(v["text"].as_str().unwrap().contains("max_qty = 1"), "{v}");
            assert!(v["source"].as_str().unwrap().ends_with("1.toml"), "{v}");
            break;
        }
        assert_eq!(v["newest"], 1, "{v}");
        assert!(Instant::now() < until, "the engine never switched: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The maker quotes 5 contracts: its next quotes are refused.
    let until = Instant::now() + Duration::from_secs(15);
    while rejects(&run_ctl) == before {
        assert!(Instant::now() < until, "no order refused under max_qty = 1");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Reflection lists the service.
    let services = rt.block_on(async {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut c = ServerReflectionClient::new(
            tonic::transport::Channel::from_shared(format!("http://{grpc}"))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut s = c
            .server_reflection_info(tokio_stream::iter([req]))
            .await
            .unwrap()
            .into_inner();
        let mut names = Vec::new();
        while let Some(r) = s.message().await.unwrap() {
            if let Some(MessageResponse::ListServicesResponse(l)) = r.message_response {
                names.extend(l.service.into_iter().map(|x| x.name));
            }
        }
        names
    });
    assert!(
        services.iter().any(|s| s == "pt.control.v1.Control"),
        "{services:?}"
    );

    // The kill: the venue's resting orders go, and no new order follows.
    let o = run_ctl(Some(TOKENS[1].2), &["kill"]);
    assert!(o.status.success(), "{}", said(&o));
    let until = Instant::now() + Duration::from_secs(10);
    while resting(&rt, &client) > 0 {
        assert!(
            Instant::now() < until,
            "resting orders left at the simulator after the kill"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(resting(&rt, &client), 0, "nothing rests after a second");
    let o = run_ctl(Some(TOKENS[0].2), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["trading"], "halted", "{v}");

    // In the orders journal: the kill, then no new order at all.
    let mut t = pt_journal::Tailer::open(
        &dir.join("data").join("orders"),
        pt_journal::StartAt::Beginning,
    )
    .unwrap();
    let (mut killed_at, mut after) = (None, 0);
    let (mut reloaded_at, mut too_large) = (None, 0);
    let mut runs = Vec::new();
    while let Some(r) = t.next().unwrap() {
        match Event::from_bytes(r.payload).unwrap() {
            Event::Command(c) if c.action == CommandAction::SetRunning => runs.push(c.arg),
            Event::Command(c) if c.action == CommandAction::ReloadRisk => {
                assert_eq!(c.arg, 1);
                reloaded_at = Some(r.seq)
            }
            Event::Exec(x) if x.reject_code == RejectCode::MAX_QTY => {
                assert!(
                    reloaded_at.is_some(),
                    "refused for max_qty before the reload"
                );
                too_large += 1
            }
            Event::Command(c) if c.action == CommandAction::TripKillSwitch => {
                killed_at = Some(r.seq)
            }
            Event::Intent(i) if i.header.kind == EventKind::OrderNew && killed_at.is_some() => {
                after += 1
            }
            _ => {}
        }
    }
    assert_eq!(runs, vec![0, 1], "the stop and the start, journaled");
    assert!(reloaded_at.is_some(), "the gateway journaled the reload");
    assert!(too_large > 0, "refusals under the new policy");
    assert!(killed_at.is_some(), "the gateway journaled the kill");
    assert_eq!(after, 0, "new orders after the kill");

    // The venue gone: /health says so, and why.
    drop(sim);
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, v) = support::http::get_json(run.addr, "/health").unwrap();
        let problems = v["problems"].to_string();
        if status == 503 && problems.contains("market-data session is down") {
            assert_eq!(v["venue"]["market_data"], "disconnected", "{v}");
            break;
        }
        assert!(Instant::now() < until, "{status} {v}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The audit table: who did what, refusals included.
    drop(run);
    let db = rusqlite::Connection::open(dir.join("data").join("pt.db")).unwrap();
    let rows: Vec<(String, String, String)> = db
        .prepare("SELECT who, action, result FROM audit ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.0 == "chief" && r.1 == "SetMode" && r.2.starts_with("ok")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.0 == "ops" && r.1 == "Kill" && r.2.starts_with("ok")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.0 == "ops" && r.1 == "StopStrategy" && r.2.starts_with("ok")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.0 == "chief" && r.1 == "SetRiskPolicy" && r.2.starts_with("ok")),
        "{rows:?}"
    );
    // Refused attempts to change something are there too, with why.
    assert!(
        rows.iter().any(|r| r.0 == TOKENS[0].0
            && r.1 == "Kill"
            && r.2.starts_with("refused")
            && r.2.contains("viewer")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.0 == "ops"
            && r.1 == "SetMode"
            && r.2.starts_with("refused")
            && r.2.contains("admin")),
        "{rows:?}"
    );
}
