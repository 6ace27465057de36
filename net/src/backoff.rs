//! Jittered exponential reconnect delays.
//!
//! Two strategies from "Exponential Backoff And Jitter" (AWS architecture
//! blog, 2015): *full* jitter draws uniformly from `[0, min(cap, base·2ⁿ)]`;
//! *decorrelated* jitter draws from `[base, 3·previous]`, capped. Both spread
//! reconnecting clients out so a venue restart is not met by a thundering
//! herd. The generator is seeded by the caller, so a test can replay delays.

use super::rng::XorShift64;
use std::time::Duration;

/// Which jitter to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Uniform in `[0, min(cap, base·2^attempt)]`.
    Full,
    /// Uniform in `[base, min(cap, 3·previous)]`.
    Decorrelated,
}

/// Reconnect delay generator; [`Backoff::reset`] after a successful connect.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    jitter: Jitter,
    rng: XorShift64,
    attempt: u32,
    previous: Duration,
}

impl Backoff {
    /// Delays starting near `base`, never above `cap` (`cap` is raised to
    /// `base` if smaller); `seed` fixes the jitter sequence.
    pub fn new(base: Duration, cap: Duration, jitter: Jitter, seed: u64) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            jitter,
            rng: XorShift64::new(seed),
            attempt: 0,
            previous: base,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let delay = match self.jitter {
            Jitter::Full => {
                let ceiling = self
                    .base
                    .saturating_mul(1u32 << self.attempt.min(31))
                    .min(self.cap);
                self.uniform(Duration::ZERO, ceiling)
            }
            Jitter::Decorrelated => {
                let ceiling = self.previous.saturating_mul(3).min(self.cap);
                self.uniform(self.base, ceiling)
            }
        };
        self.attempt = self.attempt.saturating_add(1);
        self.previous = delay.max(self.base);
        delay
    }

    /// Failed attempts since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Back to the first delay (call once a connection is up).
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.previous = self.base;
    }

    fn uniform(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_nanos() as u64;
        let offset = match span.checked_add(1) {
            Some(n) => self.rng.next_u64() % n,
            None => self.rng.next_u64(),
        };
        low + Duration::from_nanos(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(100);
    const CAP: Duration = Duration::from_secs(10);

    #[test]
    fn full_jitter_stays_under_the_exponential_ceiling_and_the_cap() {
        let mut b = Backoff::new(BASE, CAP, Jitter::Full, 7);
        for n in 0..200u32 {
            let ceiling = BASE.saturating_mul(1 << n.min(31)).min(CAP);
            assert!(b.next_delay() <= ceiling, "attempt {n}");
        }
        assert_eq!(b.attempts(), 200);
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert!(b.next_delay() <= BASE);
    }

    #[test]
    fn decorrelated_jitter_stays_within_base_and_cap() {
        let mut b = Backoff::new(BASE, CAP, Jitter::Decorrelated, 11);
        let mut previous = BASE;
        let mut reached_cap_region = false;
        for _ in 0..500 {
            let d = b.next_delay();
            assert!(
                d >= BASE && d <= CAP && d <= previous * 3,
                "{d:?} after {previous:?}"
            );
            reached_cap_region |= d > CAP / 2;
            previous = d;
        }
        assert!(reached_cap_region, "delays should grow towards the cap");
    }

    #[test]
    fn same_seed_same_delays_different_seed_different_delays() {
        let run = |seed| {
            let mut b = Backoff::new(BASE, CAP, Jitter::Full, seed);
            (0..20).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn degenerate_settings_do_not_panic() {
        let mut b = Backoff::new(Duration::MAX, Duration::ZERO, Jitter::Full, 1);
        for _ in 0..100 {
            let _ = b.next_delay();
        }
        let mut b = Backoff::new(Duration::ZERO, Duration::ZERO, Jitter::Decorrelated, 1);
        assert_eq!(b.next_delay(), Duration::ZERO);
    }
}
