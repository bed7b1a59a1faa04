//! What a cell's strip of verdicts says: a new failure, flaky, or fixed (or none of them).
//!
//! Only nights where the cell passed or failed count ("decided"); a night that did not run it,
//! or cut it short, is skipped. A flip is two consecutive decided nights with different
//! outcomes; it is explained when the two nights ran against something different (faultline's
//! or the system's version, the commit or the label), unexplained otherwise.
//! - flaky: at least two unexplained flips among the last `FLAKY_WINDOW` decided nights — it
//!   went and came back with nothing changed. One unexplained flip is a failure starting or
//!   ending, which the rules below report instead.
//! - new failure: not flaky, failed on the campaign's newest night, and the failing streak that
//!   ends there was preceded by at least K passing nights. Named with its first failing night
//!   and what changed since the last passing one.
//! - fixed: not flaky, passed on the newest night after failing, the passing streak at most K
//!   nights long (after K passes it is simply passing again).

use serde::Serialize;

use super::cell::{CellNight, NightOutcome};
use crate::campaign::Provenance;

/// Decided nights looked at for flakiness: two weeks of nightly runs.
pub const FLAKY_WINDOW: usize = 14;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum Class {
    NewFailure {
        /// Index (into the trends' nights) of the first failing night of the streak.
        first_failing: usize,
        /// The last passing night before it.
        last_passing: usize,
        /// What changed between the two, in words; empty when nothing did.
        changes: Vec<String>,
    },
    Flaky {
        /// Flips without a change among the last decided nights.
        unexplained_flips: usize,
    },
    Fixed {
        /// Index of the first night of the passing streak.
        first_passing: usize,
        /// Index of the cell's last failing night before it (nights it was absent or
        /// interrupted in between are skipped).
        last_failing: usize,
    },
}

impl Class {
    pub fn name(&self) -> &'static str {
        match self {
            Class::NewFailure { .. } => "new failure",
            Class::Flaky { .. } => "flaky",
            Class::Fixed { .. } => "fixed",
        }
    }
}

/// The class of a cell from its nights (one entry per night of the campaign, oldest first),
/// the nights' provenance and K, the passing nights before a failure counts as new.
pub fn classify(
    series: &[Option<CellNight>],
    provenance: &[&Provenance],
    k: usize,
) -> Option<Class> {
    let decided: Vec<(usize, bool)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n.as_ref()?.outcome {
            NightOutcome::Pass => Some((i, true)),
            NightOutcome::Fail => Some((i, false)),
            NightOutcome::Interrupted => None,
        })
        .collect();
    let recent = &decided[decided.len().saturating_sub(FLAKY_WINDOW)..];
    let unexplained_flips = recent
        .windows(2)
        .filter(|w| w[0].1 != w[1].1 && provenance[w[0].0] == provenance[w[1].0])
        .count();
    if unexplained_flips >= 2 {
        return Some(Class::Flaky { unexplained_flips });
    }
    let &(last, passed_now) = decided.last()?;
    if last + 1 != series.len() {
        // The cell did not run (or was cut short) on the newest night: nothing is "now".
        return None;
    }
    let streak = decided
        .iter()
        .rev()
        .take_while(|(_, p)| *p == passed_now)
        .count();
    let start = decided.len() - streak;
    if passed_now {
        let failed_before = start > 0;
        (failed_before && streak <= k).then(|| Class::Fixed {
            first_passing: decided[start].0,
            last_failing: decided[start - 1].0,
        })
    } else {
        let passes_before = decided[..start]
            .iter()
            .rev()
            .take_while(|(_, p)| *p)
            .count();
        // `start > 0`: a cell that failed every night has no last passing night (and k may be 0
        // through the library's options).
        (start > 0 && passes_before >= k).then(|| {
            let first_failing = decided[start].0;
            let last_passing = decided[start - 1].0;
            Class::NewFailure {
                first_failing,
                last_passing,
                changes: provenance[first_failing].changes_since(provenance[last_passing]),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(outcome: NightOutcome) -> Option<CellNight> {
        Some(CellNight {
            outcome,
            verdict: String::new(),
            report: String::new(),
            ops_per_s: None,
            write_p99_ms: None,
            write_availability_during_faults: None,
            failover_s: None,
        })
    }

    fn strip(text: &str) -> Vec<Option<CellNight>> {
        text.chars()
            .map(|c| match c {
                'P' => night(NightOutcome::Pass),
                'F' => night(NightOutcome::Fail),
                'I' => night(NightOutcome::Interrupted),
                _ => None,
            })
            .collect()
    }

    fn labelled(labels: &[&str]) -> Vec<Provenance> {
        labels
            .iter()
            .map(|l| Provenance {
                label: Some((*l).to_owned()),
                ..Provenance::default()
            })
            .collect()
    }

    fn class(text: &str, labels: &[&str]) -> Option<Class> {
        let p = labelled(labels);
        let refs: Vec<&Provenance> = p.iter().collect();
        classify(&strip(text), &refs, 3)
    }

    #[test]
    fn a_failure_after_k_passes_is_new_and_says_what_changed() {
        let c = class("PPPFF", &["a", "a", "a", "b", "b"]);
        assert_eq!(
            c,
            Some(Class::NewFailure {
                first_failing: 3,
                last_passing: 2,
                changes: vec!["label a → b".to_owned()],
            })
        );
        // Too few passes before it: not new (the labels explain the flips: not flaky either).
        assert_eq!(class("FPPF", &["a", "b", "b", "c"]), None);
        // A night that did not run the cell is skipped, not a break in the passes.
        assert!(matches!(
            class("PP-PF", &["a"; 5]),
            Some(Class::NewFailure {
                first_failing: 4,
                ..
            })
        ));
    }

    #[test]
    fn flips_without_a_change_are_flaky_flips_with_one_are_not() {
        assert_eq!(
            class("PFPPF", &["a"; 5]),
            Some(Class::Flaky {
                unexplained_flips: 3
            })
        );
        // Every flip came with a new label: explained, so the newest failure is new.
        assert!(matches!(
            class("PPPFPPPF", &["a", "a", "a", "b", "c", "c", "c", "d"]),
            Some(Class::NewFailure { .. })
        ));
    }

    #[test]
    fn a_pass_after_failing_is_fixed_for_k_nights() {
        assert_eq!(
            class("FFFPP", &["a", "a", "a", "b", "b"]),
            Some(Class::Fixed {
                first_passing: 3,
                last_failing: 2
            })
        );
        assert_eq!(class("FFPPPP", &["a", "a", "b", "b", "b", "b"]), None);
        assert_eq!(class("PPPP", &["a"; 4]), None);
        // Absent between its last failure and its first pass: the failure it recovered from is
        // night 1, not the night before the pass.
        assert_eq!(
            class("FF-PP", &["a"; 5]),
            Some(Class::Fixed {
                first_passing: 3,
                last_failing: 1
            })
        );
        // Not run on the newest night: nothing to say about now.
        assert_eq!(class("PPPF-", &["a", "a", "a", "b", "b"]), None);
    }
}
