//! A node's processes wherever they went: Patroni double-forks the postmaster away to init, so
//! kill and pause of a node on loopback find it by the node marker in its environment
//! (`hosts/node_marker.rs`), and the next controller start kills what a SIGKILLed controller's
//! nodes left, on loopback and netns hosts, keeping the data folders for inspection.
//!
//! The Patroni tests need root, ip and nft, and Debian's etcd-server, patroni and postgresql-15;
//! they are skipped with a reason without them, except under FAULTLINE_REQUIRE_PRIVILEGED=1.
//! The marker test needs nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use faultline::hosts::node_marker;
use faultline::hosts::process_tree::{parent_links, tree_thread_states, trees_of};
use serde_json::Value;

use crate::common::{assert_no_process_mentions, faultline, processes_mentioning};
use crate::postgres_patroni::patroni_or_skip;

/// A process as it was seen: its pid and start time (clock ticks since boot), so that a pid
/// reused later is not taken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    pid: u32,
    start: u64,
}

/// State letter and start time of `pid` (stat fields 3 and 22).
fn stat_of(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

fn seen(pid: u32) -> Option<Seen> {
    stat_of(pid).map(|(_, start)| Seen { pid, start })
}

/// Still there and not a zombie (whoever reaps an orphan may be slow to).
fn alive(p: Seen) -> bool {
    stat_of(p.pid).is_some_and(|(state, start)| start == p.start && !matches!(state, 'Z' | 'X'))
}

/// The state letter of every thread of `pid` ("" once it is gone).
fn thread_letters(pid: u32) -> String {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter_map(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next())
        .collect()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Every process of controller `controller`'s nodes (node `node` only, when given): those
/// carrying its marker, those whose command line mentions `mentioning` (found without the
/// marker: etcd's, Patroni's and the postmaster's name their data folder), and every
/// descendant of them (a postmaster's backends rewrite both).
fn processes_of(controller: u32, node: Option<u32>, mentioning: &str) -> Vec<Seen> {
    let ours = |marker: &str| {
        node_marker::owner(marker) == Some(controller)
            && node.is_none_or(|n| marker.ends_with(&format!("n{n}")))
    };
    let mut roots: BTreeSet<u32> = node_marker::marked_processes(ours)
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    roots.extend(processes_mentioning(mentioning));
    let roots: Vec<u32> = roots.into_iter().collect();
    trees_of(&roots, &parent_links())
        .into_iter()
        .filter_map(seen)
        .collect()
}

/// A `faultline run` child: SIGKILLed when dropped, and then whatever its nodes left killed
/// (`hosts::remove_stale`, as the next controller would), so a failing test leaves nothing.
struct Controller(Child);

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        faultline::hosts::remove_stale();
    }
}

/// `faultline run --system postgres-patroni --name NAME --store STORE ARGS...`, its stderr in
/// `STORE.stderr`.
fn start_controller(store: &Path, name: &str, args: &[&str]) -> Controller {
    let stderr = std::fs::File::create(store.with_extension("stderr")).expect("stderr file");
    let child = faultline()
        .args(["run", "--system", "postgres-patroni", "--name", name])
        .args(args)
        .arg("--store")
        .arg(store)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("faultline starts");
    Controller(child)
}

/// The run folder of test `name` in `store`, once it exists.
fn run_dir(store: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(store.join(name))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|dir| dir.join("test.json").exists())
}

/// The events of a history file so far (a line being written is skipped).
fn history(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("history.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The nemesis event `f` of `kind` (invoke or info) for `fault`, if the history holds one.
fn nemesis_event<'a>(events: &'a [Value], f: &str, kind: &str, fault: &str) -> Option<&'a Value> {
    events.iter().find(|e| {
        e["process"] == "nemesis"
            && e["f"] == f
            && e["type"] == kind
            && e["value"]["fault"] == fault
    })
}

/// What a fault of `fault` on `node` must have done to the node's processes, checked while it
/// lasts: a kill left none of them (postmaster included), a pause stopped every thread of them.
fn check_fault(controller: u32, run: &Path, fault: &str, node: u32) {
    let node_dir = format!("{}/data/n{node}/", run.display());
    match fault {
        "kill" => {
            // Init reaps the orphaned postmaster in its own time: a zombie counts as gone, and
            // a moment is allowed for the rest.
            let deadline = Instant::now() + Duration::from_secs(2);
            let left = loop {
                let left: Vec<(Seen, String)> = processes_of(controller, Some(node), &node_dir)
                    .into_iter()
                    .filter(|&p| alive(p))
                    .map(|p| (p, comm(p.pid)))
                    .collect();
                if left.is_empty() || Instant::now() > deadline {
                    break left;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            assert_eq!(left, Vec::new(), "n{node} killed: nothing of it runs");
        }
        "pause" => {
            let node_processes = processes_of(controller, Some(node), &node_dir);
            let names: Vec<String> = node_processes.iter().map(|p| comm(p.pid)).collect();
            assert!(
                names.iter().any(|n| n == "postgres"),
                "the paused leader's PostgreSQL is among its processes: {names:?}"
            );
            let pids: Vec<u32> = node_processes.iter().map(|p| p.pid).collect();
            // The harness waits 1 s at most for the stop to show (best effort); a thread in
            // uninterruptible sleep (an fsync on a loaded machine) stops when its call returns.
            let deadline = Instant::now() + Duration::from_secs(5);
            while !tree_thread_states(&pids).is_some_and(|s| s.all_stopped())
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            let running: Vec<(u32, String, String)> = pids
                .iter()
                .map(|&pid| (pid, comm(pid), thread_letters(pid)))
                .filter(|(_, _, letters)| letters.chars().any(|c| !matches!(c, 'T' | 't' | 'Z')))
                .collect();
            assert_eq!(
                running,
                Vec::new(),
                "n{node} paused: every thread of {names:?} stopped"
            );
        }
        other => panic!("unexpected fault {other}"),
    }
}

/// Loopback hosts, `--nemesis kill,pause --targets leader`: while the leader is killed nothing
/// of it runs (the postmaster Patroni double-forked to init included), while it is paused every
/// thread of it is stopped, and the run reaches a verdict with nothing left afterwards.
#[test]
fn a_loopback_patroni_leader_is_killed_and_paused_whole() {
    let test = "a_loopback_patroni_leader_is_killed_and_paused_whole";
    if !patroni_or_skip(test) {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).expect("store");
    // Both faults (the deck deals each leader-targeted one once before any repeats), each long
    // enough to look at (12 s: the pause check may wait 5 s on a loaded machine), shorter than
    // Patroni's 20 s lease: no failover, the leader comes back.
    let mut controller = start_controller(
        &store,
        "faulted",
        &[
            "--nemesis",
            "kill,pause",
            "--targets",
            "leader",
            "--time-limit",
            "60",
            "--fault-duration",
            "12",
            "--quiet-duration",
            "2",
            "--recovery",
            "5",
            // This seed deals the pause first: its heal is instant, so the kill starts 2 s
            // later whatever the load, where a kill dealt first left the pause to after the
            // killed node's restart (20 s and more with the whole suite beside it).
            "--seed",
            "1",
        ],
    );
    let pid = controller.0.id();
    let mut checked: Vec<&str> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = controller.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the run did not end");
        std::thread::sleep(Duration::from_millis(200));
        let Some(run) = run_dir(&store, "faulted") else {
            continue;
        };
        let events = history(&run);
        for fault in ["kill", "pause"] {
            if checked.contains(&fault) {
                continue;
            }
            let Some(start) = nemesis_event(&events, "start", "info", fault) else {
                continue;
            };
            if nemesis_event(&events, "stop", "invoke", fault).is_some() {
                panic!("{fault} healed before it was seen (history flushed late?)");
            }
            let node = start["value"]["targets"][0].as_u64().expect("a target") as u32;
            eprintln!("--- {fault} of n{node}");
            check_fault(pid, &run, fault, node);
            // The recorder flushes every second: a heal before the check would show by now.
            std::thread::sleep(Duration::from_millis(1500));
            assert!(
                nemesis_event(&history(&run), "stop", "invoke", fault).is_none(),
                "{fault} healed while it was checked: the check saw a healed node"
            );
            checked.push(fault);
        }
    };
    let stderr = std::fs::read_to_string(store.with_extension("stderr")).unwrap_or_default();
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "exit {status:?}: {stderr}"
    );
    checked.sort_unstable();
    assert_eq!(checked, ["kill", "pause"], "both faults seen: {stderr}");
    let run = run_dir(&store, "faulted").expect("the run folder");
    let results: Value =
        serde_json::from_slice(&std::fs::read(run.join("results.json")).expect("results.json"))
            .expect("results are JSON");
    assert_ne!(results["verdict"], "unknown", "{results}");
    assert_no_process_mentions(&store.display().to_string());
    assert_eq!(
        processes_of(pid, None, &store.display().to_string()),
        Vec::new(),
        "nothing of the run is left"
    );
    eprintln!("{test}: {:.1} s", started.elapsed().as_secs_f64());
}

/// SIGKILL of the controller of a Patroni cluster on loopback and on netns hosts (both at once):
/// PR_SET_PDEATHSIG takes etcd and Patroni, not the postmaster Patroni double-forked to init;
/// the next controller start (a one-second kvnode run) kills whatever is left, marked or in a
/// namespace, deletes the namespaces, and the data folders stay in the run folders.
#[test]
fn the_next_controller_kills_what_a_killed_patroni_controller_left() {
    let test = "the_next_controller_kills_what_a_killed_patroni_controller_left";
    if !patroni_or_skip(test) {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut victims = Vec::new();
    for kind in ["loopback", "netns"] {
        let store = dir.path().join(kind);
        std::fs::create_dir_all(&store).expect("store");
        // Long enough never to end on its own before the kill.
        let controller = start_controller(
            &store,
            "victim",
            &["--hosts", kind, "--time-limit", "600", "--recovery", "1"],
        );
        victims.push((kind, store, controller));
    }
    // Up: the workload writes its history once the leader serves (cluster up, tables made).
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut runs = Vec::new();
    for (kind, store, controller) in &mut victims {
        let run = loop {
            if let Some(status) = controller.0.try_wait().expect("wait") {
                panic!(
                    "{kind}: the controller ended ({status}) before it was killed: {}",
                    std::fs::read_to_string(store.with_extension("stderr")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{kind}: the cluster never served"
            );
            if let Some(run) = run_dir(store, "victim")
                && std::fs::metadata(run.join("history.jsonl")).is_ok_and(|m| m.len() > 0)
            {
                break run;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        runs.push(run);
    }
    eprintln!(
        "--- up after {:.1} s; SIGKILL both controllers",
        started.elapsed().as_secs_f64()
    );
    let mut before = Vec::new();
    for ((kind, store, controller), run) in victims.iter_mut().zip(&runs) {
        let pid = controller.0.id();
        let processes = processes_of(pid, None, &store.display().to_string());
        let names: Vec<String> = processes.iter().map(|p| comm(p.pid)).collect();
        for program in ["postgres", "patroni", "etcd"] {
            assert!(
                names.iter().any(|n| n == program),
                "{kind}: a {program} of the run: {names:?}"
            );
        }
        controller.0.kill().expect("SIGKILL");
        controller.0.wait().expect("reaped");
        before.push((*kind, pid, store.clone(), run.clone(), processes));
    }
    std::thread::sleep(Duration::from_millis(500));
    for (kind, _, _, _, processes) in &before {
        // Informative only: a controller another test starts meanwhile cleans up as well.
        let left: Vec<String> = processes
            .iter()
            .filter(|&&p| alive(p))
            .map(|p| comm(p.pid))
            .collect();
        eprintln!("--- {kind}: left by the SIGKILL: {left:?}");
    }

    eprintln!("--- the next controller starts");
    let next = dir.path().join("next");
    let out = faultline()
        .args(["run", "--time-limit", "1", "--recovery", "0", "--store"])
        .arg(&next)
        .output()
        .expect("faultline starts");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");

    for (kind, pid, store, run, processes) in &before {
        let deadline = Instant::now() + Duration::from_secs(5);
        let survivors = || -> Vec<(Seen, String)> {
            let mut all: BTreeSet<Seen> = processes.iter().copied().collect();
            all.extend(processes_of(*pid, None, &store.display().to_string()));
            all.into_iter()
                .filter(|&p| alive(p))
                .map(|p| (p, comm(p.pid)))
                .collect()
        };
        while !survivors().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            survivors(),
            Vec::new(),
            "{kind}: nothing of the run is left"
        );
        let namespaces = std::process::Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("ip netns list");
        let prefix = format!("fl{pid}x");
        assert!(
            !String::from_utf8_lossy(&namespaces.stdout)
                .lines()
                .any(|l| l.starts_with(&prefix)),
            "{kind}: no namespace of the killed controller is left"
        );
        assert!(
            run.join("data/n1/pgdata").is_dir(),
            "{kind}: the data folders stay in the run folder"
        );
    }
    eprintln!("{test}: {:.1} s", started.elapsed().as_secs_f64());
}

/// The part of a controller start that needs no root: a process marked by a controller that no
/// longer runs is killed with its descendants (one without a marker of its own, as a
/// postmaster's backends), one marked by a live controller is left alone.
#[test]
fn a_controller_start_kills_the_marked_processes_of_a_dead_controller() {
    // The "controller" that will die: alive until its daemons are counted, so that no other
    // test's controller start takes them before.
    let mut owner = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep");
    // This test's pid as the run: no other test marks processes so.
    let me = std::process::id();
    let stale = node_marker::node_name(owner.id(), me, 1);
    let live = node_marker::node_name(1, me, 1);
    struct KillMarked(Vec<String>);
    impl Drop for KillMarked {
        fn drop(&mut self) {
            let roots: Vec<u32> = node_marker::marked_processes(|m| self.0.iter().any(|o| o == m))
                .into_iter()
                .map(|(pid, _)| pid)
                .collect();
            for pid in trees_of(&roots, &parent_links()) {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }
    let _guard = KillMarked(vec![stale.clone(), live.clone()]);
    for marker in [&stale, &live] {
        // A double-forked daemon (its parent exits: init adopts it) with a child that drops
        // its environment.
        let status = std::process::Command::new("sh")
            .args(["-c", "(setsid sh -c 'env -i sleep 62 & exec sleep 61' &)"])
            .env(node_marker::ENV, marker)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sh");
        assert!(status.success());
    }
    let family = |marker: &str| -> Vec<Seen> {
        let roots: Vec<u32> = node_marker::marked_processes(|m| m == marker)
            .into_iter()
            .map(|(pid, _)| pid)
            .collect();
        trees_of(&roots, &parent_links())
            .into_iter()
            .filter_map(seen)
            .collect()
    };
    let settled = |p: &[Seen]| p.len() == 2 && p.iter().all(|p| comm(p.pid) == "sleep");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(settled(&family(&stale)) && settled(&family(&live))) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let doomed = family(&stale);
    let spared = family(&live);
    assert!(
        settled(&doomed),
        "the stale daemon and its child: {doomed:?}"
    );
    assert!(
        settled(&spared),
        "the live daemon and its child: {spared:?}"
    );
    let unmarked = doomed
        .iter()
        .filter(|p| node_marker::marker_of(p.pid).is_none())
        .count();
    assert_eq!(unmarked, 1, "the child dropped its environment");

    owner.kill().expect("kill the owner");
    owner.wait().expect("reaped");
    node_marker::kill_stale();
    let deadline = Instant::now() + Duration::from_secs(5);
    while doomed.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        doomed.iter().all(|&p| !alive(p)),
        "the dead controller's daemon and its child are gone"
    );
    assert!(
        spared.iter().all(|&p| alive(p)),
        "the live controller's are not"
    );
}
