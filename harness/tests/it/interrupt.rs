//! A run stopped by SIGINT (Ctrl-C) or SIGTERM: it heals, checks what was recorded, and says
//! everywhere that it was interrupted, with exit status 130. (Campaigns: campaign_cli.rs.)

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::common::{assert_no_process_mentions, faultline, wait_for_history};

/// Starts a 30 s run, sends it `signal` once it is recording, and checks what it left.
fn interrupted_run(signal: libc::c_int, name: &str) {
    let store = tempfile::tempdir().expect("tempdir");
    let child = faultline()
        .args(["run", "--nemesis", "kill", "--time-limit", "30"])
        .args(["--fault-duration", "1", "--quiet-duration", "1"])
        .args(["--concurrency", "2", "--name", name])
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let dir = wait_for_history(store.path(), name, 1_000);
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: kill(2) with the pid of a child we spawned and have not yet waited for.
    let rc = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(rc, 0);
    let out = child.wait_with_output().expect("waits");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Stopped before the time limit: exit 130 and `after_s` below 30 (not a wall-clock bound,
    // which a loaded machine's heal and check could exceed).
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("interrupted after ") && stdout.contains(" s of 30 s"),
        "{stdout}"
    );

    let results: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).expect("results"))
            .expect("json");
    let after = results["interrupted"]["after_s"].as_f64().unwrap_or(-1.0);
    assert!(after > 0.0 && after < 30.0, "{}", results["interrupted"]);
    assert_eq!(results["interrupted"]["of_s"], 30.0);
    // The history recorded until then was checked all the same.
    assert_eq!(results["verdict"], "valid", "{stdout}");
    let report = std::fs::read_to_string(dir.join("report.html")).expect("report");
    assert!(report.contains("interrupted after "), "report banner");
    // `analyze` finds the interruption in the history again.
    let again = faultline()
        .arg("analyze")
        .arg(&dir)
        .output()
        .expect("starts");
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("interrupted after "),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn sigint_stops_a_run_which_says_it_was_interrupted_and_exits_130() {
    interrupted_run(libc::SIGINT, "sigint");
}

#[test]
fn sigterm_stops_a_run_like_sigint() {
    interrupted_run(libc::SIGTERM, "sigterm");
}

/// A user who presses Ctrl-C twice does not wait for the heal and the check: the controller
/// exits at once, and its nodes die with it as they do when it is SIGKILLed.
#[test]
fn a_second_signal_exits_at_once_and_leaves_no_node() {
    use std::io::{BufRead, Read};

    let store = tempfile::tempdir().expect("tempdir");
    let store_path = store.path().to_string_lossy().into_owned();
    // A kill in force from 0.5 s to 5.5 s: the first signal's heal restarts a node and waits
    // for it to answer, which leaves the second signal plenty of time to arrive.
    let mut child = faultline()
        .args(["run", "--nemesis", "kill", "--time-limit", "30"])
        .args(["--fault-duration", "5", "--quiet-duration", "0.5"])
        .args(["--concurrency", "2", "--name", "twice"])
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let dir = wait_for_history(store.path(), "twice", 1_000);
    std::thread::sleep(Duration::from_millis(1500));
    let signal = |child: &std::process::Child| {
        // SAFETY: kill(2) with the pid of a child we spawned and have not yet waited for.
        let rc = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        assert_eq!(rc, 0);
    };
    signal(&child);
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut said = String::new();
    // The second signal as soon as the controller says it is stopping for the first.
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("reads stderr") == 0 {
            panic!("ended before it saw the first signal:\n{said}");
        }
        said.push_str(&line);
        if line.contains("SIGINT: stopping the clients") {
            break;
        }
    }
    signal(&child);
    stderr.read_to_string(&mut said).expect("reads stderr");
    let status = child.wait().expect("waits");
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("SIGINT again: exiting now"), "{said}");
    assert!(
        !said.contains("checking"),
        "exited before the check:\n{said}"
    );
    assert!(
        !dir.join("results.json").exists(),
        "exited before the check"
    );
    assert_no_process_mentions(&store_path);
}
