//! Every node on the caller's thread: replay, backtests, tests, and a live
//! engine placed on one core.

use super::core::{Core, LinkCounters, Remote};
use super::node::{GraphEvent, Node, Polled};
use super::spec::{End, GraphError, GraphSpec, LinkId, OWNER_STAMP};
use super::stats::{self, GraphStats};
use crate::model::{Mono, Nanos, Stamp};
use crate::pipeline::LatencyReport;
use std::collections::VecDeque;
use std::sync::Arc;

/// A link given to [`FusedGraph::send`] is not one of the graph's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAnInput(pub LinkId);

impl core::fmt::Display for NotAnInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "link {} is not an input of the graph", self.0.0)
    }
}

impl std::error::Error for NotAnInput {}

/// A graph run on the calling thread by one deterministic event queue.
#[derive(Debug)]
pub struct FusedGraph<E> {
    core: Core<E>,
}

struct Emit<'a, F> {
    emit: &'a mut F,
}

impl<E: GraphEvent, F: FnMut(LinkId, E)> Remote<E> for Emit<'_, F> {
    #[inline]
    fn send(
        &mut self,
        link: LinkId,
        event: E,
        _: &mut VecDeque<(LinkId, E)>,
        c: &mut [LinkCounters],
    ) {
        let c = &mut c[usize::from(link.0)];
        c.sent += 1;
        c.received += 1;
        (self.emit)(link, event);
    }
}

impl<E: GraphEvent> FusedGraph<E> {
    /// Builds the graph.
    pub fn new(spec: GraphSpec<E>) -> Result<FusedGraph<E>, GraphError> {
        let (nodes, topo, filters) = spec.build()?;
        Ok(FusedGraph {
            core: Core::new(
                nodes.into_iter().map(Some).collect(),
                Arc::new(topo),
                &filters,
            ),
        })
    }

    /// The link named `name`.
    pub fn link_id(&self, name: &str) -> Option<LinkId> {
        link_id(&self.core.topo.links, name)
    }

    /// Sends `event` into the input `link` at time `now` and runs the graph
    /// until nothing is left to do, handing outputs to `emit` in order.
    /// `at` stamps the nodes (`Mono::UNSET`: no stamps, as in replay).
    #[inline]
    pub fn send(
        &mut self,
        link: LinkId,
        event: E,
        now: Nanos,
        at: Mono,
        emit: &mut impl FnMut(LinkId, E),
    ) -> Result<(), NotAnInput> {
        match self.core.topo.links.get(usize::from(link.0)) {
            Some(l) if l.from == End::Owner && l.to != End::Owner => {}
            _ => return Err(NotAnInput(link)),
        }
        self.core.link_counters[usize::from(link.0)].sent += 1;
        let mut event = event;
        if at.is_set() && event.last_stamp().is_none() {
            event.push_stamp(Stamp::new(OWNER_STAMP, at));
        }
        self.core.accept(link, event);
        self.core.run(now, at, &mut Emit { emit });
        Ok(())
    }

    /// Polls every edge once and runs the graph until nothing is left.
    /// `Done` once every edge is done.
    pub fn poll(&mut self, now: Nanos, at: Mono, emit: &mut impl FnMut(LinkId, E)) -> Polled {
        let mut remote = Emit { emit };
        let emitted = self.core.poll_edges(now, at, &mut remote);
        self.core.run(now, at, &mut remote);
        if emitted > 0 {
            Polled::Emitted(emitted)
        } else if self.core.edges_done() {
            Polled::Done
        } else {
            Polled::Idle
        }
    }

    /// The node named `name`, if it is a `T`: an edge's session counters,
    /// a book stage's books, between calls.
    pub fn node<T: Node<E>>(&self, name: &str) -> Option<&T> {
        let k = self.core.topo.names.iter().position(|n| n == name)?;
        let node: &dyn std::any::Any = self.core.nodes[k].as_deref()?;
        node.downcast_ref::<T>()
    }

    /// The node named `name`, as its type, to change between inputs.
    pub fn node_mut<T: Node<E>>(&mut self, name: &str) -> Option<&mut T> {
        let k = self.core.topo.names.iter().position(|n| n == name)?;
        let node: &mut dyn std::any::Any = self.core.nodes[k].as_deref_mut()?;
        node.downcast_mut::<T>()
    }

    /// Counters now.
    pub fn stats(&self) -> GraphStats {
        let threads = vec!["caller".to_owned(); self.core.topo.names.len()];
        stats::build(
            &self.core.topo,
            &threads,
            &self.core.node_counters,
            &self.core.link_counters,
            self.core.queue_grew + self.core.out_grew(),
        )
    }

    /// Per-node latency recorded so far (when sent with a stamp time).
    pub fn latency(&self) -> LatencyReport {
        stats::latency(&self.core.topo, &self.core.histograms)
    }

    /// The nodes, in declaration order.
    pub fn into_nodes(self) -> Vec<Box<dyn Node<E>>> {
        self.core.nodes.into_iter().flatten().collect()
    }
}

pub(crate) fn link_id<T>(links: &[super::spec::LinkSpec<T>], name: &str) -> Option<LinkId> {
    links
        .iter()
        .position(|l| l.name == name)
        .map(|i| LinkId(i as u16))
}
