//! The controller's overhead: operations per second that `faultline run` sustains against a
//! kvnode cluster, against a plain load loop sending the same requests (same generator, same
//! client, same concurrency and duration) with no recording, on the same machine in one go.
//!
//! `cargo bench -p faultline --bench overhead [-- SECONDS CLIENTS]` (defaults 10 s, 10 clients).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use faultline::cluster::{Cluster, ClusterSpec, NodeProgram, PeerLinks};
use faultline_workloads::{Client, Generator, KvnodeClient, NodeAddr, WorkloadKind, WorkloadSpec};

fn program() -> NodeProgram {
    NodeProgram {
        exe: env!("CARGO_BIN_EXE_faultline").into(),
        leading_args: vec!["kvnode".into()],
    }
}

/// Ops/s of `clients` loops invoking the register workload for `seconds`, recording nothing.
async fn plain_loop(seconds: f64, clients: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cluster = Cluster::start(ClusterSpec {
        nodes: 3,
        system: faultline::system::System::kvnode(&[
            ("replication", "quorum"),
            ("reads", "read-index"),
        ])
        .expect("kvnode resolves"),
        dir: dir.path().to_owned(),
        program: program(),
        extra_args: Vec::new(),
        links: PeerLinks::Direct,
        faketime: None,
        hosts: faultline::hosts::HostKind::Loopback,
    })
    .await
    .expect("cluster starts");
    let nodes: Vec<NodeAddr> = cluster
        .nodes()
        .into_iter()
        .map(|(id, addr)| NodeAddr { id, addr })
        .collect();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let generator = Arc::new(std::sync::Mutex::new(Generator::new(
        WorkloadSpec::defaults(WorkloadKind::Register),
        clients,
        7,
    )));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (nodes, done, generator) = (nodes.clone(), done.clone(), generator.clone());
            tokio::spawn(async move {
                let Ok(client) =
                    KvnodeClient::try_new(format!("plain{c}"), nodes, Duration::from_millis(1000))
                else {
                    return;
                };
                let mut client = client.with_home(c);
                while Instant::now() < deadline {
                    let invocation = match generator.lock() {
                        Ok(mut g) => g.next_invocation(c),
                        Err(_) => return,
                    };
                    client.invoke(&invocation).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    cluster.stop().await;
    done.load(Ordering::Relaxed) as f64 / seconds
}

/// Ops/s of `faultline run` over the same workload, counted from its results.json (final
/// reads excluded).
fn harness_run(seconds: f64, clients: usize) -> f64 {
    let store = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "--recovery",
            "0",
            "--seed",
            "7",
            "--name",
            "overhead",
        ])
        .args([
            "--time-limit",
            &seconds.to_string(),
            "--concurrency",
            &clients.to_string(),
        ])
        .arg("--store")
        .arg(store.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("faultline runs");
    assert!(
        status.code().is_some_and(|c| c <= 2),
        "faultline run failed: {status}"
    );
    let results =
        std::fs::read(store.path().join("overhead/latest/results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_slice(&results).expect("json");
    let ops: u64 = results["ops"]
        .as_object()
        .map(|ops| {
            ops.values()
                .map(|c| {
                    ["ok", "fail", "info"]
                        .iter()
                        .map(|k| c[k].as_u64().unwrap_or(0))
                        .sum::<u64>()
                })
                .sum()
        })
        .unwrap_or(0);
    // One final read per key (the register workload has one key).
    (ops.saturating_sub(1)) as f64 / seconds
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let clients: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let plain = runtime.block_on(plain_loop(seconds, clients));
    let harness = harness_run(seconds, clients);
    let plain_again = runtime.block_on(plain_loop(seconds, clients));
    let reference = (plain + plain_again) / 2.0;
    println!("register workload, quorum/read-index, 3 nodes, {clients} clients, {seconds} s each");
    println!(
        "plain load loop:  {plain:.0} ops/s, then {plain_again:.0} ops/s (mean {reference:.0})"
    );
    println!("faultline run:    {harness:.0} ops/s");
    println!(
        "overhead:         {:.1}%",
        (1.0 - harness / reference) * 100.0
    );
}
