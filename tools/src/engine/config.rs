//! `pt.toml`: the engine's configuration, checked as a whole before
//! anything starts. Every error names the key, the line and what was
//! expected; unknown keys are errors.
//!
//! ```toml
//! data_dir = "pt-data"        # journals md/, orders/ and commands/
//! mode = "paper"              # paper | shadow | live
//! live_enabled = false        # live orders need this, a risk policy and healthy kill switches
//! heartbeat_ms = 100          # clock ticks into the md journal
//! on_stop = "cancel"          # cancel | leave: open orders at a clean stop
//! foreign_orders = "cancel"   # cancel | leave: orders at the venue this engine did not place
//! order_group_contracts = 200 # optional: each strategy's orders in a venue order group that
//!                             # cancels them past this many contracts matched in 15 s
//! risk_policy = "risk.toml"   # optional; the defaults otherwise (paper and shadow only)
//!
//! [feed]                      # Kalshi's WebSocket, or `pt sim run`
//! host = "127.0.0.1"
//! port = 8443
//! ca = "sim/ca.pem"           # trust this CA instead of the web roots
//! key_id = "pt-engine"
//! key_file = "pt-engine.pem"  # readable by its owner only (chmod 600); leave it out
//!                             # to pass the key on stdin (`pt engine --stdin-secrets`)
//! markets = ["PTSIM-26DEC31-M000", "PTSIM-26DEC31-M001"]
//!
//! [paper]                     # the paper venue's latencies
//! arrival_us = 200
//! report_us = 200
//! cancel_rule = "back"        # back | pro_rata
//!
//! [placement]
//! mode = "fused"              # fused (one thread) | threads (feed and decision path apart)
//! pin = false                 # with threads: pin them to cores and spin
//! md_ring = 4096              # slots of the md ring; a ring that stays full marks books stale
//!
//! [control]                   # `pt run`: supervision, store, HTTP (see pt_control::config)
//! http = "127.0.0.1:8680"
//!
//! [[strategy]]                # numbered from 1 in this order
//! kind = "mm"
//! markets = "all"
//! ```

use pt_control::config::{ControlFile, ControlSettings};
use pt_engine::config::{self, ConfigError, Field, Reader};
use pt_engine::model::Mode;
use pt_engine::strategy::config::{KINDS, MarketsFile, Params as _, StrategyFile};
use pt_engine::strategy::mm::MmParams;
use pt_engine::strategy::probe::ProbeParams;
use pt_engine::strategy::taker::TakerParams;
use pt_gateway::kalshi::ForeignOrders;
use pt_gateway::{CancelRule, PaperConfig, RiskPolicy};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    data_dir: Option<String>,
    mode: Option<Spanned<String>>,
    live_enabled: Option<bool>,
    heartbeat_ms: Field,
    on_stop: Option<Spanned<String>>,
    foreign_orders: Option<Spanned<String>>,
    order_group_contracts: Field,
    risk_policy: Option<String>,
    feed: FeedFile,
    #[serde(default)]
    paper: PaperFile,
    #[serde(default)]
    placement: PlacementFile,
    #[serde(default)]
    strategy: Vec<StrategyFile>,
    #[serde(default)]
    control: ControlFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PlacementFile {
    mode: Option<Spanned<String>>,
    pin: Option<bool>,
    md_ring: Field,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedFile {
    host: Option<String>,
    port: Field,
    ca: Option<String>,
    key_id: Option<String>,
    key_file: Option<Spanned<String>>,
    markets: Spanned<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PaperFile {
    arrival_us: Field,
    report_us: Field,
    cancel_rule: Option<Spanned<String>>,
}

/// What to do with open orders at a clean stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStop {
    /// Cancel them, and wait for the venue to confirm.
    Cancel,
    /// Leave them working.
    Leave,
}

/// Where the engine's two edges run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The feed and the decision path on the caller's thread.
    Fused,
    /// Each on a thread of its own, joined by the `md` ring; pinned to
    /// cores (and busy-spinning) with `pin`.
    Threads {
        /// Pin the threads and spin.
        pin: bool,
    },
}

/// Where market data comes from.
#[derive(Clone, Debug)]
pub struct FeedSettings {
    pub host: String,
    pub port: u16,
    /// A CA certificate file to trust instead of the web roots.
    pub ca: Option<PathBuf>,
    /// `(key id, private key file)`, the file checked to be readable by its
    /// owner only; without a file the key comes on stdin.
    pub key: Option<(String, Option<PathBuf>)>,
    pub markets: Vec<String>,
}

/// One strategy with its parameters and the tickers it trades (`None`: all).
#[derive(Clone, Debug)]
pub enum StrategySpec {
    Mm(MmParams, Option<Vec<String>>),
    Taker(TakerParams, Option<Vec<String>>),
    Probe(ProbeParams, Option<Vec<String>>),
}

impl StrategySpec {
    /// The kind, as the config names it.
    pub fn kind(&self) -> &'static str {
        match self {
            StrategySpec::Mm(..) => "mm",
            StrategySpec::Taker(..) => "taker",
            StrategySpec::Probe(..) => "probe",
        }
    }
}

/// The checked configuration.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub mode: Mode,
    pub live_enabled: bool,
    pub heartbeat: Duration,
    pub on_stop: OnStop,
    /// What reconciliation does with orders at the venue this engine did
    /// not place (shadow and live).
    pub foreign_orders: ForeignOrders,
    /// Each strategy's orders in a venue order group with this contracts
    /// limit per 15 s (shadow and live; none without it).
    pub order_group_contracts: Option<u64>,
    pub policy: Option<RiskPolicy>,
    /// The file `policy` came from.
    pub policy_file: Option<PathBuf>,
    pub paper: PaperConfig,
    pub placement: Placement,
    /// Slots of the `md` ring between the feed and decision threads.
    pub md_ring: Option<usize>,
    pub feed: FeedSettings,
    pub strategies: Vec<StrategySpec>,
    /// What `pt run` does beside the engine (`[control]`).
    pub control: ControlSettings,
}

fn at(text: &str, source: &str, span: core::ops::Range<usize>, message: String) -> ConfigError {
    let (line, column) = config::line_col(text, span.start);
    ConfigError {
        source_name: source.to_owned(),
        line: Some(line),
        column: Some(column),
        message,
    }
}

fn choice<T: Copy>(
    text: &str,
    source: &str,
    key: &str,
    field: &Option<Spanned<String>>,
    default: T,
    options: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(f) = field else { return Ok(default) };
    match options.iter().find(|(name, _)| *name == f.get_ref()) {
        Some((_, v)) => Ok(*v),
        None => {
            let names: Vec<String> = options.iter().map(|(n, _)| format!("{n:?}")).collect();
            Err(at(
                text,
                source,
                f.span(),
                format!(
                    "{key} = {:?}: expected one of {}",
                    f.get_ref(),
                    names.join(", ")
                ),
            ))
        }
    }
}

impl EngineConfig {
    /// Reads and checks `path`; relative paths in it are relative to its folder.
    pub fn load(path: &Path) -> Result<EngineConfig, ConfigError> {
        let text = config::read_file(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        EngineConfig::from_toml(&text, &path.display().to_string(), base)
    }

    /// Parses and checks `text` from `source`, resolving paths against `base`.
    pub fn from_toml(text: &str, source: &str, base: &Path) -> Result<EngineConfig, ConfigError> {
        let file: File = config::from_toml(text, source)?;
        let r = Reader::new(text, source);
        let path = |p: &str| base.join(p);
        let mode = choice(
            text,
            source,
            "mode",
            &file.mode,
            Mode::Paper,
            &[
                ("paper", Mode::Paper),
                ("shadow", Mode::Shadow),
                ("live", Mode::Live),
            ],
        )?;
        let on_stop = choice(
            text,
            source,
            "on_stop",
            &file.on_stop,
            OnStop::Cancel,
            &[("cancel", OnStop::Cancel), ("leave", OnStop::Leave)],
        )?;
        let foreign_orders = choice(
            text,
            source,
            "foreign_orders",
            &file.foreign_orders,
            ForeignOrders::Cancel,
            &[
                ("cancel", ForeignOrders::Cancel),
                ("leave", ForeignOrders::Leave),
            ],
        )?;
        let heartbeat_ms = r.count("heartbeat_ms", &file.heartbeat_ms, 100, 1)?;
        let order_group_contracts = match &file.order_group_contracts {
            None => None,
            Some(_) => Some(u64::from(r.count(
                "order_group_contracts",
                &file.order_group_contracts,
                1,
                1,
            )?)),
        };
        let policy_file = file.risk_policy.as_ref().map(|p| path(p));
        let policy = match &policy_file {
            Some(p) => Some(RiskPolicy::load(p)?),
            None => None,
        };
        let paper = PaperConfig {
            arrival_ns: i64::from(r.count("paper.arrival_us", &file.paper.arrival_us, 200, 0)?)
                * 1_000,
            report_ns: i64::from(r.count("paper.report_us", &file.paper.report_us, 200, 0)?)
                * 1_000,
            cancel_rule: choice(
                text,
                source,
                "paper.cancel_rule",
                &file.paper.cancel_rule,
                CancelRule::Back,
                &[
                    ("back", CancelRule::Back),
                    ("pro_rata", CancelRule::ProRata),
                ],
            )?,
        };
        let threads = choice(
            text,
            source,
            "placement.mode",
            &file.placement.mode,
            false,
            &[("fused", false), ("threads", true)],
        )?;
        let pin = file.placement.pin.unwrap_or(false);
        let placement = if threads {
            Placement::Threads { pin }
        } else {
            Placement::Fused
        };
        let md_ring = match &file.placement.md_ring {
            None => None,
            Some(f) => {
                let n = r.count("placement.md_ring", &file.placement.md_ring, 4096, 2)?;
                if !n.is_power_of_two() {
                    return Err(r.error("placement.md_ring", f, "a power of two such as 4096"));
                }
                Some(n as usize)
            }
        };
        let feed = read_feed(text, source, &r, &file.feed, base)?;
        let mut strategies = Vec::with_capacity(file.strategy.len());
        for (i, s) in file.strategy.iter().enumerate() {
            strategies.push(read_strategy(text, source, &r, s, i, &feed.markets)?);
        }
        let data_dir = path(file.data_dir.as_deref().unwrap_or("pt-data"));
        let control = ControlSettings::read(text, source, &file.control, &data_dir, base)?;
        Ok(EngineConfig {
            data_dir,
            mode,
            live_enabled: file.live_enabled.unwrap_or(false),
            heartbeat: Duration::from_millis(u64::from(heartbeat_ms)),
            on_stop,
            foreign_orders,
            order_group_contracts,
            policy,
            policy_file,
            paper,
            placement,
            md_ring,
            feed,
            strategies,
            control,
        })
    }
}

fn read_feed(
    text: &str,
    source: &str,
    r: &Reader<'_>,
    f: &FeedFile,
    base: &Path,
) -> Result<FeedSettings, ConfigError> {
    let port = r.count("feed.port", &f.port, 443, 1)?;
    let Some(port) = u16::try_from(port).ok() else {
        let field = f.port.as_ref().expect("a port above 1 was written");
        return Err(r.error("feed.port", field, "a port from 1 to 65535"));
    };
    if f.markets.get_ref().is_empty() {
        return Err(at(
            text,
            source,
            f.markets.span(),
            "feed.markets = []: expected at least one market ticker".into(),
        ));
    }
    // A key id alone: the key comes on stdin (`pt engine --stdin-secrets`).
    let key = match (&f.key_id, &f.key_file) {
        (Some(id), file) => Some((id.clone(), file.as_ref().map(|f| base.join(f.get_ref())))),
        (None, None) => None,
        (None, Some(file)) => {
            return Err(at(
                text,
                source,
                file.span(),
                "feed.key_file is set but feed.key_id is not: give the key's id".into(),
            ));
        }
    };
    Ok(FeedSettings {
        host: f.host.clone().unwrap_or_else(|| "127.0.0.1".into()),
        port,
        ca: f.ca.as_ref().map(|c| base.join(c)),
        key,
        markets: f.markets.get_ref().clone(),
    })
}

fn read_strategy(
    text: &str,
    source: &str,
    r: &Reader<'_>,
    s: &StrategyFile,
    index: usize,
    followed: &[String],
) -> Result<StrategySpec, ConfigError> {
    let markets = match &s.markets {
        None => None,
        Some(m) => match m.get_ref() {
            MarketsFile::All(all) if all == "all" => None,
            MarketsFile::All(other) => {
                return Err(at(
                    text,
                    source,
                    m.span(),
                    format!(
                        "strategy[{index}].markets = {other:?}: expected \"all\" or a list of tickers"
                    ),
                ));
            }
            MarketsFile::List(list) => {
                if let Some(t) = list.iter().find(|t| !followed.contains(t)) {
                    return Err(at(
                        text,
                        source,
                        m.span(),
                        format!(
                            "strategy[{index}].markets: {t:?} is not in feed.markets; the engine only trades markets it follows"
                        ),
                    ));
                }
                Some(list.clone())
            }
        },
    };
    match s.kind.get_ref().as_str() {
        "mm" => Ok(StrategySpec::Mm(MmParams::read(r, s, index)?, markets)),
        "taker" => Ok(StrategySpec::Taker(
            TakerParams::read(r, s, index)?,
            markets,
        )),
        "probe" => Ok(StrategySpec::Probe(
            ProbeParams::read(r, s, index)?,
            markets,
        )),
        other => Err(at(
            text,
            source,
            s.kind.span(),
            format!("strategy[{index}].kind = {other:?}: expected {KINDS}"),
        )),
    }
}

/// Refuses a private key file that anyone but its owner can read.
pub fn check_key_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("feed.key_file {}: {e}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "feed.key_file {} can be read by others (mode {mode:03o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}
