//! Faults on command, and Kalshi's token-bucket rate limits.
//!
//! Every fault is off by default. They are set at start (`pt sim run
//! --fault KEY=VALUE`) and changed while running through the admin endpoint
//! (`POST /sim/admin/faults` with a JSON object of the same keys), so a test
//! can break the venue at the moment it chooses.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The fault settings. Probabilities are per market-data message (or per
/// order request for `reject_orders`), from 0 to 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Skip a sequence number: the message is sent with `seq` one higher
    /// than the last, leaving a gap the client must detect.
    pub skip_seq: f64,
    /// Send a market-data message twice.
    pub duplicate: f64,
    /// Hold a market-data message back and send it after the next one.
    pub reorder: f64,
    /// Send an `orderbook_delta` with its size change replaced by one that
    /// takes the level far below zero (its `seq` is in order): a venue
    /// book the client cannot apply, which it must notice and resync.
    pub corrupt_delta: f64,
    /// Delay every market-data message and REST response by this many ms.
    pub delay_ms: u64,
    /// Reject this fraction of order requests with 503 `service_unavailable`.
    pub reject_orders: f64,
    /// Answer the next N REST requests with 500 `internal_server_error`.
    pub error_burst: u32,
    /// Enforce Kalshi's token buckets (429 when exhausted) at this tier:
    /// `basic`, `advanced`, `premier`, `paragon` or `prime`; empty = off.
    pub rate_limit_tier: String,
}

impl Faults {
    /// Parses one `KEY=VALUE` setting from the command line.
    pub fn set(&mut self, setting: &str) -> Result<(), String> {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("fault {setting:?}: expected KEY=VALUE"))?;
        let prob = |v: &str| -> Result<f64, String> {
            match v.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
                _ => Err(format!(
                    "fault {key}: {v:?} is not a probability; expected a number from 0 to 1"
                )),
            }
        };
        let int = |v: &str| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("fault {key}: {v:?} is not a whole number"))
        };
        match key {
            "skip_seq" => self.skip_seq = prob(value)?,
            "duplicate" => self.duplicate = prob(value)?,
            "reorder" => self.reorder = prob(value)?,
            "corrupt_delta" => self.corrupt_delta = prob(value)?,
            "reject_orders" => self.reject_orders = prob(value)?,
            "delay_ms" => self.delay_ms = int(value)?,
            "error_burst" => {
                self.error_burst = u32::try_from(int(value)?)
                    .map_err(|_| format!("fault error_burst: {value} is too large"))?
            }
            "rate_limit_tier" => {
                if !value.is_empty() && Tier::parse(value).is_none() {
                    return Err(format!(
                        "fault rate_limit_tier: {value:?} is not a tier; expected basic, advanced, premier, paragon or prime"
                    ));
                }
                self.rate_limit_tier = value.to_owned();
            }
            _ => {
                return Err(format!(
                    "fault {key:?} is unknown; expected one of skip_seq, duplicate, reorder, corrupt_delta, delay_ms, reject_orders, error_burst, rate_limit_tier"
                ));
            }
        }
        Ok(())
    }

    /// Checks values that came in as JSON.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("skip_seq", self.skip_seq),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt_delta", self.corrupt_delta),
            ("reject_orders", self.reject_orders),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!(
                    "{name}: {p} is not a probability; expected a number from 0 to 1"
                ));
            }
        }
        if !self.rate_limit_tier.is_empty() && Tier::parse(&self.rate_limit_tier).is_none() {
            return Err(format!(
                "rate_limit_tier: {:?} is not a tier; expected basic, advanced, premier, paragon or prime",
                self.rate_limit_tier
            ));
        }
        Ok(())
    }
}

/// Kalshi's API tiers and their per-second token budgets (read, write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// 200 read / 100 write tokens per second.
    Basic,
    /// 300 / 300.
    Advanced,
    /// 1000 / 1000.
    Premier,
    /// 2000 / 2000.
    Paragon,
    /// 4000 / 4000.
    Prime,
}

impl Tier {
    /// The tier named `name`.
    pub fn parse(name: &str) -> Option<Tier> {
        Some(match name {
            "basic" => Tier::Basic,
            "advanced" => Tier::Advanced,
            "premier" => Tier::Premier,
            "paragon" => Tier::Paragon,
            "prime" => Tier::Prime,
            _ => return None,
        })
    }

    /// Tokens per second: (read, write).
    pub fn budgets(self) -> (u64, u64) {
        match self {
            Tier::Basic => (200, 100),
            Tier::Advanced => (300, 300),
            Tier::Premier => (1000, 1000),
            Tier::Paragon => (2000, 2000),
            Tier::Prime => (4000, 4000),
        }
    }

    /// Seconds of budget the write bucket holds (one on Basic, two above).
    fn write_burst_secs(self) -> u64 {
        if self == Tier::Basic { 1 } else { 2 }
    }
}

/// The tokens a request costs: 10 by default, 2 for a cancel, per item in a batch.
pub fn cost(is_cancel: bool, items: usize) -> u64 {
    let each = if is_cancel { 2 } else { 10 };
    each * items.max(1) as u64
}

/// One token bucket, refilled continuously.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    at_ms: i64,
}

impl Bucket {
    fn new(rate: u64, burst_secs: u64, now_ms: i64) -> Bucket {
        let capacity = (rate * burst_secs) as f64;
        Bucket {
            tokens: capacity,
            capacity,
            rate: rate as f64,
            at_ms: now_ms,
        }
    }

    fn take(&mut self, cost: u64, now_ms: i64) -> bool {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.at_ms = now_ms;
        if self.tokens >= cost as f64 {
            self.tokens -= cost as f64;
            true
        } else {
            false
        }
    }
}

/// Read and write buckets per API key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<(u32, bool), Bucket>,
    tier: Option<Tier>,
}

impl RateLimiter {
    /// Sets the tier (None = no limits); resets the buckets when it changes.
    pub fn set_tier(&mut self, tier: Option<Tier>) {
        if self.tier != tier {
            self.tier = tier;
            self.buckets.clear();
        }
    }

    /// Takes `cost` tokens from `user`'s read or write bucket; false = 429.
    pub fn admit(&mut self, user: u32, write: bool, cost: u64, now_ms: i64) -> bool {
        let Some(tier) = self.tier else { return true };
        let (read_rate, write_rate) = tier.budgets();
        let bucket = self.buckets.entry((user, write)).or_insert_with(|| {
            if write {
                Bucket::new(write_rate, tier.write_burst_secs(), now_ms)
            } else {
                Bucket::new(read_rate, 1, now_ms)
            }
        });
        bucket.take(cost, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_name_bad_values() {
        let mut f = Faults::default();
        f.set("skip_seq=0.5").unwrap();
        f.set("delay_ms=20").unwrap();
        f.set("rate_limit_tier=basic").unwrap();
        f.set("corrupt_delta=0.01").unwrap();
        assert_eq!(f.corrupt_delta, 0.01);
        assert!(
            f.set("corrupt_delta=-1")
                .unwrap_err()
                .contains("corrupt_delta")
        );
        assert_eq!(f.skip_seq, 0.5);
        assert_eq!(f.delay_ms, 20);
        let err = f.set("duplicate=2").unwrap_err();
        assert!(err.contains("duplicate") && err.contains("\"2\""), "{err}");
        assert!(f.set("nonsense=1").unwrap_err().contains("nonsense"));
        assert!(f.set("rate_limit_tier=gold").unwrap_err().contains("gold"));
        assert!(f.set("skip_seq").unwrap_err().contains("KEY=VALUE"));
    }

    #[test]
    fn basic_write_bucket_admits_one_second_then_refills() {
        let mut limiter = RateLimiter::default();
        limiter.set_tier(Some(Tier::Basic));
        // Basic: 100 write tokens/s, one second held: ten orders at 10 tokens.
        for i in 0..10 {
            assert!(limiter.admit(1, true, cost(false, 1), 0), "order {i}");
        }
        assert!(!limiter.admit(1, true, cost(false, 1), 0));
        // Another user has its own bucket; reads are a separate bucket.
        assert!(limiter.admit(2, true, 10, 0));
        assert!(limiter.admit(1, false, 10, 0));
        // 100 ms refills 10 tokens: one more order.
        assert!(limiter.admit(1, true, 10, 100));
        assert!(!limiter.admit(1, true, 10, 100));
        // Cancels cost 2.
        assert!(limiter.admit(1, true, cost(true, 1), 120));
    }
}
