//! What a thread does while its input ring is empty or its output ring full.

use core::fmt;
use std::time::Duration;

/// How a stage thread waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitStrategy {
    /// Spin on the ring with a pause hint. Lowest latency; burns the core, so
    /// only for threads with a dedicated core.
    BusySpin,
    /// Spin briefly, then yield the core to other threads between polls.
    SpinYield,
    /// Spin, yield, then sleep with exponential backoff up to
    /// [`Backoff::MAX_PARK`]. For shared or idle hosts.
    Park,
}

impl fmt::Display for WaitStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitStrategy::BusySpin => "busy-spin",
            WaitStrategy::SpinYield => "spin-yield",
            WaitStrategy::Park => "park",
        })
    }
}

impl core::str::FromStr for WaitStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "busy-spin" => Ok(WaitStrategy::BusySpin),
            "spin-yield" => Ok(WaitStrategy::SpinYield),
            "park" => Ok(WaitStrategy::Park),
            other => Err(format!(
                "unknown wait strategy {other:?}; expected busy-spin, spin-yield or park"
            )),
        }
    }
}

/// The state of one wait: call [`Backoff::wait`] each time the ring is still
/// not ready and [`Backoff::reset`] once it is.
#[derive(Clone, Debug)]
pub struct Backoff {
    strategy: WaitStrategy,
    step: u32,
}

impl Backoff {
    /// Spins before yielding (spin-yield and park).
    pub const SPINS: u32 = 64;
    /// Yields before parking (park).
    pub const YIELDS: u32 = 16;
    /// The longest single sleep of the park strategy.
    pub const MAX_PARK: Duration = Duration::from_millis(1);

    /// A fresh wait.
    pub const fn new(strategy: WaitStrategy) -> Backoff {
        Backoff { strategy, step: 0 }
    }

    /// Waits once, a little longer than last time where the strategy backs off.
    #[inline]
    pub fn wait(&mut self) {
        match self.strategy {
            WaitStrategy::BusySpin => core::hint::spin_loop(),
            WaitStrategy::SpinYield => {
                if self.step < Self::SPINS {
                    self.step += 1;
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Park => {
                if self.step < Self::SPINS {
                    core::hint::spin_loop();
                } else if self.step < Self::SPINS + Self::YIELDS {
                    std::thread::yield_now();
                } else {
                    let doublings = (self.step - Self::SPINS - Self::YIELDS).min(10);
                    let sleep = Duration::from_micros(1u64 << doublings).min(Self::MAX_PARK);
                    std::thread::park_timeout(sleep);
                }
                self.step = self.step.saturating_add(1);
            }
        }
    }

    /// The ring became ready: the next wait starts from the beginning.
    #[inline]
    pub fn reset(&mut self) {
        self.step = 0;
    }
}
