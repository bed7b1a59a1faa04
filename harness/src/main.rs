use std::process::ExitCode;

use clap::Parser;
use faultline::cli::{Cli, Command};

fn main() -> ExitCode {
    // `faultline kvnode ...` runs a node of the store under test: the harness launches its own
    // binary this way, so one build ships everything a run needs.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "kvnode") {
        return kvnode::process::main_from_args(args.into_iter().skip(1));
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are not errors. Usage errors are one line and exit 3.
            if !err.use_stderr() {
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            let text = err.to_string();
            let first = text.lines().next().unwrap_or("usage error");
            eprintln!("faultline: {}", first.trim_start_matches("error: "));
            return ExitCode::from(3);
        }
    };
    let outcome = match cli.command {
        Command::Check(args) => faultline::commands::check::run(args),
        Command::Run(args) => faultline::commands::run::run(*args),
        Command::Analyze(args) => faultline::commands::analyze::run(args),
        Command::Serve(args) => faultline::commands::serve::run(args),
        Command::Campaign(args) => faultline::commands::campaign::run(args),
        Command::Quickstart(args) => faultline::commands::quickstart::run(args),
        Command::Compare(args) => faultline::commands::compare::run(args),
        Command::Trends(args) => faultline::commands::trends::run(args),
        Command::Prune(args) => faultline::commands::prune::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("faultline: {err:#}");
            ExitCode::from(3)
        }
    }
}
