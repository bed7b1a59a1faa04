//! The progress bar of a run: elapsed time against the time limit, ops/s, outcome counts and
//! the active fault. Drawn on stderr only when it is a terminal (indicatif hides it otherwise).

use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::recorder::Counters;

pub fn bar(time_limit: Duration) -> ProgressBar {
    let bar = ProgressBar::new(time_limit.as_millis() as u64);
    let style = ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Refreshes the bar from the recorder's counters.
pub fn update(bar: &ProgressBar, counters: &Counters, elapsed: Duration, fault: &str, phase: &str) {
    let ok = counters.ok.load(Ordering::Relaxed);
    let rejected = counters.rejected.load(Ordering::Relaxed);
    let fail = counters.fail.load(Ordering::Relaxed);
    let info = counters.info.load(Ordering::Relaxed);
    let rate = (ok + rejected + fail + info) as f64 / elapsed.as_secs_f64().max(0.001);
    bar.set_position(elapsed.as_millis() as u64);
    bar.set_message(format!(
        "{phase} {rate:.0} ops/s  ok {ok} rejected cas {rejected} fail {fail} info {info}  fault: {fault}"
    ));
}
