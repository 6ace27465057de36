//! The transports under comparison.

use super::Spsc;
use pt_engine::pipeline::WaitStrategy;
use pt_engine::pipeline::link::{LinkRx, LinkTx, link};
use std::sync::Arc;

/// The transports [`crate::one_hop`] and [`crate::stream`] can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// The pipeline link (`pt_engine::pipeline::link`), used as the stage
    /// threads use it: blocking send, batched receive.
    PtLink,
    /// rtrb used directly: `push` and `pop` one value at a time.
    Rtrb,
    /// `crossbeam_queue::ArrayQueue` (a bounded MPMC queue).
    CrossbeamArrayQueue,
    /// `std::sync::mpsc::sync_channel`, polled with `try_recv`.
    StdSyncChannel,
    /// The `disruptor` crate, single producer, event poller, busy-spin.
    Disruptor,
}

impl Transport {
    /// Every transport, the pipeline link first.
    pub const ALL: [Transport; 5] = [
        Transport::PtLink,
        Transport::Rtrb,
        Transport::CrossbeamArrayQueue,
        Transport::StdSyncChannel,
        Transport::Disruptor,
    ];

    /// Short name for tables and bench ids.
    pub fn name(self) -> &'static str {
        match self {
            Transport::PtLink => "pt-link",
            Transport::Rtrb => "rtrb",
            Transport::CrossbeamArrayQueue => "crossbeam-arrayqueue",
            Transport::StdSyncChannel => "std-sync-channel",
            Transport::Disruptor => "disruptor",
        }
    }

    /// [`crate::one_hop`] on this transport.
    pub fn one_hop(self, hops: u64, placement: crate::Placement) -> std::time::Duration {
        match self {
            Transport::PtLink => crate::one_hop::<PtLink>(hops, placement),
            Transport::Rtrb => crate::one_hop::<Rtrb>(hops, placement),
            Transport::CrossbeamArrayQueue => crate::one_hop::<ArrayQueue>(hops, placement),
            Transport::StdSyncChannel => crate::one_hop::<SyncChannel>(hops, placement),
            Transport::Disruptor => crate::one_hop::<Disruptor>(hops, placement),
        }
    }

    /// [`crate::stream`] on this transport.
    pub fn stream(
        self,
        count: u64,
        capacity: usize,
        placement: crate::Placement,
    ) -> std::time::Duration {
        match self {
            Transport::PtLink => crate::stream::<PtLink>(count, capacity, placement),
            Transport::Rtrb => crate::stream::<Rtrb>(count, capacity, placement),
            Transport::CrossbeamArrayQueue => {
                crate::stream::<ArrayQueue>(count, capacity, placement)
            }
            Transport::StdSyncChannel => crate::stream::<SyncChannel>(count, capacity, placement),
            Transport::Disruptor => crate::stream::<Disruptor>(count, capacity, placement),
        }
    }
}

enum PtLink {}

impl Spsc for PtLink {
    type Tx = LinkTx<u64>;
    type Rx = LinkRx<u64>;
    fn pair(capacity: usize) -> (Self::Tx, Self::Rx) {
        link(capacity, WaitStrategy::BusySpin)
    }
    #[inline]
    fn send(tx: &mut Self::Tx, value: u64) {
        let _ = tx.send(value);
    }
    #[inline]
    fn recv(rx: &mut Self::Rx, f: &mut dyn FnMut(u64)) -> usize {
        rx.recv_batch(pt_engine::pipeline::MAX_BATCH, f)
    }
}

enum Rtrb {}

impl Spsc for Rtrb {
    type Tx = rtrb::Producer<u64>;
    type Rx = rtrb::Consumer<u64>;
    fn pair(capacity: usize) -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(capacity.next_power_of_two())
    }
    #[inline]
    fn send(tx: &mut Self::Tx, value: u64) {
        while tx.push(value).is_err() {
            core::hint::spin_loop();
        }
    }
    #[inline]
    fn recv(rx: &mut Self::Rx, f: &mut dyn FnMut(u64)) -> usize {
        let mut n = 0;
        while let Ok(v) = rx.pop() {
            f(v);
            n += 1;
        }
        n
    }
}

enum ArrayQueue {}

impl Spsc for ArrayQueue {
    type Tx = Arc<crossbeam_queue::ArrayQueue<u64>>;
    type Rx = Arc<crossbeam_queue::ArrayQueue<u64>>;
    fn pair(capacity: usize) -> (Self::Tx, Self::Rx) {
        let q = Arc::new(crossbeam_queue::ArrayQueue::new(
            capacity.next_power_of_two(),
        ));
        (q.clone(), q)
    }
    #[inline]
    fn send(tx: &mut Self::Tx, value: u64) {
        while tx.push(value).is_err() {
            core::hint::spin_loop();
        }
    }
    #[inline]
    fn recv(rx: &mut Self::Rx, f: &mut dyn FnMut(u64)) -> usize {
        let mut n = 0;
        while let Some(v) = rx.pop() {
            f(v);
            n += 1;
        }
        n
    }
}

enum SyncChannel {}

impl Spsc for SyncChannel {
    type Tx = std::sync::mpsc::SyncSender<u64>;
    type Rx = std::sync::mpsc::Receiver<u64>;
    fn pair(capacity: usize) -> (Self::Tx, Self::Rx) {
        std::sync::mpsc::sync_channel(capacity.next_power_of_two())
    }
    #[inline]
    fn send(tx: &mut Self::Tx, value: u64) {
        let mut v = value;
        loop {
            match tx.try_send(v) {
                Ok(()) => return,
                Err(std::sync::mpsc::TrySendError::Full(back)) => {
                    v = back;
                    core::hint::spin_loop();
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return,
            }
        }
    }
    #[inline]
    fn recv(rx: &mut Self::Rx, f: &mut dyn FnMut(u64)) -> usize {
        let mut n = 0;
        while let Ok(v) = rx.try_recv() {
            f(v);
            n += 1;
        }
        n
    }
}

/// The disruptor's slot type.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    value: u64,
}

enum Disruptor {}

type DisruptorPoller = disruptor::EventPoller<Slot, disruptor::SingleProducerBarrier>;
type DisruptorProducer = disruptor::SingleProducer<Slot, disruptor::SingleConsumerBarrier>;

impl Spsc for Disruptor {
    type Tx = DisruptorProducer;
    type Rx = DisruptorPoller;
    fn pair(capacity: usize) -> (Self::Tx, Self::Rx) {
        let builder = disruptor::build_single_producer(
            capacity.next_power_of_two(),
            Slot::default,
            disruptor::BusySpin,
        );
        let (poller, builder) = builder.new_event_poller();
        (builder.build(), poller)
    }
    #[inline]
    fn send(tx: &mut Self::Tx, value: u64) {
        use disruptor::Producer;
        tx.publish(|slot| slot.value = value);
    }
    #[inline]
    fn recv(rx: &mut Self::Rx, f: &mut dyn FnMut(u64)) -> usize {
        match rx.poll() {
            Ok(mut events) => {
                let mut n = 0;
                for slot in &mut events {
                    f(slot.value);
                    n += 1;
                }
                n
            }
            Err(_) => 0,
        }
    }
}
