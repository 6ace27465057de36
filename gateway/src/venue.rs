//! What the gateway sends orders to, the approved-order type it sends, and
//! the write-ahead journal it records to first.

use pt_engine::model::{
    Event, ExecReport, Nanos, OrderIntent, STAGE_STAMPS, Stamp, journal_kind::journal_kind,
};

/// An intent the risk gate approved, with its requested and effective
/// modes set. Only the gate builds one (its constructor is private to this
/// crate), so a venue's `send`, which takes nothing else, cannot be reached
/// by an order that bypassed the gate.
#[derive(Debug, Clone, Copy)]
pub struct Approved<'a> {
    intent: &'a OrderIntent,
}

impl<'a> Approved<'a> {
    pub(crate) fn new(intent: &'a OrderIntent) -> Approved<'a> {
        Approved { intent }
    }

    /// The approved intent.
    pub fn intent(&self) -> &'a OrderIntent {
        self.intent
    }
}

/// Where approved orders go: the paper venue, or a real venue's edge.
/// Reports go into `reports` in the order they happened.
pub trait Venue {
    /// Takes an approved new order, cancel or replace.
    fn send(&mut self, order: Approved<'_>, now: Nanos, reports: &mut Vec<ExecReport>);

    /// Sees market data (a paper venue fills from it).
    fn on_market(&mut self, event: &Event, now: Nanos, reports: &mut Vec<ExecReport>) {
        let _ = (event, now, reports);
    }

    /// Releases what is due at `now` (delayed acks, socket reads).
    fn poll(&mut self, now: Nanos, reports: &mut Vec<ExecReport>) {
        let _ = (now, reports);
    }

    /// Whether orders can reach it (a live venue: connected and, after a
    /// start or an unknown outcome, reconciled).
    fn connected(&self) -> bool {
        true
    }

    /// Sees one record of the orders journal while the gateway recovers
    /// from it: a live venue rebuilds its order ids and the trades it has
    /// booked from the same records.
    fn resume(&mut self, record: &Event) {
        let _ = record;
    }

    /// Requests written to an outside venue so far (a paper venue makes none).
    fn external_writes(&self) -> u64;
}

/// A live venue that is not connected: every live order is refused before
/// it reaches one (`no_venue`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Disconnected;

impl Venue for Disconnected {
    fn send(&mut self, _: Approved<'_>, _: Nanos, _: &mut Vec<ExecReport>) {}
    fn connected(&self) -> bool {
        false
    }
    fn external_writes(&self) -> u64 {
        0
    }
}

/// Where every intent the gate approved and every state change is written
/// before anything is sent.
pub trait WriteAhead {
    /// Appends one record; `Err` means it is not durable and nothing may act on it.
    fn append(&mut self, event: &Event, at: Nanos) -> Result<(), String>;
}

/// `event` as the orders journal keeps it: without its stage stamps, which
/// are measurements of this run (tick-to-trade), not state, so that a replay
/// of the same inputs journals the same bytes.
#[inline]
pub fn unstamped(event: &Event) -> Event {
    let mut e = *event;
    e.header_mut().stamps = [Stamp::UNSET; STAGE_STAMPS];
    e
}

impl WriteAhead for pt_journal::Writer {
    #[inline]
    fn append(&mut self, event: &Event, at: Nanos) -> Result<(), String> {
        let bytes = unstamped(event).to_bytes();
        pt_journal::Writer::append(self, journal_kind(event.kind()), at.0, &bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A journal held in memory with each record's time (tests, and replays
/// that compare).
impl WriteAhead for Vec<(Event, Nanos)> {
    fn append(&mut self, event: &Event, at: Nanos) -> Result<(), String> {
        self.push((unstamped(event), at));
        Ok(())
    }
}

/// No journal (a backtest whose inputs are the record).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoJournal;

impl WriteAhead for NoJournal {
    #[inline]
    fn append(&mut self, _: &Event, _: Nanos) -> Result<(), String> {
        Ok(())
    }
}
