//! `pt sim`: run the Kalshi-compatible exchange on loopback, or make an API key.

use anyhow::Context as _;
use pt_sim::faults::Faults;
use pt_sim::render::Wire;
use pt_sim::server::{self, SimConfig};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `pt sim` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Sim {
    /// Run the exchange: REST under /trade-api/v2 and WebSocket at
    /// /trade-api/ws/v2, over TLS with a certificate made at start.
    Run(RunArgs),
    /// Make an API key pair: the public key goes into KEYS_DIR as
    /// <KEY_ID>.pub.pem (what `pt sim run --keys` loads), the private key to
    /// --private-out (mode 0600; never overwritten).
    Keygen(KeygenArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Address to listen on. Loopback by default; another address exposes
    /// an unauthenticated admin endpoint to that network.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Serve plain HTTP and WS instead of TLS (debugging with curl or websocat).
    #[arg(long)]
    plain: bool,
    /// Write the CA certificate clients must trust to this file.
    #[arg(long, default_value = "sim/ca.pem")]
    ca_out: PathBuf,
    /// Directory of API public keys (<key-id>.pub.pem); see `pt sim keygen`.
    #[arg(long, default_value = "sim/keys")]
    keys: PathBuf,
    /// Starting balance of each API key's account, in dollars.
    #[arg(long, default_value = "10000")]
    balance: String,
    /// Number of simulated markets.
    #[arg(long, default_value_t = 4)]
    markets: usize,
    /// Background market-data messages per second, 0 to 1,000,000 (0: no
    /// background trading).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    rate: u64,
    /// Seed of the market model: the same seed gives the same stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Accepted clock skew of a signed request, in seconds.
    #[arg(long, default_value_t = 30)]
    auth_window_secs: i64,
    /// A fault in force from the start, KEY=VALUE; repeatable. Keys:
    /// skip_seq, duplicate, reorder, corrupt_delta, reject_orders
    /// (probabilities 0..1),
    /// delay_ms, error_burst (counts), rate_limit_tier (basic, advanced,
    /// premier, paragon, prime). Change them while running with
    /// POST /sim/admin/faults.
    #[arg(long = "fault", value_name = "KEY=VALUE")]
    faults: Vec<String>,
    /// Also send Kalshi's legacy integer cent/count fields (removed by
    /// Kalshi in March 2026; still in recordings from before).
    #[arg(long)]
    legacy_fields: bool,
    /// Record each market-data frame's send time and each order's arrival
    /// time; read them from GET /sim/admin/probe.
    #[arg(long)]
    probe: bool,
    /// Serve the account reads (balance, orders, fills, positions) from a
    /// copy up to this many ms old, as Kalshi's lag; GET
    /// /exchange/user_data_timestamp says as of when.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    user_data_lag_ms: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct KeygenArgs {
    /// The key's id (what clients send as KALSHI-ACCESS-KEY).
    key_id: String,
    /// Directory of public keys the simulator loads.
    #[arg(long, default_value = "sim/keys")]
    keys: PathBuf,
    /// Where to write the private key (PKCS#8 PEM).
    #[arg(long)]
    private_out: PathBuf,
}

pub(crate) fn run(command: Sim) -> anyhow::Result<()> {
    match command {
        Sim::Keygen(args) => {
            let (public, private) =
                pt_sim::auth::keygen(&args.key_id, &args.keys, &args.private_out)?;
            println!("private key: {}", private.display());
            println!("public key:  {}", public.display());
            Ok(())
        }
        Sim::Run(args) => run_sim(args),
    }
}

fn run_sim(args: RunArgs) -> anyhow::Result<()> {
    let mut faults = Faults::default();
    for f in &args.faults {
        faults.set(f).map_err(anyhow::Error::msg)?;
    }
    let balance = pt_engine::model::Price::parse(&args.balance).map_err(|e| {
        anyhow::anyhow!("--balance: {:?} is not a dollar amount ({e})", args.balance)
    })?;
    let keys_dir = args.keys.is_dir().then(|| args.keys.clone());
    let config = SimConfig {
        listen: args.listen,
        plain: args.plain,
        ca_out: (!args.plain).then(|| args.ca_out.clone()),
        keys_dir,
        auth_window_ms: args.auth_window_secs.saturating_mul(1000),
        starting_balance: balance.raw(),
        markets: args.markets,
        rate: args.rate,
        seed: args.seed,
        faults,
        wire: Wire {
            legacy: args.legacy_fields,
        },
        probe: args.probe,
        ping_ms: 10_000,
        user_data_lag_ms: args.user_data_lag_ms,
    };
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}: the admin endpoint /sim/admin has no authentication and is reachable from that network",
            args.listen
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = server::start(config).await?;
        let keys = running.shared.keys.len();
        println!("pt sim listening");
        println!("  REST      {}", running.rest_url());
        println!("  WebSocket {}", running.ws_url());
        if running.ca_pem.is_some() {
            println!("  CA        {}", args.ca_out.display());
        }
        println!("  admin     {}/sim/admin/faults", running.rest_url().replace("/trade-api/v2", ""));
        if keys == 0 {
            println!(
                "  no API keys in {}: private endpoints answer 401 (make one with `pt sim keygen NAME --private-out FILE`)",
                args.keys.display()
            );
        } else {
            println!("  {keys} API keys from {}", args.keys.display());
        }
        println!("  {} markets, {} messages/s, seed {}; Ctrl-C stops", args.markets, args.rate, args.seed);
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        running.shutdown().await;
        Ok(())
    })
}
