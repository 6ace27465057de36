//! A graph thread's rings: sending on links to other threads (waiting
//! while taking back-edges, or dropping and marking stale) and taking what
//! comes in.

use super::core::{LinkCounters, Remote, accept};
use super::node::GraphEvent;
use super::spec::{LinkId, Overflow};
use crate::model::Nanos;
use crate::pipeline::link::{LinkRx, LinkTx};
use crate::pipeline::{Backoff, MAX_BATCH, WaitStrategy};
use std::collections::VecDeque;

/// A link's sending side on a thread.
pub(super) struct RingTx<E> {
    pub(super) tx: LinkTx<E>,
    pub(super) overflow: Overflow,
    /// Instruments whose data was dropped and whose stale mark is not yet
    /// delivered.
    pub(super) pending: Vec<u32>,
}

/// A ring a thread receives from.
pub(super) struct Inbound<E> {
    pub(super) link: LinkId,
    pub(super) rx: LinkRx<E>,
    /// From a later thread (gateway → strategy).
    pub(super) back: bool,
}

/// A thread's rings: what it sends on and what it receives from.
pub(super) struct Rings<E> {
    pub(super) tx: Vec<Option<RingTx<E>>>,
    pub(super) inbound: Vec<Inbound<E>>,
    pub(super) wait: WaitStrategy,
    pub(super) now: Nanos,
    /// Queue growth while a blocked sender took its own inputs.
    pub(super) backlog_grew: u64,
}

impl<E: GraphEvent> Rings<E> {
    /// Moves what the inbound rings hold into `queue` (only the back-edges'
    /// when `back_only`).
    pub(super) fn pull(
        inbound: &mut [Inbound<E>],
        back_only: bool,
        queue: &mut VecDeque<(LinkId, E)>,
        grew: &mut u64,
        counters: &mut [LinkCounters],
    ) -> usize {
        let mut taken = 0;
        for Inbound { link, rx, back } in inbound.iter_mut() {
            if back_only && !*back {
                continue;
            }
            let id = *link;
            taken += rx.recv_batch(MAX_BATCH, |e| accept(queue, grew, counters, id, e));
            let c = &mut counters[usize::from(id.0)];
            c.max_depth = c.max_depth.max(rx.max_depth() as u64);
        }
        taken
    }

    /// Delivers pending stale marks on `tx`; `false` while some remain.
    fn flush_stale(tx: &mut RingTx<E>, now: Nanos, c: &mut LinkCounters) -> bool {
        while let Some(&instrument) = tx.pending.first() {
            if tx.tx.try_send(E::stale_mark(instrument, now)).is_err() {
                return false;
            }
            tx.pending.remove(0);
            c.sent += 1;
            c.stale_marks += 1;
        }
        true
    }

    /// Whether some stale mark waits for room.
    pub(super) fn has_pending(&self) -> bool {
        self.tx.iter().flatten().any(|t| !t.pending.is_empty())
    }

    /// Delivers every pending stale mark there is room for; how many.
    pub(super) fn flush_all(&mut self, counters: &mut [LinkCounters]) -> usize {
        let mut sent = 0;
        for (i, tx) in self.tx.iter_mut().enumerate() {
            if let Some(tx) = tx.as_mut().filter(|t| !t.pending.is_empty()) {
                let before = counters[i].stale_marks;
                Self::flush_stale(tx, self.now, &mut counters[i]);
                sent += (counters[i].stale_marks - before) as usize;
            }
        }
        sent
    }
}

impl<E: GraphEvent> Remote<E> for Rings<E> {
    fn send(
        &mut self,
        link: LinkId,
        event: E,
        queue: &mut VecDeque<(LinkId, E)>,
        counters: &mut [LinkCounters],
    ) {
        let i = usize::from(link.0);
        let Rings {
            tx,
            inbound,
            wait,
            now,
            backlog_grew,
        } = self;
        let Some(tx) = tx[i].as_mut() else {
            return;
        };
        if tx.overflow == Overflow::MarkStale && !event.repairs() {
            let room = Self::flush_stale(tx, *now, &mut counters[i]);
            let refused = if room {
                tx.tx.try_send(event).err()
            } else {
                Some(event)
            };
            match refused {
                None => counters[i].sent += 1,
                Some(e) => {
                    counters[i].dropped += 1;
                    let instrument = e.instrument();
                    if !tx.pending.contains(&instrument) {
                        tx.pending.push(instrument);
                    }
                }
            }
            return;
        }
        // A blocking link, or a snapshot on a market-data link: dropping the
        // data that repairs a book would only make the book ask for it again.
        let mut event = event;
        let mut backoff = Backoff::new(*wait);
        loop {
            // Stale marks first (none on a blocking link): nothing newer
            // overtakes them.
            let room = Self::flush_stale(tx, *now, &mut counters[i]);
            let refused = if room {
                tx.tx.try_send(event).err()
            } else {
                Some(event)
            };
            let Some(back) = refused else {
                counters[i].sent += 1;
                return;
            };
            event = back;
            if tx.tx.is_disconnected() {
                counters[i].dropped += 1;
                return;
            }
            counters[i].full_waits += 1;
            // Keep taking what comes back from later threads while the
            // receiver is busy: it may itself be waiting to send to us.
            // Every cycle of waiting threads has a back-edge, so this breaks
            // it; forward inputs stay in their rings, so the queue holds at
            // most what the cycle carries.
            if Self::pull(inbound, true, queue, backlog_grew, counters) == 0 {
                backoff.wait();
            }
        }
    }
}
