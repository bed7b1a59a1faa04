//! Checking many files at once: one worker per core, largest file first (the longest check
//! starts at once and small ones fill the gaps, as partitions do inside a check), each file
//! within an equal share of the memory limit, reports handed back in the order the files were
//! given. A file whose budget ran
//! out is checked again alone with the whole budget, so every verdict is the one a check of that
//! file by itself gives; only the time to get there changes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use faultline_checker::Budget;

use super::{CheckConfig, FileReport, check_file};

/// Checks `files`, calling `report` once per file, in the order of `files`.
pub(super) fn check_files(
    files: &[PathBuf],
    config: &CheckConfig,
    mut report: impl FnMut(FileReport),
) {
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if workers <= 1 {
        for path in files {
            report(check_file(path, config, config.budget));
        }
        return;
    }
    let shared = Budget {
        timeout: config.budget.timeout,
        memory_limit: config.budget.memory_limit.map(|m| m / workers),
    };
    // Positions in `files`, largest first; a file that cannot be read sorts last (and fails fast).
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(std::fs::metadata(&files[i]).map_or(0, |m| m.len())));
    let order = &order;
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, FileReport)>();
    // Reports that arrived before an earlier file's, and files to check again alone.
    let mut waiting: BTreeMap<usize, FileReport> = BTreeMap::new();
    let mut reported = 0;
    // Set once the next file to report must be checked again.
    let mut holding = false;
    thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let path = &files[i];
                    if sender.send((i, check_file(path, config, shared))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Print in order as reports arrive, up to the first file that must be checked again:
        // from there on, wait until every worker is done so that the re-check runs alone.
        for (i, file_report) in receiver {
            waiting.insert(i, file_report);
            while !holding && let Some(ready) = waiting.remove(&reported) {
                if ready.exhausted {
                    holding = true;
                    waiting.insert(reported, ready);
                    break;
                }
                report(ready);
                reported += 1;
            }
        }
    });
    for (i, first) in waiting {
        let path = &files[i];
        if first.exhausted {
            report(check_file(path, config, config.budget));
        } else {
            report(first);
        }
    }
}
