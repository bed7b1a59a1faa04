//! A run cut short by a signal (Ctrl-C, SIGTERM): how far its workload got. The controller marks
//! the start of the workload and the moment it was interrupted in the history (nemesis `phase`
//! events `workload` and `interrupted`), so `analyze` finds the interruption again.

use std::fmt;

use faultline_checker::history::{Event, Process};
use serde::{Deserialize, Serialize};

/// How far an interrupted run's workload got: `after_s` seconds of the `of_s` it was to run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    pub after_s: f64,
    pub of_s: f64,
}

impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interrupted after {} of {}",
            seconds(self.after_s),
            seconds(self.of_s)
        )
    }
}

/// Whole seconds when the value is whole or large, else one decimal: `9 s`, `0.5 s`.
pub(crate) fn seconds(s: f64) -> String {
    if s >= 10.0 || s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The time of the controller's first `phase` marker named `name` (`workload`, `interrupted`,
/// `final-reads`).
pub(crate) fn phase_time(events: &[Event], name: &str) -> Option<u64> {
    events
        .iter()
        .find(|e| e.process == Process::Nemesis && e.f == "phase" && e.value == name)
        .map(|e| e.time)
}

/// The interruption a history records, for a run whose workload was to last `time_limit_s`;
/// `None` for a run that ran to its end. A signal after the time limit (during the recovery
/// wait) counts as the whole time limit run.
pub fn interruption(events: &[Event], time_limit_s: f64) -> Option<Interruption> {
    let at = phase_time(events, "interrupted")?;
    let from = phase_time(events, "workload").unwrap_or(0);
    let after_s = at.saturating_sub(from) as f64 / 1e9;
    Some(Interruption {
        after_s: after_s.min(time_limit_s),
        of_s: time_limit_s,
    })
}
