//! Cluster control with real kvnode processes: start, leader, kill, restart, pause, stop, Drop,
//! a controller SIGKILLed with its nodes running.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faultline::cluster::{Cluster, ClusterError, ClusterSpec, NodeProgram, PeerLinks};
use faultline_nemeses::Nodes;
use serde_json::Value;

use crate::kvnode_bin::kvnode_bin;

#[path = "../../src/cluster/thread_states.rs"]
mod thread_states;
use thread_states::{state_letter, thread_states};

pub(crate) fn spec(dir: &Path, nodes: usize) -> ClusterSpec {
    ClusterSpec {
        nodes,
        system: faultline::system::System::kvnode(&[
            ("replication", "quorum"),
            ("reads", "read-index"),
        ])
        .expect("kvnode resolves"),
        dir: dir.to_path_buf(),
        program: NodeProgram::kvnode(kvnode_bin()),
        // Quick elections keep the failover tests short.
        extra_args: ["--heartbeat-ms", "50", "--election-timeout-ms", "150-300"]
            .map(String::from)
            .to_vec(),
        links: PeerLinks::Direct,
        faketime: None,
        hosts: faultline::hosts::HostKind::Loopback,
    }
}

/// The process is gone: no /proc entry, or only a zombie waiting for a reaper that is not us.
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => state_letter(&stat) == Some('Z'),
    }
}

/// Every thread stopped: what a pause promises.
fn stopped(pid: u32) -> bool {
    thread_states(pid).is_some_and(|s| s.all_stopped())
}

/// No thread stopped: what a resume promises.
fn running(pid: u32) -> bool {
    thread_states(pid).is_some_and(|s| s.none_stopped())
}

async fn all_pids(cluster: &Cluster) -> Vec<u32> {
    cluster
        .pids()
        .await
        .into_iter()
        .filter_map(|(_, pid)| pid)
        .collect()
}

async fn eventually<T>(what: &str, within: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn field<'a>(status: &'a Value, name: &str) -> &'a Value {
    status.get(name).unwrap_or(&Value::Null)
}

async fn leaders(cluster: &Cluster) -> Vec<u32> {
    let mut out = Vec::new();
    for (id, _) in cluster.nodes() {
        if let Some(s) = cluster.status(id).await
            && field(&s, "role") == "leader"
        {
            out.push(id);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_one_leader_fail_over_and_rejoin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(spec(dir.path(), 3))
        .await
        .expect("cluster starts");

    let nodes = cluster.nodes();
    assert_eq!(
        nodes,
        (1..=3u32)
            .map(|id| (id, nodes[id as usize - 1].1.clone()))
            .collect::<Vec<_>>()
    );
    for (id, addr) in &nodes {
        assert!(addr.starts_with(&format!("127.0.0.{}:", 10 + id)), "{addr}");
        assert!(dir.path().join(format!("data/n{id}")).is_dir());
        assert!(dir.path().join(format!("nodes/{id}.log")).is_file());
    }
    let first = leaders(&cluster).await;
    assert_eq!(first.len(), 1, "exactly one leader: {first:?}");
    let old = first[0];
    assert_eq!(cluster.leader().await, Some(old));

    let pids = cluster.pids().await;
    let old_pid = pids[old as usize - 1].1.expect("leader runs");
    cluster.kill(old).await.expect("kill the leader");
    assert!(process_gone(old_pid), "SIGKILLed and reaped");
    assert!(cluster.status(old).await.is_none());
    assert!(
        cluster.kill(old).await.is_err(),
        "a dead node cannot be killed again"
    );

    let new = eventually("a new leader", Duration::from_secs(5), async || {
        cluster.leader().await.filter(|l| *l != old)
    })
    .await;

    cluster.restart(old).await.expect("restart");
    let leader_term = cluster
        .status(new)
        .await
        .map(|s| field(&s, "term").clone())
        .expect("new leader answers");
    eventually(
        "the old leader rejoins as follower",
        Duration::from_secs(5),
        async || {
            let s = cluster.status(old).await?;
            let rejoined = field(&s, "role") == "follower"
                && *field(&s, "term") == leader_term
                && field(&s, "leader").as_u64() == Some(u64::from(new));
            rejoined.then_some(())
        },
    )
    .await;
    // Restarting a running node is a no-op, so healing a failed kill cannot fail again.
    cluster
        .restart(old)
        .await
        .expect("restart of a running node");

    let log = std::fs::read_to_string(cluster.log_path(old)).expect("node log");
    assert!(log.contains("=== faultline: starting node"), "{log}");
    assert!(log.contains("=== faultline: restarting node"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_the_leader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(spec(dir.path(), 3))
        .await
        .expect("cluster starts");
    let old = cluster.leader().await.expect("a leader");
    let pid = cluster.pids().await[old as usize - 1]
        .1
        .expect("leader runs");

    cluster.pause(old).await.expect("pause");
    assert!(stopped(pid), "SIGSTOPped");
    assert!(
        cluster.status(old).await.is_none(),
        "a paused node does not answer"
    );
    let new = eventually(
        "the others elect a leader",
        Duration::from_secs(5),
        async || cluster.leader().await.filter(|l| *l != old),
    )
    .await;

    cluster.resume(old).await.expect("resume");
    assert!(running(pid));
    eventually(
        "the resumed node follows the new leader",
        Duration::from_secs(5),
        async || {
            let s = cluster.status(old).await?;
            (field(&s, "role") == "follower"
                && field(&s, "leader").as_u64() == Some(u64::from(new)))
            .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_leaves_no_process_even_a_paused_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cluster = Cluster::start(spec(dir.path(), 3))
        .await
        .expect("cluster starts");
    let pids = all_pids(&cluster).await;
    assert_eq!(pids.len(), 3);
    cluster.pause(2).await.expect("pause");
    let started = Instant::now();
    cluster.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for pid in pids {
        assert!(process_gone(pid), "pid {pid} survived stop");
    }
    assert!(all_pids(&cluster).await.is_empty());
    // SIGTERM, not SIGKILL: kvnode had the chance to stop on its own (nothing left for Drop).
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_kills_every_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(spec(dir.path(), 3))
        .await
        .expect("cluster starts");
    let pids = all_pids(&cluster).await;
    assert_eq!(pids.len(), 3);
    cluster.pause(1).await.expect("pause");
    drop(cluster);
    for pid in pids {
        assert!(process_gone(pid), "pid {pid} survived drop");
    }
}

#[tokio::test]
async fn a_node_that_exits_at_once_fails_start_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = spec(dir.path(), 3);
    s.program = NodeProgram::kvnode("/bin/false");
    let started = Instant::now();
    let err = Cluster::start(s).await.err().expect("start fails");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, ClusterError::NodeExited { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("n1 exited"), "{message}");
    assert!(
        message.contains(&dir.path().join("nodes/1.log").display().to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_flag_shows_the_nodes_complaint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = spec(dir.path(), 1);
    // Options are checked against the definition before a node starts: a bad value can only
    // reach a node as an extra flag.
    s.extra_args = ["--heartbeat-ms", "eventually"].map(String::from).to_vec();
    let err = Cluster::start(s).await.err().expect("start fails");
    let message = err.to_string();
    assert!(message.contains("n1 exited"), "{message}");
    assert!(
        message.contains("eventually"),
        "the log's tail names the bad value: {message}"
    );
}

#[tokio::test]
async fn a_node_that_never_answers_times_out_and_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = spec(dir.path(), 2);
    // `sh -c '...' sh --id ...`: runs (a shell with a child of its own), never listens.
    s.program = NodeProgram {
        exe: PathBuf::from("/bin/sh"),
        leading_args: ["-c", "sleep 60.123; exit 0", "sh"]
            .map(String::from)
            .to_vec(),
    };
    let started = Instant::now();
    let err = Cluster::start_with_timeout(s, Duration::from_secs(1))
        .await
        .err()
        .expect("start fails");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = err.to_string();
    assert!(
        matches!(err, ClusterError::NotAnswering { node: 1, .. }),
        "{message}"
    );
    assert!(message.contains("127.0.0.11:"), "{message}");
    assert!(message.contains("nodes/1.log"), "{message}");
    // The failed start killed what it had started, the shells (whose command lines name the
    // run folder) and, through their process groups, their sleeping children. SIGKILL takes
    // effect asynchronously and nobody here reaps the children, so on a loaded machine they
    // may take a moment to go.
    let dir_text = dir.path().display().to_string();
    let left = || -> Vec<String> {
        std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read_to_string(e.path().join("cmdline")).ok())
            .filter(|c| c.contains(&dir_text) || c.split('\0').eq(["sleep", "60.123", ""]))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !left().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left(), Vec::<String>::new(), "still running after 5 s");
}

#[tokio::test]
async fn zero_nodes_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Cluster::start(spec(dir.path(), 0))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, ClusterError::InvalidSpec(_)), "{err:?}");
}

const CONTROLLER_DIR: &str = "FAULTLINE_TEST_CONTROLLER_DIR";

/// The "controller" of `a_killed_controller_leaves_no_node`: run as a child process of the
/// test binary, it starts a cluster, writes the node pids to a file and waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_killed_controller_leaves_no_node in a child process"]
async fn controller_child() {
    let Some(dir) = std::env::var_os(CONTROLLER_DIR).map(PathBuf::from) else {
        return;
    };
    let cluster = Cluster::start(spec(&dir, 3)).await.expect("cluster starts");
    let pids: Vec<String> = all_pids(&cluster)
        .await
        .iter()
        .map(u32::to_string)
        .collect();
    let tmp = dir.join("pids.tmp");
    std::fs::write(&tmp, pids.join(" ")).expect("write pids");
    std::fs::rename(&tmp, dir.join("pids")).expect("publish pids");
    tokio::time::sleep(Duration::from_secs(120)).await;
    drop(cluster);
}

#[test]
fn a_killed_controller_leaves_no_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut controller = std::process::Command::new(std::env::current_exe().expect("test exe"))
        .args([
            "cluster::controller_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CONTROLLER_DIR, dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the controller");
    let pids_file = dir.path().join("pids");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pids: Vec<u32> = loop {
        if let Ok(text) = std::fs::read_to_string(&pids_file) {
            break text
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
        }
        if let Ok(Some(status)) = controller.try_wait() {
            panic!("the controller ended before starting its cluster: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the controller never started its cluster"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(pids.len(), 3);
    assert!(pids.iter().all(|p| !process_gone(*p)));
    // SIGKILL: no destructor, no stop — only PR_SET_PDEATHSIG can end the nodes now.
    controller.kill().expect("SIGKILL the controller");
    controller.wait().expect("reap the controller");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids.iter().all(|p| process_gone(*p)) {
        assert!(
            Instant::now() < deadline,
            "nodes outlived their controller: {pids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The nemeses' schedule against real processes: every fault it starts heals, without errors,
/// and the cluster ends with every node up and one leader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_of_kills_and_pauses_heals_everything() {
    use faultline_nemeses::{
        FaultKind, NemesisEvent, NemesisEventKind, NoClocks, NoNetwork, Schedule, ScheduleSpec,
        Target, run_schedule,
    };
    use tokio::sync::{mpsc, watch};

    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(spec(dir.path(), 3))
        .await
        .expect("cluster starts");
    let schedule = Schedule::new(
        ScheduleSpec {
            faults: vec![FaultKind::Kill, FaultKind::Pause],
            targets: vec![Target::One, Target::Leader, Target::Minority],
            shapes: Vec::new(),
            delay: Default::default(),
            clock: Default::default(),
            fault_duration: Duration::from_millis(700),
            quiet_duration: Duration::from_millis(300),
        },
        7,
    );
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(4500)).await;
        let _ = stop_tx.send(true);
    };
    tokio::join!(
        run_schedule(
            &cluster, &NoNetwork, &NoClocks, schedule, events_tx, stop_rx
        ),
        stopper
    );
    let mut events: Vec<NemesisEvent> = Vec::new();
    while let Some(e) = events_rx.recv().await {
        events.push(e);
    }
    assert!(
        events.len() >= 8,
        "at least two faults in 4.5 s: {events:#?}"
    );
    assert_eq!(
        events.len() % 4,
        0,
        "every Starting has its Healed: {events:#?}"
    );
    for e in &events {
        assert_eq!(e.error, None, "{e:?}");
    }
    assert_eq!(
        events.last().map(|e| e.kind),
        Some(NemesisEventKind::Healed)
    );
    let pids = cluster.pids().await;
    assert!(
        pids.iter().all(|(_, pid)| pid.is_some_and(running)),
        "{pids:?}"
    );
    eventually(
        "one leader after the faults",
        Duration::from_secs(5),
        async || {
            let mut answered = 0;
            for (id, _) in cluster.nodes() {
                answered += usize::from(cluster.status(id).await.is_some());
            }
            (answered == 3 && leaders(&cluster).await.len() == 1).then_some(())
        },
    )
    .await;
}
