//! junit.xml for CI: one test suite per campaign, one test case per run.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::summary::{CampaignSummary, Expect};
use crate::summary::Verdict;

/// The campaign as JUnit XML: a failed expectation is a failure; an unknown verdict is an error
/// (the checker could not decide, which CI should see as broken, not as a regression).
pub fn junit_xml(summary: &CampaignSummary) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new(summary.name.clone());
    for run in &summary.runs {
        let status = if run.verdict == Verdict::Unknown && run.expect != Expect::Any {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message("the checker could not decide within its budget");
            s
        } else if run.passed {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "expected {:?}, got {}",
                run.expect,
                run.verdict.name()
            ));
            s.set_description(format!("see {}/report.html", run.dir));
            s
        };
        let mut case = TestCase::new(run.label.clone(), status);
        case.set_time(Duration::from_secs_f64(run.seconds.max(0.0)));
        suite.add_test_case(case);
    }
    let mut report = Report::new("faultline");
    report.add_test_suite(suite);
    report.to_string()
}
