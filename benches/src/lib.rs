//! Bench harness shared by the criterion benches and `pt bench`.
//!
//! Every SPSC transport is driven the same way: two threads, optionally
//! pinned, each busy-polling its side. [`one_hop`] bounces a value back and
//! forth (one hop = half a round trip); [`stream`] moves a run of values one
//! way. The transports are the pipeline link and its peers: raw rtrb,
//! crossbeam's `ArrayQueue`, `std::sync::mpsc::sync_channel` and the
//! `disruptor` crate.

pub mod binance;
pub mod journal;
pub mod kalshi;
mod peers;

pub use peers::Transport;

use std::time::{Duration, Instant};

/// Cores to pin the two threads to: (driver, echo/consumer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Core of the thread that starts and times the run.
    pub driver: Option<usize>,
    /// Core of the other thread.
    pub peer: Option<usize>,
}

impl Placement {
    /// The first two cores available, if there are two.
    ///
    /// Decided once, at the first call: the driver pins itself, and a pinned
    /// thread sees only its own core (threads it spawns inherit that mask), so
    /// asking again later would put both threads on one core.
    pub fn first_two_cores() -> Placement {
        static FIRST: std::sync::OnceLock<Placement> = std::sync::OnceLock::new();
        *FIRST.get_or_init(|| {
            let cores = pt_engine::pipeline::available_cores();
            match cores.as_slice() {
                [a, b, ..] => Placement {
                    driver: Some(*a),
                    peer: Some(*b),
                },
                _ => Placement::default(),
            }
        })
    }
}

fn pin(core: Option<usize>) {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
}

/// A one-way SPSC transport of `u64`s, busy-polled.
pub trait Spsc {
    /// The sending half.
    type Tx: Send + 'static;
    /// The receiving half.
    type Rx: Send + 'static;
    /// A transport holding at least `capacity` values.
    fn pair(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Sends, spinning while full.
    fn send(tx: &mut Self::Tx, value: u64);
    /// Hands every value waiting now to `f`; returns how many.
    fn recv(rx: &mut Self::Rx, f: &mut dyn FnMut(u64)) -> usize;
}

const STOP: u64 = u64::MAX;

fn recv_one<S: Spsc>(rx: &mut S::Rx) -> u64 {
    let mut got = None;
    while got.is_none() {
        if S::recv(rx, &mut |v| got = Some(v)) == 0 {
            core::hint::spin_loop();
        }
    }
    got.unwrap_or(STOP)
}

/// Time for `hops` one-way hops, bounced between two threads: the driver
/// sends, the peer echoes, one value in flight at a time.
pub fn one_hop<S: Spsc>(hops: u64, placement: Placement) -> Duration {
    let round_trips = hops.div_ceil(2).max(1);
    let (mut ping_tx, mut ping_rx) = S::pair(64);
    let (mut pong_tx, mut pong_rx) = S::pair(64);
    let echo = std::thread::spawn(move || {
        pin(placement.peer);
        loop {
            let v = recv_one::<S>(&mut ping_rx);
            S::send(&mut pong_tx, v);
            if v == STOP {
                return;
            }
        }
    });
    pin(placement.driver);
    // Warm up caches and the branch predictor on both sides.
    for i in 0..1000 {
        S::send(&mut ping_tx, i);
        recv_one::<S>(&mut pong_rx);
    }
    let start = Instant::now();
    for i in 0..round_trips {
        S::send(&mut ping_tx, i);
        let back = recv_one::<S>(&mut pong_rx);
        debug_assert_eq!(back, i);
    }
    let elapsed = start.elapsed();
    S::send(&mut ping_tx, STOP);
    recv_one::<S>(&mut pong_rx);
    let _ = echo.join();
    elapsed.mul_f64(hops as f64 / (2 * round_trips) as f64)
}

/// Time to move `count` values from one thread to another through a ring
/// of `capacity`, from the first send to the last receive.
pub fn stream<S: Spsc>(count: u64, capacity: usize, placement: Placement) -> Duration {
    let (mut tx, mut rx) = S::pair(capacity);
    let (mut ready_tx, mut ready_rx) = S::pair(2);
    let consumer = std::thread::spawn(move || {
        pin(placement.peer);
        S::send(&mut ready_tx, 0);
        let mut seen = 0u64;
        let mut sum = 0u64;
        while seen < count {
            let n = S::recv(&mut rx, &mut |v| sum = sum.wrapping_add(v));
            if n == 0 {
                core::hint::spin_loop();
            }
            seen += n as u64;
        }
        let end = Instant::now();
        assert_eq!(
            sum,
            count.wrapping_mul(count.wrapping_sub(1)) / 2,
            "values lost or corrupted"
        );
        end
    });
    pin(placement.driver);
    recv_one::<S>(&mut ready_rx);
    let start = Instant::now();
    for i in 0..count {
        S::send(&mut tx, i);
    }
    let end = consumer.join().unwrap_or_else(|_| Instant::now());
    end.saturating_duration_since(start)
}

/// The median, fastest and slowest of `times` (zero for none).
pub fn median_of(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    times.sort_unstable();
    match (times.first(), times.get(times.len() / 2), times.last()) {
        (Some(&min), Some(&median), Some(&max)) => (median, min, max),
        _ => Default::default(),
    }
}
