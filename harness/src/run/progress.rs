//! What a run shows while it works. On a terminal, one line that is a spinner naming the phase
//! (starting the cluster, healing, checking N operations, ...) and, during the workload, a bar:
//! elapsed time against the time limit, ops/s, outcome counts and the active fault; cleared
//! when the run ends, so nothing of it is left in the scrollback. Without a terminal (CI, a
//! pipe), where indicatif draws nothing, one plain line per phase on stderr instead.

use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::recorder::Counters;

/// How often a spinner turns while nothing else updates it (a check that takes a while).
const SPIN: Duration = Duration::from_millis(120);

/// One run's line: under the campaign's bar when there is one (same `MultiProgress`).
pub struct RunProgress {
    bar: ProgressBar,
    /// Named in each plain line, so a campaign's log says which run is where.
    label: String,
    plain: bool,
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl RunProgress {
    /// A line for the run `label`, added to `multi` (hidden, with plain lines instead, when
    /// `multi` draws nowhere).
    pub fn new(multi: &MultiProgress, label: &str) -> RunProgress {
        let plain = multi.is_hidden();
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(spinner_style());
        bar.set_prefix(label.to_owned());
        if !plain {
            bar.enable_steady_tick(SPIN);
        }
        RunProgress {
            bar,
            label: label.to_owned(),
            plain,
        }
    }

    /// The run entered a phase: the spinner's text, or one line on stderr.
    pub fn phase(&self, text: impl Into<String>) {
        let text = text.into();
        if self.plain {
            eprintln!("faultline: {}: {text}", self.label);
        } else {
            self.bar.set_style(spinner_style());
            self.bar.set_message(text);
        }
    }

    /// The workload began: a bar over `time_limit` from here on (a line without a terminal).
    pub fn workload(&self, time_limit: Duration, what: &str) {
        if self.plain {
            self.phase(format!(
                "running the workload for {} s ({what})",
                time_limit.as_secs_f64()
            ));
            return;
        }
        self.bar.set_length(time_limit.as_millis() as u64);
        self.bar.set_position(0);
        self.bar.reset_elapsed();
        self.bar.set_style(bar_style());
    }

    /// Refreshes the workload's bar from the recorder's counters (nothing without a terminal).
    pub fn update(&self, counters: &Counters, elapsed: Duration, fault: &str) {
        let ok = counters.ok.load(Ordering::Relaxed);
        let rejected = counters.rejected.load(Ordering::Relaxed);
        let fail = counters.fail.load(Ordering::Relaxed);
        let info = counters.info.load(Ordering::Relaxed);
        let rate = (ok + rejected + fail + info) as f64 / elapsed.as_secs_f64().max(0.001);
        self.bar.set_position(elapsed.as_millis() as u64);
        self.bar.set_message(format!(
            "{rate:.0} ops/s  ok {ok} rejected cas {rejected} fail {fail} info {info}  fault: {fault}"
        ));
    }

    /// Removes the line from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for RunProgress {
    /// A run that ends with an error leaves no spinner turning either.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
