//! The ledger of one mode: cash, fees, and positions per instrument (the
//! account's, netted as the venue nets them) and per strategy, with
//! exposure per instrument and event and PnL per strategy. Fixed point,
//! no floats, no allocation once its tables exist.
//!
//! Invariants the tests hold it to: cash = Σ realized − Σ cost basis − fees
//! (every dollar is accounted for), and the strategies' positions in an
//! instrument sum to the account's.

use crate::markets::{EventIndex, Markets};
use pt_engine::contract::BinaryPosition;
use pt_engine::model::{ExecReport, InstrumentId, Money, Price, Qty, StrategyId};

/// One strategy's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrategyPnl {
    /// Realized PnL, fees excluded.
    pub realized: Money,
    /// Unrealized PnL at the latest marks.
    pub unrealized: Money,
    /// Fees paid.
    pub fees: Money,
}

impl StrategyPnl {
    /// Realized + unrealized − fees.
    pub fn total(&self) -> Money {
        Money::from_raw(
            self.realized
                .raw()
                .saturating_add(self.unrealized.raw())
                .saturating_sub(self.fees.raw()),
        )
    }
}

/// The ledger of one mode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Cash moved by fills, fees and settlements since the start.
    pub cash: Money,
    /// Fees paid in all.
    pub fees: Money,
    account: Vec<BinaryPosition>,
    event_of: Vec<EventIndex>,
    event_position: Vec<i64>,
    event_exposure: Vec<i64>,
    strategies: usize,
    by_strategy: Vec<BinaryPosition>,
    unrealized: Vec<i64>,
    pnl: Vec<StrategyPnl>,
}

impl Ledger {
    /// An empty ledger for `markets` and strategies numbered below `strategies`.
    pub fn new(markets: &Markets, strategies: usize) -> Ledger {
        let n = markets.slots();
        let event_of = (0..n)
            .map(|i| {
                markets
                    .get(InstrumentId(i as u32))
                    .map_or(EventIndex(0), |m| m.event)
            })
            .collect();
        Ledger {
            cash: Money::ZERO,
            fees: Money::ZERO,
            account: vec![BinaryPosition::default(); n],
            event_of,
            event_position: vec![0; markets.events().max(1)],
            event_exposure: vec![0; markets.events().max(1)],
            strategies,
            by_strategy: vec![BinaryPosition::default(); n * strategies],
            unrealized: vec![0; n * strategies],
            pnl: vec![StrategyPnl::default(); strategies],
        }
    }

    /// The account's holding in `instrument`.
    pub fn position(&self, instrument: InstrumentId) -> BinaryPosition {
        self.account
            .get(instrument.0 as usize)
            .copied()
            .unwrap_or_default()
    }

    /// `strategy`'s holding in `instrument`.
    pub fn strategy_position(
        &self,
        strategy: StrategyId,
        instrument: InstrumentId,
    ) -> BinaryPosition {
        self.slot(strategy, instrument)
            .map(|i| self.by_strategy[i])
            .unwrap_or_default()
    }

    /// Contracts held across an event (YES and NO both count).
    pub fn event_position(&self, event: EventIndex) -> Qty {
        Qty::from_raw(
            self.event_position
                .get(event.0 as usize)
                .copied()
                .unwrap_or(0),
        )
    }

    /// Dollars at risk across an event (what its holdings cost).
    pub fn event_exposure(&self, event: EventIndex) -> Money {
        Money::from_raw(
            self.event_exposure
                .get(event.0 as usize)
                .copied()
                .unwrap_or(0),
        )
    }

    /// Dollars at risk in `instrument`: what the account's holding cost.
    pub fn exposure(&self, instrument: InstrumentId) -> Money {
        self.position(instrument).cost_basis
    }

    /// Dollars at risk across the instruments of `venue`.
    pub fn venue_exposure(&self, markets: &Markets, venue: pt_engine::model::VenueId) -> Money {
        let raw = (0..self.account.len())
            .map(|i| InstrumentId(i as u32))
            .filter(|&i| markets.venue_of(i) == venue)
            .map(|i| self.exposure(i).raw())
            .fold(0i64, i64::saturating_add);
        Money::from_raw(raw)
    }

    /// Dollars at risk in all of `strategy`'s holdings.
    pub fn strategy_exposure(&self, strategy: StrategyId) -> Money {
        let raw = (0..self.account.len())
            .map(|i| {
                self.strategy_position(strategy, InstrumentId(i as u32))
                    .cost_basis
                    .raw()
            })
            .fold(0i64, i64::saturating_add);
        Money::from_raw(raw)
    }

    /// A strategy's PnL.
    pub fn pnl(&self, strategy: StrategyId) -> StrategyPnl {
        self.pnl
            .get(strategy.0 as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Every strategy's realized, unrealized and fees added up.
    pub fn totals(&self) -> StrategyPnl {
        let add = |f: fn(&StrategyPnl) -> Money| {
            Money::from_raw(
                self.pnl
                    .iter()
                    .map(|p| f(p).raw())
                    .fold(0i64, i64::saturating_add),
            )
        };
        StrategyPnl {
            realized: add(|p| p.realized),
            unrealized: add(|p| p.unrealized),
            fees: add(|p| p.fees),
        }
    }

    /// Every strategy's PnL added up.
    pub fn total_pnl(&self) -> Money {
        Money::from_raw(
            self.pnl
                .iter()
                .map(|p| p.total().raw())
                .fold(0i64, i64::saturating_add),
        )
    }

    fn slot(&self, strategy: StrategyId, instrument: InstrumentId) -> Option<usize> {
        let (s, i) = (strategy.0 as usize, instrument.0 as usize);
        (s < self.strategies && i < self.account.len()).then(|| i * self.strategies + s)
    }

    fn track_event(&mut self, instrument: usize, before: &BinaryPosition) {
        let after = self.account[instrument];
        let e = self.event_of[instrument].0 as usize;
        if let (Some(p), Some(x)) = (
            self.event_position.get_mut(e),
            self.event_exposure.get_mut(e),
        ) {
            *p += after.qty.raw().saturating_abs() - before.qty.raw().saturating_abs();
            *x += after.cost_basis.raw() - before.cost_basis.raw();
        }
    }

    /// Books a fill report (its strategy from the client id; `fee` is the
    /// net fee charged), valuing the strategy's holding at `mark`.
    pub fn fill(&mut self, r: &ExecReport, mark: Price) {
        let (strategy, instrument, side, qty, price, fee) = (
            r.strategy(),
            r.header.instrument,
            r.side,
            r.qty,
            r.price,
            r.fee,
        );
        let i = instrument.0 as usize;
        let Some(before) = self.account.get(i).copied() else {
            return;
        };
        let cash = self.account[i].fill(side, qty, price);
        self.track_event(i, &before);
        self.cash = Money::from_raw(
            self.cash
                .raw()
                .saturating_add(cash.revenue().raw())
                .saturating_sub(fee.raw()),
        );
        self.fees = Money::from_raw(self.fees.raw().saturating_add(fee.raw()));
        if let Some(slot) = self.slot(strategy, instrument) {
            let pos = &mut self.by_strategy[slot];
            let realized_before = pos.realized.raw();
            pos.fill(side, qty, price);
            let gained = pos.realized.raw() - realized_before;
            let p = &mut self.pnl[strategy.0 as usize];
            p.realized = Money::from_raw(p.realized.raw().saturating_add(gained));
            p.fees = Money::from_raw(p.fees.raw().saturating_add(fee.raw()));
            self.remark_slot(slot, strategy.0 as usize, mark);
        }
    }

    fn remark_slot(&mut self, slot: usize, strategy: usize, mark: Price) {
        let now = self.by_strategy[slot].unrealized(mark).raw();
        let delta = now - self.unrealized[slot];
        self.unrealized[slot] = now;
        let p = &mut self.pnl[strategy];
        p.unrealized = Money::from_raw(p.unrealized.raw().saturating_add(delta));
    }

    /// Values every strategy's holding in `instrument` at `mark`; returns
    /// nothing, the PnL totals move.
    pub fn remark(&mut self, instrument: InstrumentId, mark: Price) {
        let i = instrument.0 as usize;
        if i >= self.account.len() {
            return;
        }
        for s in 0..self.strategies {
            let slot = i * self.strategies + s;
            if self.by_strategy[slot].qty.raw() != 0 || self.unrealized[slot] != 0 {
                self.remark_slot(slot, s, mark);
            }
        }
    }

    /// Settles `instrument` at the venue's published result.
    pub fn settle(&mut self, instrument: InstrumentId, yes_won: bool) {
        let i = instrument.0 as usize;
        let Some(before) = self.account.get(i).copied() else {
            return;
        };
        let payout = self.account[i].settle(yes_won);
        self.track_event(i, &before);
        self.cash = Money::from_raw(self.cash.raw().saturating_add(payout.raw()));
        for s in 0..self.strategies {
            let slot = i * self.strategies + s;
            let pos = &mut self.by_strategy[slot];
            let realized_before = pos.realized.raw();
            pos.settle(yes_won);
            let gained = pos.realized.raw() - realized_before;
            let p = &mut self.pnl[s];
            p.realized = Money::from_raw(p.realized.raw().saturating_add(gained));
            p.unrealized = Money::from_raw(p.unrealized.raw() - self.unrealized[slot]);
            self.unrealized[slot] = 0;
        }
    }

    /// Every account holding: (instrument, holding) for non-empty ones.
    pub fn holdings(&self) -> impl Iterator<Item = (InstrumentId, &BinaryPosition)> {
        self.account
            .iter()
            .enumerate()
            .filter(|(_, p)| p.qty.raw() != 0 || p.realized.raw() != 0)
            .map(|(i, p)| (InstrumentId(i as u32), p))
    }

    /// This ledger without its marks (unrealized PnL), which follow the
    /// market rather than the journal: what a rebuild is compared by (the
    /// marks return with the next book updates).
    pub fn at_cost(&self) -> Ledger {
        let mut l = self.clone();
        l.unrealized.iter_mut().for_each(|u| *u = 0);
        l.pnl.iter_mut().for_each(|p| p.unrealized = Money::ZERO);
        l
    }

    /// Whether every dollar is accounted for and the strategies' positions
    /// add up to the account's: the conservation the tests check.
    pub fn balanced(&self) -> Result<(), String> {
        let realized: i64 = self.account.iter().map(|p| p.realized.raw()).sum();
        let basis: i64 = self.account.iter().map(|p| p.cost_basis.raw()).sum();
        if self.cash.raw() != realized - basis - self.fees.raw() {
            return Err(format!(
                "cash {} is not realized {realized} − basis {basis} − fees {}",
                self.cash.raw(),
                self.fees.raw()
            ));
        }
        for (i, acct) in self.account.iter().enumerate() {
            let sum: i64 = (0..self.strategies)
                .map(|s| self.by_strategy[i * self.strategies + s].qty.raw())
                .sum();
            if sum != acct.qty.raw() {
                return Err(format!(
                    "instrument {i}: strategies hold {sum}, the account {}",
                    acct.qty.raw()
                ));
            }
        }
        Ok(())
    }
}
