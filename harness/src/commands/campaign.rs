//! `faultline campaign FILE` (and the built-in `quickstart`): every cell resolved before anything
//! runs, then the runs one after the other, then index.html, summary.json and junit.xml.
//! Ctrl-C stops after the current run (which heals and is checked) and still writes the index.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow};
use clap::Parser;
use faultline_results::RunDir;
use faultline_results::campaign::{
    CampaignRun, CampaignSummary, junit_xml, render_index, summarise_campaign,
};

use crate::campaign::{Campaign, load};
use crate::cli::{CampaignArgs, Cli, Command};
use crate::cluster::NodeProgram;
use crate::commands::run::resolve;
use crate::run::execute;

/// A finished campaign: its folder and what it concluded.
pub struct CampaignOutcome {
    pub dir: RunDir,
    pub summary: CampaignSummary,
}

pub fn run(args: CampaignArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("{}: cannot read the campaign", args.file.display()))?;
    let campaign = load(&args.file, &text).map_err(|e| anyhow!(e))?;
    let outcome = run_campaign(campaign, &args.store, args.kvnode.as_deref())?;
    println!("index: {}", outcome.dir.path.join("index.html").display());
    Ok(if outcome.summary.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs every cell of `campaign` into `<store>/campaigns/<name>/<timestamp>/`.
pub fn run_campaign(
    campaign: Campaign,
    store: &Path,
    kvnode: Option<&Path>,
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
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        runtime.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::Relaxed);
            }
        });
    }
    let total = resolved.len();
    // One bar for the campaign, and each run adds its own below it.
    let progress = indicatif::MultiProgress::new();
    let overall = progress.add(indicatif::ProgressBar::new(total as u64));
    overall.set_style(
        indicatif::ProgressStyle::with_template("campaign [{bar:24}] {pos}/{len} runs {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut runs: Vec<CampaignRun> = Vec::with_capacity(total);
    for (i, (cell, spec)) in resolved.into_iter().enumerate() {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        say(&progress, format!("[{}/{total}] {}", i + 1, cell.label));
        overall.set_message(cell.label.clone());
        let t0 = Instant::now();
        let outcome =
            runtime.block_on(execute(spec, &runs_store(&dir), program.clone(), &progress))?;
        let relative = outcome
            .dir
            .path
            .strip_prefix(&dir.path)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from(&outcome.dir.path));
        let run = CampaignRun::new(
            cell.label.clone(),
            (cell.replication, cell.reads, cell.workload, cell.nemesis),
            cell.seed,
            relative.display().to_string(),
            cell.expect,
            &outcome.results,
            t0.elapsed().as_secs_f64(),
        );
        println!(
            "      {} (expected {:?}){}",
            run.verdict.name(),
            run.expect,
            if run.passed {
                ""
            } else {
                "  ← expectation failed"
            }
        );
        runs.push(run);
    }
    overall.finish_and_clear();
    let summary = summarise_campaign(
        campaign.name,
        started,
        runs,
        interrupted.load(Ordering::Relaxed),
    );
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

/// A line above the bars on a terminal; a plain line in a log (where the bars are hidden and
/// would swallow it).
fn say(progress: &indicatif::MultiProgress, line: String) {
    if progress.is_hidden() {
        println!("{line}");
    } else {
        let _ = progress.println(line);
    }
}
