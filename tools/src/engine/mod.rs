//! The engine process: its config, the decision graph it shares with
//! `pt replay`, the live loop and the operator's view.

pub mod board;
pub mod commands;
pub mod config;
pub mod core;
pub mod run;
pub mod synthetic;
pub mod view;
