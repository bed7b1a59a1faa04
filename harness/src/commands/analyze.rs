//! `faultline analyze DIR`: check a stored run again, write its results.json, print the verdict.

use std::process::ExitCode;

use crate::cli::AnalyzeArgs;
use crate::commands::run::{exit_code, print_summary};

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let results = crate::run::analyze(&args.dir)?;
    print_summary(&args.dir, &results);
    Ok(exit_code(&results))
}
