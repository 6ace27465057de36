//! The `pt` binary's library half: subcommands that have grown beyond a
//! command-line wrapper. Today that is the venue simulator, [`sim`].

#![forbid(unsafe_code)]

pub mod sim;
