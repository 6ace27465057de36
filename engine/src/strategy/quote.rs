//! One working order as a strategy sees it: what it asked for, what the
//! venue confirmed, and whether a request is still on its way, so that a
//! strategy never stacks a second request on an order whose last one has
//! not been answered.

use super::Ctx;
use crate::model::{ClientOrderId, EventKind, ExecReport, InstrumentId, Price, Qty, Side};
use crate::model::{TimeInForce, order_flags};

/// Where a slot's order is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SlotState {
    /// No order.
    #[default]
    Empty,
    /// Sent, not acknowledged.
    PendingNew,
    /// Working at the venue.
    Live,
    /// A replace or cancel was sent and not answered.
    PendingChange,
    /// The gateway lost track of it (a timeout); left alone until a report
    /// says where it is.
    Unknown,
}

/// One order slot: a market maker has one per side and market, a taker one
/// per market.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuoteSlot {
    /// Where the order is.
    pub state: SlotState,
    /// The order's id.
    pub id: ClientOrderId,
    /// Its side.
    pub side: Side,
    /// The request awaiting an answer (a cancel or replace), if any.
    pub request: ClientOrderId,
    /// Its price (as last confirmed or asked).
    pub price: Price,
    /// Its total quantity, filled included.
    pub qty: Qty,
    /// Filled so far.
    pub filled: Qty,
}

impl QuoteSlot {
    /// Whether a new request may be sent now.
    pub fn is_settled(&self) -> bool {
        matches!(self.state, SlotState::Empty | SlotState::Live)
    }

    /// The quantity still working.
    pub fn leaves(&self) -> Qty {
        Qty::from_raw((self.qty.raw() - self.filled.raw()).max(0))
    }

    /// Places a post-only or immediate order in an empty slot.
    pub fn place(
        &mut self,
        ctx: &mut Ctx<'_>,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        time_in_force: TimeInForce,
    ) {
        let flags = if time_in_force == TimeInForce::GoodTillCancelled {
            order_flags::POST_ONLY
        } else {
            0
        };
        let id = ctx.place(instrument, side, price, qty, time_in_force, flags);
        *self = QuoteSlot {
            state: SlotState::PendingNew,
            id,
            side,
            request: ClientOrderId::default(),
            price,
            qty,
            filled: Qty::ZERO,
        };
    }

    /// Moves a live order to `price`, `leaves` still working.
    pub fn replace(
        &mut self,
        ctx: &mut Ctx<'_>,
        instrument: InstrumentId,
        price: Price,
        leaves: Qty,
    ) {
        let total = Qty::from_raw(self.filled.raw() + leaves.raw());
        self.request = ctx.replace(instrument, self.id, self.side, price, total);
        self.state = SlotState::PendingChange;
    }

    /// Cancels a live order.
    pub fn cancel(&mut self, ctx: &mut Ctx<'_>, instrument: InstrumentId) {
        self.request = ctx.cancel(instrument, self.id, self.side);
        self.state = SlotState::PendingChange;
    }

    /// Applies a report if it concerns this slot; returns the quantity a
    /// fill added (zero for other reports), or `None` when it is not ours.
    pub fn on_report(&mut self, r: &ExecReport) -> Option<Qty> {
        let ours = self.state != SlotState::Empty
            && (r.client_order_id == self.id || r.client_order_id == self.request);
        if !ours {
            return None;
        }
        let by_request = r.client_order_id == self.request && r.client_order_id != self.id;
        let mut filled = Qty::ZERO;
        match r.header.kind {
            EventKind::Ack if self.state == SlotState::PendingNew => self.state = SlotState::Live,
            // A refused cancel or replace leaves the order as it was.
            EventKind::Reject if by_request => self.state = SlotState::Live,
            EventKind::CancelRejected | EventKind::ReplaceRejected => {
                self.state = SlotState::Live;
            }
            EventKind::Fill => {
                filled = r.qty;
                self.filled = Qty::from_raw(self.filled.raw() + r.qty.raw());
                if self.state == SlotState::PendingNew || self.state == SlotState::Unknown {
                    self.state = SlotState::Live;
                }
                if self.filled.raw() >= self.qty.raw() {
                    *self = QuoteSlot::default();
                }
            }
            EventKind::Replaced => {
                self.price = r.price;
                self.qty = r.qty;
                self.state = SlotState::Live;
                if self.filled.raw() >= self.qty.raw() {
                    *self = QuoteSlot::default();
                }
            }
            EventKind::Reject | EventKind::Cancelled | EventKind::Expired => {
                *self = QuoteSlot::default();
            }
            EventKind::OrderUnknown => self.state = SlotState::Unknown,
            // Reconciliation's word on an order: working as the venue has
            // it (a cancel or replace asked for before is settled by it).
            EventKind::OrderStatus if r.client_order_id == self.id => {
                if r.price.raw() > 0 {
                    self.price = r.price;
                }
                if r.qty.raw() > 0 {
                    self.qty = r.qty;
                }
                self.filled = r.cum_qty;
                self.state = SlotState::Live;
                if self.filled.raw() >= self.qty.raw() {
                    *self = QuoteSlot::default();
                }
            }
            _ => {}
        }
        Some(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExecReport, Header, Nanos, StrategyId};

    fn report(kind: EventKind, id: ClientOrderId, qty: i64, cum: i64) -> ExecReport {
        ExecReport {
            header: Header::new(kind, InstrumentId(0), 0, Nanos(0)),
            client_order_id: id,
            price: Price::from_raw(40_000_000),
            qty: Qty::from_units(qty).unwrap(),
            cum_qty: Qty::from_units(cum).unwrap(),
            ..ExecReport::default()
        }
    }

    #[test]
    fn an_unknown_quote_is_settled_by_reconciliation() {
        let id = ClientOrderId::new(StrategyId(1), 7).unwrap();
        let mut slot = QuoteSlot {
            state: SlotState::PendingNew,
            id,
            side: Side::Buy,
            request: ClientOrderId::default(),
            price: Price::from_raw(40_000_000),
            qty: Qty::from_units(5).unwrap(),
            filled: Qty::ZERO,
        };
        slot.on_report(&report(EventKind::OrderUnknown, id, 5, 0));
        assert_eq!(slot.state, SlotState::Unknown);
        assert!(!slot.is_settled(), "no request goes on an order in doubt");
        // Working at the venue, 2 filled: live again, the fill counted.
        slot.on_report(&report(EventKind::OrderStatus, id, 5, 2));
        assert_eq!(
            (slot.state, slot.filled),
            (SlotState::Live, Qty::from_units(2).unwrap())
        );
        // All filled, by the venue's word: the slot is free.
        slot.on_report(&report(EventKind::OrderStatus, id, 5, 5));
        assert_eq!(slot.state, SlotState::Empty);
    }
}
