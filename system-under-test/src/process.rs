//! The node as a process: flags from the command line, logging to stderr, a tokio runtime, exit
//! statuses. Shared by the `kvnode` binary and by `faultline kvnode`, which is how the harness
//! ships the store inside its own binary (one `cargo run` builds everything a run needs).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::config::Config;

/// Runs a node from command-line arguments (the first is the program name) until SIGTERM or
/// Ctrl-C. Exit status: 0 stopped, 1 failed, 2 bad flags.
pub fn main_from_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cfg = match Config::try_parse_from(args) {
        Ok(cfg) => cfg,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    if let Err(e) = cfg.validate() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(crate::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
