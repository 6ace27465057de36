//! Declaring a graph: nodes, and the named, typed links between them.

use super::node::Node;
use crate::model::Family;
use core::fmt;

/// What a link does when its ring is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// The sender waits (and keeps taking its own inputs meanwhile, so a
    /// back-edge cannot deadlock). Nothing is dropped. Orders, execution
    /// reports and commands always block.
    Block,
    /// The event is dropped and counted, and the instrument it concerned is
    /// marked stale: once the ring has room again the receiver gets a stale
    /// mark for it before anything newer, and resynchronises. For market
    /// data only, where a late event is worth less than a fresh snapshot.
    /// The snapshot itself ([`super::GraphEvent::repairs`]) waits for room:
    /// dropping it would only make the book ask for it again.
    MarkStale,
}

impl Overflow {
    /// The policy a link of `family` gets unless configured otherwise.
    pub const fn default_for(family: Family) -> Overflow {
        match family {
            Family::Market => Overflow::MarkStale,
            _ => Overflow::Block,
        }
    }
}

/// One end of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// A node, by index.
    Node(usize),
    /// The graph's owner: it sends into an input, or takes from an output.
    Owner,
}

/// A link, declared by node names (`None`: the graph's owner) and, once
/// the graph is built, resolved to node indices.
#[derive(Clone, Debug)]
pub(crate) struct LinkSpec<End> {
    pub(crate) name: String,
    pub(crate) family: Family,
    pub(crate) from: End,
    pub(crate) to: End,
    pub(crate) overflow: Overflow,
    /// Ring slots when the link crosses threads; the placement's default
    /// when `None`.
    pub(crate) capacity: Option<usize>,
}

/// A resolved link.
pub(crate) type Link = LinkSpec<End>;

/// Families in a fixed order, for per-family tables.
pub(crate) const FAMILIES: usize = 5;

pub(crate) const fn family_index(family: Family) -> usize {
    match family {
        Family::Market => 0,
        Family::Book => 1,
        Family::Intent => 2,
        Family::Exec => 3,
        Family::Command => 4,
    }
}

/// A built graph's wiring: links, and for each node and family the links
/// its outputs of that family go on (several: a fan-out).
#[derive(Clone, Debug)]
pub(crate) struct Topology {
    pub(crate) names: Vec<String>,
    pub(crate) links: Vec<Link>,
    pub(crate) routes: Vec<[Vec<LinkId>; FAMILIES]>,
}

/// A checked graph: its nodes in declaration order and their wiring.
pub(crate) type Built<E> = (Vec<Box<dyn Node<E>>>, Topology, Vec<Filter<E>>);

/// Which events a link takes (`None`: all of its family).
pub(crate) type Filter<E> = Option<fn(&E) -> bool>;

/// A link's index in its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u16);

/// A graph as declared, before it runs: nodes in order (placement groups
/// take contiguous runs of them) and links between them.
pub struct GraphSpec<E> {
    pub(crate) nodes: Vec<Box<dyn Node<E>>>,
    pub(crate) links: Vec<LinkSpec<Option<String>>>,
    filters: Vec<Filter<E>>,
}

impl<E: 'static> fmt::Debug for GraphSpec<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphSpec")
            .field(
                "nodes",
                &self
                    .nodes
                    .iter()
                    .map(|n| n.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("links", &self.links)
            .finish()
    }
}

/// Why a graph cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphError {
    /// Two nodes share a name.
    DuplicateNode(String),
    /// Two links share a name.
    DuplicateLink(String),
    /// A link names a node the graph does not have.
    UnknownNode {
        /// The link.
        link: String,
        /// The name it gave.
        node: String,
    },
    /// A link of this family cannot drop (only market data may).
    DropsOrders {
        /// The link.
        link: String,
        /// Its family.
        family: Family,
    },
    /// More nodes or links than stamps and ids can name.
    TooLarge {
        /// What overflowed.
        what: &'static str,
        /// The count.
        count: usize,
        /// The most allowed.
        max: usize,
    },
    /// The graph has no nodes.
    Empty,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::DuplicateNode(n) => write!(f, "two nodes are named {n:?}"),
            GraphError::DuplicateLink(n) => write!(f, "two links are named {n:?}"),
            GraphError::UnknownNode { link, node } => {
                write!(
                    f,
                    "link {link:?} names node {node:?}, which the graph does not have"
                )
            }
            GraphError::DropsOrders { link, family } => write!(
                f,
                "link {link:?} carries {family:?} records, which must never be dropped; \
                 only market-data links may mark instruments stale on overflow"
            ),
            GraphError::TooLarge { what, count, max } => {
                write!(
                    f,
                    "the graph has {count} {what}; at most {max} are supported"
                )
            }
            GraphError::Empty => write!(f, "the graph has no nodes"),
        }
    }
}

impl std::error::Error for GraphError {}

/// Most nodes a graph may have: a stamp names its node in 8 bits.
pub const MAX_NODES: usize = 255;

/// The node id in the stamp the graph's owner puts on an input it sends.
pub const OWNER_STAMP: u8 = 255;

impl<E> Default for GraphSpec<E> {
    fn default() -> Self {
        GraphSpec {
            nodes: Vec::new(),
            links: Vec::new(),
            filters: Vec::new(),
        }
    }
}

impl<E: 'static> GraphSpec<E> {
    /// An empty graph.
    pub fn new() -> GraphSpec<E> {
        GraphSpec::default()
    }

    /// Adds a node; its position is its placement order.
    pub fn node(&mut self, node: Box<dyn Node<E>>) -> &mut Self {
        self.nodes.push(node);
        self
    }

    /// A link named `name` carrying `family` records from node `from` to
    /// node `to`, with the family's default overflow policy. A link to an
    /// earlier node is a back-edge (execution reports to the strategy).
    pub fn link(&mut self, name: &str, family: Family, from: &str, to: &str) -> LinkId {
        self.push(name, family, Some(from), Some(to))
    }

    /// An input the graph's owner sends into, carrying `family` to `to`.
    pub fn input(&mut self, name: &str, family: Family, to: &str) -> LinkId {
        self.push(name, family, None, Some(to))
    }

    /// An output the graph's owner takes from: `family` records `from` emits.
    pub fn output(&mut self, name: &str, family: Family, from: &str) -> LinkId {
        self.push(name, family, Some(from), None)
    }

    /// Sets a link's overflow policy (checked when the graph is built).
    pub fn overflow(&mut self, link: LinkId, overflow: Overflow) -> &mut Self {
        if let Some(l) = self.links.get_mut(usize::from(link.0)) {
            l.overflow = overflow;
        }
        self
    }

    /// Puts on `link` only the events `keep` accepts (a book's resync
    /// requests, not every update): the others its sender emits of that
    /// family still go on the node's other links.
    pub fn only(&mut self, link: LinkId, keep: fn(&E) -> bool) -> &mut Self {
        if let Some(f) = self.filters.get_mut(usize::from(link.0)) {
            *f = Some(keep);
        }
        self
    }

    /// Sets a link's ring size when it crosses threads.
    pub fn capacity(&mut self, link: LinkId, slots: usize) -> &mut Self {
        if let Some(l) = self.links.get_mut(usize::from(link.0)) {
            l.capacity = Some(slots);
        }
        self
    }

    /// Node names, in order.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name().to_owned()).collect()
    }

    fn push(&mut self, name: &str, family: Family, from: Option<&str>, to: Option<&str>) -> LinkId {
        let id = LinkId(u16::try_from(self.links.len()).unwrap_or(u16::MAX));
        // Names resolve when the graph is built, so nodes and links may be
        // declared in any order; an unknown name is an error there.
        self.links.push(LinkSpec {
            name: name.to_owned(),
            family,
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            overflow: Overflow::default_for(family),
            capacity: None,
        });
        self.filters.push(None);
        id
    }

    /// Checks the graph and resolves its links.
    pub(crate) fn build(self) -> Result<Built<E>, GraphError> {
        let names = self.node_names();
        if names.is_empty() {
            return Err(GraphError::Empty);
        }
        if names.len() > MAX_NODES {
            return Err(GraphError::TooLarge {
                what: "nodes",
                count: names.len(),
                max: MAX_NODES,
            });
        }
        if self.links.len() >= usize::from(u16::MAX) {
            let max = usize::from(u16::MAX) - 1;
            return Err(GraphError::TooLarge {
                what: "links",
                count: self.links.len(),
                max,
            });
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(GraphError::DuplicateNode(n.clone()));
            }
        }
        let mut links = Vec::with_capacity(self.links.len());
        let mut routes: Vec<[Vec<LinkId>; FAMILIES]> =
            names.iter().map(|_| Default::default()).collect();
        for (i, l) in self.links.iter().enumerate() {
            if self.links[..i].iter().any(|o| o.name == l.name) {
                return Err(GraphError::DuplicateLink(l.name.clone()));
            }
            if l.overflow == Overflow::MarkStale && l.family != Family::Market {
                return Err(GraphError::DropsOrders {
                    link: l.name.clone(),
                    family: l.family,
                });
            }
            let resolve = |end: &Option<String>| match end {
                None => Ok(End::Owner),
                Some(n) => names
                    .iter()
                    .position(|m| m == n)
                    .map(End::Node)
                    .ok_or_else(|| GraphError::UnknownNode {
                        link: l.name.clone(),
                        node: n.clone(),
                    }),
            };
            let from = resolve(&l.from)?;
            let to = resolve(&l.to)?;
            if let End::Node(k) = from {
                routes[k][family_index(l.family)].push(LinkId(i as u16));
            }
            links.push(LinkSpec {
                name: l.name.clone(),
                family: l.family,
                from,
                to,
                overflow: l.overflow,
                capacity: l.capacity,
            });
        }
        Ok((
            self.nodes,
            Topology {
                names,
                links,
                routes,
            },
            self.filters,
        ))
    }
}
