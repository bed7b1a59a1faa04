//! Hosts: netns partitions hold for programs that bind nothing (a plain TCP client and server
//! in two namespaces, per grudge shape), a netns run reaches a verdict and leaves nothing
//! behind, a controller killed mid-run leaves its namespaces to the next controller start, and
//! bad `--hosts` input is refused before anything starts; signals reach every process of a
//! node, also a child that left its process group.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use faultline::hosts::{Host, HostKind, Hosts, ProcessSpec};
use faultline::network::HostsNet;
use faultline_nemeses::{Network, NodeId, Shape};

use crate::common::{assert_no_process_mentions, faultline, recorded_spec, wait_for_history};
use crate::partition::expected;

/// How long a connection or round trip may take between two namespaces before we call it cut.
const QUIET: Duration = Duration::from_millis(300);
/// The probe servers' port in every namespace (each namespace has its own port space).
const ECHO_PORT: u16 = 5000;

/// Whether the netns tests can run here; says why not (or fails, where CI demands them).
fn netns_or_skip(test: &str) -> bool {
    crate::common::prerequisites(
        test,
        faultline::hosts::netns::available(),
        "it needs root, ip (iproute2) and nft",
    )
}

/// Runs `f` on a thread of its own that has entered the network namespace at `path`: a socket
/// it creates belongs to that namespace for its whole life, whichever thread uses it later.
pub(crate) fn in_netns<T: Send + 'static>(
    path: PathBuf,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        let ns = File::open(&path).expect("open the namespace");
        // SAFETY: setns(2) on a descriptor we own; it moves only this thread.
        let entered = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(entered, 0, "setns {}", path.display());
        f()
    })
    .join()
    .expect("the namespace thread")
}

/// A plain echo server on every address of each node's namespace (0.0.0.0: it binds no
/// address of its own choosing), served until the test ends.
fn echo_servers(hosts: &Hosts) {
    for (_, host) in hosts.iter() {
        let path = netns_path(host.name());
        let listener = in_netns(path, || {
            TcpListener::bind(("0.0.0.0", ECHO_PORT)).expect("bind the echo server")
        });
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 || conn.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
    }
}

fn netns_path(name: &str) -> PathBuf {
    Path::new("/run/netns").join(name)
}

/// Whether a client in `from`'s namespace, connecting as any program does (no bind), gets its
/// ping echoed by `to` within QUIET. A reset is a failure: a cut must look like lost packets.
fn echoes(from: PathBuf, to: IpAddr) -> bool {
    in_netns(from, move || {
        let target = SocketAddr::new(to, ECHO_PORT);
        let mut conn = match TcpStream::connect_timeout(&target, QUIET) {
            Ok(conn) => conn,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(e) => panic!("connect to {target} failed instead of timing out: {e}"),
        };
        conn.set_read_timeout(Some(QUIET)).expect("read timeout");
        conn.write_all(b"ping").expect("write (no reset)");
        let mut buf = [0u8; 4];
        match conn.read_exact(&mut buf) {
            Ok(()) => buf == *b"ping",
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(e) => panic!("the connection to {target} failed instead of stalling: {e}"),
        }
    })
}

/// Every ordered pair, probed at once: can `a` get an answer from `b` right now?
fn reachability(hosts: &Hosts) -> Vec<((NodeId, NodeId), bool)> {
    let pairs: Vec<_> = hosts
        .iter()
        .flat_map(|(a, ha)| {
            hosts
                .iter()
                .filter(move |(b, _)| *b != a)
                .map(move |(b, hb)| ((a, b), netns_path(ha.name()), hb.ip()))
        })
        .collect();
    let probes: Vec<_> = pairs
        .into_iter()
        .map(|(pair, from, to)| std::thread::spawn(move || (pair, echoes(from, to))))
        .collect();
    let mut out: Vec<_> = probes
        .into_iter()
        .map(|p| p.join().expect("probe"))
        .collect();
    out.sort_unstable();
    out
}

/// Fails unless nothing of controller `pid` is listed now. Checked at once, not after a wait:
/// `ip netns del` and `ip link del` remove names synchronously, and every controller start (in
/// this test binary's parallel tests too) removes a dead controller's leftovers, so a wait would
/// let another test clean up for the one under test.
fn assert_no_leftovers_of(pid: u32) {
    assert_eq!(leftovers_of(pid), Vec::<String>::new());
}

/// What `ip` lists (namespaces and links) that names controller `pid`.
fn leftovers_of(pid: u32) -> Vec<String> {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("ip")
            .args(args)
            .output()
            .expect("ip runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let veth = format!("flv{}-", base36(pid));
    let names = [format!("fl{pid}x"), format!("flb{pid}x"), veth];
    let listing = run(&["netns", "list"]) + &run(&["-o", "link", "show"]);
    listing
        .lines()
        .filter(|line| {
            line.split([' ', ':', '@'])
                .any(|word| names.iter().any(|n| word.starts_with(n.as_str())))
        })
        .map(str::to_owned)
        .collect()
}

fn base36(mut n: u32) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_digit(n % 36, 36).expect("a digit"));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netns_partitions_cut_programs_that_bind_nothing_per_shape_and_heal() {
    if !netns_or_skip("netns_partitions_cut_programs_that_bind_nothing_per_shape_and_heal") {
        return;
    }
    for n in [3u32, 5] {
        let ids: Vec<NodeId> = (1..=n).collect();
        eprintln!("phase: {n} netns hosts with an echo server each");
        let hosts = Arc::new(Hosts::create(HostKind::Netns, &ids).expect("create netns hosts"));
        let (bridge, namespaces) = (
            hosts.bridge().expect("a bridge").to_owned(),
            hosts.namespaces(),
        );
        echo_servers(&hosts);
        assert!(
            reachability(&hosts).iter().all(|(_, ok)| *ok),
            "before any fault every pair talks"
        );
        let net = HostsNet::new(hosts.clone());
        let mut rng = fastrand::Rng::with_seed(u64::from(n) + 20);
        for shape in Shape::ALL {
            let grudge = shape.grudge(&ids, Some(2), &mut rng);
            eprintln!("phase: {shape} on {n} hosts: {grudge:?}");
            net.partition(&grudge).await.expect("partition");
            assert_eq!(
                reachability(&hosts),
                expected(&grudge, &ids),
                "{shape} on {n} hosts: {grudge:?}"
            );
            net.heal().await.expect("heal");
            assert!(
                reachability(&hosts).iter().all(|(_, ok)| *ok),
                "{shape} on {n} hosts healed"
            );
        }
        eprintln!("phase: dropping the hosts removes {bridge} and {namespaces:?}");
        drop(net);
        drop(Arc::into_inner(hosts).expect("the last reference"));
        let left = leftovers_of(std::process::id());
        for name in namespaces.iter().chain([&bridge]) {
            assert!(
                !left.iter().any(|l| l.contains(name.as_str())),
                "{name} left: {left:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netns_hosts_run_commands_inside_their_namespace() {
    if !netns_or_skip("netns_hosts_run_commands_inside_their_namespace") {
        return;
    }
    let hosts = Hosts::create(HostKind::Netns, &[1, 2]).expect("create netns hosts");
    let host = hosts.get(2).expect("host 2");
    let out = host
        .exec(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .await
        .expect("ip runs");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains(&format!("{}/24", host.ip())),
        "{}: {listing}",
        host.name()
    );
    let ip = host.ip().to_string();
    assert!(ip.starts_with("10.213.") && ip.ends_with(".12"), "{ip}");
    // No way out: no default route, so traffic stays on this machine.
    let routes = host.exec(&["ip", "route"]).await.expect("ip runs");
    assert!(
        !String::from_utf8_lossy(&routes.stdout).contains("default"),
        "no default route"
    );

    // A long-running process: inside the namespace, as the user asked for, output in its log.
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("p.log");
    let mut process = host
        .spawn(ProcessSpec {
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "id -u; ip -o -4 addr show dev eth0; echo \"$GREETING\"".into(),
            ],
            env: vec![("GREETING".into(), "hello from the host".into())],
            dir: Some(dir.path().to_path_buf()),
            user: Some("nobody".into()),
            log: log.clone(),
        })
        .await
        .expect("spawn");
    let status = loop {
        if let Some(status) = process.try_wait().expect("try_wait") {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let text = std::fs::read_to_string(&log).expect("the log");
    assert!(status.success(), "{status}: {text}");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("65534"), "runs as nobody: {text}");
    assert!(text.contains(&format!("{}/24", host.ip())), "{text}");
    assert!(text.contains("hello from the host"), "{text}");
}

/// The pid in a netns host name `fl<pid>x<run>n<id>`.
fn controller_pid(spec: &serde_json::Value) -> u32 {
    let host = spec["addresses"][0]["host"].as_str().expect("a host name");
    host.strip_prefix("fl")
        .and_then(|rest| rest.split('x').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("not a netns host name: {host}"))
}

#[test]
fn a_netns_run_reaches_a_verdict_and_leaves_nothing_behind() {
    if !netns_or_skip("a_netns_run_reaches_a_verdict_and_leaves_nothing_behind") {
        return;
    }
    let store = tempfile::tempdir().expect("temp store");
    let out = faultline()
        .args(["run", "--hosts", "netns", "--replication", "quorum"])
        .args(["--nemesis", "partition,kill", "--time-limit", "4"])
        .args(["--fault-duration", "1", "--quiet-duration", "0.5"])
        .args(["--recovery", "1", "--name", "netns", "--store"])
        .arg(store.path())
        .output()
        .expect("faultline starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "a verdict: {:?}\n{stderr}",
        out.status
    );
    let dir = store.path().join("netns").join("latest");
    let spec = recorded_spec(&dir);
    assert_eq!(spec["hosts"], "netns");
    let addresses = spec["addresses"].as_array().expect("addresses");
    assert_eq!(addresses.len(), 3);
    for a in addresses {
        assert!(
            a["address"]
                .as_str()
                .is_some_and(|s| s.starts_with("10.213.")),
            "{a}"
        );
    }
    for id in 1..=3 {
        let log = std::fs::read_to_string(dir.join("nodes").join(format!("{id}.log")))
            .expect("node log in the run folder");
        assert!(log.contains("on host fl"), "the log says the host: {log}");
    }
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
    let nemesis: Vec<serde_json::Value> = history
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["process"] == "nemesis" && e["f"] == "start")
        .collect();
    assert!(
        nemesis.iter().any(|e| e["value"]["fault"] == "partition"),
        "a partition was started"
    );
    for event in &nemesis {
        assert!(event.get("error").is_none(), "a fault failed: {event}");
    }
    let pid = controller_pid(&spec);
    assert_no_leftovers_of(pid);
    assert_no_process_mentions(&store.path().display().to_string());
}

#[test]
fn the_next_controller_removes_what_a_killed_one_left_on_netns() {
    if !netns_or_skip("the_next_controller_removes_what_a_killed_one_left_on_netns") {
        return;
    }
    let store = tempfile::tempdir().expect("temp store");
    let store_name = store.path().display().to_string();
    let mut controller = faultline()
        .args(["run", "--hosts", "netns", "--nemesis", "partition"])
        .args(["--time-limit", "60", "--name", "killed", "--store"])
        .arg(store.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("faultline starts");
    // Guarantees the controller is killed however this test ends.
    struct KillOnDrop<'a>(&'a mut std::process::Child);
    impl Drop for KillOnDrop<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let guard = KillOnDrop(&mut controller);
    let dir = wait_for_history(store.path(), "killed", 200);
    let pid = guard.0.id();
    // Before the kill (after it, another test's controller start may already clean up).
    assert!(
        !leftovers_of(pid).is_empty(),
        "a running controller has namespaces to leave behind (else this test proves nothing)"
    );
    eprintln!("phase: SIGKILL of controller {pid} mid-run");
    drop(guard);
    assert_eq!(recorded_spec(&dir)["hosts"], "netns");
    // Its nodes die with it (PR_SET_PDEATHSIG).
    assert_no_process_mentions(&store_name);
    eprintln!("phase: one more controller start");
    let next = tempfile::tempdir().expect("temp store");
    let status = faultline()
        .args(["run", "--time-limit", "1", "--recovery", "0", "--store"])
        .arg(next.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("faultline starts");
    assert_eq!(status.code(), Some(0));
    assert_no_leftovers_of(pid);
}

#[test]
fn ctrl_c_on_a_netns_run_heals_checks_and_leaves_nothing_behind() {
    if !netns_or_skip("ctrl_c_on_a_netns_run_heals_checks_and_leaves_nothing_behind") {
        return;
    }
    let store = tempfile::tempdir().expect("temp store");
    let mut controller = faultline()
        .args(["run", "--hosts", "netns", "--nemesis", "partition"])
        .args(["--time-limit", "60", "--name", "interrupted", "--store"])
        .arg(store.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("faultline starts");
    let dir = wait_for_history(store.path(), "interrupted", 200);
    let pid = controller.id();
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    let status = controller.wait().expect("the controller ends");
    assert_eq!(status.code(), Some(130), "interrupted");
    assert_eq!(recorded_spec(&dir)["hosts"], "netns");
    assert_no_leftovers_of(pid);
    assert_no_process_mentions(&store.path().display().to_string());
}

#[test]
fn bad_hosts_input_is_one_line_and_exit_3_before_anything_starts() {
    use clap::Parser;
    use faultline::cli::{Cli, Command};
    use faultline::commands::run::resolve_with;
    use faultline::machine::Capabilities;

    let args = |extra: &[&str]| {
        let cli = Cli::try_parse_from(["faultline", "run"].iter().chain(extra)).expect("parses");
        match cli.command {
            Command::Run(args) => *args,
            other => panic!("not run: {other:?}"),
        }
    };
    let no_root = Capabilities {
        nft: false,
        faketime: false,
        netns: false,
    };
    let err = format!(
        "{:#}",
        resolve_with(&args(&["--hosts", "netns"]), no_root).expect_err("refused")
    );
    assert!(
        err.starts_with("--hosts netns") && err.contains("root") && !err.contains('\n'),
        "{err}"
    );
    let root = Capabilities {
        nft: true,
        faketime: false,
        netns: true,
    };
    let spec = resolve_with(&args(&["--hosts", "netns", "--nemesis", "partition"]), root)
        .expect("netns with root");
    assert_eq!(spec.hosts, HostKind::Netns);
    assert_eq!(spec.network, faultline::network::Backend::Nft);
    let loopback = resolve_with(&args(&[]), root).expect("the default");
    assert_eq!(loopback.hosts, HostKind::Loopback);

    // Refusals that only a root controller reaches (without root, netns is refused first).
    for (flags, says) in [
        (
            vec!["--hosts", "netns", "--network", "proxy"],
            "--network proxy",
        ),
        (vec!["--hosts", "netns", "--nemesis", "delay"], "netem"),
    ] {
        let err = format!(
            "{:#}",
            resolve_with(&args(&flags), root).expect_err("refused")
        );
        assert!(
            err.contains(says) && !err.contains('\n'),
            "{flags:?}: {err}"
        );
    }

    let store = tempfile::tempdir().expect("temp store");
    for (flags, says) in [
        (vec!["--hosts", "ssh"], "--hosts"),
        (vec!["--hosts", "moon"], "--hosts"),
    ] {
        let out = faultline()
            .arg("run")
            .args(&flags)
            .arg("--store")
            .arg(store.path())
            .output()
            .expect("faultline starts");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{flags:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{flags:?}: {stderr}");
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
    }
    assert!(
        std::fs::read_dir(store.path()).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            || std::fs::read_dir(store.path()).is_ok_and(|mut d| d.next().is_none()),
        "nothing created"
    );
}

/// The state letter of `pid` from /proc, None once it is gone or a zombie (whoever reaps an
/// orphan here may be slow to).
fn live_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let letter = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
    (letter != 'Z' && letter != 'X').then_some(letter)
}

/// The process group of `pid` (after the comm: state, ppid, pgrp).
fn group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// A node whose program starts a child that leaves its process group (setsid, as every
/// PostgreSQL backend does) and a daemon double-forked away to init (as Patroni starts the
/// postmaster; found through the namespace on netns, through the node marker on loopback):
/// pause stops them all, resume continues them all, kill leaves none of them.
async fn a_node_tree_is_paused_resumed_and_killed_whole(kind: HostKind) {
    use faultline::hosts::process_tree::{node_processes, process_tree, signal_tree};
    eprintln!("--- {kind}: a node with a setsid child");
    let hosts = Hosts::create(kind, &[1]).expect("create hosts");
    let host = hosts.get(1).expect("host 1");
    let dir = tempfile::tempdir().expect("temp dir");
    // The daemon leaves for init: netns finds it in the node's namespace, loopback by the
    // node marker its environment inherited.
    let (script, expected) = (
        "(setsid sleep 1002 &); setsid sleep 1000 & exec sleep 1000",
        3,
    );
    let mut node = host
        .spawn(ProcessSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![],
            dir: Some(dir.path().to_path_buf()),
            user: None,
            log: dir.path().join("n1.log"),
        })
        .await
        .expect("spawn");
    let root = node.pid();
    // The marker the host started it with (what the harness keeps in the handle).
    let marker = faultline::hosts::node_marker::marker_of(root);
    assert!(marker.is_some(), "a local node process carries its marker");
    // Whatever happens below, nothing of the node outlives the test.
    struct KillNode(u32, Option<String>);
    impl Drop for KillNode {
        fn drop(&mut self) {
            let _ = signal_tree(self.0, self.0, libc::SIGKILL, self.1.as_deref());
        }
    }
    let _guard = KillNode(root, marker.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let all = loop {
        let all = node_processes(root, marker.as_deref());
        // Settled: every process there, each past its setsid (it leads its own group).
        let settled = all.len() == expected && all[1..].iter().all(|&p| group_of(p) == Some(p));
        if settled || std::time::Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(all.len(), expected, "the node and its others: {all:?}");
    let others = &all[1..];
    assert_eq!(group_of(root), Some(root), "the node leads its group");
    for &other in others {
        assert_eq!(
            group_of(other),
            Some(other),
            "{other} left the node's group"
        );
    }
    let tree = process_tree(root);
    assert_eq!(tree.len(), 2, "the node and its setsid child: {tree:?}");
    assert!(
        others.iter().any(|p| !tree.contains(p)),
        "the daemon is found through the namespace or the marker, not the tree: {all:?} {tree:?}"
    );

    eprintln!("--- pause: every thread of every process stops");
    node.signal_tree(libc::SIGSTOP).expect("stop");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !node.thread_states().is_some_and(|s| s.all_stopped())
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let states = node.thread_states().expect("the node is there");
    assert!(
        states.all_stopped() && states.total == expected,
        "{states:?}"
    );
    assert_eq!(live_state(root), Some('T'));
    for &other in others {
        assert_eq!(live_state(other), Some('T'), "{other} is paused too");
    }

    eprintln!("--- resume: all run again");
    node.signal_tree(libc::SIGCONT).expect("cont");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !node.thread_states().is_some_and(|s| s.none_stopped())
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_ne!(live_state(root), Some('T'));
    for &other in others {
        assert_ne!(live_state(other), Some('T'), "{other} runs again");
    }

    eprintln!("--- kill: nothing left in /proc");
    node.signal_tree(libc::SIGKILL).expect("kill");
    node.wait_blocking().expect("reaped");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while others.iter().any(|&p| live_state(p).is_some()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(live_state(root), None, "the node is gone");
    for &other in others {
        assert_eq!(live_state(other), None, "{other} is gone");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_reach_a_loopback_node_s_whole_process_tree() {
    a_node_tree_is_paused_resumed_and_killed_whole(HostKind::Loopback).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_reach_a_netns_node_s_whole_process_tree() {
    if !netns_or_skip("signals_reach_a_netns_node_s_whole_process_tree") {
        return;
    }
    a_node_tree_is_paused_resumed_and_killed_whole(HostKind::Netns).await;
}
