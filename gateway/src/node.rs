//! The gateway as a node of the engine's graph: it takes intents, book
//! updates, market data and commands on its input links, emits execution
//! reports, and is polled for what its venues have due (delayed answers,
//! timeouts), so it runs fused, on its own pinned thread, in replay and in
//! a backtest alike.

use crate::core::Gateway;
use crate::venue::{Venue, WriteAhead};
use pt_engine::graph::{Node, NodeKind, Out, Polled};
use pt_engine::model::{Event, Nanos};

/// Node name the engine's graph uses.
pub const NAME: &str = "gateway";

/// A [`Gateway`] in a graph.
#[derive(Debug)]
pub struct GatewayNode<P, L, J> {
    gateway: Gateway<P, L, J>,
}

impl<P, L, J> GatewayNode<P, L, J> {
    /// Wraps `gateway`.
    pub fn new(gateway: Gateway<P, L, J>) -> Self {
        GatewayNode { gateway }
    }

    /// The gateway.
    pub fn gateway(&self) -> &Gateway<P, L, J> {
        &self.gateway
    }

    /// The gateway, to stage a policy or read its journal.
    pub fn gateway_mut(&mut self) -> &mut Gateway<P, L, J> {
        &mut self.gateway
    }
}

impl<P, L, J> Node<Event> for GatewayNode<P, L, J>
where
    P: Venue + Send + 'static,
    L: Venue + Send + 'static,
    J: WriteAhead + Send + 'static,
{
    fn name(&self) -> &str {
        NAME
    }

    fn kind(&self) -> NodeKind {
        NodeKind::Edge
    }

    #[inline]
    fn on_event(&mut self, event: &Event, now: Nanos, out: &mut Out<Event>) {
        self.gateway.on_event(event, now, out);
    }

    fn poll(&mut self, now: Nanos, out: &mut Out<Event>) -> Polled {
        let before = out.len();
        self.gateway.poll(now, out);
        match out.len() - before {
            0 => Polled::Idle,
            n => Polled::Emitted(n),
        }
    }

    fn expected_outputs(&self) -> usize {
        16
    }
}
