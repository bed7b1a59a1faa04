//! Mixed faults (SIGKILL + restart, SIGSTOP + SIGCONT, isolation) from a seeded schedule while
//! writers append and a reader reads with `read-index`. Checked: every acknowledged append is on
//! every node exactly once and in order, every read returns a prefix of the final list, and
//! every read contains every append acknowledged before the read began (real-time order).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::{Cluster, Opts, RetryingClient};

const WRITERS: usize = 4;
const FAULT_TIME: Duration = Duration::from_secs(4);

/// (client, value) acknowledged at `at`.
struct Ack {
    client: usize,
    value: u64,
    at: Instant,
}

/// A read of key `k{client}` started at `started`, returning `list`.
struct Read {
    client: usize,
    started: Instant,
    list: Vec<u64>,
}

fn as_list(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// `KVNODE_CHAOS_SEED` overrides the seed (to reproduce or explore).
async fn chaos(mode: &'static str, seed: u64) {
    let seed = std::env::var("KVNODE_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seed);
    let mut cluster = Cluster::start(3, &Opts::new(mode));
    cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let reads = Arc::new(Mutex::new(Vec::<Read>::new()));
    let stop = Instant::now() + FAULT_TIME;
    let mut tasks = Vec::new();
    for c in 0..WRITERS {
        let mut client = RetryingClient::new(cluster.addrs(), format!("chaos-{c}"));
        let acks = acks.clone();
        tasks.push(tokio::spawn(async move {
            let mut value = 0;
            while Instant::now() < stop {
                let body = json!({"key": format!("k{c}"), "value": value});
                match client
                    .call("/kv/append", body, Duration::from_secs(20))
                    .await
                {
                    Some((200, _)) => acks.lock().expect("acks").push(Ack {
                        client: c,
                        value,
                        at: Instant::now(),
                    }),
                    other => panic!("writer {c}: no acknowledgement of {value}: {other:?}"),
                }
                value += 1;
            }
        }));
    }
    {
        let mut reader = RetryingClient::new(cluster.addrs(), "chaos-reader");
        let reads = reads.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < stop {
                let c = n % WRITERS;
                n += 1;
                let started = Instant::now();
                let body = json!({"key": format!("k{c}")});
                if let Some((200, v)) = reader.call("/kv/get", body, Duration::from_secs(2)).await {
                    let list = as_list(&v["value"]);
                    reads.lock().expect("reads").push(Read {
                        client: c,
                        started,
                        list,
                    });
                }
            }
        }));
    }

    let mut rng = fastrand::Rng::with_seed(seed);
    let mut faults = Vec::new();
    while Instant::now() < stop {
        tokio::time::sleep(Duration::from_millis(rng.u64(150..400))).await;
        let victim = rng.usize(0..3);
        match rng.u8(0..3) {
            0 => {
                faults.push(format!("kill {}", victim + 1));
                cluster.nodes[victim].kill();
                tokio::time::sleep(Duration::from_millis(rng.u64(50..400))).await;
                cluster.nodes[victim].start();
            }
            1 => {
                faults.push(format!("pause {}", victim + 1));
                cluster.nodes[victim].pause();
                tokio::time::sleep(Duration::from_millis(rng.u64(50..500))).await;
                cluster.nodes[victim].resume();
            }
            _ => {
                faults.push(format!("isolate {}", victim + 1));
                let on = json!({"isolated": true});
                let off = json!({"isolated": false});
                if cluster.post(victim, "/admin/isolate", &on).await.is_some() {
                    tokio::time::sleep(Duration::from_millis(rng.u64(100..700))).await;
                    cluster.post(victim, "/admin/isolate", &off).await;
                }
            }
        }
    }
    eprintln!("{mode} seed {seed}: faults {faults:?}");
    for task in tasks {
        task.await.expect("client task");
    }

    let data = cluster
        .wait_converged(Duration::from_secs(10))
        .await
        .expect("all nodes converge after the faults");
    let acks = acks.lock().expect("acks");
    let reads = reads.lock().expect("reads");
    eprintln!(
        "{mode}: {} acknowledged appends, {} reads",
        acks.len(),
        reads.len()
    );
    assert!(acks.len() > 20, "too little progress to mean anything");
    for c in 0..WRITERS {
        let mine: Vec<u64> = acks
            .iter()
            .filter(|a| a.client == c)
            .map(|a| a.value)
            .collect();
        assert_eq!(
            as_list(&data[format!("k{c}")]),
            mine,
            "writer {c}: exactly the acknowledged appends, once, in order"
        );
    }
    for read in reads.iter() {
        let fin = as_list(&data[format!("k{}", read.client)]);
        assert!(
            fin.starts_with(&read.list),
            "read {:?} is not a prefix of {fin:?}",
            read.list
        );
        for ack in acks
            .iter()
            .filter(|a| a.client == read.client && a.at < read.started)
        {
            assert!(
                read.list.contains(&ack.value),
                "stale read: k{} = {:?} misses {} acknowledged before the read began",
                read.client,
                read.list,
                ack.value
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_read_index_survives_mixed_faults() {
    chaos("quorum", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_read_index_survives_mixed_faults() {
    chaos("sync", 2).await;
}
