//! `pt-control`: the slow path, run by `pt run`.
//!
//! This crate will hold the supervisor of `pt engine`, persistence of the
//! journals (SQLite or Postgres), gRPC and HTTP control, the web dashboard,
//! metrics and configuration management.
//!
//! Nothing is implemented yet.
#![forbid(unsafe_code)]
