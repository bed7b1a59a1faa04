use std::process::ExitCode;

use clap::Parser;
use faultline::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are not errors; everything else is a usage error (exit 3).
            let code = if err.use_stderr() { 3 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Check(args) => faultline::commands::check::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("faultline: {err:#}");
            ExitCode::from(3)
        }
    }
}
