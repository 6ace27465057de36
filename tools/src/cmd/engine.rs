//! `pt engine --config pt.toml`: the hot path as a process.

use crate::engine::config::{EngineConfig, FeedSettings, check_key_file};
use crate::engine::run::{Engine, session};
use crate::engine::view::Snapshot;
use anyhow::Context as _;
use pt_feed::kalshi::feed::FeedConfig;
use pt_net::auth::Signer;
use pt_net::tls;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct EngineArgs {
    /// The configuration file (see docs/ARCHITECTURE.md and pt.example.toml).
    #[arg(long, default_value = "pt.toml", value_name = "FILE")]
    config: PathBuf,
    /// Check the configuration, print what it sets up, and exit.
    #[arg(long)]
    check_config: bool,
    /// Supervised start-up (what `pt run` does): print `pt-engine ready
    /// nonce=<hex>` on stdout, then read from stdin a line `nonce=<hex>` and,
    /// when the config names feed.key_id, the key's PEM (instead of
    /// reading feed.key_file).
    #[arg(long)]
    stdin_secrets: bool,
    /// Stop after this many seconds; 0 runs until SIGTERM, SIGINT or a
    /// Shutdown command in the commands journal.
    #[arg(long, default_value_t = 0)]
    seconds: u64,
    /// Seconds between status lines on stderr.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    every: u64,
}

/// The stop flag, raised by SIGINT and SIGTERM.
pub(crate) fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("cannot watch for signals")?;
    }
    Ok(stop)
}

/// A random 128-bit nonce in hex.
fn nonce() -> String {
    use rand::RngCore as _;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The readiness handshake: the nonce out, the nonce back in, then the
/// key's PEM when `key_id` names one.
fn handshake(key_id: Option<&str>) -> anyhow::Result<Option<Signer>> {
    let n = nonce();
    let mut out = std::io::stdout().lock();
    writeln!(out, "pt-engine ready nonce={n}")?;
    out.flush()?;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    if first.trim() != format!("nonce={n}") {
        anyhow::bail!("stdin: the first line must be `nonce={n}` (the nonce just printed)");
    }
    let Some(key_id) = key_id else {
        return Ok(None);
    };
    let mut pem = String::new();
    for line in lines {
        let line = line?;
        pem.push_str(&line);
        pem.push('\n');
        if line.starts_with("-----END") {
            break;
        }
    }
    let signer = Signer::from_pem(key_id, &pem, Path::new("(stdin)"));
    // The PEM goes no further than the signer.
    let mut bytes = pem.into_bytes();
    bytes.fill(0);
    std::hint::black_box(&bytes);
    signer.map(Some).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Under a supervisor, stdin stays open for as long as the supervisor
/// lives: its end (the supervisor died, even by SIGKILL) stops the engine
/// cleanly, as SIGTERM would.
fn watch_supervisor(stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("pt-supervisor-watch".into())
        .spawn(move || {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin().lock();
            while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
            eprintln!("pt engine: the supervisor is gone (stdin closed): stopping");
            stop.store(true, Ordering::Relaxed);
        })
        .context("starting the supervisor watch")?;
    Ok(())
}

fn feed_config(f: &FeedSettings, stdin_secrets: bool) -> anyhow::Result<FeedConfig> {
    let mut fc = FeedConfig::new(&f.host, f.port, session(&f.markets));
    fc.tls = Some(match &f.ca {
        Some(ca) => tls::client_config_from_ca_file(ca)
            .with_context(|| format!("feed.ca {}", ca.display()))?,
        None => tls::client_config_web_roots().context("the standard web roots")?,
    });
    if stdin_secrets {
        fc.signer = handshake(f.key.as_ref().map(|k| k.0.as_str()))?.map(Arc::new);
        return Ok(fc);
    }
    fc.signer = match &f.key {
        Some((id, Some(file))) => {
            check_key_file(file)?;
            Some(Arc::new(
                Signer::from_pem_file(id, file)
                    .map_err(|e| anyhow::anyhow!("feed.key_file: {e}"))?,
            ))
        }
        Some((_, None)) => anyhow::bail!(
            "feed.key_id is set without feed.key_file: pass the key on stdin with --stdin-secrets, or name its file"
        ),
        None => None,
    };
    Ok(fc)
}

pub(crate) fn run(args: EngineArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&args.config)?;
    if args.check_config {
        println!("{}: ok", args.config.display());
        println!("  data directory {}", config.data_dir.display());
        println!(
            "  mode {:?} (live {}), heartbeat every {} ms",
            config.mode,
            if config.live_enabled {
                "enabled"
            } else {
                "disabled"
            },
            config.heartbeat.as_millis()
        );
        println!(
            "  feed {}:{} with {} markets",
            config.feed.host,
            config.feed.port,
            config.feed.markets.len()
        );
        println!("  placement {:?}", config.placement);
        if config.mode != pt_engine::model::Mode::Paper {
            println!(
                "  venue: Kalshi order entry at {}:{} (signed with feed.key_id); orders at the venue this engine did not place: {:?}",
                config.feed.host, config.feed.port, config.foreign_orders
            );
        }
        for (i, s) in config.strategies.iter().enumerate() {
            println!("  strategy {}: {s:?}", i + 1);
        }
        if config.policy.is_none() {
            println!("  no risk_policy: the defaults apply, and live orders are refused");
        }
        return Ok(());
    }
    let stop = stop_on_signals()?;
    let fc = feed_config(&config.feed, args.stdin_secrets)?;
    if args.stdin_secrets {
        watch_supervisor(stop.clone())?;
    }
    let mut engine = Engine::open(&config, fc)?;
    eprintln!(
        "pt engine: {} markets, {} strategies, mode {:?}; journals in {}",
        config.feed.markets.len(),
        config.strategies.len(),
        config.mode,
        config.data_dir.display()
    );
    let started = Instant::now();
    let mut next = started + Duration::from_secs(args.every);
    let mut last_events = 0;
    let kinds: Vec<&'static str> = config.strategies.iter().map(|s| s.kind()).collect();
    loop {
        engine.turn(Duration::from_millis(20));
        let done = stop.load(Ordering::Relaxed)
            || engine.stop_requested()
            || (args.seconds > 0 && started.elapsed() >= Duration::from_secs(args.seconds));
        if Instant::now() >= next || done {
            next += Duration::from_secs(args.every);
            let s = Snapshot::of(&engine, &config.feed.markets, &kinds, started.elapsed());
            let events = s.loop_counters.market_events;
            let rate = (events - last_events) as f64 / args.every as f64;
            last_events = events;
            eprintln!("{}", s.line(rate));
        }
        if done {
            break;
        }
    }
    let stopped = engine.stop(Duration::from_secs(3))?;
    eprintln!(
        "pt engine: stopped; {} orders still open",
        stopped.open.len()
    );
    for o in &stopped.open {
        eprintln!("  still open: {o}");
    }
    Ok(())
}
