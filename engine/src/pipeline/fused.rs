//! Every stage on the caller's thread: for replay, backtests and tests.

use super::counters::StageStats;
use super::group::StageGroup;
use super::latency::LatencyReport;
use super::placement::PlacementError;
use super::stage::{PipelineEvent, Stage};
use crate::model::Nanos;

/// Runs stages in order on the calling thread, with the same executor as a
/// stage thread, so outputs equal the threaded pipeline's in content and order.
pub struct FusedRunner<E: PipelineEvent> {
    group: StageGroup<E>,
    names: Vec<String>,
}

impl<E: PipelineEvent> core::fmt::Debug for FusedRunner<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FusedRunner")
            .field("stages", &self.names)
            .finish()
    }
}

impl<E: PipelineEvent> FusedRunner<E> {
    /// A runner over `stages`; names must be unique.
    pub fn new(stages: Vec<Box<dyn Stage<E>>>) -> Result<FusedRunner<E>, PlacementError> {
        let names: Vec<String> = stages.iter().map(|s| s.name().to_owned()).collect();
        if names.is_empty() {
            return Err(PlacementError::NoStages);
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(PlacementError::DuplicateStageName(name.clone()));
            }
        }
        Ok(FusedRunner {
            group: StageGroup::new(stages, 0, true),
            names,
        })
    }

    /// Carries `event` through every stage at time `now` (in replay, the
    /// event's recorded time), handing final outputs to `emit` in order.
    #[inline]
    pub fn process(&mut self, event: E, now: Nanos, emit: &mut impl FnMut(E)) {
        self.group.process(event, now, emit);
    }

    /// Counters of every stage.
    pub fn stats(&self) -> Vec<StageStats> {
        self.names
            .iter()
            .zip(&self.group.counters)
            .map(|(name, c)| StageStats {
                stage: name.clone(),
                thread: "caller".to_owned(),
                core: None,
                events_in: c.events_in,
                events_out: c.events_out,
                full_waits: 0,
                max_depth: c.max_depth,
                outbox_refused: c.outbox_refused,
            })
            .collect()
    }

    /// Latency recorded so far.
    pub fn latency(&self) -> LatencyReport {
        let mut histograms: Vec<_> = self
            .names
            .iter()
            .cloned()
            .zip(self.group.histograms.iter().cloned())
            .collect();
        if let Some(h) = self.group.histograms.last() {
            histograms.push(("end-to-end".to_owned(), h.clone()));
        }
        LatencyReport { histograms }
    }

    /// The stages, for inspection.
    pub fn into_stages(self) -> Vec<Box<dyn Stage<E>>> {
        self.group.into_parts().0
    }
}
