//! The stage contract and the events a pipeline can carry.

use crate::model::{Event, Mono, Nanos, STAGE_STAMPS, Stamp};

/// An event a pipeline can carry: copied through rings, stamped by stages.
pub trait PipelineEvent: Copy + Send + 'static {
    /// When the event entered the host (its receive time), if it carries one;
    /// the reference for the first stage's latency.
    fn origin(&self) -> Option<Nanos>;

    /// The time stage `slot` took the event, if it was stamped there.
    fn stamp_of(&self, slot: usize) -> Option<Nanos>;

    /// Records that stage `slot` took the event at `at`.
    fn stamp(&mut self, slot: usize, at: Nanos);

    /// The reference time for stage `slot`'s latency: the previous stage's
    /// stamp, or the origin for the first stage.
    fn stamp_before(&self, slot: usize) -> Option<Nanos> {
        match slot {
            0 => self.origin(),
            _ => self.stamp_of(slot - 1),
        }
    }
}

impl PipelineEvent for Event {
    fn origin(&self) -> Option<Nanos> {
        let t = self.header().recv_ts;
        t.is_set().then_some(t)
    }

    // The linear pipeline stamps by position with the wall time it hands its
    // stages: slot `k` names stage `k` and keeps the low 56 bits, and the high
    // bits come back from the receive time (the graph runtime stamps with the
    // monotonic clock instead).
    fn stamp_of(&self, slot: usize) -> Option<Nanos> {
        let s = *self.header().stamps.get(slot)?;
        if !s.is_set() || usize::from(s.node()) != slot {
            return None;
        }
        let high = (self.header().recv_ts.0 as u64) & !((1u64 << 56) - 1);
        Some(Nanos((high | s.at().0) as i64))
    }

    fn stamp(&mut self, slot: usize, at: Nanos) {
        if let Some(s) = self.header_mut().stamps.get_mut(slot) {
            *s = Stamp::new(slot as u8, Mono(at.0 as u64));
        }
    }
}

/// Plain integers carry no timestamps; benches and tests use them to measure
/// the runtime alone.
impl PipelineEvent for u64 {
    fn origin(&self) -> Option<Nanos> {
        None
    }
    fn stamp_of(&self, _slot: usize) -> Option<Nanos> {
        None
    }
    fn stamp(&mut self, _slot: usize, _at: Nanos) {}
}

/// A stage's outputs for one input, in order. Fixed capacity, allocated once
/// when the pipeline is built.
#[derive(Debug)]
pub struct Outbox<E> {
    items: Vec<E>,
    capacity: usize,
    refused: u64,
}

/// The outbox already holds as many events as the stage declared it emits
/// per input; the event is given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxFull<E>(pub E);

impl<E: Copy> Outbox<E> {
    /// An outbox for up to `capacity` events per input (at least one).
    pub fn with_capacity(capacity: usize) -> Outbox<E> {
        let capacity = capacity.max(1);
        Outbox {
            items: Vec::with_capacity(capacity),
            capacity,
            refused: 0,
        }
    }

    /// Emits `event` after those already emitted for this input.
    #[inline]
    pub fn push(&mut self, event: E) -> Result<(), OutboxFull<E>> {
        if self.items.len() == self.capacity {
            self.refused += 1;
            return Err(OutboxFull(event));
        }
        self.items.push(event);
        Ok(())
    }

    /// Events emitted so far for this input.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was emitted.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Emitted events, in order.
    pub fn as_slice(&self) -> &[E] {
        &self.items
    }

    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<E> {
        self.items.get(index).copied()
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    /// Pushes refused because the outbox was full, since the last call.
    pub(crate) fn take_refused(&mut self) -> u64 {
        core::mem::take(&mut self.refused)
    }
}

/// One step of the pipeline: pure logic from an event and the time to the
/// events it emits. No I/O, no locks, no clock reads, no allocation after
/// construction; the same stage runs on a pinned thread, fused with others on
/// one thread, in replay and in backtests, and must give the same outputs.
pub trait Stage<E>: Send {
    /// A short, unique name used by placement config and reports.
    fn name(&self) -> &str;

    /// Handles one event. `now` is the time the runtime took the event (wall
    /// clock when live, the event's own time in replay).
    fn on_event(&mut self, event: &E, now: Nanos, out: &mut Outbox<E>);

    /// The most events `on_event` emits for one input; sizes the outbox.
    fn max_outputs(&self) -> usize {
        1
    }
}

/// Stage stamps are kept for the first [`STAGE_STAMPS`] positions only.
pub const STAMPED_STAGES: usize = STAGE_STAMPS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_refuses_beyond_capacity_and_gives_the_event_back() {
        let mut out = Outbox::with_capacity(2);
        assert_eq!(out.push(1u64), Ok(()));
        assert_eq!(out.push(2), Ok(()));
        assert_eq!(out.push(3), Err(OutboxFull(3)));
        assert_eq!(out.as_slice(), &[1, 2]);
        assert_eq!(out.take_refused(), 1);
        out.clear();
        assert!(out.is_empty());
    }
}
