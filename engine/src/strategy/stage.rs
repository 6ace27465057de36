//! The strategy stage: the configured strategies as one graph node.

use super::{Ctx, ParamChange, Signal, Strategy};
use crate::graph::{Node, Out};
use crate::model::{CommandAction, Event, EventKind, Header, Nanos, Scope, StrategyId};

/// Node name the engine's graph uses.
pub const NAME: &str = "strategy";

/// What the stage counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrategyCounters {
    /// Book updates handled.
    pub books: u64,
    /// Execution reports routed to their strategy.
    pub reports: u64,
    /// Reports for a strategy this stage does not run (the gateway's own).
    pub foreign_reports: u64,
    /// Signals delivered.
    pub signals: u64,
    /// Signals ignored because their time to live had passed.
    pub expired_signals: u64,
    /// Signals ignored because a field was out of range.
    pub bad_signals: u64,
    /// Intents emitted.
    pub intents: u64,
    /// Parameter changes applied.
    pub params_set: u64,
    /// Parameter changes refused (unknown name, value out of range, no
    /// such strategy).
    pub params_refused: u64,
    /// Start and stop commands for a strategy this stage does not run.
    pub bad_runs: u64,
}

struct Slot {
    id: StrategyId,
    strategy: Box<dyn Strategy>,
    next: u64,
    halted: bool,
    stopped: bool,
}

/// Runs strategies numbered from 1 in the order given: books, signals and
/// ticks go to all of them, a report to the strategy that owns its order.
pub struct StrategyStage {
    slots: Vec<Slot>,
    counters: StrategyCounters,
}

impl core::fmt::Debug for StrategyStage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StrategyStage")
            .field("strategies", &self.slots.len())
            .field("counters", &self.counters)
            .finish()
    }
}

impl StrategyStage {
    /// The strategies, each with the first order counter it may use (past
    /// every id its earlier runs used, so that no id is ever reused).
    pub fn new(strategies: Vec<(Box<dyn Strategy>, u64)>) -> StrategyStage {
        let slots = strategies
            .into_iter()
            .enumerate()
            .map(|(i, (strategy, next))| Slot {
                id: StrategyId(u16::try_from(i + 1).unwrap_or(u16::MAX)),
                strategy,
                next,
                halted: false,
                stopped: false,
            })
            .collect();
        StrategyStage {
            slots,
            counters: StrategyCounters::default(),
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> StrategyCounters {
        self.counters
    }

    /// Each strategy's id and kind.
    pub fn strategies(&self) -> impl Iterator<Item = (StrategyId, &'static str)> + '_ {
        self.slots.iter().map(|s| (s.id, s.strategy.kind()))
    }

    /// Stops strategy `id` before the first input (a restart recovering a
    /// stop from the orders journal); nothing when there is no such one.
    pub fn stop(&mut self, id: StrategyId) {
        if let Some(s) = self.slots.iter_mut().find(|s| s.id == id) {
            s.stopped = true;
        }
    }

    /// Calls every running strategy.
    fn each(
        &mut self,
        now: Nanos,
        cause: Header,
        out: &mut Out<Event>,
        mut call: impl FnMut(&mut dyn Strategy, &mut Ctx<'_>),
    ) {
        for slot in self.slots.iter_mut().filter(|s| !s.stopped) {
            let mut ctx = Ctx::new(now, slot.id, &mut slot.next, cause, out);
            call(slot.strategy.as_mut(), &mut ctx);
        }
    }

    /// A stopped strategy pulls its quotes as on a halt (the gateway
    /// cancels its orders too) and is then given nothing; started, it is
    /// told its halt is over unless a kill switch halted it.
    fn set_running(
        &mut self,
        id: StrategyId,
        run: bool,
        now: Nanos,
        cause: Header,
        out: &mut Out<Event>,
    ) {
        let Some(slot) = self.slots.iter_mut().find(|s| s.id == id) else {
            self.counters.bad_runs += 1;
            return;
        };
        if slot.stopped != run {
            return;
        }
        slot.stopped = !run;
        if !slot.halted {
            let mut ctx = Ctx::new(now, slot.id, &mut slot.next, cause, out);
            slot.strategy.on_halt(!run, &mut ctx);
        }
    }
}

impl Node<Event> for StrategyStage {
    fn name(&self) -> &str {
        NAME
    }

    fn on_event(&mut self, event: &Event, now: Nanos, out: &mut Out<Event>) {
        let before = out.len();
        match event {
            Event::Book(u) => {
                self.counters.books += 1;
                self.each(now, u.header, out, |s, ctx| s.on_book(u, ctx));
            }
            Event::Exec(r) => {
                let owner = r.strategy();
                match self.slots.iter_mut().find(|s| s.id == owner) {
                    Some(slot) => {
                        self.counters.reports += 1;
                        let mut ctx = Ctx::new(now, slot.id, &mut slot.next, r.header, out);
                        slot.strategy.on_exec(r, &mut ctx);
                    }
                    None => self.counters.foreign_reports += 1,
                }
            }
            Event::Command(c) => match c.action {
                CommandAction::Signal => match Signal::from_command(c) {
                    Some(Ok(signal)) if signal.is_fresh(now) => {
                        self.counters.signals += 1;
                        self.each(now, c.header, out, |s, ctx| s.on_signal(&signal, ctx));
                    }
                    Some(Ok(_)) => self.counters.expired_signals += 1,
                    _ => self.counters.bad_signals += 1,
                },
                CommandAction::SetParam => {
                    let applied = ParamChange::from_command(c).is_some_and(|p| {
                        self.slots
                            .iter_mut()
                            .find(|s| s.id == p.strategy)
                            .is_some_and(|s| s.strategy.set_param(p.name(), p.value).is_ok())
                    });
                    if applied {
                        self.counters.params_set += 1;
                    } else {
                        self.counters.params_refused += 1;
                    }
                }
                CommandAction::Heartbeat => {
                    self.each(now, c.header, out, |s, ctx| s.on_timer(ctx));
                }
                CommandAction::SetRunning => {
                    self.set_running(c.strategy, c.arg != 0, now, c.header, out);
                }
                CommandAction::TripKillSwitch
                | CommandAction::ResetKillSwitch
                | CommandAction::Shutdown => {
                    let halt = c.action != CommandAction::ResetKillSwitch;
                    // A stopped strategy's halt is kept, for when it starts.
                    for slot in &mut self.slots {
                        let concerns = match c.scope {
                            Scope::Global | Scope::Venue => true,
                            Scope::Strategy => slot.id == c.strategy,
                            Scope::Instrument => false,
                        };
                        if concerns && slot.halted != halt {
                            slot.halted = halt;
                            if !slot.stopped {
                                let mut ctx = Ctx::new(now, slot.id, &mut slot.next, c.header, out);
                                slot.strategy.on_halt(halt, &mut ctx);
                            }
                        }
                    }
                }
                _ => {}
            },
            Event::Market(m) if m.header.kind == EventKind::Status => {
                self.each(now, m.header, out, |s, ctx| s.on_status(m, ctx));
            }
            Event::Market(_) | Event::Intent(_) => {}
        }
        self.counters.intents += (out.len() - before) as u64;
    }

    fn expected_outputs(&self) -> usize {
        // A halt pulls both quotes of every market.
        64
    }
}
