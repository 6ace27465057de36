//! The engine process: its config, the decision graph it shares with
//! `pt replay`, the live loop and the operator's view.

pub(crate) mod config;
pub(crate) mod core;
pub(crate) mod run;
pub(crate) mod view;
