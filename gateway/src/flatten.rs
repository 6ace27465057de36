//! Flatten: cancel everything in a scope, then close its positions, and
//! say where that stands rather than claim it is done.
//!
//! `requested` → `cancels sent` (every open order in the scope, through the
//! gate) → once none is open, `closing sent` (an immediate-or-cancel,
//! reduce-only order per position, at the opposite best) → `flat` when the
//! venue's fills have emptied every position. Until then
//! [`FlattenState::pending_venue_confirmation`] is true. It ends `degraded`
//! with a reason when it cannot go on: a market closed, no opposite price
//! to close at, the venue unreachable, a closing order refused, or
//! positions left after [`MAX_ATTEMPTS`] rounds of closing orders.
//!
//! The flatten survives a restart: its command is journaled before it
//! acts, and so is its end (a `Flatten` command of the gateway's with
//! `arg` [`FLATTEN_ENDED`] and the outcome in `args`). Rebuilt from the
//! journal, a flatten that had not ended resumes where the journal leaves
//! it (its cancels and closing orders are known from their own records),
//! with at most [`MAX_ATTEMPTS`] further rounds; one that had ended stays
//! ended.
//!
//! The scope is set to reducing when the flatten starts, so strategies can
//! only help. Closing orders carry the gateway's own ids ([`GATEWAY`]), so
//! their fills are booked to the account and to strategy 0.

use crate::core::{GATEWAY, Gateway};
use crate::venue::{Venue, WriteAhead};
use pt_engine::graph::Out;
use pt_engine::model::{
    Command, CommandAction, Event, EventKind, Header, InstrumentId, MarketStatus, Nanos,
    OrderIntent, RejectCode, Scope, Side, StrategyId, TimeInForce, VenueId, order_flags,
};

/// Rounds of closing orders before a flatten gives up.
pub const MAX_ATTEMPTS: u32 = 5;

/// The `arg` of the `Flatten` command the gateway journals when a flatten
/// ends (an operator's flatten has `arg` 0).
pub const FLATTEN_ENDED: i64 = -1;

impl FlattenState {
    /// The outcome of an ended flatten as two numbers (for its journal record).
    pub(crate) fn encode(self) -> [i64; 2] {
        match self {
            FlattenState::Degraded(FlattenProblem::MarketClosed(i)) => [1, i64::from(i.0)],
            FlattenState::Degraded(FlattenProblem::NoPrice(i)) => [2, i64::from(i.0)],
            FlattenState::Degraded(FlattenProblem::VenueUnreachable) => [3, 0],
            FlattenState::Degraded(FlattenProblem::Refused(c)) => [4, i64::from(c.0)],
            FlattenState::Degraded(FlattenProblem::NotFilled) => [5, 0],
            _ => [0, 0],
        }
    }

    /// The outcome [`FlattenState::encode`] wrote.
    pub(crate) fn decode(v: [i64; 2]) -> FlattenState {
        let id = InstrumentId(u32::try_from(v[1]).unwrap_or(0));
        FlattenState::Degraded(match v[0] {
            1 => FlattenProblem::MarketClosed(id),
            2 => FlattenProblem::NoPrice(id),
            3 => FlattenProblem::VenueUnreachable,
            4 => FlattenProblem::Refused(RejectCode(u16::try_from(v[1]).unwrap_or(0))),
            5 => FlattenProblem::NotFilled,
            _ => return FlattenState::Flat,
        })
    }
}

/// Why a flatten stopped short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlattenProblem {
    /// A market with a position is closed or settled.
    MarketClosed(InstrumentId),
    /// No opposite price to close a position at.
    NoPrice(InstrumentId),
    /// The venue cannot be reached.
    VenueUnreachable,
    /// The gate or the venue refused a closing order.
    Refused(RejectCode),
    /// Positions remain after every round of closing orders.
    NotFilled,
}

/// Where a flatten stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlattenState {
    /// No flatten asked for.
    #[default]
    Idle,
    /// Asked for; nothing sent yet.
    Requested,
    /// Cancels are out; waiting for the venue to confirm them.
    CancelsSent,
    /// Closing orders are out; waiting for their fills.
    ClosingSent,
    /// Every position in the scope is closed, as the venue confirmed.
    Flat,
    /// Stopped; see the problem.
    Degraded(FlattenProblem),
}

impl FlattenState {
    /// Whether the venue has still to confirm something.
    pub fn pending_venue_confirmation(self) -> bool {
        matches!(
            self,
            FlattenState::Requested | FlattenState::CancelsSent | FlattenState::ClosingSent
        )
    }
}

/// A flatten in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten {
    /// Its scope.
    pub scope: Scope,
    /// The strategy, for a strategy scope.
    pub strategy: StrategyId,
    /// The venue or instrument, for those scopes.
    pub target: u32,
    /// Where it stands.
    pub state: FlattenState,
    /// Rounds of closing orders sent.
    pub attempts: u32,
    /// Rebuilt from a journal: its cancels are sent again for whatever
    /// the journal shows still open and cancellable.
    pub resumed: bool,
}

impl<P: Venue, L: Venue, J: WriteAhead> Gateway<P, L, J> {
    /// The flatten asked for last, and where it stands.
    pub fn flatten_status(&self) -> Flatten {
        self.flatten
    }

    /// The scope's rule, with the gateway's own closing orders inside
    /// every strategy scope.
    fn in_scope(&self, f: &Flatten, instrument: InstrumentId, strategy: StrategyId) -> bool {
        (f.scope == Scope::Strategy && strategy == GATEWAY)
            || self
                .markets
                .in_scope(f.scope, f.strategy, f.target, instrument, strategy)
    }

    /// Starts a flatten (the command is already journaled and applied).
    pub(crate) fn start_flatten(
        &mut self,
        scope: Scope,
        strategy: StrategyId,
        target: u32,
        now: Nanos,
        out: &mut Out<Event>,
    ) {
        self.flatten = Flatten {
            scope,
            strategy,
            target,
            state: FlattenState::Requested,
            attempts: 0,
            resumed: false,
        };
        self.cancel_scope(scope, strategy, target, now, out);
        self.flatten.state = FlattenState::CancelsSent;
        self.advance_flatten(now, out);
    }

    /// Moves a flatten on after whatever just happened (not re-entered by
    /// the reports its own orders bring).
    pub(crate) fn advance_flatten(&mut self, now: Nanos, out: &mut Out<Event>) {
        if self.flattening {
            return;
        }
        self.flattening = true;
        self.step_flatten(now, out);
        // Closing orders may have been answered at once: look again.
        if self.flatten.state == FlattenState::ClosingSent {
            self.step_flatten(now, out);
        }
        self.flattening = false;
    }

    fn step_flatten(&mut self, now: Nanos, out: &mut Out<Event>) {
        let f = self.flatten;
        if !matches!(
            f.state,
            FlattenState::CancelsSent | FlattenState::ClosingSent
        ) {
            return;
        }
        let open = self
            .oms
            .iter()
            .any(|o| self.in_scope(&f, o.instrument, o.id.strategy()));
        if open {
            if f.resumed {
                self.flatten.resumed = false;
                self.cancel_scope(f.scope, f.strategy, f.target, now, out);
            }
            return;
        }
        // Nothing open: which positions remain?
        let mode = self.mode(VenueId(if f.scope == Scope::Venue {
            f.target as u16
        } else {
            0
        }));
        let mut remaining = false;
        let slots = self.markets.slots();
        for i in 0..slots {
            let id = InstrumentId(i as u32);
            if !self.in_scope(&f, id, f.strategy) {
                continue;
            }
            let held = if f.scope == Scope::Strategy {
                self.ledgers[mode as usize]
                    .strategy_position(f.strategy, id)
                    .qty
                    .raw()
                    + self.ledgers[mode as usize]
                        .strategy_position(GATEWAY, id)
                        .qty
                        .raw()
            } else {
                self.ledgers[mode as usize].position(id).qty.raw()
            };
            if held != 0 {
                remaining = true;
                if f.attempts >= MAX_ATTEMPTS {
                    self.end_flatten(FlattenState::Degraded(FlattenProblem::NotFilled), now);
                    return;
                }
                if let Err(problem) = self.close_position(id, held, now, out) {
                    self.end_flatten(FlattenState::Degraded(problem), now);
                    return;
                }
            }
        }
        if remaining {
            self.flatten.attempts += 1;
            self.flatten.state = FlattenState::ClosingSent;
        } else {
            self.end_flatten(FlattenState::Flat, now);
        }
    }

    /// Ends the flatten in `state`, journaling the end so that a rebuild
    /// does not resume it.
    fn end_flatten(&mut self, state: FlattenState, now: Nanos) {
        let f = self.flatten;
        let [kind, detail] = state.encode();
        let c = Command {
            header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
            action: CommandAction::Flatten,
            scope: f.scope,
            strategy: f.strategy,
            target: f.target,
            arg: FLATTEN_ENDED,
            issued_by: 0,
            args: [kind, detail, 0, 0, 0],
        };
        // Applied even if the journal refused it (counted): the flatten has
        // ended either way; a rebuild would then resume it, which only
        // closes what is still open.
        let e = Event::Command(c);
        self.write(&e, now);
        self.apply(&e, now);
    }

    fn close_position(
        &mut self,
        id: InstrumentId,
        held: i64,
        now: Nanos,
        out: &mut Out<Event>,
    ) -> Result<(), FlattenProblem> {
        let m = self.markets.get(id).ok_or(FlattenProblem::NoPrice(id))?;
        if m.status != MarketStatus::Open || m.settled.is_some() {
            return Err(FlattenProblem::MarketClosed(id));
        }
        let (side, best) = if held > 0 {
            (Side::Sell, m.bid)
        } else {
            (Side::Buy, m.ask)
        };
        let (price, _) = best.ok_or(FlattenProblem::NoPrice(id))?;
        let mut header = Header::new(EventKind::OrderNew, id, 0, now);
        header.venue = m.venue;
        let intent = OrderIntent {
            header,
            client_order_id: self.oms.next_id(GATEWAY),
            price,
            qty: pt_engine::model::Qty::from_raw(held.saturating_abs()),
            strategy: GATEWAY,
            side,
            time_in_force: TimeInForce::ImmediateOrCancel,
            order_flags: order_flags::REDUCE_ONLY,
            ..OrderIntent::default()
        };
        let before = out.len();
        self.on_intent(&intent, now, out);
        let refused = out.as_slice()[before..].iter().find_map(|e| match e {
            Event::Exec(r)
                if r.header.kind == EventKind::Reject
                    && r.client_order_id == intent.client_order_id =>
            {
                Some(r.reject_code)
            }
            _ => None,
        });
        match refused {
            Some(RejectCode::NO_VENUE) => Err(FlattenProblem::VenueUnreachable),
            Some(code) => Err(FlattenProblem::Refused(code)),
            None => Ok(()),
        }
    }
}
