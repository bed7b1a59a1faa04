//! Runs through a definition's client protocol other than kvnode's: the example stdio client
//! (examples/kvnode-stdio.yaml, Python) to a verdict, a broken stdio client that answers
//! garbage (info operations and a line in faultline.log, never a hung controller), and a
//! campaign that crosses kvnode with etcd and a read-mode axis on one comparison page.

use std::path::{Path, PathBuf};

use crate::common::{assert_no_process_mentions, faultline};

/// Whether `program` runs here; says why not (or fails, where CI demands it).
fn have(program: &str, arg: &str, test: &str, install: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    crate::common::prerequisites(test, found, &format!("{program} is missing ({install})"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The only run folder under `<store>/<test>/`.
fn run_dir(store: &Path) -> PathBuf {
    let test = std::fs::read_dir(store)
        .expect("store")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir() && !p.ends_with("campaigns"))
        .expect("a test folder");
    std::fs::read_dir(&test)
        .expect("test folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("history.jsonl").exists())
        .expect("a run folder")
}

fn history(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("history.jsonl"))
        .expect("history")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn the_example_stdio_client_runs_a_kvnode_test_to_a_verdict() {
    let test = "the_example_stdio_client_runs_a_kvnode_test_to_a_verdict";
    if !have(
        "python3",
        "--version",
        test,
        "Debian: apt-get install python3",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let definition = examples().join("kvnode-stdio.yaml");
    let out = faultline()
        .args(["run", "--system"])
        .arg(&definition)
        .args([
            "--nemesis",
            "kill",
            "--time-limit",
            "20",
            "--concurrency",
            "5",
        ])
        .arg("--store")
        .arg(&store)
        .output()
        .expect("faultline starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("valid"), "{stdout}");
    let run = run_dir(&store);
    let events = history(&run);
    let ok = events
        .iter()
        .filter(|e| e["type"] == "ok" && e["node"].is_string())
        .count();
    assert!(ok > 100, "{ok} ok operations, each naming its node");
    assert!(
        run.join("clients/c0.log").exists(),
        "each client program's log"
    );
    assert_eq!(crate::common::recorded_spec(&run)["system"], "kvnode-stdio");
    assert_no_process_mentions(&store.display().to_string());
}

#[test]
fn a_stdio_client_that_answers_garbage_yields_info_and_a_log_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kvnode = faultline::system::builtin::find("kvnode")
        .expect("built in")
        .1;
    let broken = kvnode.replace("name: kvnode", "name: broken").replace(
        "client: {protocol: kvnode, port: http}",
        "client:\n  protocol: stdio\n  command: [sh, -c, 'read init; echo \"{\\\"type\\\":\\\"ready\\\"}\"; while read op; do echo garbage; done']",
    );
    assert!(broken.contains("protocol: stdio"), "{broken}");
    let definition = dir.path().join("broken.yaml");
    std::fs::write(&definition, broken).expect("write the definition");
    let store = dir.path().join("store");
    let started = std::time::Instant::now();
    let out = faultline()
        .args(["run", "--system"])
        .arg(&definition)
        .args(["--time-limit", "3", "--concurrency", "2"])
        .arg("--store")
        .arg(&store)
        .output()
        .expect("faultline starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Nothing the program says is an operation that happened: the history has only infos,
    // which is a verdict, not an error.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let run = run_dir(&store);
    let events = history(&run);
    let infos = events
        .iter()
        .filter(|e| e["type"] == "info" && e["process"].is_number())
        .count();
    let oks = events
        .iter()
        .filter(|e| e["type"] == "ok" && e["process"].is_number())
        .count();
    assert!(infos >= 2 && oks == 0, "{infos} info, {oks} ok");
    let log = std::fs::read_to_string(run.join("faultline.log")).expect("faultline.log");
    assert!(
        log.lines()
            .any(|l| l.contains("stdio client of process") && l.contains("answered garbage")),
        "{log}"
    );
    assert_no_process_mentions(&store.display().to_string());
}

#[test]
fn a_campaign_crossing_kvnode_and_etcd_and_read_modes_is_one_comparison_page() {
    let test = "a_campaign_crossing_kvnode_and_etcd_and_read_modes_is_one_comparison_page";
    if !have(
        "etcd",
        "--version",
        test,
        "Debian: apt-get install etcd-server",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cross.yaml");
    std::fs::write(
        &file,
        "name: cross\n\
         defaults: {time_limit: 3, recovery: 0.5, concurrency: 4}\n\
         matrix:\n  system: [kvnode, etcd]\n  reads: [lease, linearizable, serializable]\n",
    )
    .expect("write the campaign");
    let store = dir.path().join("store");
    let out = faultline()
        .arg("campaign")
        .arg(&file)
        .arg("--store")
        .arg(&store)
        .output()
        .expect("starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let latest = store.join("campaigns/cross/latest");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["compared_by"], "system · reads", "{summary}");
    let groups: Vec<&str> = summary["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["value"].as_str())
        .collect();
    assert_eq!(
        groups,
        [
            "kvnode · lease",
            "etcd · linearizable",
            "etcd · serializable"
        ]
    );
    let page = std::fs::read_to_string(latest.join("index.html")).expect("index.html");
    assert!(page.contains("By system · reads"));
    assert_no_process_mentions(&store.display().to_string());
}
