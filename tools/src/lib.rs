//! The `pt` binary's library half: subcommands that have grown beyond a
//! command-line wrapper. Today that is the venue simulator, [`sim`].

pub mod sim;
