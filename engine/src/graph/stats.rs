//! What a graph reports: per node and per link.

use super::core::{LinkCounters, NodeCounters};
use super::spec::{Overflow, Topology};
use crate::model::Family;
use crate::pipeline::LatencyReport;
use hdrhistogram::Histogram;

/// One node's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStats {
    /// The node.
    pub name: String,
    /// The thread it runs on (`caller` when fused).
    pub thread: String,
    /// Events delivered to it.
    pub events_in: u64,
    /// Events it emitted (edges included).
    pub events_out: u64,
    /// Outputs of a family it has no link for: a wiring fault, counted.
    pub unrouted: u64,
}

/// One link's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStats {
    /// The link.
    pub name: String,
    /// The records it carries.
    pub family: Family,
    /// What it does when full.
    pub overflow: Overflow,
    /// Events put on it.
    pub sent: u64,
    /// Events its receiver took.
    pub received: u64,
    /// Events a full market-data link dropped.
    pub dropped: u64,
    /// Stale marks delivered in their place.
    pub stale_marks: u64,
    /// Times a blocking sender found it full and waited.
    pub full_waits: u64,
    /// The deepest backlog its receiver saw.
    pub max_depth: u64,
}

/// A graph's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphStats {
    /// Per node, in declaration order.
    pub nodes: Vec<NodeStats>,
    /// Per link, in declaration order.
    pub links: Vec<LinkStats>,
    /// Times a thread's event queue had to grow (a fan-out larger than any
    /// before it); 0 after warm-up.
    pub queue_grew: u64,
}

impl GraphStats {
    /// The link named `name`.
    pub fn link(&self, name: &str) -> Option<&LinkStats> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeStats> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

pub(crate) fn build(
    topo: &Topology,
    threads: &[String],
    nodes: &[NodeCounters],
    links: &[LinkCounters],
    queue_grew: u64,
) -> GraphStats {
    GraphStats {
        nodes: topo
            .names
            .iter()
            .zip(nodes)
            .zip(threads)
            .map(|((name, c), thread)| NodeStats {
                name: name.clone(),
                thread: thread.clone(),
                events_in: c.events_in,
                events_out: c.events_out,
                unrouted: c.unrouted,
            })
            .collect(),
        links: topo
            .links
            .iter()
            .zip(links)
            .map(|(l, c)| LinkStats {
                name: l.name.clone(),
                family: l.family,
                overflow: l.overflow,
                sent: c.sent,
                received: c.received,
                dropped: c.dropped,
                stale_marks: c.stale_marks,
                full_waits: c.full_waits,
                max_depth: c.max_depth,
            })
            .collect(),
        queue_grew,
    }
}

pub(crate) fn latency(topo: &Topology, histograms: &[Histogram<u64>]) -> LatencyReport {
    LatencyReport {
        histograms: topo
            .names
            .iter()
            .cloned()
            .zip(histograms.iter().cloned())
            .collect(),
    }
}
