//! Fees and the money arithmetic of fills: Kalshi's trade fee, rounded up
//! to the cent, and what a leg of a binary contract costs.

use super::*;

/// Fee rates in basis points of `count × P × (1 − P)`, rounded up to the
/// cent per trade (Kalshi's formula).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSchedule {
    /// Rate charged to the taker (700 = 0.07).
    pub taker_bps: i64,
    /// Rate charged to the maker (negative = rebate).
    pub maker_bps: i64,
}

impl Default for FeeSchedule {
    fn default() -> Self {
        FeeSchedule {
            taker_bps: 700,
            maker_bps: 0,
        }
    }
}

/// The fee of one trade of `count` at `price`: `bps / 10000 × count × P ×
/// (1 − P)` rounded up to the next whole cent, computed exactly. Zero for a
/// non-positive count or a price outside (0, 1); `bps` is clamped to
/// ±10000.
pub fn trade_fee(bps: i64, count: Qty, price: Price) -> Money {
    let (c, p, u) = (
        i128::from(count.raw()),
        i128::from(price.raw()),
        i128::from(UNIT),
    );
    if c <= 0 || p <= 0 || p >= u {
        return 0;
    }
    let bps = i128::from(bps.clamp(-10_000, 10_000));
    // Fee in cents = bps/1e4 × (c/u) × (p/u) × ((u−p)/u) × 100.
    let denominator = 100 * u * u * u;
    let cents = bps
        .checked_mul(c)
        .and_then(|v| v.checked_mul(p * (u - p)))
        // Ceiling for either sign: floor((a + b − 1) / b) with b > 0.
        .and_then(|num| num.checked_add(denominator - 1))
        .map(|num| num.div_euclid(denominator));
    match cents {
        Some(cents) => saturate(cents.saturating_mul(i128::from(CENT))),
        None => i64::MAX,
    }
}

/// `count × price` in money; exact for two-decimal counts and prices of at
/// most six decimals (truncated toward zero beyond).
pub(crate) fn notional(count: Qty, price: Price) -> Money {
    saturate(i128::from(count.raw()) * i128::from(price.raw()) / i128::from(UNIT))
}

/// What the `side` leg of `count` at `price` costs: `count × p` for a bid,
/// `count × (1 − p)` for an ask. The two legs always sum to `count × $1`.
pub(crate) fn leg_cost(side: BookSide, count: Qty, price: Price) -> Money {
    match side {
        BookSide::Bid => notional(count, price),
        BookSide::Ask => count.raw().saturating_sub(notional(count, price)),
    }
}

pub(crate) fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn qty_add(a: Qty, b: Qty) -> Qty {
    Qty::from_raw(a.raw().saturating_add(b.raw()))
}

pub(crate) fn qty_sub(a: Qty, b: Qty) -> Qty {
    Qty::from_raw(a.raw().saturating_sub(b.raw()))
}

pub(crate) fn dollars(m: Money) -> String {
    Price::from_raw(m).to_string()
}
