//! The faultline binary's integration tests, compiled into one binary.

mod check_cli;
mod cluster;
mod kvnode_bin;
mod run_cli;
