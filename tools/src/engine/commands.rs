//! Writing into an engine's `commands/` journal (the writer lives with the
//! control plane, which writes there too).

pub use pt_control::commands::CommandWriter;
