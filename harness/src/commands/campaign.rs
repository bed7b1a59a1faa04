//! `faultline campaign FILE` (and the built-in `quickstart`): every cell resolved before anything
//! runs, then the runs one after the other under one progress bar (N/M runs), then index.html,
//! summary.json and junit.xml. A signal (Ctrl-C, SIGTERM) cuts the current run short (it heals
//! and is checked), lists the cells never run as skipped, still writes the pages, and exits 130.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow};
use clap::Parser;
use faultline_results::RunDir;
use faultline_results::campaign::{
    CampaignRun, CampaignSummary, Outcome, Provenance, SkippedCell, junit_xml, render_index,
    summarise_campaign,
};

use crate::campaign::{Campaign, Cell, load, provenance};
use crate::cli::{CampaignArgs, Cli, Command};
use crate::cluster::NodeProgram;
use crate::commands::run::resolve;
use crate::run::{INTERRUPTED_EXIT, Interrupt, execute};

/// A finished campaign: its folder and what it concluded.
pub struct CampaignOutcome {
    pub dir: RunDir,
    pub summary: CampaignSummary,
}

pub fn run(args: CampaignArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("{}: cannot read the campaign", args.file.display()))?;
    let campaign = load(&args.file, &text).map_err(|e| anyhow!(e))?;
    let dir = args.file.parent().unwrap_or(Path::new("."));
    let ran_against = provenance(dir, args.label.clone(), &campaign.systems);
    let outcome = run_campaign(campaign, &args.store, args.kvnode.as_deref(), ran_against)?;
    println!("index: {}", outcome.dir.path.join("index.html").display());
    println!("{}", outcome.summary.headline());
    let code = exit_code(&outcome.summary);
    if !args.trends {
        return Ok(code);
    }
    let new_failure = crate::commands::trends::after_campaign(&outcome, args.passed_nights)?;
    // A new failure is a failed expectation too: 1 unless the campaign was interrupted (130).
    Ok(if new_failure && code == ExitCode::SUCCESS {
        ExitCode::from(1)
    } else {
        code
    })
}

/// 130 for a campaign cut short by a signal, else 3 when a cell could not start, else 0 when
/// every expectation held, else 1.
pub fn exit_code(summary: &CampaignSummary) -> ExitCode {
    if summary.interrupted {
        ExitCode::from(INTERRUPTED_EXIT)
    } else if summary.not_started() > 0 {
        ExitCode::from(3)
    } else if summary.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Runs every cell of `campaign` into `<store>/campaigns/<name>/<timestamp>/`.
pub fn run_campaign(
    campaign: Campaign,
    store: &Path,
    kvnode: Option<&Path>,
    provenance: Provenance,
) -> anyhow::Result<CampaignOutcome> {
    let runs_store = |dir: &RunDir| dir.path.join("runs");
    // Resolve every cell first: a bad value anywhere fails before anything is created.
    let mut resolved = Vec::with_capacity(campaign.cells.len());
    for cell in &campaign.cells {
        let argv = ["faultline", "run"]
            .into_iter()
            .map(String::from)
            .chain(cell.flags.iter().cloned())
            .chain(["--name".to_owned(), cell.label.clone()]);
        let cli = Cli::try_parse_from(argv).map_err(|e| {
            let text = e.to_string();
            anyhow!(
                "{}: {}",
                cell.label,
                text.lines().next().unwrap_or("bad flags")
            )
        })?;
        let Command::Run(run_args) = cli.command else {
            return Err(anyhow!("{}: not a run", cell.label));
        };
        let spec = resolve(&run_args).with_context(|| cell.label.clone())?;
        resolved.push((cell.clone(), spec));
    }
    let program = match kvnode {
        Some(path) => NodeProgram::kvnode(path),
        None => NodeProgram::current_faultline().context("cannot find the faultline binary")?,
    };
    let dir = RunDir::create_campaign(store, &campaign.name)?;
    // The folder's name is the campaign's start time (UTC).
    let started = dir
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let campaign_started = Instant::now();
    let interrupt = runtime
        .block_on(async { Interrupt::listen() })
        .context("cannot catch SIGINT and SIGTERM")?;
    let total = resolved.len();
    // One bar for the campaign; each run's line goes below it and is cleared when the run ends.
    let progress = indicatif::MultiProgress::new();
    let overall = progress.add(indicatif::ProgressBar::new(total as u64));
    overall.set_style(
        indicatif::ProgressStyle::with_template("campaign [{bar:24}] {pos}/{len} runs {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut runs: Vec<CampaignRun> = Vec::with_capacity(total);
    let mut skipped: Vec<SkippedCell> = Vec::new();
    let mut not_started: Vec<SkippedCell> = Vec::new();
    for (i, (cell, spec)) in resolved.into_iter().enumerate() {
        if interrupt.signal().is_some() {
            skipped.push(not_run(cell, None));
            continue;
        }
        say(&progress, format!("[{}/{total}] {}", i + 1, cell.label));
        overall.set_message(cell.label.clone());
        let t0 = Instant::now();
        let explanations = spec.option_explanations.clone();
        // A cell that cannot start (its cluster does not come up, its folder cannot be made)
        // is recorded with why and the campaign goes on: one bad cell must not cost a night's
        // pages. The exit status says so at the end (3).
        let outcome = match runtime.block_on(execute(
            spec,
            &runs_store(&dir),
            program.clone(),
            &progress,
            &interrupt,
        )) {
            Ok(outcome) => outcome,
            Err(e) => {
                let error = format!("{e:#}").replace('\n', " ");
                say(&progress, format!("      could not start: {error}"));
                overall.inc(1);
                not_started.push(not_run(cell, Some(error)));
                continue;
            }
        };
        let relative = outcome
            .dir
            .path
            .strip_prefix(&dir.path)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from(&outcome.dir.path));
        let mut run = CampaignRun::new(
            cell.label.clone(),
            cell.setup(),
            cell.seed,
            relative.display().to_string(),
            cell.expect,
            &outcome.results,
            t0.elapsed().as_secs_f64(),
        )
        .with_option_explanations(explanations);
        run.nodes = Some(cell.nodes);
        say(
            &progress,
            format!(
                "      {}{} (expected {}){}",
                run.interrupted
                    .map(|i| format!("{i}; until then "))
                    .unwrap_or_default(),
                run.verdict.name(),
                run.expect.name(),
                match run.outcome {
                    Outcome::Pass | Outcome::Interrupted => "",
                    Outcome::Fail => "  ← expectation failed",
                }
            ),
        );
        overall.inc(1);
        runs.push(run);
    }
    overall.finish_and_clear();
    // A signal that came after the last run's workload (while it was checked, or the pages
    // written) cut nothing short: the campaign is interrupted only when a run was, or a cell
    // never ran.
    let cut_short = !skipped.is_empty() || runs.iter().any(|r| r.interrupted.is_some());
    let signal = interrupt.signal().filter(|_| cut_short);
    let summary = summarise_campaign(campaign.name, started, runs, signal.is_some())
        .with_provenance(provenance)
        .with_cells_not_started(not_started);
    let summary = match signal {
        Some(signal) => summary.interrupted_after(
            signal
                .at
                .saturating_duration_since(campaign_started)
                .as_secs_f64(),
            skipped,
        ),
        None => summary,
    };
    dir.write_json(&dir.path.join("summary.json"), &summary)?;
    dir.write_file(
        &dir.path.join("index.html"),
        render_index(&summary)?.as_bytes(),
    )?;
    let junit = junit_xml(&summary).map_err(|e| anyhow!("junit.xml: {e}"))?;
    dir.write_file(&dir.path.join("junit.xml"), junit.as_bytes())?;
    dir.mark_latest()?;
    Ok(CampaignOutcome { dir, summary })
}

/// A cell that never ran: skipped by a signal (`error` None) or unable to start.
fn not_run(cell: Cell, error: Option<String>) -> SkippedCell {
    SkippedCell {
        setup: cell.setup(),
        label: cell.label,
        seed: cell.seed,
        expect: cell.expect,
        error,
    }
}

/// A line on stdout, above the bars on a terminal: they are cleared while it is printed and
/// drawn again below it, so no copy of them is left in the scrollback.
fn say(progress: &indicatif::MultiProgress, line: String) {
    progress.suspend(|| println!("{line}"));
}
