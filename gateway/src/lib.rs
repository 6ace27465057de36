//! `pt-gateway`: everything between a strategy's order intent and a venue.
//!
//! This crate will hold the risk gate and kill switches, the order management
//! system, the ledger (positions, PnL, fees, settlement), the execution venues
//! (`kalshi`, `paper`) and crash recovery with venue reconciliation.
//!
//! Nothing is implemented yet.
#![forbid(unsafe_code)]
