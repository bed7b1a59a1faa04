//! `faultline compare DIR...`: any stored runs side by side — a summary per replication mode,
//! then a row per run — on stdout, and as a page with `--out`, whose report links hold where
//! the page is written. Reads the runs, writes nothing into them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use faultline_results::campaign::{
    CampaignRun, Expect, Setup, render_comparison, report_href, summarise_campaign,
};
use faultline_results::percent;

use crate::cli::CompareArgs;
use crate::run::check_run;

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let mut runs = Vec::with_capacity(args.dirs.len());
    // Each run's own folder (a `latest` link resolved), absolute: what the page links to, and
    // its name is when the run started.
    let mut folders = Vec::with_capacity(args.dirs.len());
    for dir in &args.dirs {
        let folder = dir
            .canonicalize()
            .with_context(|| format!("{}: cannot read the run folder", dir.display()))?;
        let checked = check_run(&folder).with_context(|| format!("{}", dir.display()))?;
        let s = &checked.spec;
        let nemesis: Vec<&str> = s.nemesis.iter().map(|n| n.name()).collect();
        let started = stamp(&folder);
        runs.push(
            CampaignRun::new(
                format!("{} {started}", s.name),
                setup_of(s, &nemesis),
                s.seed,
                dir.display().to_string(),
                Expect::Any,
                &checked.results,
                checked.results.duration_s,
            )
            .with_option_explanations(s.option_explanations.clone()),
        );
        folders.push(folder);
    }
    let mut stamps: Vec<String> = folders.iter().map(|f| stamp(f)).collect();
    stamps.sort();
    let started = match (stamps.first(), stamps.last()) {
        (Some(first), Some(last)) if first != last => format!("{first} to {last} (UTC)"),
        (Some(first), _) => format!("{first} (UTC)"),
        _ => String::new(),
    };
    let summary = summarise_campaign("comparison".into(), started, runs, false);
    println!(
        "{:<8} {:>5} {:>7} {:>7} {:>12} {:>11} {:>9} {:>13} {:>12}",
        summary.compared_by,
        "runs",
        "valid",
        "invalid",
        "stale reads",
        "lost writes",
        "avail.",
        "writes avail.",
        "failover s"
    );
    for m in &summary.groups {
        println!(
            "{:<8} {:>5} {:>7} {:>7} {:>12} {:>11} {:>9} {:>13} {:>12}",
            m.value,
            m.runs,
            m.valid,
            m.invalid,
            m.stale_reads,
            m.lost_writes,
            percent(m.availability_during_faults),
            percent(m.write_availability_during_faults),
            m.failover_s
                .map_or_else(|| "–".to_owned(), |f| format!("{f:.2}"))
        );
    }
    if let Some(out) = &args.out {
        let page = page_path(out)?;
        let links: Vec<String> = folders
            .iter()
            .map(|f| {
                report_href(&page, f).unwrap_or_else(|| f.join("report.html").display().to_string())
            })
            .collect();
        let html = render_comparison(&summary, &links)?;
        std::fs::write(&page, html).with_context(|| format!("{}", out.display()))?;
        println!("page: {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A run folder's name: when it started.
fn stamp(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Where the page goes, absolute with its folder's links resolved, so links can be made
/// relative to it.
fn page_path(out: &Path) -> anyhow::Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("--out: {} names no file", out.display()))?;
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = folder
        .canonicalize()
        .with_context(|| format!("--out: cannot write into {}", folder.display()))?;
    Ok(folder.join(name))
}

/// What a stored run ran: its system and options (a test.json written before runs recorded
/// options has kvnode's replication and reads).
fn setup_of(spec: &crate::run::RunSpec, nemesis: &[&str]) -> Setup {
    let nemesis = if nemesis.is_empty() {
        "none".to_owned()
    } else {
        nemesis.join(",")
    };
    // A test.json from before runs recorded their options has kvnode's replication and reads.
    if spec.options.is_empty() && !spec.replication.is_empty() {
        return Setup::kvnode(
            &spec.replication,
            &spec.reads,
            spec.workload.kind.name(),
            &nemesis,
        );
    }
    Setup {
        system: spec.system.clone(),
        options: spec.options.clone(),
        workload: spec.workload.kind.name().to_owned(),
        nemesis,
    }
}
