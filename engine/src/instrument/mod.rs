//! The instrument registry: what can be traded, where, and on which price grid.

mod grid;
mod registry;

pub use grid::{GridError, PriceGrid, TickRange};
pub use registry::{ContractKind, Instrument, Registry, RegistryError, Venue};
