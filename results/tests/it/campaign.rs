//! A campaign's pages when a signal cut it short: the run it was in is neither a pass nor a
//! failure, the cells never run are listed as skipped, and nothing says "every expectation held".

use faultline_results::campaign::{
    CampaignRun, Expect, Outcome, Setup, SkippedCell, junit_xml, render_index, summarise_campaign,
};
use faultline_results::{Interruption, RunResults, Verdict, summarise};

/// A run's results with `verdict`, cut short after 9 s of 30 s when `interrupted`.
fn results(verdict: Verdict, interrupted: bool) -> RunResults {
    let mut r = summarise(&[], None, false);
    r.verdict = verdict;
    r.interrupted = interrupted.then_some(Interruption {
        after_s: 9.0,
        of_s: 30.0,
    });
    r
}

fn run(label: &str, expect: Expect, results: &RunResults) -> CampaignRun {
    CampaignRun::new(
        label.into(),
        Setup::kvnode("quorum", "read-index", "register", "kill"),
        1,
        format!("runs/{label}/1"),
        expect,
        results,
        9.5,
    )
}

fn skipped(label: &str) -> SkippedCell {
    SkippedCell {
        label: label.into(),
        setup: Setup::kvnode("sync", "read-index", "register", "kill"),
        seed: 1,
        expect: Expect::Valid,
        error: None,
    }
}

#[test]
fn an_interrupted_campaign_lists_skipped_cells_and_never_says_every_expectation_held() {
    let done = run("done", Expect::Valid, &results(Verdict::Valid, false));
    let cut = run("cut", Expect::Valid, &results(Verdict::Valid, true));
    assert_eq!(
        (done.outcome, cut.outcome),
        (Outcome::Pass, Outcome::Interrupted)
    );
    assert!(!cut.passed);
    let summary = summarise_campaign("c".into(), "now".into(), vec![done, cut], true)
        .interrupted_after(14.2, vec![skipped("never")]);
    assert!(!summary.passed);
    assert_eq!(
        summary.headline(),
        "interrupted after 14 s: 1 of 3 runs done, 1 cut short, 1 skipped; \
         no expectation failed in what ran"
    );

    let index = render_index(&summary).expect("index");
    assert!(!index.contains("every expectation held"), "{index}");
    assert!(index.contains("interrupted after 14 s"), "{index}");
    assert!(
        index.contains(r#"<td class="interrupted">interrupted after 9 s of 30 s</td>"#),
        "{index}"
    );
    assert!(
        index.contains(
            r#"<td>never</td><td class="none">–</td><td>valid</td><td class="skipped">skipped</td>"#
        ),
        "{index}"
    );

    let junit = junit_xml(&summary).expect("junit");
    assert!(
        junit.contains(r#"tests="3" skipped="2" errors="0" failures="0""#),
        "{junit}"
    );
    assert!(
        junit.contains("interrupted after 9 s of 30 s; the history recorded until then is valid"),
        "{junit}"
    );
    assert!(
        junit.contains("not run: the campaign was interrupted after 14 s"),
        "{junit}"
    );
}

#[test]
fn a_run_cut_short_that_is_already_invalid_fails_a_valid_expectation() {
    let invalid = results(Verdict::Invalid, true);
    let cut = run("cut", Expect::Valid, &invalid);
    assert_eq!(cut.outcome, Outcome::Fail);
    // Where more time could have changed the verdict, the run decides nothing.
    let caught = run("weak", Expect::Invalid, &results(Verdict::Valid, true));
    assert_eq!(caught.outcome, Outcome::Interrupted);
    let summary = summarise_campaign("c".into(), "now".into(), vec![cut, caught], true)
        .interrupted_after(10.0, Vec::new());
    assert!(summary.headline().ends_with("an expectation failed"));
    let junit = junit_xml(&summary).expect("junit");
    assert!(
        junit.contains("expected valid, got invalid (interrupted after 9 s of 30 s)"),
        "{junit}"
    );
}

#[test]
fn expectations_are_spelled_as_in_the_campaign_file() {
    let summary = summarise_campaign(
        "c".into(),
        "now".into(),
        vec![run("r", Expect::Invalid, &results(Verdict::Valid, false))],
        false,
    );
    assert_eq!(summary.headline(), "an expectation failed");
    let junit = junit_xml(&summary).expect("junit");
    assert!(junit.contains("expected invalid, got valid"), "{junit}");
    let index = render_index(&summary).expect("index");
    assert!(index.contains("<td>invalid</td>"), "{index}");
}
