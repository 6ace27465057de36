//! Decoded book and trade messages to engine [`MarketEvent`]s.
//!
//! Every level goes onto the YES ladder: a YES bid at p is a
//! [`Side::Buy`] level at p; a NO bid is a [`Side::Sell`] (YES ask) level
//! at 1 − p when the subscription used NO prices (Kalshi's default), and
//! at p itself when it set `use_yes_price: true`, because Kalshi then
//! already prints NO levels at YES prices (WIRE-FORMAT.md §3, and
//! `tools/src/sim/render.rs::bid_ladders`).

use super::msg::{Envelope, Msg, OrderbookDelta, YesNo};
use pt_engine::model::{
    EventKind, Header, InstrumentId, MarketEvent, Nanos, Price, Qty, Side, VenueId, header_flags,
};

/// Where the events come from: filled into every header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventSource {
    /// The venue.
    pub venue: VenueId,
    /// The market's instrument.
    pub instrument: InstrumentId,
    /// Whether the subscription was made with `use_yes_price: true`.
    pub use_yes_price: bool,
}

/// The YES-ladder side and price of a level on Kalshi's `side` ladder
/// printed at `p`.
#[inline]
pub fn yes_ladder(side: YesNo, p: Price, use_yes_price: bool) -> (Side, Price) {
    match side {
        YesNo::Yes => (Side::Buy, p),
        YesNo::No if use_yes_price => (Side::Sell, p),
        YesNo::No => (Side::Sell, Price::from_raw(Price::ONE.raw() - p.raw())),
    }
}

/// FNV-1a of the venue's trade id, for [`MarketEvent::trade_id`].
pub fn trade_id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The `LevelDelta` of an `orderbook_delta` with sequence number `seq`
/// (what [`to_events`] emits for one).
#[inline]
pub fn delta_event(
    d: &OrderbookDelta<'_>,
    seq: u64,
    src: &EventSource,
    recv_ts: Nanos,
) -> MarketEvent {
    let (side, price) = yes_ladder(d.side, d.price, src.use_yes_price);
    MarketEvent {
        header: Header {
            venue: src.venue,
            venue_ts: d.ts,
            ..Header::new(EventKind::LevelDelta, src.instrument, seq, recv_ts)
        },
        side,
        price,
        qty: d.delta,
        ..MarketEvent::default()
    }
}

/// Emits the market events of a snapshot, delta or trade through `emit`
/// and returns how many; other messages emit none. `Header::seq` is the
/// message's `seq` (0 when absent), `venue_ts` the message's venue time
/// (UNSET for snapshots, which carry none), `recv_ts` as given.
///
/// Snapshot: `SnapshotBegin` (`levels` = YES + NO levels), one
/// `SnapshotLevel` per YES bid (`Buy`) then per NO bid (`Sell`, as a YES
/// ask), `SnapshotEnd`; all flagged [`header_flags::SNAPSHOT`]. Delta: one
/// `LevelDelta` with the signed change. Trade: one `Trade` at the YES
/// price, side `Buy` when the taker bought YES, `Sell` when NO.
pub fn to_events(
    env: &Envelope<'_>,
    src: &EventSource,
    recv_ts: Nanos,
    mut emit: impl FnMut(MarketEvent),
) -> usize {
    let header = |kind: EventKind, venue_ts: Nanos| Header {
        venue: src.venue,
        venue_ts,
        ..Header::new(kind, src.instrument, env.seq.unwrap_or(0), recv_ts)
    };
    let event = |kind, venue_ts, side, price, qty| MarketEvent {
        header: header(kind, venue_ts),
        side,
        price,
        qty,
        ..MarketEvent::default()
    };
    match &env.msg {
        Msg::OrderbookSnapshot(s) => {
            let snap = |mut e: MarketEvent| {
                e.header.flags |= header_flags::SNAPSHOT;
                e
            };
            let total = s.yes.len() + s.no.len();
            let mut begin = event(
                EventKind::SnapshotBegin,
                Nanos::UNSET,
                Side::Buy,
                Price::ZERO,
                Qty::ZERO,
            );
            begin.levels = u32::try_from(total).unwrap_or(u32::MAX);
            emit(snap(begin));
            let mut n = 2;
            for (ladder, levels) in [(YesNo::Yes, &s.yes), (YesNo::No, &s.no)] {
                for (p, q) in levels {
                    let (side, price) = yes_ladder(ladder, p, src.use_yes_price);
                    emit(snap(event(
                        EventKind::SnapshotLevel,
                        Nanos::UNSET,
                        side,
                        price,
                        q,
                    )));
                    n += 1;
                }
            }
            emit(snap(event(
                EventKind::SnapshotEnd,
                Nanos::UNSET,
                Side::Buy,
                Price::ZERO,
                Qty::ZERO,
            )));
            n
        }
        Msg::OrderbookDelta(d) => {
            emit(delta_event(d, env.seq.unwrap_or(0), src, recv_ts));
            1
        }
        Msg::Trade(t) => {
            let side = match t.taker_side {
                YesNo::Yes => Side::Buy,
                YesNo::No => Side::Sell,
            };
            let mut e = event(EventKind::Trade, t.ts, side, t.yes_price, t.count);
            e.trade_id = trade_id_hash(t.trade_id);
            emit(e);
            1
        }
        _ => 0,
    }
}
