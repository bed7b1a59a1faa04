//! `faultline trends DIR`: the nightly trends of a campaign folder, or of every campaign of a
//! store, written beside the runs (trends.html, trends.json); for a store also a page of its
//! campaigns (`<store>/trends.html`, written when it has none yet too). A run folder that cannot be read
//! is named on stderr and on the page, and changes nothing else. With `--check`, exit 1 on a
//! new failure, named on one line each. `campaign --trends` calls `after_campaign`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use faultline_results::campaign::junit_xml_marking_flaky;
use faultline_results::trends::{
    CampaignTrends, TrendOptions, Trends, write_campaign_trends, write_store_trends,
};
use faultline_results::{campaign_dirs, campaign_nights, is_store, stored_folders};

use crate::cli::TrendsArgs;
use crate::commands::campaign::CampaignOutcome;

pub fn run(args: TrendsArgs) -> anyhow::Result<ExitCode> {
    let options = TrendOptions {
        passed_nights: args.passed_nights as usize,
    };
    if !args.dir.is_dir() {
        return Err(anyhow!(
            "{}: expected a store or a campaign folder (store/campaigns/<name>)",
            args.dir.display()
        ));
    }
    // A store (it has a `campaigns` folder): every campaign in it, and a page of them all. A
    // campaign folder (`<store>/campaigns/<name>`, or one holding campaign run folders): that
    // campaign. A store without campaigns yet (runs only, or an empty folder): its page says
    // so. Any other folder is not written into: it may be anyone's.
    let in_campaigns = args
        .dir
        .canonicalize()
        .ok()
        .is_some_and(|d| d.parent().and_then(Path::file_name) == Some("campaigns".as_ref()));
    let is_campaign = in_campaigns || !campaign_nights(&args.dir).is_empty();
    let empty = std::fs::read_dir(&args.dir).is_ok_and(|mut d| d.next().is_none());
    let store =
        is_store(&args.dir) || (!is_campaign && (empty || !stored_folders(&args.dir).is_empty()));
    if !store && !is_campaign {
        return Err(anyhow!(
            "{}: expected a store or a campaign folder (store/campaigns/<name>); this folder \
             holds neither runs nor campaigns, so nothing is written into it",
            args.dir.display()
        ));
    }
    let campaigns: Vec<(String, PathBuf)> = if store {
        campaign_dirs(&args.dir)
    } else {
        let name = args
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        vec![(name, args.dir.clone())]
    };
    if campaigns.is_empty() {
        println!("{}: no campaigns yet", args.dir.display());
    }
    let mut new_failure = false;
    let mut lines = Vec::new();
    // A campaign whose pages cannot be written is named and the others still get theirs; the
    // exit status then says so (3) once all are done.
    let mut failed = Vec::new();
    for (name, dir) in &campaigns {
        match write(dir, options) {
            Ok(trends) => {
                new_failure |= !trends.new_failure_lines().is_empty();
                lines.push(CampaignTrends::of(name, &trends));
            }
            Err(e) => {
                eprintln!("faultline: {e:#}");
                failed.push(name.clone());
            }
        }
    }
    if store {
        write_store_trends(&args.dir, &lines)
            .with_context(|| format!("{}: writing the store's trends", args.dir.display()))?;
        println!("trends: {}", args.dir.join("trends.html").display());
    }
    if !failed.is_empty() {
        return Err(anyhow!(
            "the trends of {} could not be written (see above)",
            failed.join(", ")
        ));
    }
    Ok(if args.check && new_failure {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes one campaign's trends and says what they found: a line per new failure (stdout),
/// per unreadable run (stderr), and where the page is.
fn write(dir: &Path, options: TrendOptions) -> anyhow::Result<Trends> {
    let trends = write_campaign_trends(dir, options)
        .with_context(|| format!("{}: writing the trends", dir.display()))?;
    for bad in &trends.bad_runs {
        eprintln!(
            "faultline: {}: skipped: {}",
            dir.join(&bad.stamp).display(),
            bad.reason
        );
    }
    for line in trends.new_failure_lines() {
        println!("{line}");
    }
    let count = |class| trends.with_class(class).count();
    println!(
        "trends: {} ({} nights, {} cells: {} new failures, {} flaky, {} fixed)",
        dir.join("trends.html").display(),
        trends.nights.len(),
        trends.cells.len(),
        count("new failure"),
        count("flaky"),
        count("fixed")
    );
    Ok(trends)
}

/// After `campaign --trends`: the trends of the campaign's folder, and its junit.xml written
/// again with the flaky cells marked. Returns whether a cell failed anew.
pub fn after_campaign(outcome: &CampaignOutcome, passed_nights: u32) -> anyhow::Result<bool> {
    let campaign_dir = outcome
        .dir
        .path
        .parent()
        .context("the campaign's folder has no parent")?;
    let trends = write(
        campaign_dir,
        TrendOptions {
            passed_nights: passed_nights as usize,
        },
    )?;
    let junit = junit_xml_marking_flaky(&outcome.summary, |run| trends.flaky_reason(run))
        .map_err(|e| anyhow!("junit.xml: {e}"))?;
    outcome
        .dir
        .write_file(&outcome.dir.path.join("junit.xml"), junit.as_bytes())?;
    Ok(!trends.new_failure_lines().is_empty())
}
