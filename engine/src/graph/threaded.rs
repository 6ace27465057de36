//! The graph on threads: each placement group on its own (pinned) thread,
//! links between threads as SPSC rings with their overflow policies, links
//! within a thread through that thread's event queue.

use super::core::{Core, LinkCounters, NodeCounters};
use super::fused::{NotAnInput, link_id};
use super::node::{GraphEvent, Node};
use super::rings::{Inbound, RingTx, Rings};
use super::spec::{End, GraphError, GraphSpec, LinkId, OWNER_STAMP, Topology};
use super::stats::{self, GraphStats};
use crate::model::{Mono, Nanos, Stamp};
use crate::pipeline::link::{LinkRx, LinkTx, link};
use crate::pipeline::{
    Backoff, LatencyReport, PipelineConfig, PlacementError, Plan, WaitStrategy, available_cores,
    new_histogram, resolve,
};
use crossbeam_utils::CachePadded;
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

/// Why a threaded graph could not start.
#[derive(Debug)]
pub enum StartError {
    /// The graph is malformed.
    Graph(GraphError),
    /// The placement does not fit the graph or the host.
    Placement(PlacementError),
    /// The OS refused a thread.
    Spawn(std::io::Error),
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartError::Graph(e) => e.fmt(f),
            StartError::Placement(e) => e.fmt(f),
            StartError::Spawn(e) => write!(f, "cannot start a graph thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Counters a thread publishes after every loop, for the owner to read.
#[derive(Debug, Default)]
struct SharedLink {
    sent: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    stale_marks: AtomicU64,
    full_waits: AtomicU64,
    max_depth: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    links: Vec<CachePadded<SharedLink>>,
    /// Per thread: idle loops completed (after publishing).
    epochs: Vec<CachePadded<AtomicU64>>,
    /// Edges are no longer polled.
    stopping: AtomicBool,
    /// Threads return.
    exit: AtomicBool,
}

/// What a stopped graph hands back.
pub struct GraphShutdown<E> {
    /// The nodes, in declaration order.
    pub nodes: Vec<Box<dyn Node<E>>>,
    /// Final counters.
    pub stats: GraphStats,
    /// Per-node latency over the graph's life.
    pub latency: LatencyReport,
    /// Whether each thread pinned itself where the plan asked.
    pub pinned: Vec<bool>,
}

impl<E> core::fmt::Debug for GraphShutdown<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GraphShutdown")
            .field("stats", &self.stats)
            .field("pinned", &self.pinned)
            .finish_non_exhaustive()
    }
}

struct Exit<E> {
    nodes: Vec<Option<Box<dyn Node<E>>>>,
    node_counters: Vec<NodeCounters>,
    link_counters: Vec<LinkCounters>,
    histograms: Vec<Histogram<u64>>,
    queue_grew: u64,
    pinned: bool,
}

/// A running graph. The owner sends into its inputs with
/// [`ThreadedGraph::send`], takes its outputs with [`ThreadedGraph::drain`],
/// and stops it with [`ThreadedGraph::shutdown`], which loses nothing.
pub struct ThreadedGraph<E: GraphEvent> {
    topo: Arc<Topology>,
    plan: Plan,
    inputs: Vec<Option<LinkTx<E>>>,
    outputs: Vec<(LinkId, LinkRx<E>)>,
    owner: Vec<LinkCounters>,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<Exit<E>>>,
    thread_of: Vec<String>,
    /// Buffers [`ThreadedGraph::wait_idle`] reads counters into.
    idle_epochs: Vec<u64>,
    idle_links: Vec<(u64, u64)>,
}

impl<E: GraphEvent> core::fmt::Debug for ThreadedGraph<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ThreadedGraph")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

impl<E: GraphEvent> ThreadedGraph<E> {
    /// Places the graph's nodes by `config` (groups take contiguous runs of
    /// nodes in declaration order) and starts their threads.
    pub fn start(
        spec: GraphSpec<E>,
        config: &PipelineConfig,
    ) -> Result<ThreadedGraph<E>, StartError> {
        let (nodes, topo, filters) = spec.build().map_err(StartError::Graph)?;
        let names: Vec<&str> = topo.names.iter().map(String::as_str).collect();
        let plan = resolve(config, &names, &available_cores()).map_err(StartError::Placement)?;
        let n = topo.names.len();
        // Which thread runs each node; `usize::MAX` is the owner.
        let mut thread = vec![0usize; n];
        let mut thread_of = vec![String::new(); n];
        for (t, p) in plan.threads.iter().enumerate() {
            for k in p.stages.clone() {
                thread[k] = t;
                thread_of[k] = format!("pt-{}", p.name);
            }
        }
        let side = |end: End| match end {
            End::Node(k) => thread[k],
            End::Owner => usize::MAX,
        };
        let threads = plan.threads.len();
        let mut tx: Vec<Vec<Option<RingTx<E>>>> = (0..threads)
            .map(|_| topo.links.iter().map(|_| None).collect())
            .collect();
        let mut rx: Vec<Vec<Inbound<E>>> = (0..threads).map(|_| Vec::new()).collect();
        let mut inputs: Vec<Option<LinkTx<E>>> = topo.links.iter().map(|_| None).collect();
        let mut outputs = Vec::new();
        for (i, l) in topo.links.iter().enumerate() {
            let (from, to) = (side(l.from), side(l.to));
            if from == to {
                continue;
            }
            let id = LinkId(i as u16);
            let (t, r) = link::<E>(l.capacity.unwrap_or(config.ring_capacity), plan.wait);
            if from == usize::MAX {
                inputs[i] = Some(t);
            } else {
                tx[from][i] = Some(RingTx {
                    tx: t,
                    overflow: l.overflow,
                    pending: Vec::with_capacity(256),
                });
            }
            if to == usize::MAX {
                outputs.push((id, r));
            } else {
                // A link from a later thread is a back-edge: its receiver
                // keeps taking it while blocked, which breaks any cycle.
                let back = from != usize::MAX && from > to;
                rx[to].push(Inbound {
                    link: id,
                    rx: r,
                    back,
                });
            }
        }
        let shared = Arc::new(Shared {
            links: topo.links.iter().map(|_| CachePadded::default()).collect(),
            epochs: (0..threads).map(|_| CachePadded::default()).collect(),
            stopping: AtomicBool::new(false),
            exit: AtomicBool::new(false),
        });
        let topo = Arc::new(topo);
        let mut slots: Vec<Option<Box<dyn Node<E>>>> = nodes.into_iter().map(Some).collect();
        let mut workers = Vec::with_capacity(threads);
        for (t, (p, (tx, rx))) in plan.threads.iter().zip(tx.into_iter().zip(rx)).enumerate() {
            let mine: Vec<Option<Box<dyn Node<E>>>> = (0..n)
                .map(|k| {
                    if thread[k] == t {
                        slots[k].take()
                    } else {
                        None
                    }
                })
                .collect();
            let worker = Worker {
                core: Core::new(mine, topo.clone(), &filters),
                rings: Rings {
                    tx,
                    inbound: rx,
                    wait: plan.wait,
                    now: Nanos::UNSET,
                    backlog_grew: 0,
                },
                sends: topo
                    .links
                    .iter()
                    .map(|l| matches!(l.from, End::Node(k) if thread[k] == t))
                    .collect(),
                receives: topo
                    .links
                    .iter()
                    .map(|l| matches!(l.to, End::Node(k) if thread[k] == t))
                    .collect(),
                shared: shared.clone(),
                index: t,
                wait: plan.wait,
                pin: p.core,
            };
            let handle = std::thread::Builder::new()
                .name(format!("pt-{}", p.name))
                .spawn(move || worker.run())
                .map_err(StartError::Spawn)?;
            workers.push(handle);
        }
        Ok(ThreadedGraph {
            owner: vec![LinkCounters::default(); topo.links.len()],
            idle_epochs: Vec::with_capacity(threads),
            idle_links: Vec::with_capacity(topo.links.len()),
            topo,
            plan,
            inputs,
            outputs,
            shared,
            workers,
            thread_of,
        })
    }

    /// The resolved placement.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The link named `name`.
    pub fn link_id(&self, name: &str) -> Option<LinkId> {
        link_id(&self.topo.links, name)
    }

    /// Sends `event` into the input `link`, handing outputs to `on_output`
    /// while the input ring is full so that a full graph cannot deadlock.
    pub fn send(
        &mut self,
        link: LinkId,
        event: E,
        on_output: &mut impl FnMut(LinkId, E),
    ) -> Result<(), NotAnInput> {
        let i = usize::from(link.0);
        if self.inputs.get(i).is_none_or(Option::is_none) {
            return Err(NotAnInput(link));
        }
        let mut event = event;
        if event.last_stamp().is_none() {
            event.push_stamp(Stamp::new(OWNER_STAMP, Mono::now()));
        }
        let mut backoff = Backoff::new(self.plan.wait);
        loop {
            let Some(tx) = self.inputs[i].as_mut() else {
                return Err(NotAnInput(link));
            };
            match tx.try_send(event) {
                Ok(()) => {
                    self.owner[i].sent += 1;
                    return Ok(());
                }
                Err(back) => {
                    event = back;
                    self.owner[i].full_waits += 1;
                    if self.drain(on_output) == 0 {
                        backoff.wait();
                    }
                }
            }
        }
    }

    /// Hands every output waiting now to `on_output`; returns how many.
    pub fn drain(&mut self, on_output: &mut impl FnMut(LinkId, E)) -> usize {
        let mut total = 0;
        for (link, rx) in &mut self.outputs {
            let id = *link;
            let n = rx.recv_batch(usize::MAX, |e| on_output(id, e));
            let c = &mut self.owner[usize::from(id.0)];
            c.received += n as u64;
            c.max_depth = c.max_depth.max(rx.max_depth() as u64);
            total += n;
        }
        total
    }

    /// Waits until nothing is in flight anywhere in the graph (every link's
    /// receiver has taken all that was sent, and every thread has since
    /// completed a loop with nothing to do), handing outputs to `on_output`.
    /// Edges that keep emitting keep the graph busy: stop them first.
    pub fn wait_idle(&mut self, on_output: &mut impl FnMut(LinkId, E)) {
        let mut backoff = Backoff::new(WaitStrategy::SpinYield);
        loop {
            self.drain(on_output);
            // Read into buffers kept for this, so waiting allocates nothing.
            let mut epochs = std::mem::take(&mut self.idle_epochs);
            epochs.clear();
            epochs.extend(self.shared.epochs.iter().map(|e| e.load(Ordering::Acquire)));
            let mut links = std::mem::take(&mut self.idle_links);
            links.clear();
            links.extend(self.link_totals());
            let balanced = links.iter().all(|(sent, received)| sent == received);
            let mut done = false;
            if balanced {
                while self
                    .shared
                    .epochs
                    .iter()
                    .zip(&epochs)
                    .any(|(now, then)| now.load(Ordering::Acquire) <= *then)
                {
                    self.drain(on_output);
                    backoff.wait();
                }
                self.drain(on_output);
                done = self.link_totals().eq(links.iter().copied());
            }
            self.idle_epochs = epochs;
            self.idle_links = links;
            if done {
                return;
            }
            backoff.wait();
        }
    }

    /// `(sent, received)` of every link, owner ends included.
    fn link_totals(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.shared.links.iter().zip(&self.owner).map(|(s, o)| {
            (
                s.sent.load(Ordering::Acquire) + o.sent,
                s.received.load(Ordering::Acquire) + o.received,
            )
        })
    }

    /// Link counters now (node counters come with [`ThreadedGraph::shutdown`]).
    pub fn stats(&self) -> GraphStats {
        let links: Vec<LinkCounters> = self
            .shared
            .links
            .iter()
            .zip(&self.owner)
            .map(|(s, o)| LinkCounters {
                sent: s.sent.load(Ordering::Relaxed) + o.sent,
                received: s.received.load(Ordering::Relaxed) + o.received,
                dropped: s.dropped.load(Ordering::Relaxed),
                stale_marks: s.stale_marks.load(Ordering::Relaxed),
                full_waits: s.full_waits.load(Ordering::Relaxed) + o.full_waits,
                max_depth: s.max_depth.load(Ordering::Relaxed).max(o.max_depth),
            })
            .collect();
        let nodes = vec![NodeCounters::default(); self.topo.names.len()];
        stats::build(&self.topo, &self.thread_of, &nodes, &links, 0)
    }

    /// Stops polling edges, lets everything in flight finish, hands the
    /// remaining outputs to `on_output`, and joins the threads.
    pub fn shutdown(mut self, on_output: &mut impl FnMut(LinkId, E)) -> GraphShutdown<E> {
        self.shared.stopping.store(true, Ordering::Release);
        self.wait_idle(on_output);
        self.shared.exit.store(true, Ordering::Release);
        let n = self.topo.names.len();
        let mut nodes: Vec<Option<Box<dyn Node<E>>>> = (0..n).map(|_| None).collect();
        let mut node_counters = vec![NodeCounters::default(); n];
        let mut links = self.owner.clone();
        let mut histograms: Vec<Histogram<u64>> = (0..n).map(|_| new_histogram()).collect();
        let mut queue_grew = 0;
        let mut pinned = Vec::new();
        let mut panicked = None;
        for handle in std::mem::take(&mut self.workers) {
            match handle.join() {
                Ok(exit) => {
                    for (k, node) in exit.nodes.into_iter().enumerate() {
                        if node.is_some() {
                            nodes[k] = node;
                            node_counters[k] = exit.node_counters[k];
                            histograms[k] = exit.histograms[k].clone();
                        }
                    }
                    for (sum, c) in links.iter_mut().zip(&exit.link_counters) {
                        sum.sent += c.sent;
                        sum.received += c.received;
                        sum.dropped += c.dropped;
                        sum.stale_marks += c.stale_marks;
                        sum.full_waits += c.full_waits;
                        sum.max_depth = sum.max_depth.max(c.max_depth);
                    }
                    queue_grew += exit.queue_grew;
                    pinned.push(exit.pinned);
                }
                Err(payload) => panicked = Some(payload),
            }
        }
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
        self.drain(on_output);
        let stats = stats::build(
            &self.topo,
            &self.thread_of,
            &node_counters,
            &links,
            queue_grew,
        );
        GraphShutdown {
            nodes: nodes.into_iter().flatten().collect(),
            stats,
            latency: stats::latency(&self.topo, &histograms),
            pinned,
        }
    }
}

impl<E: GraphEvent> Drop for ThreadedGraph<E> {
    fn drop(&mut self) {
        // Dropped without `shutdown`: tell the threads to return.
        self.shared.exit.store(true, Ordering::Release);
    }
}

struct Worker<E> {
    core: Core<E>,
    rings: Rings<E>,
    shared: Arc<Shared>,
    index: usize,
    wait: WaitStrategy,
    pin: Option<usize>,
    /// Links this thread sends on / receives from (it publishes those ends).
    sends: Vec<bool>,
    receives: Vec<bool>,
}

impl<E: GraphEvent> Worker<E> {
    fn run(mut self) -> Exit<E> {
        let pinned = match self.pin {
            Some(id) => core_affinity::set_for_current(core_affinity::CoreId { id }),
            None => true,
        };
        let mut idle = Backoff::new(self.wait);
        while !self.shared.exit.load(Ordering::Acquire) {
            let now = Nanos::now();
            let at = Mono::now();
            self.rings.now = now;
            let mut work = 0;
            if !self.shared.stopping.load(Ordering::Acquire) {
                work += self.core.poll_edges(now, at, &mut self.rings);
            }
            let Core {
                queue,
                queue_grew,
                link_counters,
                ..
            } = &mut self.core;
            work += Rings::pull(
                &mut self.rings.inbound,
                false,
                queue,
                queue_grew,
                link_counters,
            );
            // An edge may have waited for the network: stamp what follows
            // with the time now.
            let at = if work > 0 { Mono::now() } else { at };
            work += self.core.run(now, at, &mut self.rings);
            work += self.rings.flush_all(&mut self.core.link_counters);
            self.publish();
            if work == 0 {
                // Undelivered stale marks are work in flight: wait for room
                // without counting the loop as idle.
                if !self.rings.has_pending() {
                    self.shared.epochs[self.index].fetch_add(1, Ordering::Release);
                }
                idle.wait();
            } else {
                idle.reset();
            }
        }
        let queue_grew = self.core.queue_grew + self.rings.backlog_grew + self.core.out_grew();
        Exit {
            nodes: self.core.nodes,
            node_counters: self.core.node_counters,
            link_counters: self.core.link_counters,
            histograms: self.core.histograms,
            queue_grew,
            pinned,
        }
    }

    /// Publishes the counters of the link ends this thread owns.
    fn publish(&self) {
        for (i, c) in self.core.link_counters.iter().enumerate() {
            let s = &self.shared.links[i];
            if self.sends[i] {
                s.sent.store(c.sent, Ordering::Relaxed);
                s.dropped.store(c.dropped, Ordering::Relaxed);
                s.stale_marks.store(c.stale_marks, Ordering::Relaxed);
                s.full_waits.store(c.full_waits, Ordering::Relaxed);
            }
            if self.receives[i] {
                s.received.store(c.received, Ordering::Relaxed);
                s.max_depth.store(c.max_depth, Ordering::Relaxed);
            }
        }
    }
}
