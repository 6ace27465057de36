//! `pt bench sim`: what the simulator sustains and how long its frames and
//! orders take on loopback.
//!
//! 1. The market model's output at several target rates (messages/s
//!    published, counted in-process from the exchange's event feed).
//! 2. Market data to a WebSocket client over TLS: the simulator's latency
//!    probe stamps each frame when it is handed to the socket; the client
//!    stamps it when the frame is read and parsed. Same host, same clock.
//! 3. Orders to the simulator over a kept-alive TLS connection: the client
//!    signs the request, stamps it and sends it; the probe stamps its arrival
//!    in the handler.

use anyhow::Context as _;
use hdrhistogram::Histogram;
use pt_engine::model::Nanos;
use pt_engine::pipeline::new_histogram;
use pt_sim::auth::KeyStore;
use pt_sim::client::{Client, Read};
use pt_sim::exchange::Event;
use pt_sim::server::{SimConfig, start_with_keys};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// Arguments of `pt bench sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimArgs {
    /// Target rates for the model measurement, messages/s, comma-separated.
    #[arg(long, default_value = "1000,100000,1000000")]
    rates: String,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3)]
    secs: u64,
    /// Background rate while measuring latency, messages/s.
    #[arg(long, default_value_t = 20_000)]
    latency_rate: u64,
    /// Orders sent for the order-arrival measurement.
    #[arg(long, default_value_t = 1000)]
    orders: u64,
}

fn print_latency(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<40} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        h.max() as f64 / 1e3
    );
}

pub(crate) fn run(args: &SimArgs) -> anyhow::Result<()> {
    let rates: Vec<u64> = args
        .rates
        .split(',')
        .map(|r| {
            r.trim()
                .parse::<u64>()
                .ok()
                .filter(|r| (1..=1_000_000).contains(r))
                .with_context(|| format!("--rates: {r:?} is not a rate from 1 to 1000000"))
        })
        .collect::<anyhow::Result<_>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        println!("market model output ({} s each, 8 markets)", args.secs);
        println!("{:>12} {:>14} {:>8}", "target/s", "published/s", "ratio");
        for rate in rates {
            let achieved = model_rate(rate, args.secs).await?;
            println!(
                "{rate:>12} {achieved:>14.0} {:>8.2}",
                achieved / rate as f64
            );
        }
        // On a worker, like a real client's tasks (block_on's thread parks
        // differently and adds milliseconds to every hand-off).
        let (secs, rate, orders) = (args.secs, args.latency_rate, args.orders);
        tokio::spawn(async move { latency(secs, rate, orders).await })
            .await
            .context("the latency task failed")?
    })
}

async fn model_rate(rate: u64, secs: u64) -> anyhow::Result<f64> {
    let config = SimConfig {
        rate,
        markets: 8,
        plain: true,
        ..SimConfig::default()
    };
    let sim = start_with_keys(config, KeyStore::empty()).await?;
    let mut feed = sim.shared.feed.subscribe();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Drop what the warm-up produced.
    while feed.try_recv().is_ok() {}
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut messages = 0u64;
    loop {
        let batch = tokio::select! {
            b = feed.recv() => b,
            _ = tokio::time::sleep_until(deadline) => break,
        };
        match batch {
            Ok(b) => {
                messages += b
                    .events
                    .iter()
                    .filter(|e| matches!(e, Event::BookDelta { .. } | Event::Trade(_)))
                    .count() as u64;
            }
            Err(RecvError::Lagged(_)) => anyhow::bail!("the measuring receiver fell behind"),
            Err(RecvError::Closed) => break,
        }
    }
    let took = start.elapsed().as_secs_f64();
    sim.shutdown().await;
    Ok(messages as f64 / took)
}

async fn latency(secs: u64, latency_rate: u64, n_orders: u64) -> anyhow::Result<()> {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).context("key generation")?;
    let mut keys = KeyStore::empty();
    keys.insert("bench", key.to_public_key());
    let signer = Arc::new(pt_sim::auth::signer_for("bench", &key));
    let config = SimConfig {
        rate: latency_rate,
        markets: 8,
        probe: true,
        ..SimConfig::default()
    };
    let sim = start_with_keys(config, keys).await?;
    let client = Client::to(sim.addr, sim.ca_pem.as_deref(), Some(signer.clone()));
    let tickers: Vec<String> = sim
        .shared
        .read(|ex| ex.markets().map(|(s, _)| s.ticker.clone()).collect())
        .1;

    let mut ws = client.websocket().await.map_err(anyhow::Error::msg)?;
    ws.command(
        "subscribe",
        Some(json!({"channels": ["orderbook_delta"], "market_tickers": tickers})),
    )
    .await;
    let mut received: HashMap<(u64, u64), i64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Read::Json(m) = ws.read(Duration::from_millis(500)).await {
            let at = Nanos::now().0;
            if let (Some(sid), Some(seq)) = (m["sid"].as_u64(), m["seq"].as_u64()) {
                received.insert((sid, seq), at);
            }
        }
    }
    let sent: HashMap<(u64, u64), i64> = match &sim.shared.probe {
        Some(p) => pt_sim::server::lock(&p.frames)
            .iter()
            .map(|(&(_, sid, seq), &ns)| ((sid, seq), ns))
            .collect(),
        None => HashMap::new(),
    };
    let mut frames = new_histogram();
    for (key, at) in &received {
        if let Some(sent) = sent.get(key) {
            frames.saturating_record((at - sent).max(1) as u64);
        }
    }

    let mut conn = client.keep_alive().await;
    let mut sent_at = HashMap::new();
    let mut round_trips = new_histogram();
    for i in 0..n_orders {
        let id = format!("bench-{i}");
        let body = json!({
            "ticker": tickers[0], "side": "bid", "price": "0.01", "count": "1",
            "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross",
            "client_order_id": id,
        });
        let path = "/trade-api/v2/portfolio/events/orders";
        let headers = signer.headers(pt_sim::server::now_ms(), "POST", path);
        let t0 = Nanos::now().0;
        sent_at.insert(id, t0);
        let (status, reply) = conn
            .request_with_headers("POST", path, Some(&body), &headers)
            .await;
        anyhow::ensure!(status == 201, "order {i}: {status} {reply}");
        round_trips.saturating_record((Nanos::now().0 - t0).max(1) as u64);
    }
    let mut orders = new_histogram();
    if let Some(p) = &sim.shared.probe {
        for (id, arrived) in pt_sim::server::lock(&p.orders).iter() {
            if let Some(sent) = sent_at.get(id) {
                orders.saturating_record((arrived - sent).max(1) as u64);
            }
        }
    }
    println!();
    println!(
        "{:<40} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "latency over TLS on loopback, µs", "count", "p50", "p99", "p99.9", "max"
    );
    print_latency(
        &format!("md frame, sim send -> client parsed ({}/s)", latency_rate),
        &frames,
    );
    print_latency("order, client send -> sim handler", &orders);
    print_latency("order, client send -> response parsed", &round_trips);
    sim.shutdown().await;
    Ok(())
}
