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

/// A campaign over postgres-patroni's replication (not kvnode's option, with other options
/// beside it): each group's row has its availability, failover time, anomalies and what its
/// value promises, and summary.json's groups carry the promise of the compared option only.
#[test]
fn each_group_of_another_system_shows_its_figures_beside_what_its_value_promises() {
    let promise = |mode: &str| format!("{mode} promises this much.");
    let runs: Vec<CampaignRun> = [("async", 3, 0.4, 25.0), ("sync-strict", 0, 0.1, 31.0)]
        .into_iter()
        .map(|(mode, lost, available, failover)| {
            let mut r = results(Verdict::Valid, false);
            r.anomaly_counts.insert("lost-write".into(), lost);
            r.availability.during_faults = Some(available);
            r.failover_s = vec![failover];
            let setup = Setup {
                system: "postgres-patroni".into(),
                options: [
                    ("replication", mode),
                    ("synchronous_commit", "on"),
                    ("reads", "primary"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
                workload: "register".into(),
                nemesis: "partition".into(),
            };
            CampaignRun::new(
                mode.into(),
                setup,
                1,
                format!("runs/{mode}/1"),
                Expect::Any,
                &r,
                60.0,
            )
            .with_option_explanations(
                [
                    ("replication".to_owned(), promise(mode)),
                    ("reads".to_owned(), "Reads go to the primary.".to_owned()),
                ]
                .into_iter()
                .collect(),
            )
        })
        .collect();
    let summary = summarise_campaign("pg".into(), "now".into(), runs, false);
    assert_eq!(summary.compared_by, "replication");
    let json = serde_json::to_value(&summary).expect("json");
    for (i, mode) in ["async", "sync-strict"].into_iter().enumerate() {
        let group = &json["groups"][i];
        assert_eq!(group["value"], mode);
        assert_eq!(
            group["promises"],
            serde_json::json!([{"option": "replication", "value": mode, "text": promise(mode)}]),
            "only the compared option's promise: reads is the same in every group"
        );
    }
    assert!(
        json["runs"][0].get("option_explanations").is_none(),
        "once per group, not per run"
    );
    let index = render_index(&summary).expect("index");
    let row = |mode: &str| {
        index
            .split("<tr>")
            .find(|r| r.contains(&format!("</span>{mode}</td>")))
            .unwrap_or_else(|| panic!("no row for {mode}: {index}"))
            .to_owned()
    };
    let async_row = row("async");
    for cell in [
        "<td>3 lost writes</td>",
        "<td>40.0%</td>",
        "<td>25.00 s</td>",
        "<code>replication=async</code>: async promises this much.",
    ] {
        assert!(async_row.contains(cell), "{cell} missing from {async_row}");
    }
    let strict_row = row("sync-strict");
    for cell in [
        "<td>none</td>",
        "<td>10.0%</td>",
        "<td>31.00 s</td>",
        "sync-strict promises this much.",
    ] {
        assert!(
            strict_row.contains(cell),
            "{cell} missing from {strict_row}"
        );
    }
}
