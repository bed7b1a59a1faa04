//! Cleanup that cannot be skipped: a controller that panics unwinds its faults, and what a
//! SIGKILLed controller leaves (its nftables table, its libfaketime timestamp files) goes at
//! the next controller start.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::partition::nft_or_skip;
use crate::run_cli::{faultline, processes_mentioning};

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
        replication: "quorum".into(),
        reads: "read-index".into(),
        dir: dir.path().to_path_buf(),
        program: NodeProgram::kvnode(crate::kvnode_bin::kvnode_bin()),
        extra_args: Vec::new(),
        links: PeerLinks::Direct,
        faketime: faketime.then(|| LIBFAKETIME.into()),
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

/// The faultline tables `nft list tables` shows.
fn faultline_tables() -> Vec<String> {
    let out = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|t| t.starts_with("faultline_"))
        .map(str::to_owned)
        .collect()
}

/// The entries of `dir` whose names start with `faultline-faketime-`.
fn timestamp_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("temp dir")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("faultline-faketime-"))
        .collect()
}

/// Whether the run's history shows a `fault` started and not yet stopped.
fn in_force(history: &str, fault: &str) -> bool {
    let mut active = false;
    for event in history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis" && e["type"] == "info")
        .filter(|e| e["value"]["fault"] == fault)
    {
        active = event["f"] == "start";
    }
    active
}

/// A controller SIGKILLed with the leader cut off by nftables and its clock skewed through
/// libfaketime leaves its table and timestamp files (no code of its runs after SIGKILL); the
/// next controller start removes them, and leaves no faultline table of a dead controller.
#[test]
fn a_sigkilled_controllers_table_and_timestamp_files_go_at_the_next_start() {
    let test = "a_sigkilled_controllers_table_and_timestamp_files_go_at_the_next_start";
    if !nft_or_skip(test) {
        return;
    }
    if !Path::new(faultline::machine::LIBFAKETIME).is_file() {
        assert!(
            std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
            "{test}: FAULTLINE_REQUIRE_PRIVILEGED=1 but libfaketime is missing"
        );
        eprintln!("skipping {test}: needs libfaketime (apt-get install faketime)");
        return;
    }
    let store = tempfile::tempdir().expect("tempdir");
    // The controllers' own temp dir, so that only their timestamp folders are in it.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut controller = faultline()
        .args(["run", "--nemesis", "partition,clock", "--targets", "leader"])
        .args(["--shapes", "isolate-leader", "--network", "nft"])
        .args(["--clock", "faketime", "--time-limit", "60"])
        .args(["--fault-duration", "60", "--quiet-duration", "0.5"])
        .args(["--name", "killed"])
        .arg("--store")
        .arg(store.path())
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let table_prefix = format!("faultline_{}_", controller.id());
    // Wait until both faults are in force (the recorder flushes every second).
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the faults never started"
        );
        let history = std::fs::read_dir(store.path().join("killed"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("history.jsonl")).ok())
            .next()
            .unwrap_or_default();
        if in_force(&history, "partition") && in_force(&history, "clock") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    controller.kill().expect("SIGKILL the controller");
    let _ = controller.wait();
    let store_path = store.path().to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning(&store_path).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // What it left: the test would prove nothing if SIGKILL had left nothing to clean up.
    assert!(
        faultline_tables()
            .iter()
            .any(|t| t.starts_with(&table_prefix)),
        "{:?}",
        faultline_tables()
    );
    assert_eq!(timestamp_dirs(tmp.path()).len(), 1);

    let out = faultline()
        .args([
            "run",
            "--time-limit",
            "1",
            "--recovery",
            "0",
            "--name",
            "next",
        ])
        .arg("--store")
        .arg(store.path())
        .env("TMPDIR", tmp.path())
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let tables = faultline_tables();
    assert!(
        !tables.iter().any(|t| t.starts_with(&table_prefix)),
        "{tables:?}"
    );
    // Tables of other tests' live controllers may be there; none of a dead one.
    for table in &tables {
        let pid = table.split('_').nth(1).unwrap_or_default();
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "{table} is stale"
        );
    }
    assert_eq!(timestamp_dirs(tmp.path()), Vec::<String>::new());
}
