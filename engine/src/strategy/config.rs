//! A strategy's entry in the engine's config file: its kind, its markets
//! and its parameters, read with errors that name the key, the value, the
//! line and what was expected.
//!
//! ```toml
//! [[strategy]]
//! kind = "mm"              # or "taker"
//! markets = "all"          # or a list of tickers
//! size = "5"
//! ```
//!
//! Strategies are numbered from 1 in the order of their entries.

use crate::config::{ConfigError, Field, Reader};
use serde::Deserialize;
use toml::Spanned;

/// Which markets a strategy trades.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum MarketsFile {
    /// `"all"`: every market the engine follows.
    All(String),
    /// These tickers.
    List(Vec<String>),
}

/// One `[[strategy]]` entry as written; every parameter key of every kind
/// is accepted here, and [`StrategyFile::check_keys`] refuses those the
/// entry's kind does not take.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct StrategyFile {
    pub kind: Spanned<String>,
    pub markets: Option<Spanned<MarketsFile>>,
    // mm
    pub size: Field,
    pub max_position: Field,
    pub half_spread: Field,
    pub min_edge: Field,
    pub skew: Field,
    pub requote_ticks: Field,
    pub reject_backoff_ms: Field,
    pub tick: Field,
    // taker
    pub threshold: Field,
    pub kelly_fraction: Field,
    pub bankroll: Field,
    pub max_qty: Field,
}

impl StrategyFile {
    /// Refuses a parameter the kind does not take.
    pub fn check_keys(&self, r: &Reader<'_>, index: usize) -> Result<(), ConfigError> {
        let kind = self.kind.get_ref().as_str();
        let mm = [
            ("size", &self.size),
            ("half_spread", &self.half_spread),
            ("min_edge", &self.min_edge),
            ("skew", &self.skew),
            ("requote_ticks", &self.requote_ticks),
            ("reject_backoff_ms", &self.reject_backoff_ms),
        ];
        let taker = [
            ("threshold", &self.threshold),
            ("kelly_fraction", &self.kelly_fraction),
            ("bankroll", &self.bankroll),
            ("max_qty", &self.max_qty),
        ];
        let foreign: &[(&str, &Field)] = match kind {
            "mm" => &taker,
            "taker" => &mm,
            _ => &[],
        };
        for (key, field) in foreign {
            if let Some(f) = field {
                return Err(r.error(
                    &format!("strategy[{index}].{key}"),
                    f,
                    &format!("no such parameter for a {kind:?} strategy"),
                ));
            }
        }
        Ok(())
    }
}

/// The names of the strategy kinds, for errors.
pub const KINDS: &str = "\"mm\" (market maker) or \"taker\" (signal taker)";
