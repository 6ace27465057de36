//! Helpers shared by pt-tools' integration tests; each test crate uses a
//! subset, hence the allowances.
#![allow(dead_code, unreachable_pub)]

pub mod client;
pub mod http;
pub mod process;
pub mod run;
pub mod schema;
