//! The nightly trends of a campaign folder written by hand night by night: the cells that
//! failed anew, flip or were fixed named exactly, with the first failing night and its label;
//! unreadable nights named and skipped; an empty campaign folder still gets its page; the
//! generated year of nights stays small.

use std::path::Path;

use faultline_results::trends::generate::generated_nights;
use faultline_results::trends::{
    Class, TrendOptions, compute_trends, render_trends, write_campaign_trends,
};
use serde_json::{Value, json};

/// A run of a summary.json: cell `workload`/`nemesis`, passing or not.
fn run(workload: &str, nemesis: &str, pass: bool, ops: f64) -> Value {
    json!({
        "label": format!("{workload}-quorum-read-index-{nemesis}-n3-s1"),
        "replication": "quorum", "reads": "read-index", "workload": workload,
        "nemesis": nemesis, "nodes": 3, "seed": 1,
        "dir": format!("runs/{workload}-{nemesis}/20260101T000000.000Z"),
        "verdict": if pass { "valid" } else { "invalid" },
        "expect": "valid",
        "outcome": if pass { "pass" } else { "fail" },
        "passed": pass,
        "ops_per_s": ops, "write_p99_ms": 12.0,
        "write_availability_during_faults": 0.9, "failover_s": 1.5,
    })
}

/// Writes night `i` (`campaigns/nightly/2026010<i>T020000.000Z/summary.json`) with `label`.
fn night(campaign: &Path, i: usize, label: &str, runs: Vec<Value>) -> String {
    let stamp = format!("202601{:02}T020000.000Z", i + 1);
    let dir = campaign.join(&stamp);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let summary = json!({
        "name": "nightly", "started": stamp, "passed": true, "interrupted": false,
        "runs": runs,
        "provenance": {"faultline_version": "0.1.0", "system": "kvnode", "label": label},
    });
    std::fs::write(dir.join("summary.json"), summary.to_string()).expect("write");
    stamp
}

/// Six nights, builds b1 (nights 1–3) and b2 (4–6): `register-kill` fails from night 4 on,
/// `kv-none` flips within each build, `append-none` failed until night 4, `set-none` always
/// passes. Plus a night without summary.json and one whose summary.json is torn.
fn six_nights(campaign: &Path) -> Vec<String> {
    let pattern = [
        // (register-kill, kv-none, append-none)
        (true, true, false),
        (true, false, false),
        (true, true, false),
        (false, true, false),
        (false, false, true),
        (false, true, true),
    ];
    let mut stamps = Vec::new();
    for (i, (reg, kv, append)) in pattern.into_iter().enumerate() {
        let label = if i < 3 { "b1" } else { "b2" };
        stamps.push(night(
            campaign,
            i,
            label,
            vec![
                run("register", "kill", reg, 900.0),
                run("kv", "none", kv, 800.0),
                run("append", "none", append, 700.0),
                run("set", "none", true, 600.0),
            ],
        ));
    }
    std::fs::create_dir_all(campaign.join("20251231T020000.000Z")).expect("mkdir");
    let torn = campaign.join("20251230T020000.000Z");
    std::fs::create_dir_all(&torn).expect("mkdir");
    std::fs::write(torn.join("summary.json"), "{\"runs\": [").expect("write");
    stamps
}

#[test]
fn names_the_new_failure_the_flaky_cell_and_the_fixed_one_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let campaign = dir.path().join("campaigns/nightly");
    let stamps = six_nights(&campaign);
    let trends = write_campaign_trends(&campaign, TrendOptions::default()).expect("written");

    assert_eq!(trends.nights.len(), 6);
    let classes: Vec<(&str, &str)> = trends
        .cells
        .iter()
        .filter_map(|c| Some((c.name.as_str(), c.class.as_ref()?.name())))
        .collect();
    assert_eq!(
        classes,
        [
            ("append-quorum-read-index-none-n3", "fixed"),
            ("kv-quorum-read-index-none-n3", "flaky"),
            ("register-quorum-read-index-kill-n3", "new failure"),
        ]
    );
    let register = trends
        .cells
        .iter()
        .find(|c| c.name.starts_with("register"))
        .expect("register cell");
    let Some(Class::NewFailure {
        first_failing,
        changes,
        ..
    }) = &register.class
    else {
        panic!("{:?}", register.class)
    };
    assert_eq!(trends.nights[*first_failing].stamp, stamps[3]);
    assert_eq!(changes, &["label b1 → b2"]);
    assert_eq!(register.pass_rate, Some(0.5));

    // One line for CI, naming the cell, the night, its label and the report.
    let lines = trends.new_failure_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("register-quorum-read-index-kill-n3")
            && lines[0].contains(&stamps[3])
            && lines[0].contains("label b2")
            && lines[0].contains(&format!("{}/runs/register-kill/", stamps[3])),
        "{}",
        lines[0]
    );

    // The unreadable nights are named, and the pages were written all the same.
    let bad: Vec<(&str, &str)> = trends
        .bad_runs
        .iter()
        .map(|b| (b.stamp.as_str(), b.reason.as_str()))
        .collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].0 == "20251230T020000.000Z" && bad[0].1.starts_with("summary.json:1:"));
    assert!(bad[1].0 == "20251231T020000.000Z" && bad[1].1.contains("no summary.json"));
    let html = std::fs::read_to_string(campaign.join("trends.html")).expect("trends.html");
    for needed in [
        "register-quorum-read-index-kill-n3",
        "20251230T020000.000Z",
        "label b1 → b2",
        "How this page decides",
    ] {
        assert!(html.contains(needed), "{needed} missing");
    }
    let json: Value =
        serde_json::from_slice(&std::fs::read(campaign.join("trends.json")).expect("json"))
            .expect("valid json");
    assert_eq!(json["cells"][2]["class"]["class"], "new-failure");
}

#[test]
fn k_is_the_passing_nights_a_new_failure_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let campaign = dir.path().join("campaigns/nightly");
    six_nights(&campaign);
    let trends =
        write_campaign_trends(&campaign, TrendOptions { passed_nights: 4 }).expect("written");
    assert!(trends.new_failure_lines().is_empty());
}

#[test]
fn old_summaries_without_provenance_or_node_counts_still_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let campaign = dir.path().join("campaigns/old");
    let stamp = "20260101T020000.000Z";
    std::fs::create_dir_all(campaign.join(stamp)).expect("mkdir");
    let mut old = run("register", "kill", true, 1.0);
    old.as_object_mut().expect("object").remove("nodes");
    std::fs::write(
        campaign.join(stamp).join("summary.json"),
        json!({"runs": [old]}).to_string(),
    )
    .expect("write");
    let trends = write_campaign_trends(&campaign, TrendOptions::default()).expect("written");
    assert!(trends.bad_runs.is_empty(), "{:?}", trends.bad_runs);
    assert_eq!(trends.cells[0].key.nodes, Some(3), "read from the label");
}

#[test]
fn a_night_recording_options_and_one_recording_replication_are_one_cell() {
    // Summaries before runs carried their system and options said replication and reads;
    // the same cell recorded either way is one cell, and each run's own system counts.
    let dir = tempfile::tempdir().expect("tempdir");
    let campaign = dir.path().join("campaigns/mixed");
    night(&campaign, 0, "b1", vec![run("register", "kill", true, 1.0)]);
    let mut new = run("register", "kill", false, 1.0);
    let object = new.as_object_mut().expect("object");
    object.remove("replication");
    object.remove("reads");
    object.insert("system".into(), json!("kvnode"));
    object.insert(
        "options".into(),
        json!({"replication": "quorum", "reads": "read-index"}),
    );
    let mut etcd = run("register", "kill", true, 1.0);
    let object = etcd.as_object_mut().expect("object");
    object.insert("system".into(), json!("etcd"));
    object.insert("options".into(), json!({"reads": "serializable"}));
    object.remove("replication");
    object.remove("reads");
    night(&campaign, 1, "b1", vec![new, etcd]);
    let trends = write_campaign_trends(&campaign, TrendOptions::default()).expect("written");
    let names: Vec<String> = trends.cells.iter().map(|c| c.key.name()).collect();
    assert_eq!(
        names,
        [
            "register-etcd-serializable-kill-n3",
            "register-quorum-read-index-kill-n3"
        ]
    );
    let kvnode = &trends.cells[1];
    assert_eq!(kvnode.nights.iter().flatten().count(), 2, "both nights");
}

#[test]
fn an_empty_campaign_folder_still_gets_its_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let campaign = dir.path().join("campaigns/none");
    std::fs::create_dir_all(&campaign).expect("mkdir");
    let trends = write_campaign_trends(&campaign, TrendOptions::default()).expect("written");
    assert!(trends.cells.is_empty() && trends.nights.is_empty());
    let html = std::fs::read_to_string(campaign.join("trends.html")).expect("page");
    assert!(html.contains("0 nights read"));
}

#[test]
fn a_generated_year_of_fifty_cells_stays_under_two_megabytes() {
    let trends = compute_trends(
        "generated",
        generated_nights(365, 50),
        TrendOptions::default(),
    );
    assert_eq!(trends.cells.len(), 50);
    assert!(trends.with_class("flaky").count() > 0);
    // The generator doubles the first cell's p99 write latency on the last night.
    let first = trends
        .cells
        .iter()
        .find(|c| c.name == "register-sync-read-index-none-n3")
        .expect("the first generated cell");
    assert!(
        first
            .regressions
            .iter()
            .any(|r| r.figure == "write-p99" && r.nights.contains(&364)),
        "{:?}",
        first.regressions
    );
    let html = render_trends(&trends).expect("renders");
    assert!(html.len() < 2 << 20, "{} bytes", html.len());
}

#[tokio::test]
async fn serve_lists_each_campaigns_trends_page() {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    six_nights(&store.join("campaigns/nightly"));
    write_campaign_trends(&store.join("campaigns/nightly"), TrendOptions::default())
        .expect("written");
    std::fs::create_dir_all(store.join("campaigns/weekly")).expect("mkdir");
    let get = |uri: &'static str| {
        let router = faultline_results::serve::router(store.clone());
        async move {
            let response = router
                .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let body = to_bytes(response.into_body(), 4 << 20).await.expect("body");
            String::from_utf8_lossy(&body).into_owned()
        }
    };
    let index = get("/").await;
    assert!(
        index.contains("href=\"/files/campaigns/nightly/trends.html\""),
        "{index}"
    );
    assert!(
        index.contains("faultline trends STORE/campaigns/weekly"),
        "{index}"
    );
    let page = get("/files/campaigns/nightly/trends.html").await;
    assert!(page.contains("nightly: trends across nights"));
}

#[test]
fn a_year_where_every_cell_flips_every_night_stays_under_two_megabytes() {
    // The worst case for the verdict strips: 50 cells alternating fail and pass for 365 nights
    // (a titled rectangle per night made this page 3.4 MB).
    let nights: Vec<faultline_results::StoredNight> = generated_nights(365, 50)
        .into_iter()
        .enumerate()
        .map(|(i, night)| {
            let mut summary: Value =
                serde_json::from_slice(night.summary.as_ref().expect("generated")).expect("json");
            let fail = i % 2 == 0;
            for run in summary["runs"].as_array_mut().expect("runs") {
                run["outcome"] = json!(if fail { "fail" } else { "pass" });
                run["verdict"] = json!(if fail { "invalid" } else { "valid" });
            }
            faultline_results::StoredNight {
                stamp: night.stamp,
                summary: Ok(serde_json::to_vec(&summary).expect("json")),
            }
        })
        .collect();
    let trends = compute_trends("flips", nights, TrendOptions::default());
    assert_eq!(trends.with_class("flaky").count(), 50);
    let html = render_trends(&trends).expect("renders");
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert!(
        html.contains("364 changes of outcome"),
        "the strip says how often it flipped"
    );
}
