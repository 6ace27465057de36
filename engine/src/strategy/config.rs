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
/// is accepted here, and [`StrategyFile::read`] refuses those the entry's
/// kind does not take.
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
    // probe
    pub every: Field,
    pub price: Field,
}

/// One parameter of a strategy kind: its name (the config key and the
/// name a command changes it by), its default, its range in raw fixed
/// point (eight decimal places) and whether it is a whole number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// The key.
    pub name: &'static str,
    /// Its value when the config leaves it out.
    pub default: &'static str,
    /// Smallest value, raw.
    pub min: i64,
    /// Largest value, raw.
    pub max: i64,
    /// Only whole numbers.
    pub whole: bool,
    /// What an error says was expected.
    pub expected: &'static str,
}

/// Why a parameter change is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// The kind has no parameter of that name.
    Unknown,
    /// The value is outside the parameter's range.
    OutOfRange(Param),
}

impl core::fmt::Display for ParamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ParamError::Unknown => f.write_str("no such parameter"),
            ParamError::OutOfRange(p) => write!(f, "{} expects {}", p.name, p.expected),
        }
    }
}

impl std::error::Error for ParamError {}

impl Param {
    /// Checks a raw value.
    pub fn check(&self, raw: i64) -> Result<i64, ParamError> {
        let whole = !self.whole || raw % crate::model::Qty::ONE.raw() == 0;
        if (self.min..=self.max).contains(&raw) && whole {
            Ok(raw)
        } else {
            Err(ParamError::OutOfRange(*self))
        }
    }

    /// The default, raw.
    pub fn default_raw(&self) -> i64 {
        crate::model::Qty::parse(self.default)
            .expect("valid default")
            .raw()
    }
}

/// A strategy kind's parameters, described by one table of names,
/// defaults and ranges that the config and a runtime change both go by.
pub trait Params: Sized {
    /// The parameters: config keys and what a command may change.
    const TABLE: &'static [Param];

    /// Every field zero, before the table's defaults are applied.
    fn zero() -> Self;

    /// Sets parameter `name` to `raw`, already checked against the table.
    fn apply(&mut self, name: &str, raw: i64);

    /// The table's defaults.
    fn defaults() -> Self {
        let mut p = Self::zero();
        for spec in Self::TABLE {
            p.apply(spec.name, spec.default_raw());
        }
        p
    }

    /// Reads the parameters of entry `index`, defaults for those absent.
    fn read(r: &Reader<'_>, f: &StrategyFile, index: usize) -> Result<Self, ConfigError> {
        let mut p = Self::defaults();
        for (spec, raw) in Self::TABLE.iter().zip(f.read(r, index, Self::TABLE)?) {
            p.apply(spec.name, raw);
        }
        Ok(p)
    }

    /// Changes parameter `name` to `raw` (fixed point, eight places).
    fn set(&mut self, name: &str, raw: i64) -> Result<(), ParamError> {
        let raw = find(Self::TABLE, name)?.check(raw)?;
        self.apply(name, raw);
        Ok(())
    }
}

/// The parameter of `table` named `name`.
pub fn find(table: &[Param], name: &str) -> Result<Param, ParamError> {
    table
        .iter()
        .find(|p| p.name == name)
        .copied()
        .ok_or(ParamError::Unknown)
}

impl StrategyFile {
    /// The field of parameter `name` (absent for a name no kind has).
    pub fn field(&self, name: &str) -> &Field {
        const NONE: &Field = &None;
        match name {
            "size" => &self.size,
            "max_position" => &self.max_position,
            "half_spread" => &self.half_spread,
            "min_edge" => &self.min_edge,
            "skew" => &self.skew,
            "requote_ticks" => &self.requote_ticks,
            "reject_backoff_ms" => &self.reject_backoff_ms,
            "tick" => &self.tick,
            "threshold" => &self.threshold,
            "kelly_fraction" => &self.kelly_fraction,
            "bankroll" => &self.bankroll,
            "max_qty" => &self.max_qty,
            "every" => &self.every,
            "price" => &self.price,
            _ => NONE,
        }
    }

    /// Every parameter of `table`, raw and in its order, from entry `index`;
    /// refuses a parameter of another kind.
    pub fn read(
        &self,
        r: &Reader<'_>,
        index: usize,
        table: &[Param],
    ) -> Result<Vec<i64>, ConfigError> {
        const ALL: [&str; 14] = [
            "size",
            "max_position",
            "half_spread",
            "min_edge",
            "skew",
            "requote_ticks",
            "reject_backoff_ms",
            "tick",
            "threshold",
            "kelly_fraction",
            "bankroll",
            "max_qty",
            "every",
            "price",
        ];
        let kind = self.kind.get_ref();
        for name in ALL {
            if let Some(f) = self.field(name)
                && find(table, name).is_err()
            {
                return Err(r.error(
                    &format!("strategy[{index}].{name}"),
                    f,
                    &format!("no such parameter for a {kind:?} strategy"),
                ));
            }
        }
        let mut out = Vec::with_capacity(table.len());
        for p in table {
            let key = format!("strategy[{index}].{}", p.name);
            let field = self.field(p.name);
            let raw = r.decimal_in(&key, field, p.default, p.min..=p.max, p.expected)?;
            match (p.check(raw), field) {
                (Ok(v), _) => out.push(v),
                (Err(_), Some(f)) => return Err(r.error(&key, f, p.expected)),
                (Err(_), None) => {
                    return Err(ConfigError {
                        source_name: String::new(),
                        line: None,
                        column: None,
                        message: format!("{key}: its default {} is out of range", p.default),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The names of the strategy kinds, for errors.
pub const KINDS: &str =
    "\"mm\" (market maker), \"taker\" (signal taker) or \"probe\" (latency probe)";
