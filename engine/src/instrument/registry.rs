//! Symbol to dense id, loaded from TOML.
//!
//! ```toml
//! [[venue]]
//! name = "kalshi"
//!
//! [[instrument]]
//! symbol = "KXHIGHNY-25DEC31-B45"
//! venue = "kalshi"
//! kind = "binary"            # binary | spot | perpetual | equity
//! qty_step = "1"
//! price_ranges = [{ start = "0.01", end = "0.99", step = "0.01" }]
//! ```
//!
//! Ids are assigned in file order: the first venue is `VenueId(0)`, the first
//! instrument `InstrumentId(0)`.

use super::grid::{GridError, PriceGrid, TickRange};
use crate::config::{self, ConfigError};
use crate::model::{FixedError, InstrumentId, Price, Qty, VenueId};
use core::fmt;
use serde::Deserialize;
use std::collections::HashMap;

/// What kind of contract an instrument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContractKind {
    /// A binary YES/NO contract paying 1 or 0 (Kalshi, Polymarket).
    Binary,
    /// A spot currency pair.
    Spot,
    /// A perpetual future.
    Perpetual,
    /// A share of stock.
    Equity,
}

/// A venue in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Venue {
    /// Dense id.
    pub id: VenueId,
    /// Name used by instruments and config (`kalshi`, `binance`, `sim`).
    pub name: String,
}

/// A tradable instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument {
    /// Dense id.
    pub id: InstrumentId,
    /// Where it trades.
    pub venue: VenueId,
    /// The venue's symbol or ticker.
    pub symbol: String,
    /// Contract kind.
    pub kind: ContractKind,
    /// Valid prices.
    pub grid: PriceGrid,
    /// Smallest quantity increment.
    pub qty_step: Qty,
}

/// Why a registry file was refused. Every variant names the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// The TOML did not parse or has unknown keys or wrongly typed values.
    Config(ConfigError),
    /// Two venues have the same name.
    DuplicateVenue {
        /// The name.
        name: String,
        /// Line of the second one.
        line: usize,
    },
    /// An instrument names a venue that is not declared.
    UnknownVenue {
        /// The instrument's symbol.
        symbol: String,
        /// The venue it names.
        venue: String,
        /// Line of the instrument's symbol.
        line: usize,
    },
    /// The same symbol appears twice on one venue.
    DuplicateSymbol {
        /// The symbol.
        symbol: String,
        /// The venue.
        venue: String,
        /// Line of the first entry.
        first_line: usize,
        /// Line of the second entry.
        line: usize,
    },
    /// A number field is not an exact decimal.
    BadNumber {
        /// The instrument's symbol.
        symbol: String,
        /// The field, such as `price_ranges[1].step`.
        field: String,
        /// The text that was given.
        value: String,
        /// Why it was refused.
        error: FixedError,
        /// Line of the instrument's symbol.
        line: usize,
    },
    /// The price grid is empty or its ranges overlap or are malformed.
    BadGrid {
        /// The instrument's symbol.
        symbol: String,
        /// What is wrong with it.
        error: GridError,
        /// Line of the instrument's symbol.
        line: usize,
    },
    /// `qty_step` is zero or negative.
    BadQtyStep {
        /// The instrument's symbol.
        symbol: String,
        /// The text that was given.
        value: String,
        /// Line of the instrument's symbol.
        line: usize,
    },
    /// More instruments or venues than ids can number.
    TooMany,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Config(e) => e.fmt(f),
            RegistryError::DuplicateVenue { name, line } => {
                write!(
                    f,
                    "line {line}: venue {name:?} is declared twice; venue names must be unique"
                )
            }
            RegistryError::UnknownVenue {
                symbol,
                venue,
                line,
            } => write!(
                f,
                "line {line}: instrument {symbol:?} names venue {venue:?}, which no [[venue]] entry declares"
            ),
            RegistryError::DuplicateSymbol {
                symbol,
                venue,
                first_line,
                line,
            } => write!(
                f,
                "line {line}: instrument {symbol:?} on venue {venue:?} is already declared at line {first_line}"
            ),
            RegistryError::BadNumber {
                symbol,
                field,
                value,
                error,
                line,
            } => write!(
                f,
                "line {line}: instrument {symbol:?} {field} = {value:?}: {error}"
            ),
            RegistryError::BadGrid {
                symbol,
                error,
                line,
            } => {
                write!(f, "line {line}: instrument {symbol:?}: {error}")
            }
            RegistryError::BadQtyStep {
                symbol,
                value,
                line,
            } => write!(
                f,
                "line {line}: instrument {symbol:?} qty_step = {value:?}: expected a quantity greater than 0"
            ),
            RegistryError::TooMany => f.write_str("too many venues or instruments to number"),
        }
    }
}

impl std::error::Error for RegistryError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    venue: Vec<VenueEntry>,
    #[serde(default)]
    instrument: Vec<InstrumentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VenueEntry {
    name: toml::Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstrumentEntry {
    symbol: toml::Spanned<String>,
    venue: String,
    kind: ContractKind,
    qty_step: String,
    price_ranges: Vec<RangeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeEntry {
    start: String,
    end: String,
    step: String,
}

/// Instruments and venues by dense id and by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    venues: Vec<Venue>,
    instruments: Vec<Instrument>,
    by_symbol: HashMap<(VenueId, String), InstrumentId>,
}

impl Registry {
    /// Parses a registry from TOML text; `source_name` appears in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Registry, RegistryError> {
        let file: RegistryFile =
            config::from_toml(text, source_name).map_err(RegistryError::Config)?;
        let line = |span: core::ops::Range<usize>| config::line_col(text, span.start).0;

        let mut registry = Registry::default();
        let mut venue_ids: HashMap<String, VenueId> = HashMap::new();
        for entry in file.venue {
            let id =
                VenueId(u16::try_from(registry.venues.len()).map_err(|_| RegistryError::TooMany)?);
            let name = entry.name.get_ref().clone();
            if venue_ids.insert(name.clone(), id).is_some() {
                return Err(RegistryError::DuplicateVenue {
                    name,
                    line: line(entry.name.span()),
                });
            }
            registry.venues.push(Venue { id, name });
        }

        let mut first_lines: HashMap<(VenueId, String), usize> = HashMap::new();
        for entry in file.instrument {
            let entry_line = line(entry.symbol.span());
            let symbol = entry.symbol.into_inner();
            let venue =
                *venue_ids
                    .get(&entry.venue)
                    .ok_or_else(|| RegistryError::UnknownVenue {
                        symbol: symbol.clone(),
                        venue: entry.venue.clone(),
                        line: entry_line,
                    })?;
            if let Some(&first_line) = first_lines.get(&(venue, symbol.clone())) {
                return Err(RegistryError::DuplicateSymbol {
                    symbol,
                    venue: entry.venue,
                    first_line,
                    line: entry_line,
                });
            }
            let number = |field: String, value: &str| {
                Price::parse(value).map_err(|error| RegistryError::BadNumber {
                    symbol: symbol.clone(),
                    field,
                    value: value.to_owned(),
                    error,
                    line: entry_line,
                })
            };
            let mut ranges = Vec::with_capacity(entry.price_ranges.len());
            for (i, r) in entry.price_ranges.iter().enumerate() {
                ranges.push(TickRange {
                    start: number(format!("price_ranges[{i}].start"), &r.start)?,
                    end: number(format!("price_ranges[{i}].end"), &r.end)?,
                    step: number(format!("price_ranges[{i}].step"), &r.step)?,
                });
            }
            let grid = PriceGrid::new(&ranges).map_err(|error| RegistryError::BadGrid {
                symbol: symbol.clone(),
                error,
                line: entry_line,
            })?;
            let qty_step =
                Qty::parse(&entry.qty_step).map_err(|error| RegistryError::BadNumber {
                    symbol: symbol.clone(),
                    field: "qty_step".to_owned(),
                    value: entry.qty_step.clone(),
                    error,
                    line: entry_line,
                })?;
            if qty_step.raw() <= 0 {
                return Err(RegistryError::BadQtyStep {
                    symbol,
                    value: entry.qty_step,
                    line: entry_line,
                });
            }
            let id = InstrumentId(
                u32::try_from(registry.instruments.len()).map_err(|_| RegistryError::TooMany)?,
            );
            first_lines.insert((venue, symbol.clone()), entry_line);
            registry.by_symbol.insert((venue, symbol.clone()), id);
            registry.instruments.push(Instrument {
                id,
                venue,
                symbol,
                kind: entry.kind,
                grid,
                qty_step,
            });
        }
        Ok(registry)
    }

    /// Reads and parses a registry file.
    pub fn load(path: &std::path::Path) -> Result<Registry, RegistryError> {
        let text = config::read_file(path).map_err(RegistryError::Config)?;
        Registry::from_toml(&text, &path.display().to_string())
    }

    /// All venues, by id.
    pub fn venues(&self) -> &[Venue] {
        &self.venues
    }

    /// All instruments, by id.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The venue named `name`.
    pub fn venue(&self, name: &str) -> Option<&Venue> {
        self.venues.iter().find(|v| v.name == name)
    }

    /// The instrument with id `id`.
    pub fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id.0 as usize)
    }

    /// The instrument `symbol` on `venue`.
    pub fn lookup(&self, venue: VenueId, symbol: &str) -> Option<&Instrument> {
        let id = self.by_symbol.get(&(venue, symbol.to_owned()))?;
        self.instrument(*id)
    }
}

#[cfg(test)]
mod tests;
