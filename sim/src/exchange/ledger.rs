//! Accounts: cash and positions per user, and how a fill moves them.

use super::*;

/// Cash, fills and fees.
#[derive(Debug, Default, Clone)]
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

/// The engine's view of a position's holding (quantity, basis, realized).
pub(crate) fn holding_of(pos: &Position) -> pt_engine::contract::BinaryPosition {
    use pt_engine::model::Money as M;
    pt_engine::contract::BinaryPosition {
        qty: pos.position,
        cost_basis: M::from_raw(pos.market_exposure),
        realized: M::from_raw(pos.realized_pnl),
        traded: M::from_raw(pos.total_traded),
    }
}

/// Writes a holding back into a position.
pub(crate) fn set_holding(pos: &mut Position, holding: &pt_engine::contract::BinaryPosition) {
    pos.position = holding.qty;
    pos.market_exposure = holding.cost_basis.raw();
    pos.realized_pnl = holding.realized.raw();
    pos.total_traded = holding.traded.raw();
}

/// Applies a fill of `n` on `side` at `price` to a position with the
/// engine's netting arithmetic; returns its cash before fees.
pub(crate) fn book_fill(
    pos: &mut Position,
    side: BookSide,
    n: Qty,
    price: Price,
    now_ms: i64,
) -> pt_engine::contract::FillCash {
    let mut holding = holding_of(pos);
    let cash = holding.fill(side.yes_side(), n, price);
    set_holding(pos, &holding);
    pos.last_updated_ms = now_ms;
    cash
}
