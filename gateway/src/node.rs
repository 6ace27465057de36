//! The gateway as a node of the engine's graph: it takes intents, book
//! updates, market data and commands on its input links, emits execution
//! reports, and is polled for what its venues have due (delayed answers,
//! timeouts), so it runs fused, on its own pinned thread, in replay and in
//! a backtest alike. Around the pure gateway it measures tick-to-trade:
//! from the receive time an approved intent inherits from the market event
//! behind it (the wall clock when the feed took the frame off the socket)
//! to its hand-over to the venue, on the same clock, wherever the stages
//! ran.

use crate::core::Gateway;
use crate::venue::{Venue, WriteAhead};
use hdrhistogram::Histogram;
use pt_engine::graph::{Node, NodeKind, Out, Polled};
use pt_engine::model::{Event, Nanos};
use pt_engine::pipeline::new_histogram;

/// Node name the engine's graph uses.
pub const NAME: &str = "gateway";

/// A [`Gateway`] in a graph.
#[derive(Debug)]
pub struct GatewayNode<P, L, J> {
    gateway: Gateway<P, L, J>,
    tick_to_trade: Histogram<u64>,
}

impl<P, L, J> GatewayNode<P, L, J> {
    /// Wraps `gateway`.
    pub fn new(gateway: Gateway<P, L, J>) -> Self {
        GatewayNode {
            gateway,
            tick_to_trade: new_histogram(),
        }
    }

    /// Tick-to-trade of every approved intent that carried a stamp (ns).
    pub fn tick_to_trade(&self) -> &Histogram<u64> {
        &self.tick_to_trade
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
        let Event::Intent(intent) = event else {
            self.gateway.on_event(event, now, out);
            return;
        };
        let approved = |g: &Gateway<P, L, J>| g.counters().approved.iter().sum::<u64>();
        let before = approved(&self.gateway);
        self.gateway.on_event(event, now, out);
        let received = intent.header.recv_ts;
        if received.is_set() && approved(&self.gateway) > before {
            let ns = Nanos::now().saturating_since(received);
            // Saturates at the histogram's top rather than failing.
            self.tick_to_trade.saturating_record(ns);
        }
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
