//! Kill switches and trading states: one for everything, one per venue,
//! one per strategy. An order's scope is the most severe of the three.

use pt_engine::model::{StrategyId, VenueId};

/// What a scope lets through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trading {
    /// Everything the limits allow.
    #[default]
    Active,
    /// Only orders that reduce a position (and cancels).
    Reducing,
    /// Nothing but cancels; open orders were cancelled when it tripped.
    Halted,
}

impl Trading {
    /// `active`, `reducing` or `halted`.
    pub const fn name(self) -> &'static str {
        match self {
            Trading::Active => "active",
            Trading::Reducing => "reducing",
            Trading::Halted => "halted",
        }
    }
}

/// Why a scope was halted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Not halted, or reset.
    #[default]
    None,
    /// An operator's command.
    Command,
    /// The daily loss limit.
    DailyLoss,
}

/// Every scope's trading state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KillSwitches {
    global: (Trading, Cause),
    venues: Vec<(Trading, Cause)>,
    strategies: Vec<(Trading, Cause)>,
}

impl KillSwitches {
    /// All active, for `venues` venues and `strategies` strategies.
    pub fn new(venues: usize, strategies: usize) -> KillSwitches {
        KillSwitches {
            global: Default::default(),
            venues: vec![Default::default(); venues],
            strategies: vec![Default::default(); strategies],
        }
    }

    /// The state in force for an order of `strategy` on `venue`.
    #[inline]
    pub fn state(&self, venue: VenueId, strategy: StrategyId) -> Trading {
        let v = self
            .venues
            .get(venue.0 as usize)
            .map_or(Trading::Active, |s| s.0);
        let s = self
            .strategies
            .get(strategy.0 as usize)
            .map_or(Trading::Active, |s| s.0);
        self.global.0.max(v).max(s)
    }

    /// Whether the global and `venue` switches are active: what live needs.
    pub fn healthy(&self, venue: VenueId) -> bool {
        self.global.0 == Trading::Active
            && self
                .venues
                .get(venue.0 as usize)
                .is_none_or(|s| s.0 == Trading::Active)
    }

    /// The global state.
    pub fn global(&self) -> Trading {
        self.global.0
    }

    /// `venue`'s own state.
    pub fn venue(&self, venue: VenueId) -> Trading {
        self.venues
            .get(venue.0 as usize)
            .map_or(Trading::Active, |s| s.0)
    }

    /// `strategy`'s own state, and why.
    pub fn strategy(&self, strategy: StrategyId) -> (Trading, Cause) {
        self.strategies
            .get(strategy.0 as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Sets the global state.
    pub fn set_global(&mut self, t: Trading, cause: Cause) {
        self.global = (t, cause);
    }

    /// Sets a venue's state.
    pub fn set_venue(&mut self, venue: VenueId, t: Trading, cause: Cause) {
        if let Some(s) = self.venues.get_mut(venue.0 as usize) {
            *s = (t, cause);
        }
    }

    /// Sets a strategy's state.
    pub fn set_strategy(&mut self, strategy: StrategyId, t: Trading, cause: Cause) {
        if let Some(s) = self.strategies.get_mut(strategy.0 as usize) {
            *s = (t, cause);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_severe_scope_wins() {
        let mut k = KillSwitches::new(2, 3);
        assert_eq!(k.state(VenueId(0), StrategyId(1)), Trading::Active);
        k.set_strategy(StrategyId(1), Trading::Reducing, Cause::Command);
        assert_eq!(k.state(VenueId(0), StrategyId(1)), Trading::Reducing);
        assert_eq!(k.state(VenueId(0), StrategyId(2)), Trading::Active);
        k.set_venue(VenueId(1), Trading::Halted, Cause::Command);
        assert_eq!(k.state(VenueId(1), StrategyId(2)), Trading::Halted);
        assert!(!k.healthy(VenueId(1)) && k.healthy(VenueId(0)));
        k.set_global(Trading::Halted, Cause::Command);
        assert_eq!(k.state(VenueId(0), StrategyId(2)), Trading::Halted);
    }
}
