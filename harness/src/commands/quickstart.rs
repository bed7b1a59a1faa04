//! `faultline quickstart`: the built-in campaign — sync, quorum and async replication under
//! partitions and crashes, about 75 s on two cores, nothing to install — then where to look and one
//! line per mode.

use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;

use crate::campaign::{QUICKSTART, load, provenance};
use crate::cli::QuickstartArgs;
use crate::commands::campaign::{exit_code, run_campaign};

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

pub fn run(args: QuickstartArgs) -> anyhow::Result<ExitCode> {
    let campaign = load(Path::new("quickstart (built in)"), QUICKSTART).map_err(|e| anyhow!(e))?;
    println!(
        "faultline quickstart: {} runs of a 3-node kvnode cluster under partitions and crashes",
        campaign.cells.len()
    );
    let ran_against = provenance(Path::new("."), None, &campaign.systems);
    let outcome = run_campaign(campaign, &args.store, None, ran_against)?;
    println!();
    println!(
        "comparison page: {}",
        outcome.dir.path.join("index.html").display()
    );
    for m in &outcome.summary.groups {
        let verdict = if m.invalid > 0 {
            "NOT linearizable"
        } else if m.unknown > 0 {
            "undecided"
        } else {
            "linearizable"
        };
        let anomalies = match (m.stale_reads, m.lost_writes) {
            (0, 0) => "no anomalies".to_owned(),
            (s, l) => format!("{s} stale reads, {l} lost writes"),
        };
        println!(
            "{:<7} {verdict}: {anomalies}; during faults {} of operations answered, {} of writes; {:.0} ops/s",
            m.value,
            percent(m.availability_during_faults),
            percent(m.write_availability_during_faults),
            m.ops_per_s
        );
    }
    println!("{}", outcome.summary.headline());
    Ok(exit_code(&outcome.summary))
}
