//! Binance spot and USD-M futures market data: the frame decoder, the
//! depth-book synchronisation and the per-symbol book registry.
//!
//! [`decode`] turns one websocket frame (combined-stream envelope or bare
//! payload) or REST depth snapshot into a borrowed [`Msg`] without
//! allocating; price levels stay in the frame and are parsed again, lazily,
//! when the book applies them ([`Levels`]). Futures diffs carry `pu`
//! ([`DepthUpdate::prev_final_update_id`]); the futures `bookTicker` (with
//! `"e":"bookTicker"`) decodes to the same [`BookTicker`] as spot's. Event
//! kinds the decoder does not handle are counted by name
//! ([`DecodeStats::unknown`]).
//!
//! [`DepthSync`] keeps an L2 [`Ladder`](pt_engine::book::Ladder) in step
//! with the diff stream by Binance's rules for a local order book, chosen
//! by [`SyncRules`]: buffer diffs, seed from a REST snapshot, drop diffs it
//! already covers, then require each diff to follow the previous one (spot:
//! `U == previous u + 1`; futures: `pu == previous u`, the first applied
//! diff bridging `lastUpdateId`), and ask for a new snapshot on a gap.
//!
//! The ladder is array-indexed over a window of the instrument's grid (the
//! tick from the registry, [`DepthSync::for_instrument`]). The window is
//! placed at each snapshot, centred between the best bid and ask and at most
//! [`SyncConfig::max_window`] prices wide; on-grid levels outside it are kept
//! in a small fixed-capacity overflow store (counted in
//! [`SyncStats::outside_window_levels`], and in
//! [`SyncStats::overflow_full`] when the store is full), so the best prices
//! stay right. When the best price itself leaves the window the book goes
//! stale ([`DiffOutcome::OutOfWindow`]) and asks for a snapshot, which
//! re-centres it. [`Books`] routes a combined stream's diffs and snapshots
//! to each symbol's own [`DepthSync`].
//!
//! Checked against recorded traffic in `tests/binance_spot.rs` and
//! `tests/binance_futures.rs`; measured by `benches/benches/binance.rs`.

mod books;
mod config;
mod decode;
mod error;
mod levels;
mod sync;
mod window;

pub use books::{Books, DuplicateSymbol, snapshot_symbol};
pub use config::{DiffOutcome, SnapshotOutcome, SyncConfig, SyncRules, SyncState, SyncStats};
pub use decode::{BookTicker, DecodeStats, DepthUpdate, Msg, Snapshot, Trade, decode};
pub use error::{Cause, DecodeError, ErrorCounts, Span};
pub use levels::{LevelIter, Levels};
pub use sync::DepthSync;

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
