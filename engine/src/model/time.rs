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

/// Nanoseconds on this process's monotonic clock (`CLOCK_MONOTONIC`, which
/// never steps): what latency is measured with. Counted from the first read
/// in the process, plus one, so that 0 stays "not set". Not comparable across
/// processes; the wall-clock [`Nanos`] is kept for that and for venue times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mono(pub u64);

impl Mono {
    /// "Not read".
    pub const UNSET: Mono = Mono(0);

    /// The monotonic clock now.
    #[inline]
    pub fn now() -> Mono {
        static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let base = *BASE.get_or_init(std::time::Instant::now);
        let ns = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        Mono(ns + 1)
    }

    /// Whether the time was read.
    pub const fn is_set(self) -> bool {
        self.0 != 0
    }

    /// `self - earlier` in nanoseconds (0 if `earlier` is later).
    pub const fn saturating_since(self, earlier: Mono) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A stage stamp: which node took an event (the high 8 bits) and when, on
/// the [`Mono`] clock (the low 56 bits, 2.28 years of nanoseconds). A stamp
/// names its node, so the stamps of an event that passed a back-edge still
/// say where it was.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct Stamp(pub u64);

impl Stamp {
    /// No stamp.
    pub const UNSET: Stamp = Stamp(0);
    const TIME_BITS: u32 = 56;
    const TIME_MASK: u64 = (1 << Self::TIME_BITS) - 1;

    /// Node `node` took the event at `at`.
    #[inline]
    pub const fn new(node: u8, at: Mono) -> Stamp {
        Stamp(((node as u64) << Self::TIME_BITS) | (at.0 & Self::TIME_MASK))
    }

    /// The node that stamped.
    pub const fn node(self) -> u8 {
        (self.0 >> Self::TIME_BITS) as u8
    }

    /// When, on the monotonic clock (56 bits).
    pub const fn at(self) -> Mono {
        Mono(self.0 & Self::TIME_MASK)
    }

    /// Whether the stamp is set.
    pub const fn is_set(self) -> bool {
        self.0 & Self::TIME_MASK != 0
    }

    /// Nanoseconds from `earlier` to `self`.
    pub const fn since(self, earlier: Stamp) -> u64 {
        // 56 bits of nanoseconds last 2.28 years of process life; an
        // earlier stamp that reads later (taken on another thread after
        // this one's loop began) is 0, never a wrap.
        self.at().0.saturating_sub(earlier.at().0)
    }
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stamp(node {} at {})", self.node(), self.at().0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventKind, Header, InstrumentId, STAGE_STAMPS};

    #[test]
    fn a_stamp_names_its_node_and_keeps_its_time() {
        let at = Mono::now();
        assert!(at.is_set());
        let s = Stamp::new(7, at);
        assert_eq!(s.node(), 7);
        assert_eq!(s.at(), Mono(at.0 & ((1 << 56) - 1)));
        let later = Stamp::new(9, Mono(at.0 + 1_500));
        assert_eq!(later.since(s), 1_500);
        assert_eq!(s.since(later), 0);
        assert!(!Stamp::UNSET.is_set());
        assert!(Mono::now().saturating_since(at) < u64::MAX);
    }

    #[test]
    fn stamps_fill_in_order_and_the_last_slot_takes_the_rest() {
        let mut h = Header::new(EventKind::LevelSet, InstrumentId(1), 1, Nanos(1));
        assert_eq!(h.last_stamp(), None);
        for k in 0..STAGE_STAMPS as u8 + 2 {
            h.push_stamp(Stamp::new(k, Mono(100 + u64::from(k))));
            assert_eq!(h.last_stamp().map(Stamp::node), Some(k));
        }
        for (k, s) in h.stamps[..STAGE_STAMPS - 1].iter().enumerate() {
            assert_eq!(s.node() as usize, k);
        }
        // A caused record keeps the chain of its cause.
        assert_eq!(h.derived(EventKind::BookUpdate).stamps, h.stamps);
    }
}
