//! `faultline analyze DIR`: check a stored run again, write its results.json, print the verdict.

use std::process::ExitCode;

use crate::cli::AnalyzeArgs;
use crate::commands::run::{exit_code, print_summary};
use crate::run::RunProgress;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let progress = indicatif::MultiProgress::new();
    let results = crate::run::analyze(
        &args.dir,
        &RunProgress::new(&progress, &args.dir.display().to_string()),
    )?;
    print_summary(&args.dir, &results);
    Ok(exit_code(&results))
}
