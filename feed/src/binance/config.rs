//! How a [`DepthSync`] is set up, what it reports about
//! each diff and snapshot, and its counters.

#[cfg(doc)]
use super::DepthSync;

/// Where the book stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// No usable book: diffs are buffered until a snapshot arrives.
    WaitingSnapshot,
    /// The book is current as of the last applied update id.
    Synced,
}

/// The sequence rules of a diff stream; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncRules {
    /// Binance spot: each diff's `U` follows the previous `u`.
    #[default]
    Spot,
    /// Binance USD-M futures: each diff's `pu` is the previous `u`.
    Futures,
}

/// How a [`DepthSync`] is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// The sequence rules.
    pub rules: SyncRules,
    /// Diffs kept while waiting for a snapshot (at least one); the oldest
    /// is dropped, and counted, past this.
    pub max_buffered: usize,
    /// Most prices the ladder holds (16 bytes each); a larger grid gets a
    /// window of this many prices around each snapshot's best prices.
    pub max_window: u32,
    /// Levels per side kept outside the window. A snapshot holds at most
    /// 1,000 a side (`limit=1000`), so the default keeps them all.
    pub overflow: usize,
}

impl SyncConfig {
    /// Spot rules; 1,024 buffered diffs, a 65,536-price window (1 MiB a
    /// book), 1,024 levels a side outside it.
    pub const SPOT: SyncConfig = SyncConfig {
        rules: SyncRules::Spot,
        max_buffered: 1024,
        max_window: 1 << 16,
        overflow: 1024,
    };

    /// The same with futures rules.
    pub const FUTURES: SyncConfig = SyncConfig {
        rules: SyncRules::Futures,
        ..SyncConfig::SPOT
    };
}

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig::SPOT
    }
}

/// What [`DepthSync::on_diff`] did with a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffOutcome {
    /// Kept for the next snapshot.
    Buffered,
    /// Applied to the book.
    Applied,
    /// Already covered by the book; dropped.
    Old,
    /// It does not join up with the book: the book is stale and a snapshot
    /// is needed. The diff was buffered.
    Gap {
        /// The update id the book needed next.
        expected: u64,
        /// The diff's first update id (`U`).
        first: u64,
    },
    /// Applied, but the best price of a side now lies outside the ladder's
    /// window: the book is stale until a snapshot places the window again.
    OutOfWindow,
}

/// What [`DepthSync::on_snapshot`] did with a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// The book was seeded and the buffered diffs bridged; it is synced.
    Synced,
    /// The book was seeded but the buffered diffs do not join up with it
    /// (the snapshot is too old): another snapshot is needed.
    Gap,
    /// Older than the synced book; ignored.
    Ignored,
}

/// Counters of a [`DepthSync`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Diffs applied to the book.
    pub diffs_applied: u64,
    /// Diffs dropped because the book already covered them.
    pub diffs_old: u64,
    /// Diffs copied into the buffer while waiting for a snapshot.
    pub diffs_buffered: u64,
    /// Buffered diffs dropped (oldest first) because the buffer was full.
    pub buffer_dropped: u64,
    /// Gaps seen (each one makes the book stale).
    pub gaps: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Snapshots applied after a gap.
    pub resyncs: u64,
    /// Snapshots older than the synced book.
    pub snapshots_ignored: u64,
    /// Level changes stored in the ladder (diffs and snapshots).
    pub levels_applied: u64,
    /// Levels whose price is not on the instrument's grid; not stored.
    pub off_grid_levels: u64,
    /// Windows placed at a snapshot (the ladder rebuilt over new prices).
    pub windows_placed: u64,
    /// Level changes on the grid but outside the window, kept in the
    /// overflow store.
    pub outside_window_levels: u64,
    /// Levels outside the window not stored because the overflow store's
    /// side was full.
    pub overflow_full: u64,
    /// Times a side's best price left the window (each makes the book
    /// stale).
    pub out_of_window: u64,
    /// Levels the ladder refused for another reason; not stored.
    pub rejected_levels: u64,
}
