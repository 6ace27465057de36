//! Nanosecond timestamps.

use core::fmt;

/// Nanoseconds since the Unix epoch (UTC). Venue times and local receive and
/// stage times all use it, so differences are latencies directly.
///
/// Core logic never reads a clock; time arrives as an input. The runtime reads
/// it with [`Nanos::now`] at the edges.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, bytemuck::Pod, bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// "Not set": venue time absent, stage not reached.
    pub const UNSET: Nanos = Nanos(0);

    /// The wall clock now (`CLOCK_REALTIME` through the vDSO on Linux).
    pub fn now() -> Nanos {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Nanos(i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX))
    }

    /// `self - earlier` in nanoseconds, or 0 when the clock stepped backwards.
    pub const fn saturating_since(self, earlier: Nanos) -> u64 {
        let d = self.0.saturating_sub(earlier.0);
        if d < 0 { 0 } else { d as u64 }
    }

    /// Whether the timestamp is set.
    pub const fn is_set(self) -> bool {
        self.0 != 0
    }
}

impl fmt::Debug for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nanos({})", self.0)
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}",
            self.0.div_euclid(1_000_000_000),
            self.0.rem_euclid(1_000_000_000)
        )
    }
}
