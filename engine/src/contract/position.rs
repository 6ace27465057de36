//! A holding in one binary market and what fills and settlement do to it.
//!
//! Every side is on the YES ladder: buying YES at `p` costs `p` a contract,
//! selling YES at `p` is buying NO at `1 − p` and costs `1 − p`. One market's
//! YES and NO net as the venue nets them: a NO bought against a YES held
//! closes the pair, which pays $1, and what is left is a signed quantity
//! (positive YES, negative NO) with the cost basis of what remains, kept at
//! its average cost. Settlement pays $1 a contract to the winning side.

use super::saturate;
use crate::model::{Money, Price, Qty, Side, UNIT};

/// `count × price` in money; exact for two-decimal counts and prices of at
/// most six decimals (truncated toward zero beyond).
pub fn notional(count: Qty, price: Price) -> Money {
    Money::from_raw(saturate(
        i128::from(count.raw()) * i128::from(price.raw()) / i128::from(UNIT),
    ))
}

/// What the `side` leg of `count` at `price` costs: `count × p` to buy YES,
/// `count × (1 − p)` to sell YES (buy NO). The two legs sum to `count × $1`.
pub fn leg_cost(side: Side, count: Qty, price: Price) -> Money {
    match side {
        Side::Buy => notional(count, price),
        Side::Sell => Money::from_raw(count.raw().saturating_sub(notional(count, price).raw())),
    }
}

/// One market's holding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BinaryPosition {
    /// Contracts: positive YES, negative NO.
    pub qty: Qty,
    /// What the contracts held cost (average cost); never negative.
    pub cost_basis: Money,
    /// Payouts less the cost of what was netted or settled (fees excluded).
    pub realized: Money,
    /// Everything paid for contracts.
    pub traded: Money,
}

/// The cash of one fill, before fees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FillCash {
    /// What the leg cost.
    pub cost: Money,
    /// What netting pairs paid ($1 each).
    pub payout: Money,
    /// Contracts netted against the opposite holding.
    pub netted: Qty,
}

impl FillCash {
    /// The balance change before fees: payout less cost (negative for an
    /// opening buy).
    pub fn revenue(&self) -> Money {
        Money::from_raw(self.payout.raw().saturating_sub(self.cost.raw()))
    }
}

impl BinaryPosition {
    /// Books a fill of `n` on `side` at `price`.
    pub fn fill(&mut self, side: Side, n: Qty, price: Price) -> FillCash {
        let old = self.qty.raw();
        let signed = match side {
            Side::Buy => n.raw(),
            Side::Sell => n.raw().saturating_neg(),
        };
        let reducing = old != 0 && (old > 0) != (signed > 0);
        let netted = if reducing {
            n.raw().min(old.saturating_abs())
        } else {
            0
        };
        let netted_cost = leg_cost(side, Qty::from_raw(netted), price).raw();
        let opening_cost = leg_cost(side, Qty::from_raw(n.raw() - netted), price).raw();
        let mut basis = self.cost_basis.raw();
        if netted > 0 {
            let old_abs = old.saturating_abs();
            let share = if netted == old_abs {
                basis
            } else {
                saturate(i128::from(basis) * i128::from(netted) / i128::from(old_abs))
            };
            basis = basis.saturating_sub(share);
            self.realized = Money::from_raw(
                self.realized
                    .raw()
                    .saturating_add(netted)
                    .saturating_sub(share)
                    .saturating_sub(netted_cost),
            );
        }
        self.cost_basis = Money::from_raw(basis.saturating_add(opening_cost));
        self.qty = Qty::from_raw(old.saturating_add(signed));
        let cost = netted_cost.saturating_add(opening_cost);
        self.traded = Money::from_raw(self.traded.raw().saturating_add(cost));
        FillCash {
            cost: Money::from_raw(cost),
            payout: Money::from_raw(netted),
            netted: Qty::from_raw(netted),
        }
    }

    /// Settles the market: pays $1 a contract to the winning side, realizes
    /// the difference from the cost basis, and empties the holding. Returns
    /// the payout.
    pub fn settle(&mut self, yes_won: bool) -> Money {
        let held = self.qty.raw();
        let payout = match (yes_won, held > 0) {
            (true, true) | (false, false) => held.saturating_abs(),
            _ => 0,
        };
        self.realized = Money::from_raw(
            self.realized
                .raw()
                .saturating_add(payout)
                .saturating_sub(self.cost_basis.raw()),
        );
        self.cost_basis = Money::ZERO;
        self.qty = Qty::ZERO;
        Money::from_raw(payout)
    }

    /// What the holding would gain over its cost if it were valued at the
    /// YES price `mark` (NO at `1 − mark`).
    pub fn unrealized(&self, mark: Price) -> Money {
        let held = self.qty.raw();
        let value = if held >= 0 {
            leg_cost(Side::Buy, self.qty, mark)
        } else {
            leg_cost(Side::Sell, Qty::from_raw(held.saturating_abs()), mark)
        };
        Money::from_raw(value.raw().saturating_sub(self.cost_basis.raw()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Price {
        Price::parse(s).expect("price")
    }
    fn q(n: i64) -> Qty {
        Qty::from_units(n).expect("qty")
    }
    fn usd(s: &str) -> Money {
        Money::parse(s).expect("dollars")
    }

    #[test]
    fn yes_and_no_net_and_settlement_pays_the_winner() {
        let mut pos = BinaryPosition::default();
        let cash = pos.fill(Side::Buy, q(10), p("0.40"));
        assert_eq!((cash.cost, cash.payout), (usd("4"), Money::ZERO));
        assert_eq!(cash.revenue(), usd("-4"));
        // Sell 4 YES at 0.55 = buy 4 NO at 0.45: four pairs pay $4.
        let cash = pos.fill(Side::Sell, q(4), p("0.55"));
        assert_eq!(
            (cash.cost, cash.payout, cash.netted),
            (usd("1.8"), usd("4"), q(4))
        );
        assert_eq!(pos.qty, q(6));
        assert_eq!(pos.cost_basis, usd("2.4"));
        // 4 − 1.6 (basis) − 1.8 (NO cost) = 0.6 = 4 × (0.55 − 0.40).
        assert_eq!(pos.realized, usd("0.6"));
        assert_eq!(pos.unrealized(p("0.5")), usd("0.6"));
        // Flip through zero: 8 NO at 0.50 nets 6, opens 2 NO.
        pos.fill(Side::Sell, q(8), p("0.5"));
        assert_eq!(pos.qty, q(-2));
        assert_eq!(pos.cost_basis, usd("1"));
        assert_eq!(pos.settle(false), usd("2"));
        assert_eq!(pos.qty, Qty::ZERO);
        assert_eq!(pos.realized, usd("2.2"));
    }

    proptest! {
        #[test]
        fn cash_and_contracts_are_conserved(
            fills in prop::collection::vec((any::<bool>(), 1i64..50, 1i64..100), 1..40),
            yes_won: bool,
        ) {
            // Cash out of the holder = cost − payouts; what settlement pays
            // back makes realized PnL equal the net cash.
            let mut pos = BinaryPosition::default();
            let mut cash = 0i64;
            for (buy, n, cents) in fills {
                let side = if buy { Side::Buy } else { Side::Sell };
                let f = pos.fill(side, q(n), Price::from_raw(cents * 1_000_000));
                cash += f.revenue().raw();
                prop_assert!(pos.cost_basis.raw() >= 0);
            }
            cash += pos.settle(yes_won).raw();
            prop_assert_eq!(pos.realized.raw(), cash);
        }
    }
}
