//! Kalshi's trading fees (series `fee_type` and `fee_multiplier`).
//!
//! A fill's fee has three parts, computed exactly:
//! 1. the **trade fee**: `rate × C × P × (1 − P)` for the quadratic types
//!    (`rate × C` for `flat`), rounded **up** to $0.0001;
//! 2. the **rounding fee**: the fill moves the balance by `revenue − trade
//!    fee` (revenue negative for a buyer), floored to the account's
//!    precision ($0.01 for most accounts); what the floor took is the
//!    rounding fee, in `[0, precision)`;
//! 3. the **rebate**: a per-order [`FeeAccumulator`] sums the rounding fees
//!    of the order's fills, maker and taker alike; once it exceeds $0.01 one
//!    whole cent is refunded and the accumulator drops by $0.01, so many
//!    small fills cost what one equivalent fill would.
//!
//! Net fee = trade fee + rounding fee − rebate; the balance changes by
//! `revenue − net fee`.
//!
//! Rates: the taker rate is `0.07 × fee_multiplier`; where maker fees apply
//! makers pay a quarter of it (`quadratic_with_maker_fees`), or half for
//! combos (`quadratic_with_combo_maker_fees`); `quadratic` charges makers
//! nothing. The venue does not state what `flat` charges makers; this model
//! charges them nothing and the taker `0.07 × multiplier` per contract, an
//! assumption to check against the series data.

use super::{CENT, CENTICENT, saturate};
use crate::model::{Liquidity, Money, Price, Qty, UNIT};
use core::fmt;

/// A series' fee type, as the venue names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FeeType {
    /// Takers pay the quadratic fee; makers pay nothing.
    #[default]
    Quadratic,
    /// Takers pay the quadratic fee; makers a quarter of it.
    QuadraticWithMakerFees,
    /// Takers pay the quadratic fee; makers half of it (combos).
    QuadraticWithComboMakerFees,
    /// A fixed amount per contract.
    Flat,
}

/// A fee type name the venue does not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeTypeError(pub String);

impl fmt::Display for FeeTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fee type {:?} is not one of quadratic, quadratic_with_maker_fees, quadratic_with_combo_maker_fees, flat",
            self.0
        )
    }
}

impl std::error::Error for FeeTypeError {}

impl FeeType {
    /// Every fee type, in the venue's order.
    pub const ALL: [FeeType; 4] = [
        FeeType::Quadratic,
        FeeType::QuadraticWithMakerFees,
        FeeType::QuadraticWithComboMakerFees,
        FeeType::Flat,
    ];

    /// The venue's name for it.
    pub const fn name(self) -> &'static str {
        match self {
            FeeType::Quadratic => "quadratic",
            FeeType::QuadraticWithMakerFees => "quadratic_with_maker_fees",
            FeeType::QuadraticWithComboMakerFees => "quadratic_with_combo_maker_fees",
            FeeType::Flat => "flat",
        }
    }

    /// Parses the venue's name.
    pub fn parse(text: &str) -> Result<FeeType, FeeTypeError> {
        FeeType::ALL
            .into_iter()
            .find(|t| t.name() == text)
            .ok_or_else(|| FeeTypeError(text.to_owned()))
    }
}

/// The fees of one series, and the precision of the account that pays them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FeeModel {
    /// The series' fee type.
    pub fee_type: FeeType,
    /// The taker coefficient: 0.07 × the series' `fee_multiplier`.
    pub taker_rate: Price,
    /// The account's balance precision: $0.01, or $0.0001 for direct
    /// members.
    pub precision: Money,
}

impl Default for FeeModel {
    fn default() -> Self {
        FeeModel::kalshi(FeeType::Quadratic, Price::ONE)
    }
}

/// What one fill costs in fees; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FillFee {
    /// The fee model's fee, rounded up to $0.0001.
    pub trade: Money,
    /// What flooring the balance change to the account's precision took.
    pub rounding: Money,
    /// Whole cents refunded from the order's accumulated rounding.
    pub rebate: Money,
}

impl FillFee {
    /// Trade fee + rounding fee − rebate.
    pub fn net(&self) -> Money {
        Money::from_raw(
            self.trade
                .raw()
                .saturating_add(self.rounding.raw())
                .saturating_sub(self.rebate.raw()),
        )
    }
}

/// One order's accumulated rounding fees, carried across its fills.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FeeAccumulator(pub Money);

impl FeeModel {
    /// Kalshi's model for a series of `fee_type` and `fee_multiplier`
    /// (1 for most series), for an account that holds whole cents.
    pub fn kalshi(fee_type: FeeType, fee_multiplier: Price) -> FeeModel {
        let rate = saturate(i128::from(fee_multiplier.raw()) * 7 / 100);
        FeeModel {
            fee_type,
            taker_rate: Price::from_raw(rate),
            precision: Money::from_raw(CENT),
        }
    }

    /// The coefficient charged for `liquidity` (an unreported side pays the
    /// taker's).
    pub fn rate(&self, liquidity: Liquidity) -> Price {
        let taker = self.taker_rate.raw();
        Price::from_raw(match (liquidity, self.fee_type) {
            (Liquidity::Maker, FeeType::QuadraticWithMakerFees) => taker / 4,
            (Liquidity::Maker, FeeType::QuadraticWithComboMakerFees) => taker / 2,
            (Liquidity::Maker, FeeType::Quadratic | FeeType::Flat) => 0,
            (Liquidity::Taker | Liquidity::Unknown, _) => taker,
        })
    }

    /// The trade fee of `count` at `price` for `liquidity`, rounded up to
    /// $0.0001. Zero for a non-positive count, a non-positive rate or a
    /// price outside (0, 1) for the quadratic types.
    pub fn trade_fee(&self, liquidity: Liquidity, count: Qty, price: Price) -> Money {
        let (rate, c, p, u) = (
            i128::from(self.rate(liquidity).raw()),
            i128::from(count.raw()),
            i128::from(price.raw()),
            i128::from(UNIT),
        );
        if c <= 0 || rate <= 0 {
            return Money::ZERO;
        }
        // Numerator over `denominator` is the fee in units of $0.0001.
        let (numerator, denominator) = if self.fee_type == FeeType::Flat {
            (rate.checked_mul(c), u * u / 10_000)
        } else {
            if p <= 0 || p >= u {
                return Money::ZERO;
            }
            let per_contract = rate * p * (u - p);
            (per_contract.checked_mul(c), u * u * u * u / 10_000)
        };
        let Some(numerator) = numerator else {
            return Money::MAX;
        };
        let centicents = (numerator + denominator - 1) / denominator;
        Money::from_raw(saturate(centicents.saturating_mul(i128::from(CENTICENT))))
    }

    /// The fee of one fill: `revenue` is the cash the fill moves before fees
    /// (negative for a buyer, the payout less the cost when it nets a
    /// holding), and `acc` the order's accumulator.
    pub fn fill_fee(
        &self,
        liquidity: Liquidity,
        count: Qty,
        price: Price,
        revenue: Money,
        acc: &mut FeeAccumulator,
    ) -> FillFee {
        let trade = self.trade_fee(liquidity, count, price);
        let change = revenue.raw().saturating_sub(trade.raw());
        let step = self.precision.raw().max(1);
        let rounding = change.rem_euclid(step);
        let mut carried = acc.0.raw().saturating_add(rounding);
        let rebate = if carried > CENT {
            carried -= CENT;
            CENT
        } else {
            0
        };
        acc.0 = Money::from_raw(carried);
        FillFee {
            trade,
            rounding: Money::from_raw(rounding),
            rebate: Money::from_raw(rebate),
        }
    }

    /// The most the trade fee of `count` can be at any price in
    /// `[low, high]`: at the price nearest 0.50, where `P × (1 − P)` peaks.
    pub fn worst_trade_fee(
        &self,
        liquidity: Liquidity,
        count: Qty,
        low: Price,
        high: Price,
    ) -> Money {
        let half = Price::from_raw(UNIT / 2);
        let p = half.clamp(low.min(high), high.max(low));
        self.trade_fee(liquidity, count, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s).expect("dollars")
    }
    fn p(s: &str) -> Price {
        Price::parse(s).expect("price")
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).expect("qty")
    }

    #[test]
    fn the_trade_fee_rounds_up_to_a_hundredth_of_a_cent() {
        let m = FeeModel::default();
        // 0.07 × 100 × 0.25 = 1.75 exactly.
        assert_eq!(
            m.trade_fee(Liquidity::Taker, q("100"), p("0.5")),
            usd("1.75")
        );
        // 0.07 × 1 × 0.25 = 0.0175.
        assert_eq!(
            m.trade_fee(Liquidity::Taker, q("1"), p("0.5")),
            usd("0.0175")
        );
        // 0.07 × 3 × 0.33 × 0.67 = 0.046431 → 0.0465.
        assert_eq!(
            m.trade_fee(Liquidity::Taker, q("3"), p("0.33")),
            usd("0.0465")
        );
        // Quadratic charges makers nothing; maker fees are a quarter.
        assert_eq!(
            m.trade_fee(Liquidity::Maker, q("100"), p("0.5")),
            Money::ZERO
        );
        let maker = FeeModel::kalshi(FeeType::QuadraticWithMakerFees, Price::ONE);
        assert_eq!(
            maker.trade_fee(Liquidity::Maker, q("100"), p("0.5")),
            usd("0.4375")
        );
        let combo = FeeModel::kalshi(FeeType::QuadraticWithComboMakerFees, Price::ONE);
        assert_eq!(
            combo.trade_fee(Liquidity::Maker, q("100"), p("0.5")),
            usd("0.875")
        );
        let flat = FeeModel::kalshi(FeeType::Flat, Price::ONE);
        assert_eq!(
            flat.trade_fee(Liquidity::Taker, q("3"), p("0.9")),
            usd("0.21")
        );
        let doubled = FeeModel::kalshi(FeeType::Quadratic, p("2"));
        assert_eq!(
            doubled.trade_fee(Liquidity::Taker, q("100"), p("0.5")),
            usd("3.5")
        );
        // Degenerate inputs cost nothing; huge ones saturate.
        assert_eq!(
            m.trade_fee(Liquidity::Taker, Qty::ZERO, p("0.5")),
            Money::ZERO
        );
        assert_eq!(
            m.trade_fee(Liquidity::Taker, q("1"), Price::ONE),
            Money::ZERO
        );
        assert_eq!(
            m.trade_fee(Liquidity::Taker, Qty::MAX, p("0.5")),
            Money::MAX
        );
    }

    #[test]
    fn rounding_and_the_accumulator_converge_to_one_equivalent_fill() {
        // Buy 3 at $0.055 in three 1-lot fills, whole-cent account: each
        // fill's trade fee is 0.07 × 0.055 × 0.945 = 0.00363825 → 0.0037;
        // revenue −0.055 − 0.0037 = −0.0587 floors to −0.06: rounding 0.0013.
        let m = FeeModel::default();
        let mut acc = FeeAccumulator::default();
        let mut net = Money::ZERO;
        let mut balance = 0i64;
        for _ in 0..3 {
            let f = m.fill_fee(
                Liquidity::Taker,
                q("1"),
                p("0.055"),
                usd("-0.055"),
                &mut acc,
            );
            assert_eq!(f.trade, usd("0.0037"));
            assert_eq!(f.rounding, usd("0.0013"));
            assert_eq!(f.rebate, Money::ZERO);
            net = Money::from_raw(net.raw() + f.net().raw());
            balance += usd("-0.055").raw() - f.net().raw();
            assert_eq!(balance % CENT, 0, "the balance stays on whole cents");
        }
        assert_eq!(net, usd("0.015"));
        assert_eq!(acc.0, usd("0.0039"));
        // Many small fills: the accumulator refunds whole cents.
        let mut acc = FeeAccumulator::default();
        let mut rebates = 0;
        for _ in 0..20 {
            let f = m.fill_fee(
                Liquidity::Taker,
                q("1"),
                p("0.055"),
                usd("-0.055"),
                &mut acc,
            );
            rebates += f.rebate.raw();
            assert!(acc.0.raw() <= CENT);
        }
        assert_eq!(rebates, 2 * CENT);
        // A direct member's account holds hundredths of a cent: no rounding.
        let direct = FeeModel {
            precision: usd("0.0001"),
            ..FeeModel::default()
        };
        let f = direct.fill_fee(
            Liquidity::Taker,
            q("1"),
            p("0.055"),
            usd("-0.055"),
            &mut acc,
        );
        assert_eq!((f.rounding, f.rebate), (Money::ZERO, Money::ZERO));
    }

    #[test]
    fn fee_types_parse_by_the_venues_names() {
        for t in FeeType::ALL {
            assert_eq!(FeeType::parse(t.name()), Ok(t));
        }
        let err = FeeType::parse("linear").unwrap_err();
        assert!(err.to_string().contains("\"linear\""), "{err}");
    }

    #[test]
    fn the_worst_fee_is_at_the_price_nearest_one_half() {
        let m = FeeModel::default();
        let worst = m.worst_trade_fee(Liquidity::Taker, q("10"), p("0.2"), p("0.7"));
        assert_eq!(worst, m.trade_fee(Liquidity::Taker, q("10"), p("0.5")));
        let worst = m.worst_trade_fee(Liquidity::Taker, q("10"), p("0.6"), p("0.9"));
        assert_eq!(worst, m.trade_fee(Liquidity::Taker, q("10"), p("0.6")));
    }
}
