//! The venue simulator started inside this process on a loopback port, with
//! an API key made for the run and kept in memory: what `pt feed` and
//! `pt demo` run against on a machine with nothing else.

use anyhow::Context as _;
use pt_feed::kalshi::feed::FeedConfig;
use pt_feed::kalshi::session::SessionConfig;
use pt_net::tls;
use std::sync::Arc;

/// The risk policy of those runs: the defaults with an order budget of a
/// higher venue tier, as twenty quoted markets need.
pub const RISK_POLICY: &str = r#"
[rate]
capacity = 4000
refill_per_second = 4000
order_cost = 10
cancel_cost = 2

[strategy]
max_open_orders = 200
"#;

/// The engine's config for a paper run against the simulator on `port`
/// (`pt demo`, `pt bench tick-to-trade`), as text: it is saved beside the
/// journals, where `pt replay` reads it. `placement` is the body of its
/// `[placement]` section.
pub fn engine_config_text(port: u16, tickers: &[String], placement: &str) -> String {
    let markets: Vec<String> = tickers.iter().map(|t| format!("{t:?}")).collect();
    format!(
        r#"# Written for a paper run against the local simulator: the engine as it ran.
data_dir = "."
mode = "paper"
heartbeat_ms = 100
on_stop = "cancel"
risk_policy = "risk.toml"

[feed]
host = "127.0.0.1"
port = {port}
markets = [{}]

[paper]
arrival_us = 200
report_us = 200

[placement]
{placement}

[[strategy]]
kind = "mm"
markets = "all"
size = "5"
max_position = "40"
half_spread = "0.02"
requote_ticks = 1

[[strategy]]
kind = "taker"
markets = "all"
threshold = "0.02"
kelly_fraction = "0.25"
bankroll = "500"
max_qty = "15"
"#,
        markets.join(", ")
    )
}

/// A running in-process simulator.
pub struct LocalSim {
    /// The server.
    pub running: pt_sim::server::Running,
    /// Its markets' tickers.
    pub tickers: Vec<String>,
    ca_pem: String,
    key_id: String,
    key: rsa::RsaPrivateKey,
}

impl LocalSim {
    /// Starts `markets` markets publishing `rate` messages a second, with
    /// `faults` (`KEY=VALUE`, as `pt sim run --fault`), accepting the key
    /// `key_id` made now.
    pub async fn start(
        markets: usize,
        rate: u64,
        faults: &[String],
        key_id: &str,
    ) -> anyhow::Result<LocalSim> {
        LocalSim::start_probed(markets, rate, faults, key_id, false).await
    }

    /// The same, with the simulator's latency probe on when `probe` is
    /// (it stamps each market-data frame's send and each order's arrival).
    pub async fn start_probed(
        markets: usize,
        rate: u64,
        faults: &[String],
        key_id: &str,
        probe: bool,
    ) -> anyhow::Result<LocalSim> {
        use pt_sim::auth::KeyStore;
        use pt_sim::server::{self, SimConfig};
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .context("cannot make an RSA key for the simulator")?;
        let mut keys = KeyStore::empty();
        keys.insert(key_id, key.to_public_key());
        let mut set = pt_sim::faults::Faults::default();
        for f in faults {
            set.set(f)
                .map_err(|e| anyhow::anyhow!("--sim-fault: {e}"))?;
        }
        let markets = markets.max(1);
        // Loopback, an ephemeral port, no CA file: everything stays in memory.
        let config = SimConfig {
            markets,
            rate,
            faults: set,
            probe,
            ..SimConfig::default()
        };
        let running = server::start_with_keys(config, keys).await?;
        let ca_pem = running.ca_pem.clone().context("the simulator serves TLS")?;
        let tickers = server::market_specs(markets, 0)
            .into_iter()
            .map(|m| m.ticker)
            .collect();
        Ok(LocalSim {
            running,
            tickers,
            ca_pem,
            key_id: key_id.to_owned(),
            key,
        })
    }

    /// Writes the simulator's CA certificate and the run's private key
    /// (PKCS#8 PEM, mode 0600) into `dir`, for an engine in another process;
    /// returns their paths and the key's id.
    pub fn write_credentials(
        &self,
        dir: &std::path::Path,
    ) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf, String)> {
        use rsa::pkcs8::EncodePrivateKey as _;
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let ca = dir.join("sim-ca.pem");
        std::fs::write(&ca, &self.ca_pem)?;
        let key = dir.join("sim-key.pem");
        let pem = self
            .key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key)?
            .write_all(pem.as_bytes())?;
        Ok((ca, key, self.key_id.clone()))
    }

    /// Writes [`engine_config_text`] for this simulator and
    /// [`RISK_POLICY`] into `dir` (as `pt.toml` and `risk.toml`) and loads it.
    pub fn write_engine_config(
        &self,
        dir: &std::path::Path,
        placement: &str,
    ) -> anyhow::Result<crate::engine::config::EngineConfig> {
        let text = engine_config_text(self.running.addr.port(), &self.tickers, placement);
        std::fs::write(dir.join("pt.toml"), &text)?;
        std::fs::write(dir.join("risk.toml"), RISK_POLICY)?;
        Ok(crate::engine::config::EngineConfig::load(
            &dir.join("pt.toml"),
        )?)
    }

    /// A feed of `session` to this simulator: its CA trusted, signed with its key.
    pub fn feed_config(&self, session: SessionConfig) -> anyhow::Result<FeedConfig> {
        let mut fc = FeedConfig::new("127.0.0.1", self.running.addr.port(), session);
        fc.tls = Some(
            tls::client_config_from_ca_pem(
                &self.ca_pem,
                std::path::Path::new("(the simulator's CA)"),
            )
            .context("the simulator's CA")?,
        );
        fc.signer = Some(Arc::new(pt_sim::auth::signer_for(&self.key_id, &self.key)));
        Ok(fc)
    }
}

impl core::fmt::Debug for LocalSim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key stays out of any output.
        f.debug_struct("LocalSim")
            .field("addr", &self.running.addr)
            .field("tickers", &self.tickers.len())
            .finish_non_exhaustive()
    }
}
