//! `faultline compare DIR...`: any stored runs side by side — a summary per replication mode,
//! then a row per run — on stdout, and as a page with `--out`. Reads the runs, writes nothing
//! into them.

use std::process::ExitCode;

use anyhow::Context;
use faultline_results::campaign::{CampaignRun, Expect, render_index, summarise_campaign};
use faultline_results::percent;

use crate::cli::CompareArgs;
use crate::run::check_run;

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let mut runs = Vec::with_capacity(args.dirs.len());
    for dir in &args.dirs {
        let checked = check_run(dir).with_context(|| format!("{}", dir.display()))?;
        let s = &checked.spec;
        let nemesis: Vec<&str> = s.nemesis.iter().map(|n| n.name()).collect();
        runs.push(CampaignRun::new(
            s.name.clone(),
            (
                s.replication.clone(),
                s.reads.clone(),
                s.workload.kind.name().to_owned(),
                if nemesis.is_empty() {
                    "none".to_owned()
                } else {
                    nemesis.join(",")
                },
            ),
            s.seed,
            dir.display().to_string(),
            Expect::Any,
            &checked.results,
            checked.results.duration_s,
        ));
    }
    let summary = summarise_campaign("comparison".into(), String::new(), runs, false);
    println!(
        "{:<8} {:>5} {:>7} {:>7} {:>12} {:>11} {:>9} {:>13} {:>12}",
        "mode",
        "runs",
        "valid",
        "invalid",
        "stale reads",
        "lost writes",
        "avail.",
        "writes avail.",
        "failover s"
    );
    for m in &summary.modes {
        println!(
            "{:<8} {:>5} {:>7} {:>7} {:>12} {:>11} {:>9} {:>13} {:>12}",
            m.replication,
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
        let html = render_index(&summary)?;
        std::fs::write(out, html).with_context(|| format!("{}", out.display()))?;
        println!("page: {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
