//! The faultline binary's integration tests, compiled into one binary.

// The checker's test support (corpus manifest, history simulator), shared rather than copied.
#[path = "../../../checker/tests/support/mod.rs"]
mod support;

mod campaign_cli;
mod check_cli;
mod clock;
mod cluster;
mod common;
mod feedback;
mod history_size;
mod hosts;
mod interrupt;
mod key_groups;
mod kvnode_bin;
mod partition;
mod patroni_processes;
mod postgres_patroni;
mod run_cli;
mod ssh_hosts;
mod stdio_runs;
mod store_cli;
mod systems;
mod trends_cli;
