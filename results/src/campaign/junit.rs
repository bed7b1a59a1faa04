//! junit.xml for CI: one test suite per campaign, one test case per cell.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::summary::{CampaignRun, CampaignSummary, Expect, Outcome};
use crate::interruption::seconds;
use crate::summary::Verdict;

/// The campaign as JUnit XML: a failed expectation is a failure; an unknown verdict is an error
/// (the checker could not decide, which CI should see as broken, not as a regression); a run cut
/// short by a signal, and every cell that never ran, is skipped, with the reason.
pub fn junit_xml(summary: &CampaignSummary) -> Result<String, quick_junit::SerializeError> {
    junit_xml_marking_flaky(summary, |_| None)
}

/// The same, with each run whose cell the nightly trends call flaky marked so: a property
/// `flaky` (its value the reason) on the test case and, for a pass, a `<flakyFailure>` saying
/// why, as CI tools that know flaky tests read it.
pub fn junit_xml_marking_flaky(
    summary: &CampaignSummary,
    flaky: impl Fn(&CampaignRun) -> Option<String>,
) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new(summary.name.clone());
    for run in &summary.runs {
        let status = match (run.outcome, run.interrupted) {
            (Outcome::Interrupted, interrupted) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!(
                    "{}; the history recorded until then is {} (expected {})",
                    interrupted.map_or_else(|| "interrupted".to_owned(), |i| i.to_string()),
                    run.verdict.name(),
                    run.expect.name()
                ));
                s
            }
            _ if run.verdict == Verdict::Unknown && run.expect != Expect::Any => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message("the checker could not decide within its budget");
                s
            }
            (Outcome::Pass, _) => TestCaseStatus::success(),
            (Outcome::Fail, interrupted) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "expected {}, got {}{}",
                    run.expect.name(),
                    run.verdict.name(),
                    interrupted.map_or_else(String::new, |i| format!(" ({i})"))
                ));
                s.set_description(format!("see {}/report.html", run.dir));
                s
            }
        };
        let mut status = status;
        let reason = flaky(run);
        if let (Some(reason), TestCaseStatus::Success { .. }) = (&reason, &status) {
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            rerun.set_message(reason.clone());
            status.add_rerun(rerun);
        }
        let mut case = TestCase::new(run.label.clone(), status);
        if let Some(reason) = reason {
            case.add_property(("flaky", reason.as_str()));
        }
        case.set_time(Duration::from_secs_f64(run.seconds.max(0.0)));
        suite.add_test_case(case);
    }
    for cell in &summary.skipped {
        let status = match &cell.error {
            Some(error) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(format!("could not start: {error}"));
                status
            }
            None => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(format!(
                    "not run: the campaign was interrupted{}",
                    summary
                        .interrupted_after_s
                        .map(|s| format!(" after {}", seconds(s)))
                        .unwrap_or_default()
                ));
                status
            }
        };
        suite.add_test_case(TestCase::new(cell.label.clone(), status));
    }
    let mut report = Report::new("faultline");
    report.add_test_suite(suite);
    report.to_string()
}
