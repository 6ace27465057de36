//! Accounts: cash and positions per user, and how a fill moves them.

use super::*;

/// Cash, fills and fees.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub(crate) accounts: BTreeMap<UserId, Money>,
    /// Each ordinary user's fills, oldest first (ephemeral users' are not
    /// kept).
    pub(crate) fills: FxMap<UserId, Vec<Fill>>,
    pub(crate) fees_collected: Money,
}

impl Ledger {
    pub(crate) fn credit(&mut self, user: UserId, amount: Money) {
        let cash = self.accounts.entry(user).or_insert(0);
        *cash = cash.saturating_add(amount);
    }
}

/// Applies a fill of `n` on `side` at `price` to a position; returns the
/// payout of the YES/NO pairs it netted ($1 each).
pub(crate) fn book_fill(
    pos: &mut Position,
    side: BookSide,
    n: Qty,
    price: Price,
    now_ms: i64,
) -> Money {
    let old = pos.position.raw();
    let signed = side.signed(n.raw());
    let reducing = old != 0 && (old > 0) != (signed > 0);
    let netted = if reducing {
        n.raw().min(old.saturating_abs())
    } else {
        0
    };
    let netted_cost = leg_cost(side, Qty::from_raw(netted), price);
    let opening_cost = leg_cost(side, Qty::from_raw(n.raw() - netted), price);
    if netted > 0 {
        // Average cost: the netted share of the old position's basis.
        let old_abs = old.saturating_abs();
        let basis = if netted == old_abs {
            pos.market_exposure
        } else {
            saturate(i128::from(pos.market_exposure) * i128::from(netted) / i128::from(old_abs))
        };
        pos.market_exposure = pos.market_exposure.saturating_sub(basis);
        pos.realized_pnl = pos
            .realized_pnl
            .saturating_add(netted)
            .saturating_sub(basis)
            .saturating_sub(netted_cost);
    }
    pos.market_exposure = pos.market_exposure.saturating_add(opening_cost);
    pos.position = Qty::from_raw(old.saturating_add(signed));
    pos.total_traded = pos
        .total_traded
        .saturating_add(netted_cost.saturating_add(opening_cost));
    pos.last_updated_ms = now_ms;
    netted
}
