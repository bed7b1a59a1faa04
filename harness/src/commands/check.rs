//! `faultline check`: read history files, check each against a model, print a line per file and
//! a total (or the full results as JSON), exit with the worst outcome.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use faultline_checker::history::read_operations_file;
use faultline_checker::import::Format;
use faultline_checker::{Budget, CheckResult, Method, ModelKind, Verdict, check_operations_with};
use serde::Serialize;
use serde_json::Value;

use crate::cli::CheckArgs;

mod parallel;

use parallel::check_files;

/// What `check` resolved its arguments into.
struct CheckConfig {
    model: ModelKind,
    init: Option<Value>,
    format: Option<Format>,
    budget: Budget,
    method: Method,
}

impl CheckConfig {
    fn from_args(args: &CheckArgs) -> anyhow::Result<Self> {
        let model: ModelKind = args
            .model
            .parse()
            .map_err(|e: String| anyhow!("--model: {e}"))?;
        let init = args
            .init
            .as_deref()
            .map(|text| {
                serde_json::from_str::<Value>(text)
                    .with_context(|| format!("--init: expected a JSON value, found {text:?}"))
            })
            .transpose()?;
        let method: Method = args
            .method
            .parse()
            .map_err(|e: String| anyhow!("--method: {e}"))?;
        let format = args
            .format
            .as_deref()
            .map(|f| f.parse::<Format>().map_err(|e| anyhow!("--format: {e}")))
            .transpose()?;
        let timeout = match args.timeout {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
            Some(s) => {
                return Err(anyhow!(
                    "--timeout: expected a positive number of seconds, found {s}"
                ));
            }
        };
        if args.memory_limit == 0 {
            return Err(anyhow!(
                "--memory-limit: expected a positive number of MB, found 0"
            ));
        }
        let memory_limit =
            usize::try_from(args.memory_limit.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
        Ok(CheckConfig {
            model,
            init,
            format,
            budget: Budget {
                timeout,
                memory_limit: Some(memory_limit),
            },
            method,
        })
    }
}

/// One file's outcome, as `--json` prints it.
#[derive(Serialize)]
struct FileReport {
    file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<CheckResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Reading and checking, in milliseconds.
    elapsed_ms: f64,
    /// The verdict is `unknown` because the budget ran out (not because the file was empty).
    #[serde(skip)]
    exhausted: bool,
}

#[derive(Serialize, Default)]
struct Totals {
    files: usize,
    linearizable: usize,
    not_linearizable: usize,
    unknown: usize,
    errors: usize,
}

/// Reads and checks one file within `budget`.
fn check_file(path: &Path, config: &CheckConfig, budget: Budget) -> FileReport {
    let started = Instant::now();
    // A JSON Lines file is paired into operations as it is read, so only the compact operations
    // are held, never its events or bytes (a night's run is gigabytes of lines).
    let outcome = read_operations_file(path, config.format)
        .map_err(|e| e.to_string())
        .and_then(|history| {
            check_operations_with(
                &history.operations,
                config.model,
                config.init.as_ref(),
                budget,
                config.method,
            )
            .map(|result| no_events_is_no_verdict(result, history.events == 0))
            .map_err(|e| format!("{}: {e}", path.display()))
        });
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(result) => FileReport {
            file: path.to_owned(),
            exhausted: result.verdict == Verdict::Unknown && result.operations > 0,
            result: Some(result),
            error: None,
            elapsed_ms,
        },
        Err(error) => FileReport {
            file: path.to_owned(),
            result: None,
            error: Some(error),
            elapsed_ms,
            exhausted: false,
        },
    }
}

/// A file with no events at all (an empty file, or a log whose every line was noise to the
/// format) proves nothing: calling it linearizable with exit 0 would pass a CI job that checked
/// nothing. A history whose operations all failed is different: it has a verdict (Knossos and
/// Porcupine call it linearizable, and so do we).
fn no_events_is_no_verdict(mut result: CheckResult, no_events: bool) -> CheckResult {
    if no_events && result.verdict == Verdict::Linearizable {
        result.verdict = Verdict::Unknown;
        result.reason = Some(
            "the file holds no events: nothing was checked (an empty file, or not a history in \
             this format)"
                .to_owned(),
        );
    }
    result
}

/// Output is best effort: a reader that goes away (`| head`) must not change the exit status.
fn print_line(out: &mut impl Write, report: &FileReport, explain: bool) {
    let file = report.file.display();
    match (&report.result, &report.error) {
        (Some(result), _) => {
            let mut line = format!(
                "{:<17} {file}  ({} ops, {} partitions, {:.1} ms)",
                result.verdict.name(),
                result.operations,
                result.partitions,
                report.elapsed_ms
            );
            if let Some(reason) = &result.reason {
                line.push_str(&format!(": {reason}"));
            }
            if let Some(e) = &result.explanation {
                line.push_str(&format!(": cannot linearize {}", e.op));
            }
            let _ = writeln!(out, "{line}");
            if explain && let Some(e) = &result.explanation {
                for l in e.to_string().lines() {
                    let _ = writeln!(out, "    {l}");
                }
            }
        }
        (None, Some(error)) => {
            let _ = writeln!(out, "{:<17} {file}", "error");
            eprintln!("faultline: {error}");
        }
        (None, None) => {}
    }
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = CheckConfig::from_args(&args)?;
    let mut totals = Totals::default();
    let mut reports = Vec::with_capacity(args.files.len());
    let mut out = io::stdout().lock();
    check_files(&args.files, &config, |report| {
        totals.files += 1;
        match report.result.as_ref().map(|r| r.verdict) {
            Some(Verdict::Linearizable) => totals.linearizable += 1,
            Some(Verdict::NotLinearizable) => totals.not_linearizable += 1,
            Some(Verdict::Unknown) => totals.unknown += 1,
            None => totals.errors += 1,
        }
        if !args.json {
            print_line(&mut out, &report, args.explain);
        }
        reports.push(report);
    });
    if args.json {
        let doc = serde_json::json!({ "files": reports, "total": totals });
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&doc)?);
    } else {
        let _ = writeln!(
            out,
            "total: {} file{}, {} linearizable, {} not linearizable, {} unknown, {} error{}",
            totals.files,
            if totals.files == 1 { "" } else { "s" },
            totals.linearizable,
            totals.not_linearizable,
            totals.unknown,
            totals.errors,
            if totals.errors == 1 { "" } else { "s" }
        );
    }
    let code = if totals.errors > 0 {
        3
    } else if totals.not_linearizable > 0 {
        1
    } else if totals.unknown > 0 {
        2
    } else {
        0
    };
    Ok(ExitCode::from(code))
}
