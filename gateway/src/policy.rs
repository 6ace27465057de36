//! The risk policy: limits per order, instrument, event, strategy and in
//! all, and the venue's order-rate budget; loaded from TOML and checked.
//!
//! The keys, each with its default and what it means, are [`DEFAULTS_TOML`]
//! (`pt ctl risk show` prints it when no policy is configured).
//!
//! Every key is optional and defaults to the value there; unknown keys are
//! errors. Quantities and amounts may be written as strings (`"0.5"`) or
//! integers, and are held exactly in fixed point.

use pt_engine::config::{self, ConfigError, Field, Reader};
use pt_engine::model::{Money, Price, Qty};
use serde::Deserialize;

/// The defaults as a policy file: what a policy that leaves every key out
/// means.
pub const DEFAULTS_TOML: &str = r#"[order]
max_qty = "100"          # contracts per order
max_notional = "50"      # dollars per order (quantity × price)
collar_ticks = 10        # at most 10 ticks through the opposite best (0: off)
collar_pct = "0.05"      # and at most 5% of it (0: off)
allow_self_cross = false # refuse orders that would trade with our own

[instrument]             # per instrument, all strategies together
max_position = "500"     # contracts, YES and NO netted
max_exposure = "250"     # dollars at risk: what the contracts cost

[event]                  # per event (the markets of one question)
max_position = "1000"
max_exposure = "500"

[strategy]
max_open_orders = 100
daily_loss = "100"       # realized + unrealized − fees; trips its kill switch

[global]
max_open_orders = 1000
daily_loss = "500"

[rate]                   # a token bucket per venue (Kalshi Basic tier)
capacity = 100
refill_per_second = 100
order_cost = 10          # per order, per item of a batch
cancel_cost = 2
"#;

/// Per-order limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderLimits {
    /// Largest quantity of one order.
    pub max_qty: Qty,
    /// Largest quantity × price of one order.
    pub max_notional: Money,
    /// How many ticks an order may reach through the opposite best (0: no limit).
    pub collar_ticks: u32,
    /// How far through the opposite best as a fraction of it (0: no limit).
    pub collar_pct: Price,
    /// Whether an order may trade with one of our own resting orders.
    pub allow_self_cross: bool,
}

/// Position and exposure limits of one instrument or one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoldingLimits {
    /// Largest absolute position in contracts.
    pub max_position: Qty,
    /// Largest dollars at risk.
    pub max_exposure: Money,
}

/// Open-order and loss limits of a strategy, or of everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeLimits {
    /// Most orders open at once.
    pub max_open_orders: u32,
    /// Largest loss of the day (realized + unrealized − fees), positive.
    pub daily_loss: Money,
}

/// The venue's order-rate budget, as a token bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens the bucket holds.
    pub capacity: u32,
    /// Tokens added each second.
    pub refill_per_second: u32,
    /// Tokens a new order or replace costs.
    pub order_cost: u32,
    /// Tokens a cancel costs.
    pub cancel_cost: u32,
}

/// A validated risk policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskPolicy {
    /// Per order.
    pub order: OrderLimits,
    /// Per instrument.
    pub instrument: HoldingLimits,
    /// Per event.
    pub event: HoldingLimits,
    /// Per strategy.
    pub strategy: ScopeLimits,
    /// For everything.
    pub global: ScopeLimits,
    /// The order-rate budget.
    pub rate: RateLimit,
}

impl Default for RiskPolicy {
    fn default() -> Self {
        RiskPolicy::from_toml("", "defaults").expect("the defaults are valid")
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    order: OrderFile,
    #[serde(default)]
    instrument: HoldingFile,
    #[serde(default)]
    event: HoldingFile,
    #[serde(default)]
    strategy: ScopeFile,
    #[serde(default)]
    global: ScopeFile,
    #[serde(default)]
    rate: RateFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OrderFile {
    max_qty: Field,
    max_notional: Field,
    collar_ticks: Field,
    collar_pct: Field,
    allow_self_cross: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HoldingFile {
    max_position: Field,
    max_exposure: Field,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ScopeFile {
    max_open_orders: Field,
    daily_loss: Field,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RateFile {
    capacity: Field,
    refill_per_second: Field,
    order_cost: Field,
    cancel_cost: Field,
}

const POSITIVE_QTY: &str = "a positive number of contracts such as \"100\"";
const POSITIVE_USD: &str = "a positive dollar amount such as \"50.00\"";

impl RiskPolicy {
    /// Parses and checks a policy; `source_name` appears in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<RiskPolicy, ConfigError> {
        let file: File = config::from_toml(text, source_name)?;
        let r = Reader::new(text, source_name);
        let qty = |key: &str, f: &Field, d: &str| {
            r.decimal(key, f, d, 1, POSITIVE_QTY).map(Qty::from_raw)
        };
        let usd = |key: &str, f: &Field, d: &str| {
            r.decimal(key, f, d, 1, POSITIVE_USD).map(Money::from_raw)
        };
        let o = &file.order;
        let collar_pct = r.decimal(
            "order.collar_pct",
            &o.collar_pct,
            "0.05",
            0,
            "a fraction from 0 (off) to 1 such as \"0.05\"",
        )?;
        if collar_pct > Price::ONE.raw() {
            let field = o
                .collar_pct
                .as_ref()
                .expect("only a given value can be out of range");
            return Err(r.error(
                "order.collar_pct",
                field,
                "a fraction from 0 (off) to 1 such as \"0.05\"",
            ));
        }
        let holding = |name: &str, f: &HoldingFile| -> Result<HoldingLimits, ConfigError> {
            let (pos, exp) = if name == "event" {
                ("1000", "500")
            } else {
                ("500", "250")
            };
            Ok(HoldingLimits {
                max_position: qty(&format!("{name}.max_position"), &f.max_position, pos)?,
                max_exposure: usd(&format!("{name}.max_exposure"), &f.max_exposure, exp)?,
            })
        };
        let scope = |name: &str, f: &ScopeFile| -> Result<ScopeLimits, ConfigError> {
            let (open, loss) = if name == "global" {
                (1000, "500")
            } else {
                (100, "100")
            };
            Ok(ScopeLimits {
                max_open_orders: r.count(
                    &format!("{name}.max_open_orders"),
                    &f.max_open_orders,
                    open,
                    1,
                )?,
                daily_loss: usd(&format!("{name}.daily_loss"), &f.daily_loss, loss)?,
            })
        };
        let rate = &file.rate;
        Ok(RiskPolicy {
            order: OrderLimits {
                max_qty: qty("order.max_qty", &o.max_qty, "100")?,
                max_notional: usd("order.max_notional", &o.max_notional, "50")?,
                collar_ticks: r.count("order.collar_ticks", &o.collar_ticks, 10, 0)?,
                collar_pct: Price::from_raw(collar_pct),
                allow_self_cross: o.allow_self_cross.unwrap_or(false),
            },
            instrument: holding("instrument", &file.instrument)?,
            event: holding("event", &file.event)?,
            strategy: scope("strategy", &file.strategy)?,
            global: scope("global", &file.global)?,
            rate: RateLimit {
                capacity: r.count("rate.capacity", &rate.capacity, 100, 1)?,
                refill_per_second: r.count(
                    "rate.refill_per_second",
                    &rate.refill_per_second,
                    100,
                    1,
                )?,
                order_cost: r.count("rate.order_cost", &rate.order_cost, 10, 0)?,
                cancel_cost: r.count("rate.cancel_cost", &rate.cancel_cost, 2, 0)?,
            },
        })
    }

    /// Reads and checks a policy file.
    pub fn load(path: &std::path::Path) -> Result<RiskPolicy, ConfigError> {
        let text = config::read_file(path)?;
        RiskPolicy::from_toml(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_documented_values() {
        let p = RiskPolicy::default();
        assert_eq!(p.order.max_qty, Qty::from_units(100).unwrap());
        assert_eq!(p.order.collar_ticks, 10);
        assert_eq!(p.event.max_exposure, Money::parse("500").unwrap());
        assert_eq!(p.global.max_open_orders, 1000);
        assert_eq!(p.rate.cancel_cost, 2);
        assert!(!p.order.allow_self_cross);
    }

    #[test]
    fn the_defaults_file_says_what_the_defaults_are() {
        let p = RiskPolicy::from_toml(DEFAULTS_TOML, "defaults").unwrap();
        assert_eq!(p, RiskPolicy::default());
        assert!(DEFAULTS_TOML.contains("max_qty = \"100\""));
    }

    #[test]
    fn values_parse_exactly_as_strings_or_integers() {
        let p = RiskPolicy::from_toml(
            "[order]\nmax_qty = 5\nmax_notional = \"2.50\"\ncollar_pct = \"0\"\n[rate]\ncapacity = 200\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.order.max_qty, Qty::from_units(5).unwrap());
        assert_eq!(p.order.max_notional, Money::parse("2.5").unwrap());
        assert_eq!(p.order.collar_pct, Price::ZERO);
        assert_eq!(p.rate.capacity, 200);
    }

    #[test]
    fn errors_name_the_key_the_value_the_line_and_what_was_expected() {
        let cases = [
            (
                "[order]\nmax_qty = \"-5\"\n",
                2,
                "order.max_qty = \"-5\": expected a positive number of contracts",
            ),
            (
                "[event]\n\nmax_exposure = \"lots\"\n",
                3,
                "event.max_exposure = \"lots\": expected a positive dollar amount",
            ),
            (
                "[order]\ncollar_pct = \"1.5\"\n",
                2,
                "order.collar_pct = \"1.5\": expected a fraction",
            ),
            (
                "[strategy]\nmax_open_orders = 0\n",
                2,
                "strategy.max_open_orders = \"0\": expected a whole number of at least 1",
            ),
            (
                "[rate]\norder_cost = \"1.5\"\n",
                2,
                "rate.order_cost = \"1.5\"",
            ),
            ("[order]\nmax_qtty = 5\n", 2, "max_qtty"),
            ("[order]\nallow_self_cross = 1\n", 2, "bool"),
        ];
        for (text, line, message) in cases {
            let err = RiskPolicy::from_toml(text, "risk.toml").unwrap_err();
            assert_eq!(err.line, Some(line), "{text}: {err}");
            assert!(err.to_string().contains(message), "{text}: {err}");
            assert!(
                err.to_string().starts_with(&format!("risk.toml:{line}:")),
                "{err}"
            );
        }
    }
}
