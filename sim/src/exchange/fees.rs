//! The money arithmetic of fills, from the engine's one copy
//! ([`pt_engine::contract`]): Kalshi's fees with their rounding and
//! accumulator, and what a leg of a binary contract costs.

use super::*;
use pt_engine::contract;
use pt_engine::model::Side;

impl BookSide {
    /// The side on the engine's YES ladder.
    pub(crate) fn yes_side(self) -> Side {
        match self {
            BookSide::Bid => Side::Buy,
            BookSide::Ask => Side::Sell,
        }
    }
}

/// What the `side` leg of `count` at `price` costs: `count × p` for a bid,
/// `count × (1 − p)` for an ask. The two legs always sum to `count × $1`.
pub(crate) fn leg_cost(side: BookSide, count: Qty, price: Price) -> Money {
    contract::leg_cost(side.yes_side(), count, price).raw()
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
