//! `pt-gateway`: everything between a strategy's order intent and a venue.
//!
//! - [`policy`]: the risk policy from TOML, checked.
//! - [`policy_versions`]: the policies an engine may switch to at runtime.
//! - [`markets`]: what the gate knows of each instrument.
//! - [`risk`]: the gate, with a reason code for every refusal, and the
//!   venue's order-rate bucket.
//! - [`kill`]: kill switches and trading states per scope.
//! - [`flatten`]: the flatten state machine.
//! - [`oms`]: order states, fills, open-order aggregates.
//! - [`ledger`]: positions, PnL, fees and cash per mode.
//! - [`venue`]: the venue trait, the gate-approved order type it takes,
//!   and the write-ahead journal.
//! - [`paper`]: the paper venue, filling from the engine's books.
//! - [`kalshi`]: the live Kalshi venue (REST order entry, channel fills).
//! - [`Gateway`]: all of it as one pure core; [`GatewayNode`] puts it in
//!   the engine's graph.
#![forbid(unsafe_code)]

mod core;
pub mod flatten;
pub mod kalshi;
pub mod kill;
pub mod ledger;
pub mod markets;
pub mod node;
pub mod oms;
pub mod paper;
pub mod policy;
pub mod policy_versions;
pub mod risk;
pub mod venue;

pub use crate::core::{GATEWAY, Gateway, GatewayConfig, GatewayCounters, VenueConfig};
pub use flatten::{Flatten, FlattenProblem, FlattenState};
pub use kill::{Cause, KillSwitches, Trading};
pub use ledger::Ledger;
pub use markets::Markets;
pub use node::GatewayNode;
pub use oms::{Oms, Order};
pub use paper::{CancelRule, PaperConfig, PaperVenue};
pub use policy::RiskPolicy;
pub use policy_versions::PolicyVersions;
pub use venue::{Approved, Disconnected, NoJournal, Venue, WriteAhead};
