//! The money of binary contracts, in one copy for every part that charges
//! or books it: the venue simulator, the paper venue and the ledger.
//!
//! - [`fees`]: Kalshi's fee model per series, the trade fee rounded up to
//!   $0.0001, the rounding fee that keeps a balance at its precision and the
//!   per-order accumulator that refunds whole cents.
//! - [`position`]: what a fill does to a YES/NO holding (YES and NO of one
//!   market net, each netted pair paying $1), and what settlement pays.
//!
//! Everything is fixed point ([`Money`](crate::model::Money),
//! [`Price`](crate::model::Price), [`Qty`](crate::model::Qty) at 10^-8);
//! intermediate products are `i128`, and a result that does not fit
//! saturates rather than wraps.

pub mod fees;
pub mod position;

pub use fees::{FeeAccumulator, FeeModel, FeeType, FeeTypeError, FillFee};
pub use position::{BinaryPosition, FillCash, leg_cost, notional};

use crate::model::UNIT;

/// One cent, in raw 10^-8 dollars.
pub const CENT: i64 = UNIT / 100;
/// A hundredth of a cent ($0.0001), the precision of a trade fee.
pub const CENTICENT: i64 = UNIT / 10_000;

pub(crate) fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}
