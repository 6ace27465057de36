//! Binance spot market data: the frame decoder and the depth-book
//! synchronisation.
//!
//! [`decode`] turns one websocket frame (combined-stream envelope or bare
//! payload) or REST depth snapshot into a borrowed [`Msg`] without
//! allocating; price levels stay in the frame and are parsed again, lazily,
//! when the book applies them ([`Levels`]).
//!
//! [`DepthSync`] keeps an L2 [`Ladder`](pt_engine::book::Ladder) in step
//! with the `depth` diff stream by Binance's rules for a local order book
//! (buffer diffs, seed from a REST snapshot, drop diffs it already covers,
//! then require every diff to start where the previous one ended, and ask
//! for a new snapshot on a gap).
//!
//! The ladder is array-indexed over a [`PriceGrid`], so a book covers a
//! window of prices chosen up front: [`spot_grid`] centres one on a
//! reference price (the first `bookTicker`, say). Levels outside the window
//! are counted ([`SyncStats::off_grid_levels`]) and otherwise ignored; they
//! cannot change the best bid or ask unless a whole side of the book lies
//! outside the window.
//!
//! Checked against recorded traffic in `tests/binance_spot.rs`; measured by
//! `benches/benches/binance.rs`.

mod decode;
mod error;
mod levels;
mod sync;

pub use decode::{BookTicker, DecodeStats, DepthUpdate, Msg, Snapshot, Trade, decode};
pub use error::{Cause, DecodeError, ErrorCounts, Span};
pub use levels::{LevelIter, Levels};
pub use sync::{DepthSync, DiffOutcome, SnapshotOutcome, SyncState, SyncStats};

use pt_engine::instrument::{GridError, PriceGrid};
use pt_engine::model::Price;

/// A uniform grid of tick `tick` covering `center` ± `half_width_bps`
/// basis points (rounded out to whole ticks, floored at one tick).
///
/// Memory is 16 bytes per grid price in a [`Ladder`](pt_engine::book::Ladder):
/// BTCUSDT at 60,000 with tick 0.01 and ±20% is 2.4M prices, 38 MB.
pub fn spot_grid(center: Price, tick: Price, half_width_bps: u32) -> Result<PriceGrid, GridError> {
    let step = tick.raw();
    if step <= 0 {
        return PriceGrid::uniform(center, center, tick);
    }
    let c = i128::from(center.raw());
    let half = c * i128::from(half_width_bps) / 10_000;
    let s = i128::from(step);
    let lo = ((c - half) / s).max(1) * s;
    let hi = (c + half + s - 1) / s * s;
    let to_price = |v: i128| {
        i64::try_from(v)
            .map(Price::from_raw)
            .map_err(|_| GridError::TooLarge)
    };
    PriceGrid::uniform(to_price(lo)?, to_price(hi.max(lo))?, tick)
}

#[cfg(test)]
mod tests;
