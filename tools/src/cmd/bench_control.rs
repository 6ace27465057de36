//! `pt bench control`: does the slow path slow the hot path? The same
//! paper engine on the same local simulator, first as `pt engine` alone,
//! then under `pt run` (storing its journals, serving HTTP and gRPC):
//! tick-to-trade of each from its orders journal, their ratio, the store's
//! lag behind the journal, and gRPC `Status` latency on loopback.

use crate::local_sim::LocalSim;
use anyhow::Context as _;
use hdrhistogram::Histogram;
use pt_control::pb;
use pt_engine::model::{Event, EventKind};
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct ControlArgs {
    /// Seconds each run trades.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Simulated markets.
    #[arg(long, default_value_t = 20)]
    markets: usize,
    /// The simulator's market-data messages per second.
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// gRPC Status calls to time.
    #[arg(long, default_value_t = 2000)]
    calls: u64,
}

const TOKEN: &str = "bench-admin-token";

/// Tick-to-trade of every new order in `orders`: the gateway's journal
/// time less the market event's receive time.
fn tick_to_trade(orders: &Path) -> anyhow::Result<Histogram<u64>> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3)?;
    let mut t = pt_journal::Tailer::open(orders, pt_journal::StartAt::Beginning)
        .with_context(|| format!("reading {}", orders.display()))?;
    while let Some(r) = t.next()? {
        if let Ok(Event::Intent(i)) = Event::from_bytes(r.payload)
            && i.header.kind == EventKind::OrderNew
            && i.header.recv_ts.is_set()
            && r.timestamp > i.header.recv_ts.0
        {
            h.saturating_record((r.timestamp - i.header.recv_ts.0) as u64);
        }
    }
    Ok(h)
}

fn write_config(sim: &LocalSim, dir: &Path, control: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    sim.write_engine_config(dir, "mode = \"fused\"")?;
    let (ca, key, id) = sim.write_credentials(dir)?;
    let mut text = std::fs::read_to_string(dir.join("pt.toml"))?;
    text = text.replace(
        "[feed]\n",
        &format!(
            "[feed]\nca = {:?}\nkey_id = {id:?}\nkey_file = {:?}\n",
            ca.display().to_string(),
            key.display().to_string()
        ),
    );
    if control {
        text.push_str(&format!(
            "\n[control]\nhttp = \"127.0.0.1:0\"\ngrpc = \"127.0.0.1:0\"\n\n[[control.token]]\nname = \"bench\"\nrole = \"admin\"\nsha256 = \"{}\"\n",
            pt_control::auth::hash_hex(TOKEN)
        ));
    }
    std::fs::write(dir.join("pt.toml"), text)?;
    Ok(())
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

fn us(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1e3)
}

pub(crate) fn run(args: &ControlArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let sim = rt.block_on(LocalSim::start(args.markets, args.rate, &[], "pt-bench"))?;
    let root = std::env::temp_dir().join(format!("pt-bench-control-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (alone, supervised) = (root.join("alone"), root.join("run"));
    write_config(&sim, &alone, false)?;
    write_config(&sim, &supervised, true)?;

    eprintln!("1/2: pt engine alone for {} s", args.seconds);
    let status = Command::new(&exe)
        .args([
            "engine",
            "--every",
            "3600",
            "--seconds",
            &args.seconds.to_string(),
            "--config",
        ])
        .arg(alone.join("pt.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "pt engine alone: {status}");

    eprintln!("2/2: pt run (store, HTTP, gRPC) for {} s", args.seconds);
    let mut child = Command::new(&exe)
        .arg("run")
        .arg("--config")
        .arg(supervised.join("pt.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let mut lines = std::io::BufReader::new(stderr).lines();
    let (http, grpc) = loop {
        let line = lines
            .next()
            .context("pt run ended before saying where it listens")??;
        if let Some(rest) = line.split("control server http://").nth(1) {
            let http: std::net::SocketAddr = rest.split(' ').next().unwrap_or("").parse()?;
            let grpc = line
                .split("gRPC ")
                .nth(1)
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
                .to_owned();
            break (http, grpc);
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    std::thread::sleep(Duration::from_secs(args.seconds));

    let mut status_ns = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
    rt.block_on(async {
        let channel = tonic::transport::Channel::from_shared(format!("http://{grpc}"))?
            .connect()
            .await?;
        let mut c = pb::control_client::ControlClient::new(channel);
        for _ in 0..args.calls {
            let mut r = tonic::Request::new(pb::StatusRequest {});
            r.metadata_mut()
                .insert("authorization", format!("Bearer {TOKEN}").parse()?);
            let t = Instant::now();
            c.status(r).await?;
            status_ns.saturating_record(t.elapsed().as_nanos() as u64);
        }
        anyhow::Ok(())
    })?;
    let metrics = {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(http)?;
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: {http}\r\nConnection: close\r\n\r\n"
        )?;
        let mut body = String::new();
        s.read_to_string(&mut body)?;
        body
    };
    terminate(child.id());
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "pt run: {status}");
    let lag = |q: &str| -> String {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("pt_store_lag_seconds{{quantile=\"{q}\"}}")))
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or("-".into(), |s| format!("{:.1} ms", s * 1e3))
    };

    let a = tick_to_trade(&alone.join("orders"))?;
    let b = tick_to_trade(&supervised.join("orders"))?;
    println!(
        "tick-to-trade, paper engine on the local simulator ({} markets, {} messages/s, {} s each)",
        args.markets, args.rate, args.seconds
    );
    println!(
        "  {:<24} {:>8} {:>12} {:>12} {:>12}",
        "", "orders", "p50", "p99", "p99.9"
    );
    for (name, h) in [("pt engine alone", &a), ("under pt run (storing)", &b)] {
        println!(
            "  {:<24} {:>8} {:>12} {:>12} {:>12}",
            name,
            h.len(),
            us(h.value_at_quantile(0.5)),
            us(h.value_at_quantile(0.99)),
            us(h.value_at_quantile(0.999))
        );
    }
    let ratio = |q: f64| b.value_at_quantile(q) as f64 / a.value_at_quantile(q).max(1) as f64;
    println!(
        "  ratio under pt run / alone: p50 {:.2}, p99 {:.2}",
        ratio(0.5),
        ratio(0.99)
    );
    println!(
        "journal -> store lag (orders records): p50 {}, p99 {}",
        lag("0.5"),
        lag("0.99")
    );
    println!(
        "gRPC Status on loopback over {} calls: p50 {}, p99 {}",
        status_ns.len(),
        us(status_ns.value_at_quantile(0.5)),
        us(status_ns.value_at_quantile(0.99))
    );
    println!("runs in {}", root.display());
    Ok(())
}
