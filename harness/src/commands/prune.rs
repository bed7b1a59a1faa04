//! `faultline prune`: remove old runs and campaigns from the store, keeping the newest of each
//! test and campaign name (and, when asked, every failure). Says each folder it removes and the
//! bytes freed; `--dry-run` only says them.

use std::process::ExitCode;

use faultline_results::{Retention, plan_removals, remove_folder};

use crate::cli::PruneArgs;

pub fn run(args: PruneArgs) -> anyhow::Result<ExitCode> {
    if !args.store.is_dir() {
        anyhow::bail!("--store: {} is not a folder", args.store.display());
    }
    let removals = plan_removals(
        &args.store,
        Retention {
            keep_last: args.keep_last,
            keep_failures: args.keep_failures,
        },
    );
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let (mut freed, mut removed, mut failed) = (0u64, 0usize, 0usize);
    for removal in &removals {
        let folder = &removal.folder;
        let outcome = folder.outcome().unwrap_or_else(|| "unfinished".to_owned());
        if !args.dry_run
            && let Err(e) = remove_folder(removal)
        {
            // One folder that cannot go (permissions, a file in use) does not stop the rest.
            eprintln!("faultline: cannot remove {e}");
            failed += 1;
            continue;
        }
        println!(
            "{verb} {} ({outcome}, {})",
            folder.path.display(),
            human_bytes(removal.bytes)
        );
        freed += removal.bytes;
        removed += 1;
    }
    let freed_verb = if args.dry_run { "would free" } else { "freed" };
    println!(
        "{verb} {removed} {} of {}, {freed_verb} {}",
        if removed == 1 { "folder" } else { "folders" },
        args.store.display(),
        human_bytes(freed)
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Bytes in decimal units, one decimal: `190.2 MB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
