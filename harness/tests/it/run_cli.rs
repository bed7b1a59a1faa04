//! `faultline run` and `faultline analyze` as a user runs them: real nodes, real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{
    assert_no_process_mentions, faultline, processes_mentioning, recorded_spec, succeeds,
    wait_for_history,
};

/// The single run folder under `store/<test>/` (not the `latest` link).
fn run_dir(store: &Path, test: &str) -> PathBuf {
    let entries = std::fs::read_dir(store.join(test)).expect("test folder");
    let dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != "latest") && p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn bad_flags_are_one_line_errors_with_exit_3_and_leave_no_store() {
    let cases: &[&[&str]] = &[
        &["--workload", "queue"],
        &["--nemesis", "kill,flood"],
        &["--replication", "eventual"],
        &["--reads", "psychic"],
        &["--nodes", "0"],
        &["--time-limit", "abc"],
        &["--time-limit", "-5"],
        &["--recovery", "-1"],
        &["--rate", "-2"],
        &["--nodes", "-1"],
        &["--concurrency", "0"],
        &["--threads-per-key", "0"],
        &["--threads-per-key", "-1"],
        &["--ops-per-key", "-1"],
        &["--mix", "0,0,0"],
        &["--zipfian", "-1"],
        &["--nemesis", "partition", "--network", "carrier-pigeon"],
        &["--nemesis", "partition", "--shapes", "ring"],
        &["--nemesis", "delay", "--network", "nft"],
        &["--nemesis", "clock", "--clock", "sundial"],
    ];
    for args in cases {
        let store = tempfile::tempdir().expect("tempdir");
        let out = faultline()
            .arg("run")
            .args(*args)
            .arg("--store")
            .arg(store.path().join("store"))
            .output()
            .expect("starts");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("faultline: "), "{args:?}: {err}");
        // The message names the flag whose value is wrong (a negative number included, which
        // clap alone would call an "unexpected argument").
        let flag = args
            .iter()
            .rev()
            .find(|a| a.starts_with("--"))
            .expect("a flag");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
        assert!(
            !store.path().join("store").exists(),
            "{args:?} created the store"
        );
    }
}

#[test]
fn a_short_run_stores_everything_and_is_valid() {
    let store = tempfile::tempdir().expect("tempdir");
    let stdout = succeeds(
        faultline()
            .args([
                "run",
                "--nemesis",
                "kill",
                "--time-limit",
                "6",
                "--recovery",
                "1",
            ])
            .args([
                "--fault-duration",
                "2",
                "--quiet-duration",
                "1",
                "--seed",
                "3",
            ])
            .args(["--name", "short"])
            .arg("--store")
            .arg(store.path()),
    );
    assert!(stdout.starts_with("valid: "), "{stdout}");
    let dir = run_dir(store.path(), "short");
    for file in [
        "test.json",
        "history.jsonl",
        "results.json",
        "faultline.log",
        "nodes/1.log",
    ] {
        assert!(dir.join(file).is_file(), "missing {file}");
    }
    let latest = std::fs::read_link(store.path().join("short/latest")).expect("latest link");
    assert_eq!(Some(latest.as_os_str()), dir.file_name());
    let spec = recorded_spec(&dir);
    assert_eq!(spec["seed"], 3);
    // What the options' values promise: recorded with the run, shown beside the verdict.
    let quorum = spec["option_explanations"]["replication"]
        .as_str()
        .expect("replication's explanation in test.json");
    assert!(
        quorum.starts_with("A write is acknowledged once a majority"),
        "{quorum}"
    );
    assert!(spec["option_explanations"]["reads"].is_string(), "{spec}");
    let report = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    let block = report
        .split("What this run's options promise")
        .nth(1)
        .expect("the promises block");
    assert!(
        block.contains("<code>replication=quorum</code>: A write is acknowledged once a majority")
            && block.contains("<code>reads=read-index</code>: The leader confirms"),
        "{block}"
    );
    let results: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).expect("results"))
            .expect("json");
    assert_eq!(results["verdict"], "valid");
    assert_eq!(results["linearizability"]["verdict"], "linearizable");
    assert!(
        results["ops"]["read"]["ok"].as_u64().unwrap_or(0) > 10,
        "{results}"
    );
    // The first fault of a schedule is dealt to the leader.
    assert_eq!(results["faults"][0]["fault"], "kill");
    assert_eq!(
        results["faults"][0]["hit_leader"], true,
        "{}",
        results["faults"]
    );
    assert!(results["latency"]["write"]["p50_ms"].as_f64().is_some());
}

#[test]
fn missing_nft_or_libfaketime_is_refused_before_anything_starts() {
    use clap::Parser;
    use faultline::cli::{Cli, Command};
    use faultline::clock::ClockBackend;
    use faultline::commands::run::resolve_with;
    use faultline::machine::Capabilities;
    use faultline::network::Backend;

    let args = |extra: &[&str]| {
        let cli = Cli::try_parse_from(
            ["faultline", "run", "--nemesis", "partition"]
                .iter()
                .chain(extra),
        )
        .expect("parses");
        match cli.command {
            Command::Run(args) => *args,
            other => panic!("not run: {other:?}"),
        }
    };
    let none = Capabilities {
        nft: false,
        faketime: false,
        netns: false,
    };
    let err = resolve_with(&args(&["--network", "nft"]), none).expect_err("refused");
    assert!(format!("{err:#}").contains("root"), "{err:#}");
    let auto = resolve_with(&args(&[]), none).expect("auto falls back");
    assert_eq!(auto.network, Backend::Proxy);
    let all = Capabilities {
        nft: true,
        faketime: true,
        netns: false,
    };
    let nft = resolve_with(&args(&[]), all).expect("auto");
    assert_eq!(nft.network, Backend::Nft);
    let faketime = ["--nemesis", "clock", "--clock", "faketime"];
    let err = resolve_with(&args(&faketime), none).expect_err("refused");
    assert!(format!("{err:#}").contains("libfaketime"), "{err:#}");
    let api = resolve_with(&args(&["--nemesis", "clock"]), none).expect("auto falls back");
    assert_eq!(api.clock, ClockBackend::Api);
    let ft = resolve_with(&args(&["--nemesis", "clock"]), all).expect("auto");
    assert_eq!(ft.clock, ClockBackend::Faketime);
}

/// Whether `nft list tables` shows a table of controller `pid`.
fn nft_table_of(pid: u32) -> bool {
    let out = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft runs");
    String::from_utf8_lossy(&out.stdout).contains(&format!("faultline_{pid}_"))
}

/// A finished `faultline run` with `args` into a fresh store: the store, the controller's pid,
/// stdout and stderr. Asserts it exited 0.
struct FinishedRun {
    store: tempfile::TempDir,
    pid: u32,
    stderr: String,
}

fn run_to_the_end(args: &[&str]) -> FinishedRun {
    let store = tempfile::tempdir().expect("tempdir");
    let child = faultline()
        .arg("run")
        .args(args)
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let pid = child.id();
    let out = child.wait_with_output().expect("finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    FinishedRun { store, pid, stderr }
}

/// A short partitioned run on `backend`: valid, backend said and recorded, the first fault
/// isolating the leader with its grudge in the history, nothing left behind.
fn partitioned_run(backend: &str, nemesis: &str) {
    let FinishedRun { store, pid, stderr } = run_to_the_end(&[
        "--nemesis",
        nemesis,
        "--network",
        backend,
        // Delays hit one node, so the only leader-aimed fault, dealt first, is the partition.
        "--targets",
        "one",
        "--time-limit",
        "8",
        "--recovery",
        "2",
        "--fault-duration",
        "1.5",
        "--quiet-duration",
        "0.5",
        "--seed",
        "5",
        "--name",
        "parted",
    ]);
    assert!(
        stderr.contains(&format!("network backend: {backend}")),
        "{stderr}"
    );
    if backend == "nft" {
        assert!(!nft_table_of(pid), "the run's table is deleted at the end");
    }
    let dir = run_dir(store.path(), "parted");
    let spec = recorded_spec(&dir);
    assert_eq!(spec["network"], backend);
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
    let starts: Vec<Value> = history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis" && e["f"] == "start" && e["type"] == "info")
        .collect();
    assert!(starts.len() >= 2, "{starts:?}");
    // The first fault isolates the leader: its grudge names it against every other node.
    let first = &starts[0]["value"];
    assert_eq!(first["fault"], "partition", "{first}");
    assert_eq!(first["shape"], "isolate-leader", "{first}");
    for start in &starts {
        assert!(start["error"].is_null(), "{start}");
    }
    let leader = first["leader"].as_u64().expect("a leader");
    assert_eq!(
        first["grudge"][leader.to_string()].as_array().map(Vec::len),
        Some(2),
        "{first}"
    );
}

/// Sync replication waits for every follower: while a partition cuts one off, no write is
/// acknowledged before the heal (results.json), and the history stays linearizable.
#[test]
fn sync_replication_takes_no_writes_while_a_follower_is_cut_off() {
    let FinishedRun { store, .. } = run_to_the_end(&[
        "--replication",
        "sync",
        "--nemesis",
        "partition",
        // Shapes that always cut someone off from the leader (a bridge may not: the leader can
        // be the bridge).
        "--shapes",
        "isolate-leader,isolate-one,halves",
        "--network",
        "proxy",
        "--time-limit",
        "6",
        "--recovery",
        "1",
        "--fault-duration",
        "2",
        "--quiet-duration",
        "1",
        "--seed",
        "3",
        "--name",
        "sync",
    ]);
    let dir = run_dir(store.path(), "sync");
    let results: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).expect("results"))
            .expect("json");
    assert_eq!(results["verdict"], "valid", "{results}");
    let availability = &results["availability"];
    assert_eq!(availability["writes_during_faults"], 0.0, "{availability}");
    let faults = results["faults"].as_array().expect("faults");
    assert!(!faults.is_empty(), "{results}");
    // Every shape above separates someone from the leader (when one was known at the fault's
    // start: an election may still be under way), and results.json names them.
    for fault in faults {
        assert_ne!(fault["cut_off_from_leader"], json!([]), "{fault}");
    }
    assert!(
        faults.iter().any(|f| f["cut_off_from_leader"]
            .as_array()
            .is_some_and(|n| !n.is_empty())),
        "{results}"
    );
    // Outside faults most writes succeed: the bar is not higher because a loaded machine
    // (the whole suite, two cores) times some out: 0.89 in one CI run.
    assert!(
        availability["writes_outside_faults"]
            .as_f64()
            .is_some_and(|a| a > 0.5),
        "{availability}"
    );
}

#[test]
fn a_partitioned_run_through_the_proxy_is_valid_and_records_grudges() {
    partitioned_run("proxy", "partition,delay");
}

#[test]
fn a_partitioned_run_through_nftables_is_valid_and_leaves_no_table() {
    if crate::partition::nft_or_skip(
        "a_partitioned_run_through_nftables_is_valid_and_leaves_no_table",
    ) {
        partitioned_run("nft", "partition");
    }
}

#[test]
fn the_next_controller_removes_the_table_and_files_of_a_killed_one() {
    let name = "the_next_controller_removes_the_table_and_files_of_a_killed_one";
    if !crate::partition::nft_or_skip(name) {
        return;
    }
    let faketime = std::path::Path::new(faultline::machine::LIBFAKETIME).is_file();
    let store = tempfile::tempdir().expect("tempdir");
    let mut victim = faultline()
        .args(["run", "--nemesis", "partition,clock", "--network", "nft"])
        .args(["--clock", if faketime { "faketime" } else { "api" }])
        .args([
            "--time-limit",
            "60",
            "--fault-duration",
            "30",
            "--quiet-duration",
            "0.3",
        ])
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let pid = victim.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !nft_table_of(pid) {
        assert!(Instant::now() < deadline, "the run never created its table");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Into the partition, then gone without any cleanup of its own.
    std::thread::sleep(Duration::from_millis(800));
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reaped");
    assert!(
        nft_table_of(pid),
        "a SIGKILLed controller cannot delete its table"
    );
    assert_eq!(faketime_dir_of(pid), faketime, "nor its timestamp files");
    let out = faultline()
        .args(["run", "--nemesis", "partition", "--network", "nft"])
        .args([
            "--time-limit",
            "1",
            "--recovery",
            "0",
            "--quiet-duration",
            "5",
        ])
        .arg("--store")
        .arg(store.path())
        .output()
        .expect("starts");
    assert!(out.status.code().is_some_and(|c| c < 3), "{out:?}");
    assert!(
        !nft_table_of(pid),
        "the next controller removed the stale table"
    );
    assert!(!faketime_dir_of(pid), "and the stale timestamp files");
}

/// Whether a timestamp folder of controller `pid` exists in the temp dir.
fn faketime_dir_of(pid: u32) -> bool {
    std::fs::read_dir(std::env::temp_dir()).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("faultline-faketime-{pid}-"))
        })
    })
}

/// A short clock-skewed run on `backend`: valid, every skew in the history, every clock reset
/// and no timestamp file left.
fn clock_run(backend: &str) {
    let FinishedRun { store, pid, stderr } = run_to_the_end(&[
        "--nemesis",
        "clock",
        "--clock",
        backend,
        "--time-limit",
        "6",
        "--recovery",
        "1",
        "--fault-duration",
        "1.5",
        "--quiet-duration",
        "0.5",
        "--seed",
        "8",
        "--name",
        "skewed",
    ]);
    assert!(
        stderr.contains(&format!("clock backend: {backend}")),
        "{stderr}"
    );
    let dir = run_dir(store.path(), "skewed");
    assert!(
        !faketime_dir_of(pid),
        "timestamp files removed at the end of the run"
    );
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
    let starts: Vec<Value> = history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis" && e["f"] == "start" && e["type"] == "info")
        .collect();
    assert!(!starts.is_empty());
    for start in &starts {
        assert!(start["error"].is_null(), "{start}");
        assert_eq!(start["value"]["fault"], "clock");
        assert!(start["value"]["clock"]["offset_ms"].is_i64(), "{start}");
    }
    let stops = history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis" && e["f"] == "stop" && e["type"] == "info")
        .count();
    assert_eq!(stops, starts.len(), "every skew healed");
    // The controller's Cristian estimates saw the skews come and go.
    let clocks = std::fs::read_to_string(dir.join("clocks.jsonl")).expect("clocks.jsonl");
    let offsets: Vec<(u64, f64)> = clocks
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| Some((v["node"].as_u64()?, v["offset_ms"].as_f64()?)))
        .collect();
    for node in 1..=3 {
        assert!(
            offsets.iter().any(|(n, _)| *n == node),
            "node {node}: {clocks}"
        );
    }
    assert!(offsets.iter().any(|(_, o)| o.abs() < 100.0), "{clocks}");
    assert!(offsets.iter().any(|(_, o)| o.abs() > 400.0), "{clocks}");
}

#[test]
fn a_clock_skewed_run_through_the_admin_api_is_valid() {
    clock_run("api");
}

#[test]
fn a_clock_skewed_run_under_libfaketime_is_valid() {
    if std::path::Path::new(faultline::machine::LIBFAKETIME).is_file() {
        clock_run("faketime");
    } else {
        assert!(
            std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
            "FAULTLINE_REQUIRE_PRIVILEGED=1 but libfaketime is missing"
        );
        eprintln!("skipping: needs libfaketime (apt-get install faketime)");
    }
}

#[test]
fn a_killed_controller_leaves_no_node_and_an_analysable_history() {
    let store = tempfile::tempdir().expect("tempdir");
    let store_path = store.path().to_string_lossy().into_owned();
    let mut controller = faultline()
        .args([
            "run",
            "--nemesis",
            "kill,pause",
            "--time-limit",
            "60",
            "--name",
            "killed",
        ])
        .args(["--fault-duration", "1", "--quiet-duration", "1"])
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let dir = wait_for_history(store.path(), "killed", 10_000);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !processes_mentioning(&store_path).is_empty(),
        "nodes should be running"
    );
    controller.kill().expect("SIGKILL the controller");
    let _ = controller.wait();
    assert_no_process_mentions(&store_path);

    assert!(!dir.join("results.json").exists());
    let out = faultline()
        .arg("analyze")
        .arg(&dir)
        .output()
        .expect("starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict = stdout.split(':').next().unwrap_or("");
    assert!(
        ["valid", "invalid", "unknown"].contains(&verdict),
        "{stdout}"
    );
    assert!(dir.join("results.json").is_file());
}

/// A controller that panics mid-run, with a partition and a clock skew in force, leaves no
/// nftables table, no timestamp file and no node behind: Drop guards unwind them all.
#[test]
fn a_panic_mid_run_leaves_nothing_behind() {
    use faultline::cluster::{Cluster, ClusterSpec, NodeProgram, PeerLinks};
    use faultline::machine::LIBFAKETIME;
    use faultline::network::NftNet;
    use faultline_nemeses::{Clocks, Grudge, Network};

    let nft = faultline::network::nft::available();
    let faketime = std::path::Path::new(LIBFAKETIME).is_file();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ClusterSpec {
        nodes: 3,
        system: faultline::system::System::kvnode(&[
            ("replication", "quorum"),
            ("reads", "read-index"),
        ])
        .expect("kvnode resolves"),
        dir: dir.path().to_path_buf(),
        program: NodeProgram::kvnode(crate::kvnode_bin::kvnode_bin()),
        extra_args: Vec::new(),
        links: PeerLinks::Direct,
        faketime: faketime.then(|| LIBFAKETIME.into()),
        hosts: faultline::hosts::HostKind::Loopback,
    };
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let controller = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let cluster = Cluster::start(spec).await.expect("cluster starts");
            let pids: Vec<u32> = cluster
                .pids()
                .await
                .into_iter()
                .filter_map(|(_, p)| p)
                .collect();
            let table = if nft {
                let net = NftNet::create(cluster.addrs()).expect("table");
                net.partition(&Grudge::isolate(1, &[1, 2, 3]))
                    .await
                    .expect("cut");
                Some(net)
            } else {
                None
            };
            if let Some(clocks) = cluster.faketime_clocks() {
                clocks.set_offset(1, -4000).await.expect("skew");
            }
            let _ = seen_tx.send((
                pids,
                table.as_ref().map(|t| t.table().to_owned()),
                cluster.faketime_files(),
            ));
            panic!("the controller fails mid-run (on purpose)");
        })
    });
    assert!(controller.join().is_err(), "the controller panicked");
    let (pids, table, files) = seen_rx.recv().expect("the run got going");
    assert_eq!(pids.len(), 3);
    for pid in pids {
        let gone = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |s| s.contains(") Z "));
        assert!(gone, "node {pid} outlived the panic");
    }
    if let Some(table) = table {
        let out = Command::new("nft")
            .args(["list", "tables"])
            .output()
            .expect("nft");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(&table),
            "{table} left"
        );
    }
    assert_eq!(files.is_empty(), !faketime);
    assert!(files.iter().all(|f| !f.exists()), "{files:?} left");
}

/// Faults of different families run on their own schedules and overlap: the first partition
/// (the leader isolated) and the first clock skew (the leader's) are in force together.
#[test]
fn partitions_and_clock_skews_overlap() {
    let store = tempfile::tempdir().expect("tempdir");
    let out = faultline()
        .args(["run", "--nemesis", "partition,clock", "--network", "proxy"])
        .args(["--clock", "api", "--targets", "leader"])
        .args(["--time-limit", "4", "--recovery", "1"])
        .args(["--fault-duration", "2", "--quiet-duration", "0.5"])
        .args(["--seed", "4", "--name", "both"])
        .arg("--store")
        .arg(store.path())
        .output()
        .expect("starts");
    assert!(out.status.code().is_some_and(|c| c < 3), "{out:?}");
    let dir = run_dir(store.path(), "both");
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
    let nemesis: Vec<Value> = history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis" && e["type"] == "info")
        .collect();
    let first = |f: &str, fault: &str| {
        nemesis
            .iter()
            .position(|e| e["f"] == f && e["value"]["fault"] == fault)
            .unwrap_or_else(|| panic!("no {f} of {fault}: {nemesis:?}"))
    };
    let (p_start, p_stop) = (first("start", "partition"), first("stop", "partition"));
    let (c_start, c_stop) = (first("start", "clock"), first("stop", "clock"));
    assert!(p_start < c_stop && c_start < p_stop, "{nemesis:?}");
    assert_eq!(
        nemesis[p_start]["value"]["leader"], nemesis[c_start]["value"]["targets"][0],
        "both hit the leader"
    );
}
