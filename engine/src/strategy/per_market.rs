//! A strategy's state per market, indexed by instrument id: a slot for
//! each market it trades, none for the others.

use crate::model::InstrumentId;

/// State `M` for each traded market.
#[derive(Clone, Debug)]
pub struct PerMarket<M> {
    slots: Vec<Option<M>>,
}

impl<M: Clone + Default> PerMarket<M> {
    /// A fresh `M` for each of `instruments`.
    pub fn new(instruments: &[InstrumentId]) -> PerMarket<M> {
        let len = instruments
            .iter()
            .map(|i| i.0 as usize + 1)
            .max()
            .unwrap_or(0);
        let mut slots = vec![None; len];
        for i in instruments {
            slots[i.0 as usize] = Some(M::default());
        }
        PerMarket { slots }
    }
}

impl<M> PerMarket<M> {
    /// The state of `instrument`, if it is traded.
    pub fn get(&self, instrument: InstrumentId) -> Option<&M> {
        self.slots.get(instrument.0 as usize)?.as_ref()
    }

    /// The same, to change.
    pub fn get_mut(&mut self, instrument: InstrumentId) -> Option<&mut M> {
        self.slots.get_mut(instrument.0 as usize)?.as_mut()
    }

    /// One past the highest instrument id traded: `InstrumentId(0..len)`
    /// covers every traded market (and some that are not).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no market is traded.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}
