//! faultline (the harness) owns the command line and the wiring between the other crates: the
//! `check` command today; a test run's phases, campaigns, and starting, stopping and watching
//! node processes as they land.
//!
//! Invariant: the binary is CLI definition and glue; what a command does lives in `commands`.

pub mod campaign;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod hosts;
pub mod machine;
pub mod network;
pub mod run;
pub mod system;
pub mod yaml;
