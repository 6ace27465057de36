//! The pipeline on threads: one thread per group of stages, linked by rings.

use super::counters::{CounterBoard, LocalCounters, StageStats, board};
use super::group::StageGroup;
use super::latency::{HistogramSet, LatencyPort, LatencyReport, LatencyTap, exchange};
use super::link::{LinkRx, LinkTx, link};
use super::placement::{PipelineConfig, PlacementError, Plan, available_cores, resolve};
use super::stage::{PipelineEvent, Stage};
use super::wait::{Backoff, WaitStrategy};
use crate::model::Nanos;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most events a thread takes from its ring before publishing counters.
pub const MAX_BATCH: usize = 256;

/// Why a pipeline could not start.
#[derive(Debug)]
pub enum PipelineError {
    /// The placement is invalid for these stages or this host.
    Placement(PlacementError),
    /// The OS refused to start a thread.
    Spawn(std::io::Error),
}

impl core::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PipelineError::Placement(e) => e.fmt(f),
            PipelineError::Spawn(e) => write!(f, "cannot start a stage thread: {e}"),
        }
    }
}

impl std::error::Error for PipelineError {}

/// What a stage thread hands back when it ends.
struct WorkerExit<E> {
    stages: Vec<Box<dyn Stage<E>>>,
    histograms: HistogramSet,
    pinned: bool,
}

struct Worker<E> {
    handle: Option<JoinHandle<WorkerExit<E>>>,
    tap: LatencyTap,
}

/// A running pipeline. Feed it with [`Pipeline::send`], take its outputs with
/// [`Pipeline::drain`], and stop it with [`Pipeline::shutdown`], which loses
/// nothing: every event sent comes out the other end.
pub struct Pipeline<E: PipelineEvent> {
    input: LinkTx<E>,
    output: LinkRx<E>,
    workers: Vec<Worker<E>>,
    plan: Plan,
    names: Vec<String>,
    counters: CounterBoard,
    latency_request: Arc<AtomicU64>,
    input_full_waits: u64,
    sent: u64,
}

impl<E: PipelineEvent> core::fmt::Debug for Pipeline<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pipeline")
            .field("plan", &self.plan)
            .field("stages", &self.names)
            .finish_non_exhaustive()
    }
}

/// What a stopped pipeline reports.
pub struct Shutdown<E> {
    /// The stages, in pipeline order, for inspection.
    pub stages: Vec<Box<dyn Stage<E>>>,
    /// Final counters.
    pub stats: Vec<StageStats>,
    /// All latency recorded over the pipeline's life.
    pub latency: LatencyReport,
    /// Whether each thread managed to pin itself where the plan asked.
    pub pinned: Vec<bool>,
}

impl<E> core::fmt::Debug for Shutdown<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shutdown")
            .field("stats", &self.stats)
            .field("pinned", &self.pinned)
            .finish_non_exhaustive()
    }
}

impl<E: PipelineEvent> Pipeline<E> {
    /// Places `stages` by `config` on this host's cores and starts them.
    pub fn start(
        config: &PipelineConfig,
        stages: Vec<Box<dyn Stage<E>>>,
    ) -> Result<Pipeline<E>, PipelineError> {
        let names: Vec<String> = stages.iter().map(|s| s.name().to_owned()).collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let plan =
            resolve(config, &name_refs, &available_cores()).map_err(PipelineError::Placement)?;
        let counters = board(stages.len());
        let latency_request = Arc::new(AtomicU64::new(0));
        let capacity = config.ring_capacity;

        let (input, mut upstream) = link::<E>(capacity, plan.wait);
        let mut remaining = stages.into_iter();
        let mut workers = Vec::with_capacity(plan.threads.len());
        let last = plan.threads.len() - 1;
        for (k, thread) in plan.threads.iter().enumerate() {
            let group_stages: Vec<Box<dyn Stage<E>>> =
                remaining.by_ref().take(thread.stages.len()).collect();
            let group = StageGroup::new(group_stages, thread.stages.start, k == last);
            let (tx, rx) = link::<E>(capacity, plan.wait);
            let (port, tap) = exchange(latency_request.clone(), group.len() + 1);
            let ctx = WorkerContext {
                group,
                input: upstream,
                output: tx,
                wait: plan.wait,
                core: thread.core,
                counters: counters.clone(),
                first: thread.stages.start,
                port,
            };
            let handle = std::thread::Builder::new()
                .name(format!("pt-{}", thread.name))
                .spawn(move || ctx.run())
                .map_err(PipelineError::Spawn)?;
            workers.push(Worker {
                handle: Some(handle),
                tap,
            });
            upstream = rx;
        }
        Ok(Pipeline {
            input,
            output: upstream,
            workers,
            plan,
            names,
            counters,
            latency_request,
            input_full_waits: 0,
            sent: 0,
        })
    }

    /// The resolved placement.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Sends `event` into the first stage, handing outputs to `on_output`
    /// while the input ring is full so a full pipeline cannot deadlock.
    #[inline]
    pub fn send(&mut self, event: E, on_output: &mut impl FnMut(E)) {
        let mut event = event;
        let mut backoff = Backoff::new(self.plan.wait);
        loop {
            match self.input.try_send(event) {
                Ok(()) => {
                    self.sent += 1;
                    return;
                }
                Err(back) => {
                    event = back;
                    self.input_full_waits += 1;
                    if self.drain(on_output) == 0 {
                        backoff.wait();
                    }
                }
            }
        }
    }

    /// Hands every output waiting now to `on_output`; returns how many.
    #[inline]
    pub fn drain(&mut self, on_output: &mut impl FnMut(E)) -> usize {
        self.output.recv_batch(usize::MAX, on_output)
    }

    /// Waits until every event sent so far has passed through every stage,
    /// handing outputs to `on_output`. Allocation-free.
    pub fn flush(&mut self, on_output: &mut impl FnMut(E)) {
        let mut backoff = Backoff::new(WaitStrategy::SpinYield);
        loop {
            self.drain(on_output);
            if self.is_flushed() {
                self.drain(on_output);
                return;
            }
            backoff.wait();
        }
    }

    /// Whether every stage has handled everything its predecessor emitted.
    fn is_flushed(&self) -> bool {
        let mut expected = self.sent;
        for c in self.counters.iter() {
            let c = c.read();
            if c.events_in != expected {
                return false;
            }
            expected = c.events_out;
        }
        true
    }

    /// Events sent into the pipeline.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Times `send` found the input ring full.
    pub fn input_full_waits(&self) -> u64 {
        self.input_full_waits
    }

    /// Counters of every stage now.
    pub fn stats(&self) -> Vec<StageStats> {
        stats(&self.plan, &self.names, &self.counters)
    }

    /// Merges the latency every thread has recorded so far. Threads answer
    /// between batches; one that does not answer within `timeout` (blocked on
    /// a full ring) is left out of this report and answers the next.
    pub fn latency(&mut self, timeout: Duration) -> LatencyReport {
        // Relaxed: a trigger only (see `LatencyPort::poll`).
        self.latency_request
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let deadline = Instant::now() + timeout;
        for worker in &mut self.workers {
            loop {
                if worker.tap.take() || worker.handle.as_ref().is_none_or(JoinHandle::is_finished) {
                    break;
                }
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        report(&self.workers, &self.plan, &self.names)
    }

    /// Stops taking input, lets every stage finish what its ring holds, hands
    /// the remaining outputs to `on_output`, and joins the threads.
    pub fn shutdown(self, on_output: &mut impl FnMut(E)) -> Shutdown<E> {
        let Pipeline {
            input,
            mut output,
            mut workers,
            plan,
            names,
            counters,
            ..
        } = self;
        // Dropping the sender tells the first thread that no more input comes;
        // each thread drops its own sender when done, so the end propagates
        // down the pipeline behind the last event.
        drop(input);
        loop {
            if output.recv_batch(usize::MAX, &mut *on_output) == 0 {
                if output.is_finished() {
                    output.recv_batch(usize::MAX, &mut *on_output);
                    break;
                }
                std::thread::yield_now();
            }
        }
        let mut stages = Vec::with_capacity(names.len());
        let mut pinned = Vec::with_capacity(workers.len());
        let mut panicked = None;
        for worker in &mut workers {
            let Some(handle) = worker.handle.take() else {
                continue;
            };
            match handle.join() {
                Ok(exit) => {
                    worker.tap.take();
                    worker.tap.merge(&exit.histograms);
                    stages.extend(exit.stages);
                    pinned.push(exit.pinned);
                }
                Err(payload) => panicked = Some(payload),
            }
        }
        if let Some(payload) = panicked {
            // A stage panicked; surface it to the caller as the same panic.
            std::panic::resume_unwind(payload);
        }
        Shutdown {
            stages,
            stats: stats(&plan, &names, &counters),
            latency: report(&workers, &plan, &names),
            pinned,
        }
    }
}

fn report<E>(workers: &[Worker<E>], plan: &Plan, names: &[String]) -> LatencyReport {
    let mut histograms = Vec::with_capacity(names.len() + 1);
    let mut end_to_end = None;
    for (worker, thread) in workers.iter().zip(&plan.threads) {
        for (k, slot) in thread.stages.clone().enumerate() {
            histograms.push((names[slot].clone(), worker.tap.totals[k].clone()));
        }
        end_to_end = worker.tap.totals.last().cloned();
    }
    if let Some(h) = end_to_end {
        histograms.push(("end-to-end".to_owned(), h));
    }
    LatencyReport { histograms }
}

pub(crate) fn stats(plan: &Plan, names: &[String], counters: &CounterBoard) -> Vec<StageStats> {
    let mut out = Vec::with_capacity(names.len());
    for thread in &plan.threads {
        for slot in thread.stages.clone() {
            let c = counters[slot].read();
            out.push(StageStats {
                stage: names[slot].clone(),
                thread: format!("pt-{}", thread.name),
                core: thread.core,
                events_in: c.events_in,
                events_out: c.events_out,
                full_waits: c.full_waits,
                max_depth: c.max_depth,
                outbox_refused: c.outbox_refused,
            });
        }
    }
    out
}

struct WorkerContext<E: PipelineEvent> {
    group: StageGroup<E>,
    input: LinkRx<E>,
    output: LinkTx<E>,
    wait: WaitStrategy,
    core: Option<usize>,
    counters: CounterBoard,
    first: usize,
    port: LatencyPort,
}

impl<E: PipelineEvent> WorkerContext<E> {
    fn run(mut self) -> WorkerExit<E> {
        let pinned = match self.core {
            Some(id) => core_affinity::set_for_current(core_affinity::CoreId { id }),
            None => true,
        };
        let mut idle = Backoff::new(self.wait);
        loop {
            let WorkerContext {
                group,
                input,
                output,
                ..
            } = &mut self;
            // One clock read per batch, at its first event: every event in
            // the batch was waiting by then.
            let mut now = Nanos::UNSET;
            let taken = input.recv_batch(MAX_BATCH, |event| {
                if !now.is_set() {
                    now = Nanos::now();
                }
                group.process(event, now, &mut |out| {
                    // Fails only when the pipeline was dropped without
                    // `shutdown`: nothing can receive the output any more.
                    let _ = output.send(out);
                });
            });
            if taken == 0 {
                if self.input.is_finished() {
                    break;
                }
                self.port.poll(&mut self.group.histograms);
                idle.wait();
                continue;
            }
            idle.reset();
            self.publish();
            self.port.poll(&mut self.group.histograms);
        }
        self.publish();
        let (stages, histograms) = self.group.into_parts();
        WorkerExit {
            stages,
            histograms,
            pinned,
        }
    }

    fn publish(&mut self) {
        let depth = self.input.max_depth() as u64;
        let full_waits = self.output.full_waits();
        let n = self.group.len();
        for (k, local) in self.group.counters.iter_mut().enumerate() {
            if k == 0 {
                local.max_depth = local.max_depth.max(depth);
            }
            if k + 1 == n {
                local.full_waits = full_waits;
            }
            let c: &LocalCounters = local;
            self.counters[self.first + k].publish(c);
        }
    }
}
