//! How engine events are tagged in a journal.
//!
//! A journal record holding an [`Event`](super::Event) has the kind
//! `0x0100 | EventKind as u8` and the event's 128 bytes as payload. Other
//! kinds belong to whoever wrote them; tools show them as hex.

use super::EventKind;

/// Journal kinds `0x0100..=0x01FF` hold engine events.
pub const ENGINE_KIND_BASE: u16 = 0x0100;

/// The journal kind for records of `kind`.
pub const fn journal_kind(kind: EventKind) -> u16 {
    ENGINE_KIND_BASE | kind as u16
}

/// The engine event kind a journal kind stands for, if any.
pub fn event_kind(journal_kind: u16) -> Option<EventKind> {
    if journal_kind & 0xFF00 != ENGINE_KIND_BASE {
        return None;
    }
    bytemuck::checked::try_pod_read_unaligned::<EventKind>(&[(journal_kind & 0xFF) as u8]).ok()
}

/// Every engine event kind, for listings and name lookups.
pub const ALL_KINDS: [EventKind; 22] = [
    EventKind::SnapshotBegin,
    EventKind::SnapshotLevel,
    EventKind::SnapshotEnd,
    EventKind::LevelDelta,
    EventKind::LevelSet,
    EventKind::Trade,
    EventKind::Status,
    EventKind::BookUpdate,
    EventKind::OrderNew,
    EventKind::OrderCancel,
    EventKind::OrderReplace,
    EventKind::Ack,
    EventKind::Reject,
    EventKind::Fill,
    EventKind::Cancelled,
    EventKind::Expired,
    EventKind::CancelRejected,
    EventKind::Replaced,
    EventKind::ReplaceRejected,
    EventKind::OrderStatus,
    EventKind::OrderUnknown,
    EventKind::Command,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in ALL_KINDS {
            assert_eq!(event_kind(journal_kind(kind)), Some(kind));
        }
        assert_eq!(journal_kind(EventKind::Trade), 0x0115);
        assert_eq!(event_kind(0x0100), None);
        assert_eq!(event_kind(0x0215), None);
        assert_eq!(event_kind(7), None);
    }
}
