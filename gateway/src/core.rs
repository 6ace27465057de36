//! The gateway: risk gate, kill switches, OMS and ledgers around a paper
//! venue and a live one. Pure: an event and a time in, events out; the
//! venues and the journal are what it is given.
//!
//! Every decision is a record: an approved intent (with its requested and
//! effective modes), a reject, a venue's report, a command, a settlement.
//! Each is appended to the write-ahead journal first and then applied by
//! [`Gateway::apply`], the one function recovery also runs, so a gateway
//! rebuilt from its journal equals the one that wrote it.

use crate::flatten::{FLATTEN_ENDED, Flatten, FlattenState};
use crate::kill::{Cause, KillSwitches, Trading};
use crate::ledger::Ledger;
use crate::markets::Markets;
use crate::oms::{Applied, Oms};
use crate::policy::RiskPolicy;
use crate::risk::TokenBucket;
use crate::venue::{Approved, Venue, WriteAhead};
use pt_engine::graph::Out;
use pt_engine::model::{
    ClientOrderId, Command, CommandAction, Event, EventKind, ExecReport, Header, InstrumentId,
    MarketStatus, Mode, Money, Nanos, OrderIntent, RejectCode, Scope, StrategyId, VenueId,
};

/// The gateway's own strategy id: its kill-switch cancels and closing orders.
pub const GATEWAY: StrategyId = StrategyId(0);

/// One venue's settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VenueConfig {
    /// The mode orders are asked for in.
    pub mode: Mode,
    /// Whether live orders may go out at all.
    pub live_enabled: bool,
}

/// The least interval (input time) between two looks for requests past
/// their timeout.
const OVERDUE_SCAN_NS: i64 = 1_000_000;

/// How a gateway is set up.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Strategies are numbered 1..strategies (0 is the gateway).
    pub strategies: usize,
    /// Per venue, by [`VenueId`].
    pub venues: Vec<VenueConfig>,
    /// How long a request may wait for its answer before its order is
    /// unknown (ns).
    pub order_timeout_ns: i64,
    /// Open orders the tables hold before they grow.
    pub max_orders: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            strategies: 8,
            venues: vec![VenueConfig::default()],
            order_timeout_ns: 5_000_000_000,
            max_orders: 4096,
        }
    }
}

/// What an operator reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayCounters {
    /// Intents taken.
    pub intents: u64,
    /// Rejects by [`RejectCode`] (gateway codes; the venue's at index 0).
    pub rejects: [u64; 32],
    /// Orders approved, by effective mode (paper, shadow, live).
    pub approved: [u64; 3],
    /// Journal appends that failed (each refused its action).
    pub journal_failures: u64,
    /// `ReloadRisk` commands naming a policy version that was not staged.
    pub unknown_policy: u64,
    /// Kill switches tripped by a loss limit.
    pub loss_trips: u64,
}

impl GatewayCounters {
    /// How many intents `code` refused.
    pub fn rejected(&self, code: RejectCode) -> u64 {
        let at = if code.0 >= 1000 { 0 } else { code.0 as usize };
        self.rejects.get(at).copied().unwrap_or(0)
    }
}

pub(crate) struct VenueState {
    pub(crate) config: VenueConfig,
    pub(crate) bucket: TokenBucket,
}

/// The gateway; `P` is the paper venue (paper and shadow orders), `L` the
/// live venue, `J` the write-ahead journal.
pub struct Gateway<P, L, J> {
    pub(crate) markets: Markets,
    pub(crate) loaded: Option<RiskPolicy>,
    /// The version of `loaded` ([`crate::PolicyVersions`]); 0 for the one
    /// the gateway was built with.
    policy_version: i64,
    /// Strategies stopped by a `SetRunning` command, by id.
    stopped: Vec<bool>,
    pub(crate) defaults: RiskPolicy,
    staged: Vec<(i64, RiskPolicy)>,
    pub(crate) venues: Vec<VenueState>,
    pub(crate) kill: KillSwitches,
    pub(crate) oms: Oms,
    pub(crate) ledgers: [Ledger; 3],
    pub(crate) counters: GatewayCounters,
    paper: P,
    live: L,
    journal: J,
    reports: Vec<ExecReport>,
    overdue: Vec<ClientOrderId>,
    /// Input time of the next look for requests past their timeout.
    next_overdue_scan: i64,
    cancels: Vec<ClientOrderId>,
    strategies: usize,
    timeout_ns: i64,
    day: i64,
    day_start: Vec<Money>,
    pub(crate) flatten: Flatten,
    pub(crate) flattening: bool,
}

impl<P, L, J> core::fmt::Debug for Gateway<P, L, J> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gateway")
            .field("open", &self.oms.open())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<P: Venue, L: Venue, J: WriteAhead> Gateway<P, L, J> {
    /// A gateway over `markets`; `policy` is the loaded risk policy (without
    /// one, paper and shadow run on the defaults and live is refused).
    pub fn new(
        markets: Markets,
        policy: Option<RiskPolicy>,
        config: &GatewayConfig,
        paper: P,
        live: L,
        journal: J,
    ) -> Self {
        let defaults = policy.unwrap_or_default();
        let strategies = config.strategies.max(1);
        let ledger = Ledger::new(&markets, strategies);
        let venues = config
            .venues
            .iter()
            .map(|&c| VenueState {
                config: c,
                bucket: TokenBucket::new(&defaults.rate),
            })
            .collect();
        Gateway {
            oms: Oms::new(
                (0..markets.slots())
                    .map(|i| markets.get(InstrumentId(i as u32)).map_or(0, |m| m.event.0))
                    .collect(),
                config.max_orders,
            ),
            ledgers: [ledger.clone(), ledger.clone(), ledger],
            kill: KillSwitches::new(config.venues.len(), strategies),
            markets,
            loaded: policy,
            policy_version: 0,
            stopped: vec![false; strategies],
            defaults,
            staged: Vec::with_capacity(4),
            venues,
            counters: GatewayCounters::default(),
            paper,
            live,
            journal,
            reports: Vec::with_capacity(64),
            overdue: Vec::with_capacity(64),
            next_overdue_scan: i64::MIN,
            cancels: Vec::with_capacity(64),
            strategies,
            timeout_ns: config.order_timeout_ns,
            day: i64::MIN,
            day_start: vec![Money::ZERO; 3 * strategies],
            flatten: Flatten::default(),
            flattening: false,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RiskPolicy {
        self.loaded.as_ref().unwrap_or(&self.defaults)
    }

    /// The version of the policy in force: 0 for the one the gateway was
    /// built with, else the `ReloadRisk` version it switched to last.
    pub fn policy_version(&self) -> i64 {
        self.policy_version
    }

    /// Whether strategy `id` was stopped (and not started since) by a
    /// `SetRunning` command; a restart stops it again from the journal.
    pub fn strategy_stopped(&self, id: StrategyId) -> bool {
        self.stopped
            .get(usize::from(id.0))
            .copied()
            .unwrap_or(false)
    }

    /// Offers a policy to be switched in by a `ReloadRisk` command whose
    /// `arg` is `version`, at its place in the command stream.
    pub fn stage_policy(&mut self, version: i64, policy: RiskPolicy) {
        self.staged.retain(|(v, _)| *v != version);
        self.staged.push((version, policy));
    }

    /// The OMS.
    pub fn oms(&self) -> &Oms {
        &self.oms
    }

    /// The ledger of `mode`; paper, shadow and live share nothing.
    pub fn ledger(&self, mode: Mode) -> &Ledger {
        &self.ledgers[mode as usize]
    }

    /// The kill switches.
    pub fn kill_switches(&self) -> &KillSwitches {
        &self.kill
    }

    /// The markets as the gate sees them.
    pub fn markets(&self) -> &Markets {
        &self.markets
    }

    /// Counters.
    pub fn counters(&self) -> &GatewayCounters {
        &self.counters
    }

    /// The paper venue.
    pub fn paper(&self) -> &P {
        &self.paper
    }

    /// The live venue.
    pub fn live(&self) -> &L {
        &self.live
    }

    /// The journal.
    pub fn journal(&self) -> &J {
        &self.journal
    }

    /// The journal, to reserve or rotate it.
    pub fn journal_mut(&mut self) -> &mut J {
        &mut self.journal
    }

    /// A venue's requested mode.
    pub fn mode(&self, venue: VenueId) -> Mode {
        self.venues
            .get(venue.0 as usize)
            .map_or(Mode::Paper, |v| v.config.mode)
    }

    /// Takes one event from any input: intents, book updates, market data,
    /// commands. Reports and the gateway's own records go to `out`.
    pub fn on_event(&mut self, event: &Event, now: Nanos, out: &mut Out<Event>) {
        match event {
            Event::Intent(i) => self.on_intent(i, now, out),
            Event::Book(b) => {
                self.markets.on_book(b);
                let mark = self.markets.get(b.header.instrument).map(|m| m.mark());
                if let Some(mark) = mark {
                    for l in &mut self.ledgers {
                        l.remark(b.header.instrument, mark);
                    }
                }
                self.paper.on_market(event, now, &mut self.reports);
                self.flush_reports(now, out);
                self.check_losses(now, out);
            }
            Event::Market(m) => {
                if m.header.kind == EventKind::Status {
                    let was = self
                        .markets
                        .get(m.header.instrument)
                        .and_then(|x| x.settled);
                    if self.markets.on_status(m).is_some() && was.is_none() {
                        // Journal the settlement the venue published before booking it.
                        self.record(event, now);
                    }
                }
                self.paper.on_market(event, now, &mut self.reports);
                self.flush_reports(now, out);
            }
            Event::Exec(r) => {
                // A live venue edge's report arriving on a link.
                self.reports.push(*r);
                self.flush_reports(now, out);
            }
            Event::Command(c) => self.on_command(c, now, out),
        }
    }

    /// Releases what the venues have due and marks overdue requests unknown.
    pub fn poll(&mut self, now: Nanos, out: &mut Out<Event>) {
        self.paper.poll(now, &mut self.reports);
        self.live.poll(now, &mut self.reports);
        self.flush_reports(now, out);
        // Looking for timeouts every fiftieth of the timeout (at least every
        // millisecond) of input time declares an order unknown at most 2%
        // late and keeps the scan of every open order off most polls. (Input
        // time: a replay looks at the same moments.)
        if now.0 < self.next_overdue_scan {
            return;
        }
        let every = (self.timeout_ns / 50).max(OVERDUE_SCAN_NS);
        self.next_overdue_scan = now.0.saturating_add(every);
        self.overdue.clear();
        self.oms.overdue(now.0, self.timeout_ns, &mut self.overdue);
        for k in 0..self.overdue.len() {
            let id = self.overdue[k];
            let Some(o) = self.oms.get(id).copied() else {
                continue;
            };
            let mut header = Header::new(EventKind::OrderUnknown, o.instrument, 0, now);
            header.venue = self.markets.venue_of(o.instrument);
            let r = ExecReport {
                header,
                client_order_id: id,
                price: o.price,
                qty: o.qty,
                cum_qty: o.cum_qty,
                side: o.side,
                requested_mode: o.requested_mode,
                effective_mode: o.mode,
                ..ExecReport::default()
            };
            self.reports.push(r);
        }
        self.flush_reports(now, out);
    }

    /// Journals `event` and applies it; `false` (and nothing applied) when
    /// the journal refused it.
    pub(crate) fn record(&mut self, event: &Event, now: Nanos) -> bool {
        if !self.write(event, now) {
            return false;
        }
        self.apply(event, now);
        true
    }

    /// Appends `event` to the journal; a failure is counted and `false`.
    pub(crate) fn write(&mut self, event: &Event, now: Nanos) -> bool {
        let written = self.journal.append(event, now).is_ok();
        if !written {
            self.counters.journal_failures += 1;
        }
        written
    }

    /// Applies one journaled record: the state change itself, live and in
    /// recovery alike.
    pub fn apply(&mut self, event: &Event, now: Nanos) {
        match event {
            Event::Intent(i) => match i.header.kind {
                EventKind::OrderNew => self.oms.open_order(i, now.0),
                EventKind::OrderCancel => {
                    self.oms
                        .request_change(i.client_order_id, i.target, true, now.0);
                }
                _ => {
                    self.oms
                        .request_change(i.client_order_id, i.target, false, now.0);
                }
            },
            // The gate's own refusals made no order: nothing to change.
            Event::Exec(r)
                if r.header.kind == EventKind::Reject && r.reject_code.0 < RejectCode::VENUE.0 => {}
            Event::Exec(r) => {
                let applied = self.oms.on_report(r);
                if r.header.kind == EventKind::Fill {
                    let mode = match applied {
                        Applied::Moved { order, .. } => order.mode,
                        _ => r.effective_mode,
                    };
                    let mark = self
                        .markets
                        .get(r.header.instrument)
                        .map_or(r.price, |m| m.mark());
                    self.ledgers[mode as usize].fill(r, mark);
                }
            }
            Event::Command(c) => self.apply_command(c),
            Event::Market(m) if m.status == MarketStatus::Settled => {
                for l in &mut self.ledgers {
                    l.settle(m.header.instrument, m.price == pt_engine::model::Price::ONE);
                }
            }
            Event::Market(_) | Event::Book(_) => {}
        }
    }

    /// Journals, applies and emits the venues' reports, in order.
    fn flush_reports(&mut self, now: Nanos, out: &mut Out<Event>) {
        let mut k = 0;
        while k < self.reports.len() {
            let mut r = self.reports[k];
            k += 1;
            if let Some(o) = self.oms.get(r.client_order_id) {
                r.requested_mode = o.requested_mode;
                r.effective_mode = o.mode;
            }
            if r.header.kind == EventKind::Reject {
                self.count_reject(r.reject_code);
            }
            let e = Event::Exec(r);
            // A report is a fact: apply it even if the journal failed (counted).
            self.write(&e, now);
            self.apply(&e, now);
            out.push(e);
        }
        self.reports.clear();
        if self.flatten.state.pending_venue_confirmation() {
            self.advance_flatten(now, out);
        }
    }

    pub(crate) fn count_reject(&mut self, code: RejectCode) {
        let at = if code.0 >= 1000 {
            0
        } else {
            (code.0 as usize).min(31)
        };
        self.counters.rejects[at] += 1;
    }

    /// Routes an approved, journaled intent to the venue of its mode.
    pub(crate) fn send(&mut self, intent: &OrderIntent, now: Nanos, out: &mut Out<Event>) {
        let approved = Approved::new(intent);
        match intent.effective_mode {
            Mode::Live => self.live.send(approved, now, &mut self.reports),
            Mode::Paper | Mode::Shadow => self.paper.send(approved, now, &mut self.reports),
        }
        self.flush_reports(now, out);
    }

    fn on_command(&mut self, c: &Command, now: Nanos, out: &mut Out<Event>) {
        // Clock ticks and signals are the strategies' business; their time
        // reaches the venues through `poll`.
        if matches!(
            c.action,
            CommandAction::Heartbeat | CommandAction::Signal | CommandAction::SetParam
        ) {
            return;
        }
        // Only the gateway ends a flatten.
        if c.action == CommandAction::Flatten && c.arg == FLATTEN_ENDED {
            return;
        }
        if c.action == CommandAction::ReloadRisk && !self.staged.iter().any(|(v, _)| *v == c.arg) {
            self.counters.unknown_policy += 1;
            return;
        }
        if !self.record(&Event::Command(*c), now) {
            return;
        }
        match c.action {
            CommandAction::TripKillSwitch | CommandAction::CancelAll => {
                self.cancel_scope(c.scope, c.strategy, c.target, now, out);
            }
            CommandAction::SetRunning if c.arg == 0 => {
                self.cancel_scope(Scope::Strategy, c.strategy, 0, now, out);
            }
            CommandAction::Flatten => self.start_flatten(c.scope, c.strategy, c.target, now, out),
            _ => {}
        }
    }

    fn apply_command(&mut self, c: &Command) {
        let set = |k: &mut KillSwitches, t: Trading| match c.scope {
            Scope::Global => k.set_global(t, Cause::Command),
            Scope::Venue => k.set_venue(VenueId(c.target as u16), t, Cause::Command),
            Scope::Strategy => k.set_strategy(c.strategy, t, Cause::Command),
            Scope::Instrument => {}
        };
        match c.action {
            CommandAction::TripKillSwitch => set(&mut self.kill, Trading::Halted),
            CommandAction::ResetKillSwitch => set(&mut self.kill, Trading::Active),
            CommandAction::SetReducing => set(&mut self.kill, Trading::Reducing),
            CommandAction::SetMode => {
                let mode = match c.arg {
                    1 => Mode::Shadow,
                    2 => Mode::Live,
                    _ => Mode::Paper,
                };
                if let Some(v) = self.venues.get_mut(c.target as usize) {
                    v.config.mode = mode;
                }
            }
            CommandAction::ReloadRisk => {
                if let Some((_, p)) = self.staged.iter().find(|(v, _)| *v == c.arg) {
                    self.loaded = Some(*p);
                    self.policy_version = c.arg;
                    for v in &mut self.venues {
                        v.bucket.resize(&p.rate);
                    }
                }
            }
            CommandAction::Flatten if c.arg == FLATTEN_ENDED => {
                self.flatten.state = FlattenState::decode([c.args[0], c.args[1]]);
            }
            // A flatten only lets risk-reducing orders through its scope; its
            // cancels go out next (or, rebuilt from a journal, are there).
            CommandAction::Flatten => {
                set(&mut self.kill, Trading::Reducing);
                self.flatten = Flatten {
                    scope: c.scope,
                    strategy: c.strategy,
                    target: c.target,
                    state: FlattenState::CancelsSent,
                    attempts: 0,
                    resumed: true,
                };
            }
            CommandAction::SetRunning => {
                if let Some(s) = self.stopped.get_mut(usize::from(c.strategy.0)) {
                    *s = c.arg == 0;
                }
            }
            CommandAction::CancelAll
            | CommandAction::Shutdown
            | CommandAction::Heartbeat
            | CommandAction::Signal
            | CommandAction::SetParam => {}
        }
    }

    /// Sends a cancel, through the gate, for every cancellable order in the scope.
    pub(crate) fn cancel_scope(
        &mut self,
        scope: Scope,
        strategy: StrategyId,
        target: u32,
        now: Nanos,
        out: &mut Out<Event>,
    ) {
        self.cancels.clear();
        for o in self.oms.iter() {
            let inside =
                self.markets
                    .in_scope(scope, strategy, target, o.instrument, o.id.strategy());
            if inside && o.state.on_cancel_sent().is_some() {
                self.cancels.push(o.id);
            }
        }
        self.cancels.sort_unstable();
        for k in 0..self.cancels.len() {
            let target = self.cancels[k];
            let Some(o) = self.oms.get(target).copied() else {
                continue;
            };
            let mut header = Header::new(EventKind::OrderCancel, o.instrument, 0, now);
            header.venue = self.markets.venue_of(o.instrument);
            let intent = OrderIntent {
                header,
                client_order_id: self.oms.next_id(GATEWAY),
                target,
                price: o.price,
                qty: o.qty,
                strategy: GATEWAY,
                side: o.side,
                ..OrderIntent::default()
            };
            self.on_intent(&intent, now, out);
        }
    }

    /// Trips the kill switch of any strategy past its daily loss limit, and
    /// the global one when the total is; starts each UTC day afresh.
    fn check_losses(&mut self, now: Nanos, out: &mut Out<Event>) {
        let day = now.0.div_euclid(86_400_000_000_000);
        if day != self.day {
            self.day = day;
            for (m, l) in self.ledgers.iter().enumerate() {
                for s in 0..self.strategies {
                    self.day_start[m * self.strategies + s] = l.pnl(StrategyId(s as u16)).total();
                }
            }
        }
        let policy = *self.policy();
        for m in 0..3 {
            let mut total = 0i64;
            for s in 1..self.strategies {
                let id = StrategyId(s as u16);
                let today = self.ledgers[m].pnl(id).total().raw()
                    - self.day_start[m * self.strategies + s].raw();
                total += today;
                if today < -policy.strategy.daily_loss.raw()
                    && self.kill.strategy(id).0 != Trading::Halted
                {
                    self.kill
                        .set_strategy(id, Trading::Halted, Cause::DailyLoss);
                    self.counters.loss_trips += 1;
                    self.cancel_scope(Scope::Strategy, id, 0, now, out);
                }
            }
            if total < -policy.global.daily_loss.raw() && self.kill.global() != Trading::Halted {
                self.kill.set_global(Trading::Halted, Cause::DailyLoss);
                self.counters.loss_trips += 1;
                self.cancel_scope(Scope::Global, GATEWAY, 0, now, out);
            }
        }
    }

    /// Rebuilds the OMS, the ledgers and the kill switches from a journal's
    /// records, in order (recovery after a crash; nothing is sent).
    pub fn recover<'a>(&mut self, records: impl IntoIterator<Item = (&'a Event, Nanos)>) {
        for (e, at) in records {
            if let Event::Market(m) = e {
                let _ = self.markets.on_status(m);
            }
            self.live.resume(e);
            self.apply(e, at);
        }
    }

    /// Builds the reject report of an intent.
    pub(crate) fn reject(
        &mut self,
        intent: &OrderIntent,
        code: RejectCode,
        requested: Mode,
        now: Nanos,
        out: &mut Out<Event>,
    ) {
        self.count_reject(code);
        let r = ExecReport {
            header: intent.header.derived(EventKind::Reject),
            client_order_id: intent.client_order_id,
            price: intent.price,
            qty: intent.qty,
            reject_code: code,
            side: intent.side,
            requested_mode: requested,
            effective_mode: requested,
            ..ExecReport::default()
        };
        let e = Event::Exec(r);
        self.write(&e, now);
        out.push(e);
    }
}
