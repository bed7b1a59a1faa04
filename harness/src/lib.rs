//! faultline (the harness) owns the command line and the wiring: the `check` command today; a test
//! run's phases, campaigns, and starting, stopping and watching node processes as they land.
