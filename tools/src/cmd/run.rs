//! `pt run --config pt.toml`: the engine supervised, its journals stored,
//! and the control server (`/health`, `/metrics`, `/api/v1`).

use crate::cmd::engine::stop_on_signals;
use crate::engine::config::{EngineConfig, check_key_file};
use crate::engine::core::{VENUE, fees, registry};
use anyhow::Context as _;
use pt_control::fold::{Fold, FoldConfig};
use pt_control::grpc::Commands;
use pt_control::service::{ControlPlane, GrpcSetup};
use pt_control::store::Store;
use pt_control::supervisor::{Report, Secret, Supervisor, SupervisorConfig};
use pt_engine::model::{Command, Nanos};
use pt_gateway::Markets;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The configuration file: the engine's and, in `[control]`, this
    /// command's (see pt.example.toml).
    #[arg(long, default_value = "pt.toml", value_name = "FILE")]
    config: PathBuf,
    /// Check the configuration, print what it sets up, and exit.
    #[arg(long)]
    check_config: bool,
}

/// The venue key for the engine: from `control.key_env` in this process's
/// environment, else from `feed.key_file` (readable by its owner only).
fn secret(config: &EngineConfig) -> anyhow::Result<Option<Secret>> {
    let Some((_, file)) = &config.feed.key else {
        return Ok(None);
    };
    if let Some(var) = &config.control.key_env
        && let Some(v) = std::env::var_os(var)
    {
        let text = v
            .into_string()
            .map_err(|_| anyhow::anyhow!("control.key_env: ${var} is not UTF-8 text"))?;
        if !text.contains("PRIVATE KEY-----") {
            anyhow::bail!("control.key_env: ${var} does not hold a PEM private key");
        }
        return Ok(Some(Secret::new(text)));
    }
    match file {
        Some(f) => {
            check_key_file(f)?;
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("feed.key_file {}", f.display()))?;
            Ok(Some(Secret::new(text)))
        }
        None => anyhow::bail!(
            "feed.key_id is set but there is no key: name feed.key_file (chmod 600), or set control.key_env and that variable"
        ),
    }
}

/// The engine's command builders, for the gRPC service.
struct EngineCommands(EngineConfig);

impl Commands for EngineCommands {
    fn signal(
        &self,
        market: &str,
        probability: &str,
        confidence: &str,
        ttl: Duration,
        now: Nanos,
    ) -> Result<Command, String> {
        super::signal::signal(&self.0, market, probability, confidence, ttl, 0, now)
            .map(|s| s.to_command(now))
            .map_err(|e| format!("{e:#}"))
    }

    fn param(&self, strategy: u16, name: &str, value: &str, now: Nanos) -> Result<Command, String> {
        super::param::change(&self.0, strategy, name, value)
            .map(|c| c.to_command(now))
            .map_err(|e| format!("{e:#}"))
    }

    fn strategies(&self) -> usize {
        self.0.strategies.len()
    }

    fn venue(&self, name: &str) -> Result<u32, String> {
        if name == VENUE {
            Ok(0)
        } else {
            Err(format!("venue {name:?}: the engine trades on {VENUE} only"))
        }
    }

    fn ticker(&self, instrument: u32) -> Option<&str> {
        self.0
            .feed
            .markets
            .get(instrument as usize)
            .map(String::as_str)
    }

    fn policy_file(&self) -> Option<&std::path::Path> {
        self.0.policy_file.as_deref()
    }
}

pub(crate) fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&args.config)?;
    let c = &config.control;
    if args.check_config {
        println!("{}: ok", args.config.display());
        println!("  data directory {}", config.data_dir.display());
        println!("  store {}", c.database);
        let scheme = match &c.tls {
            None => "http",
            Some(files) => {
                pt_control::tls::server_config(files, pt_control::tls::ALPN_HTTP)?;
                "https"
            }
        };
        println!("  control server {scheme}://{}, gRPC {}", c.http, c.grpc);
        if let Some(files) = &c.tls {
            println!(
                "  TLS certificate {}, key {}",
                files.cert.display(),
                files.key.display()
            );
        }
        for t in &c.tokens {
            println!("  token {:?}: {}", t.name, t.role.name());
        }
        println!(
            "  engine: mode {:?}, {} markets, {} strategies; restarted after {}..{} ms, killed after {} ms without a heartbeat",
            config.mode,
            config.feed.markets.len(),
            config.strategies.len(),
            c.restart_min.as_millis(),
            c.restart_max.as_millis(),
            c.heartbeat_timeout.as_millis()
        );
        match (&config.feed.key, &c.key_env) {
            (None, _) => println!("  no venue key"),
            (Some(_), Some(v)) => {
                println!("  venue key from ${v} (else feed.key_file), passed on the engine's stdin")
            }
            (Some(_), None) => {
                println!("  venue key from feed.key_file, passed on the engine's stdin")
            }
        }
        return Ok(());
    }
    let secret = secret(&config)?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let mut store = Store::open(&c.database, &config.feed.markets)?;
    let text = std::fs::read_to_string(&args.config)?;
    let version = store.config_version(&args.config.display().to_string(), &text)?;
    let mut events = Store::open(&c.database, &config.feed.markets)?;
    let reg = registry(&config.feed.markets)?;
    let markets = Markets::new(&reg, |_| fees());
    let fold = Fold::new(
        &reg,
        markets,
        config.strategies.len() + 1,
        FoldConfig {
            sample_ns: c.sample.as_nanos() as i64,
            pnl_every_ns: c.pnl_every.as_nanos() as i64,
        },
    )?;
    let stop = stop_on_signals()?;
    let grpc = GrpcSetup {
        addr: c.grpc,
        audit: Store::open(&c.database, &config.feed.markets)?,
        commands: Arc::new(EngineCommands(config.clone())),
        tokens: c.tokens.clone(),
        mode: config.mode,
    };
    let plane = ControlPlane::start(
        &config.data_dir,
        store,
        fold,
        c.http,
        config.heartbeat,
        Some(grpc),
        c.tls.as_ref(),
    )?;
    eprintln!(
        "pt run: config version {version}; store {}; control server {}://{} (/health, /metrics, /api/v1/...); gRPC {} ({} tokens{})",
        c.database,
        if c.tls.is_some() { "https" } else { "http" },
        plane.addr,
        plane.grpc_addr.map_or_else(String::new, |a| a.to_string()),
        c.tokens.len(),
        if c.tls.is_some() { ", TLS" } else { "" }
    );
    if c.tokens.is_empty() {
        eprintln!(
            "pt run: no [[control.token]] in the config: every gRPC call is refused (pt ctl hash-token makes one)"
        );
    }
    let config_path = std::fs::canonicalize(&args.config)
        .with_context(|| format!("{}", args.config.display()))?;
    let program = std::env::current_exe().context("finding the pt binary")?;
    let mut sup = Supervisor::new(SupervisorConfig {
        program,
        args: vec![
            OsString::from("engine"),
            OsString::from("--config"),
            config_path.into_os_string(),
            OsString::from("--stdin-secrets"),
        ],
        env_remove: c.key_env.iter().cloned().collect(),
        secret,
        md_dir: config.data_dir.join(crate::engine::run::MD),
        heartbeat_timeout: c.heartbeat_timeout,
        first_heartbeat: c.heartbeat_timeout.max(Duration::from_secs(15)),
        ready_timeout: Duration::from_secs(30),
        restart_min: c.restart_min,
        restart_max: c.restart_max,
        stop_timeout: c.stop_timeout,
    });
    let mut run_id = None;
    let result = sup.run(&stop, |r| {
        // An engine's end: its run row closed, health told.
        let mut ended = |how: String| {
            if let Some(id) = run_id.take() {
                let _ = events.run_ended(id, &how);
            }
            plane.engine(|e| {
                e.pid = None;
                e.ready = false;
                e.last_exit = Some(how);
            });
        };
        match &r {
            Report::Spawned { pid, attempt } => {
                eprintln!("pt run: engine started (pid {pid}, start {attempt})");
                run_id = events.run_started(*pid).ok();
                plane.engine(|e| {
                    e.pid = Some(*pid);
                    e.ready = false;
                    e.restarts = u64::from(attempt - 1);
                });
            }
            Report::Ready { pid } => {
                eprintln!("pt run: engine {pid} ready");
                plane.engine(|e| e.ready = true);
            }
            Report::Output { line } => eprintln!("engine: {line}"),
            Report::Unresponsive { pid, silent_ms } => {
                eprintln!("pt run: engine {pid} wrote no heartbeat for {silent_ms} ms: killed");
                plane.engine(|e| e.unresponsive += 1);
                ended(format!("killed: no heartbeat for {silent_ms} ms"));
            }
            Report::Exited { pid, status, clean } => {
                eprintln!(
                    "pt run: engine {pid} exited ({status}){}",
                    if *clean { "" } else { "; it will be restarted" }
                );
                ended(status.clone());
            }
            Report::Stopped { pid, status } => {
                eprintln!("pt run: engine {pid} stopped ({status})");
                ended(format!("stopped: {status}"));
            }
            Report::Restarting { after } => {
                eprintln!("pt run: restarting the engine in {} ms", after.as_millis());
            }
        }
        if !plane.ingesting() {
            eprintln!("pt run: the store's ingest stopped; see the error at exit");
        }
    });
    let stored = plane.stop();
    result?;
    let read = stored?;
    eprintln!(
        "pt run: stopped; {read} journal records read into {}",
        c.database
    );
    Ok(())
}
