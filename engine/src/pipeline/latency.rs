//! Stage latency histograms: recorded per thread, merged on request.
//!
//! Each stage thread records into its own HdrHistograms. When a report is
//! requested, the thread swaps its live histograms with an empty preallocated
//! set and hands the full set over an SPSC ring; the collector merges it into
//! its running totals and sends the emptied set back. The stage thread never
//! locks and never allocates.

use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Highest latency recorded exactly; larger values saturate here (60 s).
pub const MAX_TRACKABLE_NS: u64 = 60_000_000_000;

/// One histogram per stage of a thread, plus one for end to end.
pub(crate) type HistogramSet = Vec<Histogram<u64>>;

/// An empty latency histogram: 1 ns to [`MAX_TRACKABLE_NS`], three
/// significant figures (what every latency figure in `pt` is recorded in).
pub fn new_histogram() -> Histogram<u64> {
    // Bounds are constants within HdrHistogram's limits (low >= 1,
    // high >= 2 * low, 3 significant figures), so this cannot fail.
    Histogram::new_with_bounds(1, MAX_TRACKABLE_NS, 3).expect("constant histogram bounds are valid")
}

pub(crate) fn new_set(len: usize) -> HistogramSet {
    (0..len).map(|_| new_histogram()).collect()
}

/// The stage thread's end of the exchange.
#[derive(Debug)]
pub(crate) struct LatencyPort {
    request: Arc<AtomicU64>,
    answered: u64,
    full: rtrb::Producer<HistogramSet>,
    empty: rtrb::Consumer<HistogramSet>,
}

/// The collector's end of one thread's exchange.
#[derive(Debug)]
pub(crate) struct LatencyTap {
    full: rtrb::Consumer<HistogramSet>,
    empty: rtrb::Producer<HistogramSet>,
    /// Running totals, one per histogram of the thread's set.
    pub(crate) totals: HistogramSet,
}

/// Creates both ends for a thread with `len` histograms, with one spare set.
pub(crate) fn exchange(request: Arc<AtomicU64>, len: usize) -> (LatencyPort, LatencyTap) {
    let (full_tx, full_rx) = rtrb::RingBuffer::new(2);
    let (mut empty_tx, empty_rx) = rtrb::RingBuffer::new(2);
    // A fresh ring of capacity 2 has room for one set.
    let _ = empty_tx.push(new_set(len));
    let answered = request.load(Ordering::Relaxed);
    (
        LatencyPort {
            request,
            answered,
            full: full_tx,
            empty: empty_rx,
        },
        LatencyTap {
            full: full_rx,
            empty: empty_tx,
            totals: new_set(len),
        },
    )
}

impl LatencyPort {
    /// Answers a pending request by handing over `live` and continuing with
    /// an empty set. Cheap when nothing is pending: one relaxed load.
    #[inline]
    pub(crate) fn poll(&mut self, live: &mut HistogramSet) {
        // Relaxed: the request number is only a trigger; the histograms
        // themselves travel through the ring, which orders them.
        let wanted = self.request.load(Ordering::Relaxed);
        if wanted == self.answered {
            return;
        }
        let Ok(mut spare) = self.empty.pop() else {
            return; // the collector still holds the spare; answer next time
        };
        core::mem::swap(live, &mut spare);
        match self.full.push(spare) {
            Ok(()) => self.answered = wanted,
            Err(rtrb::PushError::Full(mut back)) => {
                // Only one set circulates, so the ring cannot be full; keep
                // the data rather than lose it if that ever changes.
                core::mem::swap(live, &mut back);
                for (l, b) in live.iter_mut().zip(back.iter()) {
                    let _ = l.add(b);
                }
            }
        }
    }
}

impl LatencyTap {
    /// Merges a set handed over since the last call; returns whether one was.
    pub(crate) fn take(&mut self) -> bool {
        let Ok(mut set) = self.full.pop() else {
            return false;
        };
        self.merge(&set);
        for h in &mut set {
            h.reset();
        }
        let _ = self.empty.push(set);
        true
    }

    /// Adds a final set (returned by a finished thread).
    pub(crate) fn merge(&mut self, set: &HistogramSet) {
        for (total, h) in self.totals.iter_mut().zip(set) {
            // Same bounds on both sides, so adding cannot fail.
            let _ = total.add(h);
        }
    }
}

/// Latency percentiles of one stage, in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencySummary {
    /// Stage name, or `end-to-end`.
    pub stage: String,
    /// Events recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
}

/// Merged latency histograms, one per stage and one end to end.
///
/// A stage's latency is the time from the previous stage's stamp (or, for the
/// first stage, the event's receive time) to the moment this stage's thread
/// took the event: queueing in the ring plus the previous stage's work.
/// Stamps are taken once per batch, and fused stages share their thread's
/// stamp. Events without a receive time are not recorded.
#[derive(Debug, Clone)]
pub struct LatencyReport {
    /// `(stage name, histogram)` in pipeline order, then `end-to-end`.
    pub histograms: Vec<(String, Histogram<u64>)>,
}

impl LatencyReport {
    /// Percentiles of every histogram.
    pub fn summaries(&self) -> Vec<LatencySummary> {
        self.histograms
            .iter()
            .map(|(stage, h)| LatencySummary {
                stage: stage.clone(),
                count: h.len(),
                p50: h.value_at_quantile(0.5),
                p90: h.value_at_quantile(0.9),
                p99: h.value_at_quantile(0.99),
                p999: h.value_at_quantile(0.999),
                max: h.max(),
            })
            .collect()
    }
}
