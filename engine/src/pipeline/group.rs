//! A run of stages executed in order on one thread.
//!
//! Both a stage thread and the fused runner execute stages through this type,
//! so the two give the same outputs in the same order by construction: each
//! input is carried depth-first through the stages, and a stage handles its
//! inputs in the order the previous stage emitted them, exactly as it would
//! read them from a FIFO ring.

use super::counters::LocalCounters;
use super::latency::{HistogramSet, new_set};
use super::stage::{Outbox, PipelineEvent, Stage};
use crate::model::Nanos;

pub(crate) struct StageGroup<E> {
    stages: Vec<Box<dyn Stage<E>>>,
    outboxes: Vec<Outbox<E>>,
    /// Pipeline position of the first stage (the stamp slot).
    first_slot: usize,
    /// Whether the group ends the pipeline (and records end to end).
    is_last: bool,
    pub(crate) counters: Vec<LocalCounters>,
    /// One histogram per stage, then end to end.
    pub(crate) histograms: HistogramSet,
}

impl<E> core::fmt::Debug for StageGroup<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StageGroup")
            .field(
                "stages",
                &self
                    .stages
                    .iter()
                    .map(|s| s.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("first_slot", &self.first_slot)
            .finish_non_exhaustive()
    }
}

impl<E: PipelineEvent> StageGroup<E> {
    pub(crate) fn new(
        stages: Vec<Box<dyn Stage<E>>>,
        first_slot: usize,
        is_last: bool,
    ) -> StageGroup<E> {
        let outboxes = stages
            .iter()
            .map(|s| Outbox::with_capacity(s.max_outputs()))
            .collect();
        let n = stages.len();
        StageGroup {
            stages,
            outboxes,
            first_slot,
            is_last,
            counters: vec![LocalCounters::default(); n],
            histograms: new_set(n + 1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.stages.len()
    }

    pub(crate) fn into_parts(self) -> (Vec<Box<dyn Stage<E>>>, HistogramSet) {
        (self.stages, self.histograms)
    }

    /// Carries `event` through every stage of the group, handing each final
    /// output to `emit` in order.
    #[inline]
    pub(crate) fn process(&mut self, event: E, now: Nanos, emit: &mut impl FnMut(E)) {
        self.run(0, event, now, emit);
    }

    fn run(&mut self, i: usize, event: E, now: Nanos, emit: &mut impl FnMut(E)) {
        let slot = self.first_slot + i;
        if let Some(before) = event.stamp_before(slot) {
            self.histograms[i].saturating_record(now.saturating_since(before).max(1));
        }
        if self.is_last && i + 1 == self.stages.len() {
            self.record_end_to_end(&event, now);
        }
        self.counters[i].events_in += 1;
        self.stages[i].on_event(&event, now, &mut self.outboxes[i]);
        let emitted = self.outboxes[i].len();
        self.counters[i].events_out += emitted as u64;
        self.counters[i].outbox_refused += self.outboxes[i].take_refused();
        let next = i + 1;
        if next < self.stages.len() {
            self.counters[next].max_depth = self.counters[next].max_depth.max(emitted as u64);
        }
        for k in 0..emitted {
            // `k < emitted == len`, so the slot exists.
            let Some(mut out) = self.outboxes[i].get(k) else {
                break;
            };
            out.stamp(slot, now);
            if next < self.stages.len() {
                self.run(next, out, now, emit);
            } else {
                emit(out);
            }
        }
        self.outboxes[i].clear();
    }

    /// Receive time to the moment the last stage took the event.
    fn record_end_to_end(&mut self, event: &E, now: Nanos) {
        if let Some(origin) = event.origin() {
            let n = self.stages.len();
            self.histograms[n].saturating_record(now.saturating_since(origin).max(1));
        }
    }
}
