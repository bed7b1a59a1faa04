//! Load benchmark: for each replication mode, a three-node kvnode cluster on loopback, then
//! closed-loop clients doing puts, then gets, for a fixed time; prints throughput and
//! p50/p99 latency as a Markdown table.
//!
//! `cargo bench -p kvnode --bench load -- [--seconds S] [--clients N] [--modes async,sync,quorum]
//! [--reads read-index] [--fsync always]`

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    seconds: u64,
    clients: usize,
    modes: Vec<String>,
    reads: String,
    fsync: String,
}

fn parse_args() -> Args {
    let mut args = Args {
        seconds: 5,
        clients: 16,
        modes: vec!["async".into(), "sync".into(), "quorum".into()],
        reads: "read-index".into(),
        fsync: "always".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--seconds" => args.seconds = value().parse().unwrap_or(args.seconds),
            "--clients" => args.clients = value().parse().unwrap_or(args.clients),
            "--modes" => args.modes = value().split(',').map(str::to_string).collect(),
            "--reads" => args.reads = value(),
            "--fsync" => args.fsync = value(),
            _ => {} // cargo passes --bench
        }
    }
    args
}

/// Child processes killed on drop.
struct Nodes(Vec<Child>, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_cluster(mode: &str, args: &Args) -> (Nodes, Vec<SocketAddr>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr().expect("addr"))
        .collect();
    drop(listeners);
    let mut children = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let peers: Vec<String> = addrs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, a)| format!("{}={a}", j + 1))
            .collect();
        let child = Command::new(env!("CARGO_BIN_EXE_kvnode"))
            .args(["--id", &(i + 1).to_string(), "--listen", &addr.to_string()])
            .args(["--peers", &peers.join(",")])
            .arg("--data-dir")
            .arg(dir.path().join(format!("n{}", i + 1)))
            .args(["--replication", mode, "--reads", &args.reads])
            .args(["--fsync", &args.fsync])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kvnode");
        children.push(child);
    }
    (Nodes(children, dir), addrs)
}

async fn find_leader(http: &reqwest::Client, addrs: &[SocketAddr]) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for addr in addrs {
            let status: Option<Value> = match http.get(format!("http://{addr}/status")).send().await
            {
                Ok(r) => r.json().await.ok(),
                Err(_) => None,
            };
            if let Some(s) = status
                && s["role"] == "leader"
                && s["commit_index"].as_u64() >= Some(1)
            {
                return *addr;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no leader within 10 s");
}

/// Runs `clients` closed-loop clients against `route` for `seconds`; returns sorted latencies
/// of successful requests and the error count.
async fn phase(
    http: &reqwest::Client,
    leader: SocketAddr,
    route: &'static str,
    clients: usize,
    seconds: u64,
) -> (Vec<Duration>, usize) {
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut seq = 0u64;
            while Instant::now() < end {
                seq += 1;
                let key = format!("k{c}-{}", seq % 64);
                let body = json!({"client_id": format!("{route}-{c}"), "seq": seq, "key": key, "value": seq});
                let start = Instant::now();
                let ok = match http.post(format!("http://{leader}{route}")).json(&body).send().await {
                    Ok(r) => r.status().is_success(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(start.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        all.extend(l);
        errors += e;
    }
    all.sort_unstable();
    (all, errors)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.clients * 2)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    println!(
        "kvnode load: 3 nodes on loopback, {} clients, {} s per phase, reads {}, fsync {}",
        args.clients, args.seconds, args.reads, args.fsync
    );
    println!();
    println!("| replication | op | ops/s | p50 ms | p99 ms | errors |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for mode in &args.modes {
        let (nodes, addrs) = start_cluster(mode, &args);
        let leader = find_leader(&http, &addrs).await;
        for (route, name) in [("/kv/put", "put"), ("/kv/get", "get")] {
            let (lat, errors) = phase(&http, leader, route, args.clients, args.seconds).await;
            println!(
                "| {mode} | {name} | {:.0} | {:.2} | {:.2} | {errors} |",
                lat.len() as f64 / args.seconds as f64,
                percentile(&lat, 0.50),
                percentile(&lat, 0.99),
            );
        }
        drop(nodes);
    }
}
