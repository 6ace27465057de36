//! The executor both runners share: a FIFO queue of events on links, each
//! delivered to its node, whose outputs are routed by family.
//!
//! An event is taken from the front of the queue, handed to its link's
//! node, and that node's outputs go on the back, so a graph with a back-edge
//! runs breadth-first to quiescence with no recursion, and in the same order
//! every time. Links whose receiver runs elsewhere (another thread, or the
//! graph's owner) go through a [`Remote`].

use super::node::{GraphEvent, Node, NodeKind, Out, Polled};
use super::spec::{End, FAMILIES, Filter, LinkId, Topology, family_index};
use crate::model::{Mono, Nanos, Stamp};
use crate::pipeline::new_histogram;
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::sync::Arc;

/// Queue slots allocated when a runner starts.
pub(crate) const QUEUE_CAPACITY: usize = 4096;

/// What one executor has counted on one link (only the fields of the ends
/// it owns move).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LinkCounters {
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) dropped: u64,
    pub(crate) stale_marks: u64,
    pub(crate) full_waits: u64,
    pub(crate) max_depth: u64,
}

/// What one node has counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeCounters {
    pub(crate) events_in: u64,
    pub(crate) events_out: u64,
    /// Outputs of a family the node has no link for.
    pub(crate) unrouted: u64,
}

/// Where events for links leaving this executor go.
pub(crate) trait Remote<E> {
    /// Sends `event` on `link`. May wait (a blocking link); while it waits
    /// it may move this executor's own inputs into `queue`.
    fn send(
        &mut self,
        link: LinkId,
        event: E,
        queue: &mut VecDeque<(LinkId, E)>,
        counters: &mut [LinkCounters],
    );
}

/// One link an output may go on, as this executor sees it.
struct Hop<E> {
    link: LinkId,
    /// The receiving node runs on this executor.
    local: bool,
    /// Which events the link takes.
    keep: Filter<E>,
}

pub(crate) struct Core<E> {
    /// Nodes by graph index; `None` where the node runs elsewhere.
    pub(crate) nodes: Vec<Option<Box<dyn Node<E>>>>,
    pub(crate) topo: Arc<Topology>,
    /// The topology's routes flattened for this executor: node `k`'s outputs
    /// of family `f` go on `hops[r.0..r.1]`, `r = routes[k * FAMILIES + f]`.
    hops: Vec<Hop<E>>,
    routes: Vec<(u32, u32)>,
    /// Per link: the receiving node's index (`usize::MAX`: the owner).
    receiver: Vec<usize>,
    out: Out<E>,
    pub(crate) queue: VecDeque<(LinkId, E)>,
    pub(crate) queue_grew: u64,
    pub(crate) node_counters: Vec<NodeCounters>,
    pub(crate) link_counters: Vec<LinkCounters>,
    /// Per node: the time from the event's previous stamp to this node.
    pub(crate) histograms: Vec<Histogram<u64>>,
    edges_done: Vec<bool>,
}

impl<E> core::fmt::Debug for Core<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Core")
            .field("nodes", &self.topo.names)
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl<E: GraphEvent> Core<E> {
    /// An executor for the nodes present in `nodes`.
    pub(crate) fn new(
        nodes: Vec<Option<Box<dyn Node<E>>>>,
        topo: Arc<Topology>,
        filters: &[Filter<E>],
    ) -> Core<E> {
        let out_capacity = nodes
            .iter()
            .flatten()
            .map(|n| n.expected_outputs())
            .max()
            .unwrap_or(1)
            .max(64);
        let n = nodes.len();
        let links = topo.links.len();
        let edges_done = nodes
            .iter()
            .map(|n| n.as_ref().is_none_or(|n| n.kind() != NodeKind::Edge))
            .collect();
        let receiver: Vec<usize> = topo
            .links
            .iter()
            .map(|l| match l.to {
                End::Node(r) => r,
                End::Owner => usize::MAX,
            })
            .collect();
        let mut hops = Vec::new();
        let mut routes = Vec::with_capacity(n * FAMILIES);
        for k in 0..n {
            for f in 0..FAMILIES {
                let start = hops.len() as u32;
                for &link in &topo.routes[k][f] {
                    let r = receiver[usize::from(link.0)];
                    let local = r != usize::MAX && nodes[r].is_some();
                    let keep = filters.get(usize::from(link.0)).copied().flatten();
                    hops.push(Hop { link, local, keep });
                }
                routes.push((start, hops.len() as u32));
            }
        }
        Core {
            nodes,
            topo,
            hops,
            routes,
            receiver,
            out: Out::with_capacity(out_capacity),
            queue: VecDeque::with_capacity(QUEUE_CAPACITY),
            queue_grew: 0,
            node_counters: vec![NodeCounters::default(); n],
            link_counters: vec![LinkCounters::default(); links],
            histograms: (0..n).map(|_| new_histogram()).collect(),
            edges_done,
        }
    }

    /// Queues `event` as received on `link`.
    #[inline]
    pub(crate) fn accept(&mut self, link: LinkId, event: E) {
        accept(
            &mut self.queue,
            &mut self.queue_grew,
            &mut self.link_counters,
            link,
            event,
        );
    }

    /// Whether every edge on this executor is done.
    pub(crate) fn edges_done(&self) -> bool {
        self.edges_done.iter().all(|d| *d)
    }

    /// Polls every edge that is not done once, routing what they emit.
    /// Returns how many events they emitted.
    pub(crate) fn poll_edges(
        &mut self,
        now: Nanos,
        at: Mono,
        remote: &mut impl Remote<E>,
    ) -> usize {
        let mut emitted = 0;
        for k in 0..self.nodes.len() {
            if self.edges_done[k] {
                continue;
            }
            let Some(node) = self.nodes[k].as_mut() else {
                continue;
            };
            match node.poll(now, &mut self.out) {
                Polled::Done => self.edges_done[k] = true,
                Polled::Idle | Polled::Emitted(_) => {}
            }
            emitted += self.out.len();
            // The edge may have waited for the network: its events are
            // stamped when it handed them over, not when its poll began.
            let at = if at.is_set() && !self.out.is_empty() {
                Mono::now()
            } else {
                at
            };
            self.route(k, at, remote);
        }
        emitted
    }

    /// Delivers queued events until the queue is empty.
    #[inline]
    pub(crate) fn run(&mut self, now: Nanos, at: Mono, remote: &mut impl Remote<E>) -> usize {
        let mut delivered = 0;
        while let Some((link, event)) = self.queue.pop_front() {
            delivered += 1;
            self.deliver(link, event, now, at, remote);
        }
        delivered
    }

    #[inline]
    fn deliver(
        &mut self,
        link: LinkId,
        mut event: E,
        now: Nanos,
        at: Mono,
        remote: &mut impl Remote<E>,
    ) {
        let k = self.receiver[usize::from(link.0)];
        let Some(node) = self.nodes.get_mut(k).and_then(Option::as_mut) else {
            return;
        };
        if at.is_set() {
            let stamp = Stamp::new(k as u8, at);
            if let Some(before) = event.last_stamp() {
                self.histograms[k].saturating_record(stamp.since(before).max(1));
            }
            event.push_stamp(stamp);
        }
        self.node_counters[k].events_in += 1;
        node.on_event(&event, now, &mut self.out);
        self.route(k, at, remote);
    }

    /// Sends what node `k` just emitted on its links, in order.
    #[inline]
    fn route(&mut self, k: usize, at: Mono, remote: &mut impl Remote<E>) {
        let Core {
            hops,
            routes,
            out,
            queue,
            queue_grew,
            node_counters,
            link_counters,
            ..
        } = self;
        node_counters[k].events_out += out.len() as u64;
        for mut event in out.drain() {
            if at.is_set() && event.last_stamp().is_none() {
                // An edge's own event: its first stamp is the moment the
                // edge handed it in.
                event.push_stamp(Stamp::new(k as u8, at));
            }
            let (start, end) = routes[k * FAMILIES + family_index(event.family())];
            if start == end {
                node_counters[k].unrouted += 1;
                continue;
            }
            for &Hop { link, local, keep } in &hops[start as usize..end as usize] {
                if keep.is_some_and(|keep| !keep(&event)) {
                    continue;
                }
                if local {
                    link_counters[usize::from(link.0)].sent += 1;
                    accept(queue, queue_grew, link_counters, link, event);
                } else {
                    remote.send(link, event, queue, link_counters);
                }
            }
        }
    }

    /// Grows of any node's output buffer.
    pub(crate) fn out_grew(&self) -> u64 {
        self.out.grew()
    }
}

#[inline]
pub(crate) fn accept<E>(
    queue: &mut VecDeque<(LinkId, E)>,
    grew: &mut u64,
    counters: &mut [LinkCounters],
    link: LinkId,
    event: E,
) {
    if queue.len() == queue.capacity() {
        *grew += 1;
    }
    queue.push_back((link, event));
    let c = &mut counters[usize::from(link.0)];
    c.received += 1;
    c.max_depth = c.max_depth.max(queue.len() as u64);
}
