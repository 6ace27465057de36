//! The pipeline link: an rtrb SPSC ring with the runtime's accounting.
//!
//! A thin layer over [`rtrb`]: the sender blocks with a [`Backoff`] when the
//! ring is full and counts how often it had to wait; the receiver consumes in
//! batches through one read chunk (one acquire load and one release store per
//! batch instead of per event) and remembers the deepest backlog it saw. The
//! cost over raw rtrb is measured by `benches/benches/ring.rs` (see
//! `BENCHMARKS.md`).

use super::wait::{Backoff, WaitStrategy};

/// The receiving side is gone; the event is given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disconnected<T>(pub T);

/// Creates a link holding up to `capacity` events (rounded up to a power of two).
pub fn link<T: Copy + Send>(capacity: usize, wait: WaitStrategy) -> (LinkTx<T>, LinkRx<T>) {
    let capacity = capacity.max(2).next_power_of_two();
    let (producer, consumer) = rtrb::RingBuffer::new(capacity);
    (
        LinkTx {
            ring: producer,
            wait,
            full_waits: 0,
        },
        LinkRx {
            ring: consumer,
            max_depth: 0,
        },
    )
}

/// The sending side of a link.
///
/// Aligned to 128 bytes (two cache lines, the prefetch pair on x86-64): the
/// sender rewrites its cached indices on every send, and nothing the other
/// thread touches may share their line.
#[derive(Debug)]
#[repr(align(128))]
pub struct LinkTx<T> {
    ring: rtrb::Producer<T>,
    wait: WaitStrategy,
    full_waits: u64,
}

impl<T: Copy + Send> LinkTx<T> {
    /// Sends `event`, waiting while the ring is full. Never drops: it fails
    /// only when the receiver is gone.
    #[inline(always)]
    pub fn send(&mut self, event: T) -> Result<(), Disconnected<T>> {
        // The fast path is a bare push, small enough to inline into the
        // stage loop; waiting lives out of line (it measurably slowed the
        // common case when inlined: see BENCHMARKS.md).
        let event = match self.ring.push(event) {
            Ok(()) => return Ok(()),
            Err(rtrb::PushError::Full(back)) => back,
        };
        if self.wait == WaitStrategy::BusySpin {
            return self.spin_until_sent(event);
        }
        self.send_when_full(event)
    }

    /// Busy-spin: retry after each pause, with nothing else in the loop.
    /// Out of line, so the fast path above stays small enough to inline
    /// into every caller's loop.
    #[inline(never)]
    fn spin_until_sent(&mut self, event: T) -> Result<(), Disconnected<T>> {
        let mut event = event;
        let mut waits: u64 = 0;
        loop {
            core::hint::spin_loop();
            waits += 1;
            match self.ring.push(event) {
                Ok(()) => {
                    self.full_waits += waits;
                    return Ok(());
                }
                Err(rtrb::PushError::Full(back)) => event = back,
            }
            if waits.is_multiple_of(64) && self.ring.is_abandoned() {
                self.full_waits += waits;
                return Err(Disconnected(event));
            }
        }
    }

    #[inline(never)]
    fn send_when_full(&mut self, event: T) -> Result<(), Disconnected<T>> {
        let mut event = event;
        let mut backoff = Backoff::new(self.wait);
        // Counted locally and added once: the loop touches nothing but the
        // ring, as a bare spin on rtrb does.
        let mut waits: u64 = 0;
        let result = loop {
            // A gone receiver is rare; look every 64 waits.
            if waits % 64 == 63 && self.ring.is_abandoned() {
                break Err(Disconnected(event));
            }
            waits += 1;
            backoff.wait();
            match self.ring.push(event) {
                Ok(()) => break Ok(()),
                Err(rtrb::PushError::Full(back)) => event = back,
            }
        };
        self.full_waits += waits;
        result
    }

    /// Sends `event` if there is room now; gives it back otherwise.
    #[inline]
    pub fn try_send(&mut self, event: T) -> Result<(), T> {
        self.ring
            .push(event)
            .map_err(|rtrb::PushError::Full(back)| back)
    }

    /// How many times a send found the ring full and waited.
    pub fn full_waits(&self) -> u64 {
        self.full_waits
    }

    /// Whether the receiver is gone.
    pub fn is_disconnected(&self) -> bool {
        self.ring.is_abandoned()
    }

    /// Events the ring can hold.
    pub fn capacity(&self) -> usize {
        self.ring.buffer().capacity()
    }
}

/// The receiving side of a link; aligned for the same reason as [`LinkTx`].
#[derive(Debug)]
#[repr(align(128))]
pub struct LinkRx<T> {
    ring: rtrb::Consumer<T>,
    max_depth: usize,
}

impl<T: Copy + Send> LinkRx<T> {
    /// Events waiting now.
    #[inline]
    pub fn available(&self) -> usize {
        self.ring.slots()
    }

    /// Hands up to `max` waiting events to `handle`, in order, and frees
    /// their slots afterwards. Returns how many there were (0 when empty).
    #[inline]
    pub fn recv_batch(&mut self, max: usize, mut handle: impl FnMut(T)) -> usize {
        // Use what is already known to be waiting when it fills a batch;
        // otherwise read the producer's index (contended, so only then) to
        // take a whole batch and free its slots in one commit.
        let max = max.max(1);
        let mut waiting = self.ring.cached_slots();
        if waiting < max {
            waiting = self.ring.slots();
            if waiting == 0 {
                return 0;
            }
        }
        self.max_depth = self.max_depth.max(waiting);
        let take = waiting.min(max);
        match self.ring.read_chunk(take) {
            Ok(chunk) => {
                let (first, second) = chunk.as_slices();
                for event in first.iter().chain(second) {
                    handle(*event);
                }
                chunk.commit_all();
                take
            }
            // Unreachable: `take` slots were just observed and only this
            // consumer removes them. Report nothing rather than panic.
            Err(_) => 0,
        }
    }

    /// One event, if any is waiting.
    #[inline]
    pub fn try_recv(&mut self) -> Option<T> {
        self.ring.pop().ok()
    }

    /// The sender is gone and every event it sent has been received.
    pub fn is_finished(&self) -> bool {
        // Check abandonment first: once the sender is gone no new slots can
        // appear, so an empty ring observed afterwards stays empty.
        self.ring.is_abandoned() && self.ring.is_empty()
    }

    /// The deepest backlog seen by `recv_batch` (as known to the receiver,
    /// which reads the sender's index only when it runs out of known events).
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_rounds_up_to_a_power_of_two() {
        let (tx, _rx) = link::<u64>(1000, WaitStrategy::BusySpin);
        assert_eq!(tx.capacity(), 1024);
    }

    #[test]
    fn batches_keep_order_and_track_depth() {
        let (mut tx, mut rx) = link::<u64>(8, WaitStrategy::BusySpin);
        for i in 0..8 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.try_send(99), Err(99));
        let mut seen = Vec::new();
        assert_eq!(rx.recv_batch(5, |v| seen.push(v)), 5);
        assert_eq!(rx.recv_batch(100, |v| seen.push(v)), 3);
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
        assert_eq!(rx.max_depth(), 8);
        assert!(!rx.is_finished());
        drop(tx);
        assert!(rx.is_finished());
    }

    #[test]
    fn send_reports_a_gone_receiver_instead_of_spinning() {
        let (mut tx, rx) = link::<u64>(2, WaitStrategy::BusySpin);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(rx);
        assert_eq!(tx.send(3), Err(Disconnected(3)));
        assert!(tx.is_disconnected());
    }

    #[test]
    fn a_full_ring_waits_rather_than_drops() {
        let (mut tx, mut rx) = link::<u64>(2, WaitStrategy::SpinYield);
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 10_000 {
                rx.recv_batch(1, |v| got.push(v));
            }
            got
        });
        for i in 0..10_000 {
            tx.send(i).unwrap();
        }
        assert_eq!(consumer.join().unwrap(), (0..10_000).collect::<Vec<_>>());
        assert!(tx.full_waits() > 0);
    }
}
