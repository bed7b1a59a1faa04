//! `faultline check` run as a user runs it: real files, real process, exit codes and output.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use faultline_checker::history::write_jsonl;
use serde_json::Value;

use crate::common::faultline;
use crate::support::corpus::{corpus_dir, manifest};
use crate::support::simulate::explosive;

/// The corpus folder; fails naming the path when it is not there, rather than letting a missing
/// file surface as an unexplained assertion on faultline's output.
fn corpus() -> PathBuf {
    let dir = corpus_dir();
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "corpus not found at {} (carried in checker/tests/corpora; FAULTLINE_CORPORA overrides it)",
        dir.display()
    );
    dir
}

fn run(args: &[&str]) -> Output {
    faultline().args(args).output().expect("faultline starts")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_manifest_row_checked_from_the_command_line_agrees() {
    let rows = manifest();
    assert_eq!(rows.len(), 230);
    let mut disagreements = Vec::new();
    for row in &rows {
        let mut cmd = faultline();
        cmd.args(["check", "--model", &row.model]);
        if let Some(init) = &row.init {
            cmd.args(["--init", init]);
        }
        let out = cmd.arg(&row.path).output().expect("faultline starts");
        let verdict = stdout(&out)
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned();
        let code = out.status.code();
        let expected_code = if row.expected == "linearizable" { 0 } else { 1 };
        if verdict != row.expected || code != Some(expected_code) {
            disagreements.push(format!(
                "{}: expected {} (exit {expected_code}), got {verdict} (exit {code:?}) {}",
                row.name,
                row.expected,
                stderr(&out)
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn several_files_print_a_line_each_and_a_total() {
    let dir = corpus().join("porcupine-etcd");
    let a = dir.join("etcd_000.log");
    let b = dir.join("etcd_002.log");
    let out = faultline()
        .args(["check", "-m", "cas-register"])
        .args([&a, &b])
        .output()
        .expect("starts");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("not-linearizable") && lines[0].contains("etcd_000.log"));
    assert!(lines[1].starts_with("linearizable") && lines[1].contains("etcd_002.log"));
    assert!(lines[2].contains("2 files, 1 linearizable, 1 not linearizable, 0 unknown"));
    assert_eq!(out.status.code(), Some(1));
}

/// Files are checked at once (one per core), each within a share of the memory limit: the
/// output keeps the order of the arguments, and a file whose share ran out is checked again with
/// the whole limit, so its verdict is the one it gets alone. c50-ok's search needs 12–16 MB
/// (it varies with how its partitions' threads interleave): alone within 10 MB it is unknown,
/// within 20 MB linearizable; beside other files it gets 20 MB / cores at first.
#[test]
fn many_files_keep_their_order_and_a_file_short_of_its_share_gets_the_whole_budget() {
    // A single-key register of 10 clients always in flight, searched (its written values are
    // unique, so `--method search` keeps the fast path out): its search needs between 6 and 7
    // MB, deterministically (no timing enters the memo's size), so it is unknown alone within
    // 4 MB, short of a 5 MB share of 10 MB, and linearizable with the whole 10 MB.
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("ten-clients.jsonl");
    let spec = faultline_checker::generate::GenSpec {
        clients: 10,
        ops: 5000,
        keys: 1,
        info_percent: 0,
        bad_read: false,
        seed: 1,
    };
    let file = std::fs::File::create(&big).expect("create");
    faultline_checker::generate::write_jsonl(&spec, std::io::BufWriter::new(file))
        .expect("write")
        .flush()
        .expect("flush");
    let check = |limit: &str, files: &[PathBuf]| {
        let mut cmd = faultline();
        cmd.args([
            "check",
            "-m",
            "cas-register",
            "--method",
            "search",
            "--memory-limit",
            limit,
        ]);
        cmd.args(files);
        cmd.output().expect("starts")
    };
    let alone = stdout(&check("4", std::slice::from_ref(&big)));
    assert!(alone.starts_with("unknown"), "{alone}");
    let etcd = corpus().join("porcupine-etcd");
    let files = [
        big.clone(),
        etcd.join("etcd_075.log"),
        etcd.join("etcd_040.log"),
        etcd.join("etcd_097.log"),
    ];
    let out = check("10", &files);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), files.len() + 1, "{text}");
    let expected = [
        "linearizable",
        "linearizable",
        "not-linearizable",
        "not-linearizable",
    ];
    for ((line, file), verdict) in lines.iter().zip(&files).zip(expected) {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert_eq!(line.split_whitespace().next(), Some(verdict), "{text}");
        assert!(line.contains(name), "{name} out of order:\n{text}");
    }
    assert_eq!(out.status.code(), Some(1), "{text}");
}

#[test]
fn a_history_with_nothing_to_check_is_unknown_not_linearizable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let out = faultline()
        .args(["check", "-m", "register"])
        .arg(&empty)
        .output()
        .expect("starts");
    let text = stdout(&out);
    assert!(text.starts_with("unknown"), "{text}");
    assert!(text.contains("no events"), "{text}");
    assert!(text.contains("total: 1 file, "), "{text}");
    assert_eq!(out.status.code(), Some(2), "{text}");
}

#[test]
fn json_output_carries_the_explanation() {
    let file = corpus().join("knossos/cas-register/bad/cas-failure.edn");
    let out = faultline()
        .args(["check", "-m", "cas-register", "--init", "0", "--json"])
        .arg(&file)
        .output()
        .expect("starts");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let result = &doc["files"][0]["result"];
    assert_eq!(result["verdict"], "not-linearizable");
    let explanation = &result["explanation"];
    assert!(explanation["op"]["invoke_index"].is_u64());
    assert!(explanation["concurrent"].is_array());
    assert!(explanation["prefix"].is_array());
    assert_eq!(doc["total"]["not_linearizable"], 1);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn method_chooses_the_fast_path_or_the_search() {
    // Knossos's immediate-failure history writes unique values: auto decides it by read mapping,
    // search by the search; both not linearizable, and the JSON says which decided it.
    let file = corpus().join("knossos/cas-register/bad/immediate-failure.edn");
    let decided = |method: &str| {
        let out = faultline()
            .args(["check", "-m", "cas-register", "--init", "0", "--json"])
            .args(["--method", method])
            .arg(&file)
            .output()
            .expect("starts");
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        let result = &doc["files"][0]["result"];
        assert_eq!(result["verdict"], "not-linearizable");
        assert!(result["explanation"]["op"]["invoke_index"].is_u64());
        (
            result["decided"]["fast"].as_u64(),
            result["decided"]["search"].as_u64(),
        )
    };
    assert_eq!(decided("auto"), (Some(1), Some(0)));
    assert_eq!(decided("search"), (Some(0), Some(1)));

    let out = faultline()
        .args(["check", "-m", "cas-register", "--method", "fast"])
        .arg(&file)
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("--method: unknown method \"fast\""), "{err}");
}

#[test]
fn usage_and_input_errors_exit_3() {
    let out = run(&["check", "--model", "queue", "x.edn"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("unknown model \"queue\""),
        "{}",
        stderr(&out)
    );

    let out = run(&["check", "--model", "register", "--no-such-flag", "x.edn"]);
    assert_eq!(out.status.code(), Some(3));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n{\"process\":0,\"type\":\"okay\"}\n",
    )
    .expect("write");
    let out = faultline()
        .args(["check", "-m", "register"])
        .arg(&bad)
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2:", bad.display())), "{err}");

    let out = faultline()
        .args(["check", "-m", "register", "--format", "csv"])
        .arg(&bad)
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(3));

    let out = run(&["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Exit status"));
}

/// Peak resident memory of a running process, in kB, from /proc (Linux).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn a_200_mb_budget_ends_an_exploding_search_with_unknown_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("explode.jsonl");
    let mut out = std::fs::File::create(&file).expect("create");
    write_jsonl(&mut out, &explosive(40)).expect("write");
    out.flush().expect("flush");
    let mut child = faultline()
        .args(["check", "-m", "cas-register", "--memory-limit", "200"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        if let Some(kb) = peak_rss_kb(child.id()) {
            peak = peak.max(kb);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.starts_with("unknown"), "{text}");
    assert!(text.contains("memory budget of 200 MB exhausted"), "{text}");
    // The budget covers the search's memo; the rest of the process is a few MB.
    assert!(
        peak > 100 * 1024,
        "the search should have used most of its budget: {peak} kB"
    );
    assert!(
        peak < 225 * 1024,
        "peak resident memory {peak} kB for a 200 MB budget"
    );
}
