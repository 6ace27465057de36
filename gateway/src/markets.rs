//! What the gate knows of each instrument: its grid and step, its event,
//! its fees, whether it is open, and the top of its book.

use pt_engine::contract::FeeModel;
use pt_engine::instrument::{PriceGrid, Registry};
use pt_engine::model::{
    BookUpdate, InstrumentId, MarketEvent, MarketStatus, Price, Qty, VenueId, book_flags,
};
use std::collections::HashMap;

/// A dense event index (Kalshi groups markets into events).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventIndex(pub u32);

/// One instrument as the gateway sees it.
#[derive(Clone, Debug)]
pub struct Market {
    /// Where it trades.
    pub venue: VenueId,
    /// Its event.
    pub event: EventIndex,
    /// Valid prices.
    pub grid: PriceGrid,
    /// Quantity step.
    pub qty_step: Qty,
    /// Its series' fees.
    pub fees: FeeModel,
    /// Trading status from the feed.
    pub status: MarketStatus,
    /// Best bid and ask with quantities, from the last book update.
    pub bid: Option<(Price, Qty)>,
    /// Best ask.
    pub ask: Option<(Price, Qty)>,
    /// The book is stale (or was never whole).
    pub stale: bool,
    /// The settlement value of YES once the venue published it.
    pub settled: Option<bool>,
}

impl Market {
    /// Mid price when both sides are quoted, else the one side, else 0.50.
    pub fn mark(&self) -> Price {
        match (self.bid, self.ask) {
            (Some((b, _)), Some((a, _))) => Price::from_raw((b.raw() + a.raw()) / 2),
            (Some((b, _)), None) => b,
            (None, Some((a, _))) => a,
            (None, None) => Price::from_raw(pt_engine::model::UNIT / 2),
        }
    }
}

/// The event of a Kalshi ticker: everything before its last `-`
/// (`KXHIGHNY-24DEC05-B45` is in `KXHIGHNY-24DEC05`); a ticker without one is
/// its own event.
pub fn event_of(symbol: &str) -> &str {
    symbol.rsplit_once('-').map_or(symbol, |(event, _)| event)
}

/// The series of a Kalshi ticker: everything before its first `-`.
pub fn series_of(symbol: &str) -> &str {
    symbol.split_once('-').map_or(symbol, |(series, _)| series)
}

/// Every instrument by dense id.
#[derive(Clone, Debug, Default)]
pub struct Markets {
    markets: Vec<Option<Market>>,
    events: usize,
}

impl Markets {
    /// The registry's instruments, with each series' fees from `fees`
    /// (given the series name). Books start stale and markets open.
    pub fn new(registry: &Registry, mut fees: impl FnMut(&str) -> FeeModel) -> Markets {
        let mut events: HashMap<String, EventIndex> = HashMap::new();
        let mut markets = Vec::new();
        for i in registry.instruments() {
            let at = i.id.0 as usize;
            if markets.len() <= at {
                markets.resize(at + 1, None);
            }
            let next = EventIndex(events.len() as u32);
            let event = *events.entry(event_of(&i.symbol).to_owned()).or_insert(next);
            markets[at] = Some(Market {
                venue: i.venue,
                event,
                grid: i.grid.clone(),
                qty_step: i.qty_step,
                fees: fees(series_of(&i.symbol)),
                status: MarketStatus::Open,
                bid: None,
                ask: None,
                stale: true,
                settled: None,
            });
        }
        Markets {
            markets,
            events: events.len(),
        }
    }

    /// The instrument, if the registry has it.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> Option<&Market> {
        self.markets.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// The venue `id` trades on (venue 0 for an unknown instrument).
    #[inline]
    pub fn venue_of(&self, id: InstrumentId) -> VenueId {
        self.get(id).map_or(VenueId(0), |m| m.venue)
    }

    /// Whether `scope` (with its `strategy` and `target`, as a command
    /// carries them) covers an order or holding of `strategy_of` in
    /// `instrument`: one rule for cancels, kill switches and flatten.
    #[inline]
    pub fn in_scope(
        &self,
        scope: pt_engine::model::Scope,
        strategy: pt_engine::model::StrategyId,
        target: u32,
        instrument: InstrumentId,
        strategy_of: pt_engine::model::StrategyId,
    ) -> bool {
        use pt_engine::model::Scope;
        match scope {
            Scope::Global => true,
            Scope::Venue => u32::from(self.venue_of(instrument).0) == target,
            Scope::Strategy => strategy_of == strategy,
            Scope::Instrument => instrument.0 == target,
        }
    }

    /// How many instrument slots (the largest id + 1).
    pub fn slots(&self) -> usize {
        self.markets.len()
    }

    /// How many events.
    pub fn events(&self) -> usize {
        self.events
    }

    /// Takes a book update: top of book and staleness.
    #[inline]
    pub fn on_book(&mut self, b: &BookUpdate) {
        if let Some(Some(m)) = self.markets.get_mut(b.header.instrument.0 as usize) {
            let f = b.book_flags;
            m.bid = (f & book_flags::NO_BID == 0).then_some((b.best_bid, b.best_bid_qty));
            m.ask = (f & book_flags::NO_ASK == 0).then_some((b.best_ask, b.best_ask_qty));
            m.stale = f & book_flags::STALE != 0;
        }
    }

    /// Takes a market status; returns the YES settlement value when it is
    /// the venue publishing one (a `Settled` status whose price is $1 or $0).
    #[inline]
    pub fn on_status(&mut self, e: &MarketEvent) -> Option<bool> {
        let m = self
            .markets
            .get_mut(e.header.instrument.0 as usize)?
            .as_mut()?;
        match e.status {
            MarketStatus::Gap => {
                m.stale = true;
                None
            }
            MarketStatus::Settled => {
                m.status = MarketStatus::Settled;
                let yes = e.price == Price::ONE;
                if m.settled.is_none() && (yes || e.price == Price::ZERO) {
                    m.settled = Some(yes);
                    return Some(yes);
                }
                None
            }
            status => {
                m.status = status;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_series_come_from_the_ticker() {
        assert_eq!(event_of("KXHIGHNY-24DEC05-B45"), "KXHIGHNY-24DEC05");
        assert_eq!(series_of("KXHIGHNY-24DEC05-B45"), "KXHIGHNY");
        assert_eq!(event_of("SOLO"), "SOLO");
    }
}
