//! `faultline trends` and `campaign --trends` on real campaign runs: two short nights run for
//! real with labels, copied into a store of six nights whose summaries are doctored (a test may
//! doctor the run folders it copied: making a cell fail for real on chosen nights would need a
//! bug on demand) so that one cell fails from night 4 on, one flips, one is fixed. The trends
//! name exactly those three, the new failure on one line with its first night and label, and
//! exit 1 under --check; a night without summary.json is named and changes nothing; a third
//! real night with `--trends` marks the flaky cell in its junit.xml.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{faultline, succeeds};

const CAMPAIGN: &str = "name: nightly\n\
    defaults: { time_limit: 1, recovery: 0.5, concurrency: 2 }\n\
    matrix:\n  replication: [quorum, sync]\n  workload: [register, kv]\n\
    expect:\n  - verdict: valid\n";

fn campaign(file: &Path, store: &Path, label: &str) -> Command {
    let mut command = faultline();
    command
        .arg("campaign")
        .arg(file)
        .arg("--store")
        .arg(store)
        .args(["--label", label]);
    command
}

/// The campaign's night folders (not `latest`), oldest first.
fn nights(campaign_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(campaign_dir)
        .expect("campaign folder")
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

/// Whether the cell of a run passes on night `i` (0-based) of the doctored store.
fn passes(run: &Value, i: usize) -> bool {
    let cell = (
        run["workload"].as_str().unwrap_or(""),
        run["options"]["replication"].as_str().unwrap_or(""),
    );
    match cell {
        // Fails from night 4 (index 3) on: a new failure.
        ("register", "quorum") => i < 3,
        // Flips within each build: flaky.
        ("kv", "quorum") => i % 3 != 1,
        // Failed until night 4: fixed.
        ("register", "sync") => i >= 3,
        _ => true,
    }
}

#[test]
fn trends_name_the_new_failure_the_flaky_and_the_fixed_cell_of_real_nights() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("nightly.yaml");
    std::fs::write(&file, CAMPAIGN).expect("write the campaign");
    let real = dir.path().join("real");

    // Two real nights; the second computes its trends (nothing to say after two nights).
    succeeds(&mut campaign(&file, &real, "b1"));
    let out = succeeds(campaign(&file, &real, "b2").arg("--trends"));
    assert!(out.contains("0 new failures, 0 flaky, 0 fixed"), "{out}");
    let real_nights = nights(&real.join("campaigns/nightly"));
    assert_eq!(real_nights.len(), 2);
    let recorded = read_json(&real_nights[0].join("summary.json"));
    assert_eq!(recorded["provenance"]["label"], "b1");
    assert_eq!(
        recorded["provenance"]["faultline_version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(recorded["runs"][0]["nodes"], 3);
    let index = std::fs::read_to_string(real_nights[0].join("index.html")).expect("index");
    assert!(index.contains("label b1") && index.contains("../trends.html"));

    // Six nights: b1's real night copied for nights 1-3, b2's for 4-6, each doctored.
    let store = dir.path().join("store");
    let nightly = store.join("campaigns/nightly");
    std::fs::create_dir_all(&nightly).expect("mkdir");
    let mut stamps = Vec::new();
    for i in 0..6 {
        let stamp = format!("202601{:02}T020000.000Z", i + 1);
        let to = nightly.join(&stamp);
        let from = &real_nights[usize::from(i >= 3)];
        let copied = Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(&to)
            .status()
            .expect("cp");
        assert!(copied.success());
        let mut summary = read_json(&to.join("summary.json"));
        for run in summary["runs"].as_array_mut().expect("runs") {
            let pass = passes(run, i);
            run["outcome"] = (if pass { "pass" } else { "fail" }).into();
            run["verdict"] = (if pass { "valid" } else { "invalid" }).into();
            run["passed"] = pass.into();
        }
        std::fs::write(to.join("summary.json"), summary.to_string()).expect("write");
        stamps.push(stamp);
    }
    // A night whose controller died before its summary.
    std::fs::create_dir_all(nightly.join("20251231T020000.000Z")).expect("mkdir");

    let out = faultline()
        .arg("trends")
        .arg(&nightly)
        .arg("--check")
        .output()
        .expect("starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let failures: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("new failure"))
        .collect();
    assert_eq!(failures.len(), 1, "{stdout}");
    assert!(
        failures[0].contains("register-quorum-read-index-none-n3")
            && failures[0].contains(&stamps[3])
            && failures[0].contains("label b2")
            && failures[0].contains("label b1 → b2"),
        "{}",
        failures[0]
    );
    assert!(
        stdout.contains("1 new failures, 1 flaky, 1 fixed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("20251231T020000.000Z") && stderr.contains("no summary.json"),
        "{stderr}"
    );
    let trends = read_json(&nightly.join("trends.json"));
    let classes: Vec<(String, String)> = trends["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter(|c| c["class"].is_object())
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_owned(),
                c["class"]["class"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        classes,
        [
            ("kv-quorum-read-index-none-n3".into(), "flaky".into()),
            (
                "register-quorum-read-index-none-n3".into(),
                "new-failure".into()
            ),
            ("register-sync-read-index-none-n3".into(), "fixed".into()),
        ]
    );
    let html = std::fs::read_to_string(nightly.join("trends.html")).expect("page");
    assert!(
        html.contains("20251231T020000.000Z"),
        "the bad run is named"
    );

    // Without --check, and on the whole store, the same pages and exit 0, and the store's page
    // counts the campaign's findings.
    let out = succeeds(faultline().arg("trends").arg(&store));
    assert!(out.contains("1 new failures"), "{out}");
    let overview = read_json(&store.join("trends.json"));
    let line = &overview["campaigns"][0];
    assert_eq!(
        (&line["new_failures"], &line["flaky"], &line["fixed"]),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1)
        ),
        "{overview}"
    );

    // A real seventh night with --trends: the flaky cell is marked in its junit.xml.
    succeeds(campaign(&file, &store, "b2").arg("--trends"));
    let latest = nightly.join("latest");
    let junit = std::fs::read_to_string(latest.join("junit.xml")).expect("junit");
    let kv_case = junit
        .split("<testcase")
        .find(|c| c.contains("name=\"kv-quorum-read-index-none-n3-s1\""))
        .expect("kv case");
    assert!(
        kv_case.contains("flakyFailure") && kv_case.contains("name=\"flaky\""),
        "{kv_case}"
    );
    let register_case = junit
        .split("<testcase")
        .find(|c| c.contains("name=\"register-quorum-read-index-none-n3-s1\""))
        .expect("register case");
    assert!(!register_case.contains("flaky"), "{register_case}");
}

#[test]
fn an_empty_store_still_gets_its_page_and_a_missing_folder_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    // A store with a run and no campaign yet, then with an empty campaigns folder: the store's
    // page is written and says so, exit 0.
    std::fs::create_dir_all(store.join("a/20260101T000000.000Z")).expect("mkdir");
    let out = succeeds(faultline().arg("trends").arg(&store).arg("--check"));
    assert!(out.contains("no campaigns yet"), "{out}");
    let page = std::fs::read_to_string(store.join("trends.html")).expect("the store's page");
    assert!(page.contains("No campaigns yet"), "{page}");
    assert_eq!(
        read_json(&store.join("trends.json"))["campaigns"],
        serde_json::json!([])
    );
    std::fs::create_dir_all(store.join("campaigns")).expect("mkdir");
    let out = succeeds(faultline().arg("trends").arg(&store).arg("--check"));
    assert!(out.contains("no campaigns yet"), "{out}");
    let empty = store.join("campaigns/empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    succeeds(faultline().arg("trends").arg(&store).arg("--check"));
    assert!(empty.join("trends.html").is_file());
    let page = std::fs::read_to_string(store.join("trends.html")).expect("the store's page");
    assert!(page.contains("campaigns/empty/trends.html"), "{page}");

    // A folder that holds neither runs nor campaigns is not written into.
    let other = dir.path().join("someones-folder");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("notes.txt"), "mine").expect("write");
    let out = faultline()
        .arg("trends")
        .arg(&other)
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(3));
    assert!(!other.join("trends.html").exists() && !other.join("trends.json").exists());

    let missing = dir.path().join("nothing-here");
    let out = faultline()
        .arg("trends")
        .arg(&missing)
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing-here"));
}
