//! What an engine's heartbeat ([`CommandAction::Heartbeat`]) carries for
//! the control plane, written and read here only: its pid (`args[0]`), the
//! `md` ring's counters (`args[1..5]`) and the venue's connectivity
//! (`target`: bit 3 set when present, bit 2 the market-data session open,
//! bits 0–1 the [`OrderVenue`] state).

use super::{Command, CommandAction};

/// The `md` ring between the feed and the decision path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MdRing {
    /// Market events dropped because the ring was full.
    pub dropped: u64,
    /// Stale marks delivered in their place.
    pub stale_marks: u64,
    /// The deepest backlog the decision path saw.
    pub max_depth: u64,
    /// Events on the ring when sampled.
    pub depth: u64,
}

/// The live order venue's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderVenue {
    /// No live venue: paper only.
    #[default]
    None = 0,
    /// Connecting.
    Connecting = 1,
    /// Connected, reconciling with the account.
    Reconciling = 2,
    /// Ready for orders.
    Ready = 3,
}

impl OrderVenue {
    /// From its number; above 3 reads as ready.
    pub fn from_number(n: u64) -> OrderVenue {
        match n {
            0 => OrderVenue::None,
            1 => OrderVenue::Connecting,
            2 => OrderVenue::Reconciling,
            _ => OrderVenue::Ready,
        }
    }

    /// Its name for an operator.
    pub fn name(self) -> &'static str {
        match self {
            OrderVenue::None => "paper (no live venue)",
            OrderVenue::Connecting => "connecting",
            OrderVenue::Reconciling => "reconciling",
            OrderVenue::Ready => "ready",
        }
    }
}

/// The venue's connectivity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Connectivity {
    /// Whether the market-data session is open.
    pub market_data: bool,
    /// The live order venue.
    pub orders: OrderVenue,
}

/// A heartbeat's contents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Beat {
    /// The engine's process id.
    pub pid: u32,
    /// The `md` ring.
    pub md_ring: MdRing,
    /// The venue; `None` from an engine that did not say.
    pub venue: Option<Connectivity>,
}

const PRESENT: u32 = 8;
const MARKET_DATA: u32 = 4;

impl Beat {
    /// Writes itself into heartbeat `c`.
    pub fn write(&self, c: &mut Command) {
        let r = self.md_ring;
        c.args[0] = i64::from(self.pid);
        for (slot, v) in
            c.args[1..5]
                .iter_mut()
                .zip([r.dropped, r.stale_marks, r.max_depth, r.depth])
        {
            *slot = i64::try_from(v).unwrap_or(i64::MAX);
        }
        c.target = self.venue.map_or(0, |v| {
            PRESENT | if v.market_data { MARKET_DATA } else { 0 } | v.orders as u32
        });
    }

    /// What heartbeat `c` carries; `None` when `c` is not a heartbeat.
    pub fn read(c: &Command) -> Option<Beat> {
        if c.action != CommandAction::Heartbeat {
            return None;
        }
        let n = |k: usize| u64::try_from(c.args[k]).unwrap_or(0);
        Some(Beat {
            pid: u32::try_from(c.args[0]).unwrap_or(0),
            md_ring: MdRing {
                dropped: n(1),
                stale_marks: n(2),
                max_depth: n(3),
                depth: n(4),
            },
            venue: (c.target & PRESENT != 0).then_some(Connectivity {
                market_data: c.target & MARKET_DATA != 0,
                orders: OrderVenue::from_number(u64::from(c.target & 3)),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beat_reads_back_as_written() {
        let beat = Beat {
            pid: 4242,
            md_ring: MdRing {
                dropped: 7,
                stale_marks: 3,
                max_depth: 1024,
                depth: 2,
            },
            venue: Some(Connectivity {
                market_data: true,
                orders: OrderVenue::Reconciling,
            }),
        };
        let mut c = Command {
            action: CommandAction::Heartbeat,
            ..Command::default()
        };
        beat.write(&mut c);
        assert_eq!(Beat::read(&c), Some(beat));
        let silent = Beat {
            venue: None,
            ..beat
        };
        silent.write(&mut c);
        assert_eq!(Beat::read(&c).unwrap().venue, None);
        c.action = CommandAction::Signal;
        assert_eq!(Beat::read(&c), None);
    }
}
