//! Trading modes and the order state machine the execution kinds follow.
//!
//! An order's state moves on what the engine sends (an intent) and on what
//! the venue reports (an [`ExecReport`](super::ExecReport) of some
//! [`EventKind`]). The table, with "live" meaning acked or partially filled:
//!
//! | from | on | to |
//! |---|---|---|
//! | (none) | `OrderNew` sent | pending-new |
//! | pending-new | `Ack` | acked |
//! | pending-new, live, pending-cancel | `Fill` | partially filled, or filled when the cumulative quantity reaches the order's (a fill may come before its ack) |
//! | pending-new | `Reject` | rejected |
//! | live | `OrderCancel` sent | pending-cancel |
//! | pending-cancel | `Cancelled` | cancelled |
//! | pending-cancel | `CancelRejected` | acked or partially filled, as the fills say |
//! | live | `Replaced`, `ReplaceRejected` | acked or partially filled, as the fills say (the order's price or quantity changed, or not) |
//! | pending-new, live, pending-cancel | `Expired` | expired |
//! | any but a final state | `OrderUnknown` (no answer in time) | unknown |
//! | any | `OrderStatus` (the venue's view, from reconciliation) | what the venue reports |
//! | unknown | `Reject` (reconciliation: it never reached the venue) | rejected |
//! | unknown | `Cancelled` (the venue's cancel, seen by reconciliation) | cancelled |
//! | unknown | `Fill` | filled once the cumulative quantity reaches the order's, else unknown |
//!
//! A fill reported for an unknown order is booked (the position and the
//! fees are facts); unless it completes the order, its state waits for the
//! status.
//!
//! Filled, cancelled, rejected and expired are final; a report that the
//! table does not list for a state (say a second `Ack`) changes nothing and
//! [`OrderState::on_report`] says so, so the OMS can count it.

use super::events::EventKind;
use bytemuck::{CheckedBitPattern, NoUninit};

/// Where orders go: nowhere (paper), alongside the real venue without
/// sending (shadow), or to the venue (live). Paper is zero, so a record
/// that leaves it unset is never live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub enum Mode {
    /// Orders fill against the engine's own books.
    #[default]
    Paper = 0,
    /// Orders are decided and recorded as if live but not sent.
    Shadow = 1,
    /// Orders go to the venue.
    Live = 2,
}

impl Mode {
    /// `paper`, `shadow` or `live`, as configs and the console write it.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Paper => "paper",
            Mode::Shadow => "shadow",
            Mode::Live => "live",
        }
    }
}

/// The states of an order; see the module documentation for the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Sent, not yet acknowledged.
    PendingNew,
    /// Working at the venue, nothing filled.
    Acked,
    /// Working, partly filled.
    PartiallyFilled,
    /// Completely filled (final).
    Filled,
    /// A cancel was sent; the order may still fill.
    PendingCancel,
    /// Cancelled (final).
    Cancelled,
    /// Refused by the risk gate or the venue (final).
    Rejected,
    /// Expired at the venue (final).
    Expired,
    /// A request got no answer in time; reconciliation decides.
    Unknown,
}

impl OrderState {
    /// Whether nothing can change the order any more.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected | OrderState::Expired
        )
    }

    /// Whether the order is working at the venue (or may be).
    pub const fn is_open(self) -> bool {
        !self.is_final()
    }

    /// The state after a cancel is sent, or `None` when a cancel makes no
    /// sense from here (nothing is working, or a cancel is already out).
    pub const fn on_cancel_sent(self) -> Option<OrderState> {
        match self {
            OrderState::Acked | OrderState::PartiallyFilled => Some(OrderState::PendingCancel),
            _ => None,
        }
    }

    /// The state after a report of `kind`. `any_fill` says whether the
    /// order has filled at all and `all_filled` whether its cumulative
    /// quantity has reached its quantity, after the report; `status` is the
    /// venue's state for an [`EventKind::OrderStatus`]. `None` when the
    /// table lists no such move from this state: the report changes nothing.
    pub fn on_report(
        self,
        kind: EventKind,
        any_fill: bool,
        all_filled: bool,
        status: Option<OrderState>,
    ) -> Option<OrderState> {
        use OrderState::*;
        let working = if any_fill { PartiallyFilled } else { Acked };
        match (self, kind) {
            (_, EventKind::OrderStatus) => status,
            (s, _) if s.is_final() => None,
            (_, EventKind::OrderUnknown) => Some(Unknown),
            (PendingNew, EventKind::Ack) => Some(working),
            (PendingNew, EventKind::Reject) => Some(Rejected),
            // Reconciliation settles an unknown order: it never reached
            // the venue, or the venue's fills and cancel say what became
            // of it.
            (Unknown, EventKind::Reject) => Some(Rejected),
            (Unknown, EventKind::Fill) => Some(if all_filled { Filled } else { Unknown }),
            (Unknown, EventKind::Cancelled) => Some(Cancelled),
            (PendingNew | Acked | PartiallyFilled | PendingCancel, EventKind::Fill) => {
                Some(if all_filled {
                    Filled
                } else if self == PendingCancel {
                    PendingCancel
                } else {
                    PartiallyFilled
                })
            }
            // Asked for, or the venue's own doing: the rest of an
            // immediate order, a market closing, a self-trade prevention.
            (PendingNew | Acked | PartiallyFilled | PendingCancel, EventKind::Cancelled) => {
                Some(Cancelled)
            }
            (PendingCancel, EventKind::CancelRejected) => Some(working),
            (Acked | PartiallyFilled, EventKind::Replaced | EventKind::ReplaceRejected) => {
                Some(working)
            }
            (PendingNew | Acked | PartiallyFilled | PendingCancel, EventKind::Expired) => {
                Some(Expired)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderState::*;
    use super::*;

    #[test]
    fn a_fill_before_its_ack_and_a_fill_racing_a_cancel_follow_the_table() {
        // Fill first, then the late ack: the ack keeps the fill.
        let s = PendingNew.on_report(EventKind::Fill, true, false, None);
        assert_eq!(s, Some(PartiallyFilled));
        assert_eq!(
            PartiallyFilled.on_report(EventKind::Ack, true, false, None),
            None
        );
        // A cancel goes out, a fill completes the order first.
        let s = PartiallyFilled.on_cancel_sent().expect("cancellable");
        assert_eq!(s, PendingCancel);
        let s = s.on_report(EventKind::Fill, true, true, None);
        assert_eq!(s, Some(Filled));
        // Then the venue's cancel-rejected changes nothing: filled is final.
        assert_eq!(
            Filled.on_report(EventKind::CancelRejected, true, true, None),
            None
        );
    }

    #[test]
    fn a_venue_cancels_the_rest_of_an_immediate_order_unasked() {
        let s = PendingNew.on_report(EventKind::Ack, false, false, None);
        let s = s.unwrap().on_report(EventKind::Fill, true, false, None);
        assert_eq!(s, Some(PartiallyFilled));
        let s = s
            .unwrap()
            .on_report(EventKind::Cancelled, true, false, None);
        assert_eq!(s, Some(Cancelled));
        assert_eq!(
            Acked.on_report(EventKind::Cancelled, false, false, None),
            Some(Cancelled)
        );
    }

    #[test]
    fn final_states_stay_final_except_for_the_venues_word() {
        for s in [Filled, Cancelled, Rejected, Expired] {
            assert!(s.is_final() && !s.is_open());
            for kind in [
                EventKind::Ack,
                EventKind::Fill,
                EventKind::Cancelled,
                EventKind::OrderUnknown,
                EventKind::Expired,
            ] {
                assert_eq!(s.on_report(kind, true, true, None), None, "{s:?} {kind:?}");
            }
            assert_eq!(s.on_cancel_sent(), None);
        }
        // Reconciliation may correct even a final state.
        assert_eq!(
            Cancelled.on_report(EventKind::OrderStatus, true, true, Some(Filled)),
            Some(Filled)
        );
    }

    #[test]
    fn a_timeout_makes_an_open_order_unknown_until_a_status_settles_it() {
        for s in [PendingNew, Acked, PartiallyFilled, PendingCancel] {
            assert_eq!(
                s.on_report(EventKind::OrderUnknown, false, false, None),
                Some(Unknown)
            );
        }
        assert_eq!(
            Unknown.on_report(EventKind::OrderStatus, false, false, Some(Acked)),
            Some(Acked)
        );
        assert_eq!(Unknown.on_report(EventKind::Ack, false, false, None), None);
        assert_eq!(
            Unknown.on_report(EventKind::Reject, false, false, None),
            Some(Rejected)
        );
        assert_eq!(
            Unknown.on_report(EventKind::Cancelled, true, false, None),
            Some(Cancelled)
        );
        assert_eq!(
            Unknown.on_report(EventKind::Fill, true, false, None),
            Some(Unknown)
        );
        assert_eq!(
            Unknown.on_report(EventKind::Fill, true, true, None),
            Some(Filled)
        );
    }

    #[test]
    fn a_refused_cancel_or_amend_leaves_the_order_working() {
        assert_eq!(
            PendingCancel.on_report(EventKind::CancelRejected, true, false, None),
            Some(PartiallyFilled)
        );
        assert_eq!(
            Acked.on_report(EventKind::Replaced, false, false, None),
            Some(Acked)
        );
        assert_eq!(
            PartiallyFilled.on_report(EventKind::ReplaceRejected, true, false, None),
            Some(PartiallyFilled)
        );
        assert_eq!(Acked.on_cancel_sent(), Some(PendingCancel));
        assert_eq!(PendingNew.on_cancel_sent(), None);
    }
}
