//! Read modes under a partitioned leader: `lease` with a skewed clock and `leader` serve stale
//! reads, `read-index` refuses; `any` reads are stale on a lagging follower.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::{Cluster, Opts};

/// Waits until a node other than `exclude` leads and every other node but `exclude` follows it.
async fn wait_for_other_leader(
    cluster: &Cluster,
    exclude: usize,
    within: Duration,
) -> Option<usize> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let mut statuses = Vec::new();
        for i in (0..cluster.nodes.len()).filter(|&i| i != exclude) {
            if let Some(s) = cluster.status(i).await {
                statuses.push((i, s));
            }
        }
        if let Some((leader, ls)) = statuses.iter().find(|(_, s)| s["role"] == "leader")
            && statuses.iter().all(|(_, s)| s["leader"] == ls["id"])
        {
            return Some(*leader);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

async fn get(cluster: &Cluster, node: usize, key: &str) -> (u16, Value) {
    cluster
        .post(
            node,
            "/kv/get",
            &json!({"client_id": "reader", "seq": 1, "key": key}),
        )
        .await
        .expect("node answers")
}

async fn put(cluster: &Cluster, node: usize, seq: u64, value: i64) {
    let (code, v) = cluster
        .post(
            node,
            "/kv/put",
            &json!({"client_id": "writer", "seq": seq, "key": "x", "value": value}),
        )
        .await
        .expect("node answers");
    assert_eq!(code, 200, "put x={value}: {v}");
}

/// x=1 written; the leader (clock set back a minute if `skew`) is cut off from its peers; the
/// others elect a new leader and acknowledge x=2. Without `skew` the nodes run with
/// `--check-quorum false`, so that the old leader is still there to ask; with it, on the
/// default check-quorum, which a lease that holds by the leader's clock outlasts.
/// Returns (cluster, old leader, new leader).
async fn cut_off_leader(reads: &'static str, skew: bool) -> (Cluster, usize, usize) {
    let mut opts = Opts::new("quorum");
    opts.reads = reads;
    if !skew {
        opts.extra = vec!["--check-quorum".into(), "false".into()];
    }
    let cluster = Cluster::start(3, &opts);
    let old = cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    put(&cluster, old, 1, 1).await;
    if skew {
        let deadline = Instant::now() + Duration::from_secs(2);
        while cluster.status(old).await.expect("status")["lease_valid"] != true {
            assert!(Instant::now() < deadline, "leader never got a lease");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (code, _) = cluster
            .post(
                old,
                "/admin/clock",
                &json!({"offset_ms": -60_000, "rate": 1.0}),
            )
            .await
            .expect("answer");
        assert_eq!(code, 200);
    }
    let (code, _) = cluster
        .post(old, "/admin/isolate", &json!({"isolated": true}))
        .await
        .expect("answer");
    assert_eq!(code, 200);
    let new = wait_for_other_leader(&cluster, old, Duration::from_secs(3))
        .await
        .expect("the majority elects a new leader");
    put(&cluster, new, 2, 2).await;
    let old_status = cluster.status(old).await.expect("status");
    assert_eq!(
        old_status["role"], "leader",
        "the cut-off leader still believes it leads"
    );
    (cluster, old, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_reads_go_stale_when_a_skewed_leader_is_cut_off() {
    let (cluster, old, new) = cut_off_leader("lease", true).await;
    // Past the quorum check's limit (the maximum election timeout, 600 ms): the lease, by the
    // old leader's clock, keeps it in office anyway.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(cluster.status(old).await.expect("status")["role"], "leader");
    assert_eq!(
        cluster.status(old).await.expect("status")["lease_valid"],
        true
    );
    let (code, v) = get(&cluster, old, "x").await;
    assert_eq!(
        (code, &v["value"]),
        (200, &json!(1)),
        "stale read of x after x=2 was acknowledged"
    );
    let (code, v) = get(&cluster, new, "x").await;
    assert_eq!((code, &v["value"]), (200, &json!(2)));

    // Heal: the old leader learns the new term, steps down and catches up.
    cluster
        .post(old, "/admin/isolate", &json!({"isolated": false}))
        .await
        .expect("answer");
    cluster
        .post(old, "/admin/clock", &json!({"offset_ms": 0}))
        .await
        .expect("answer");
    let data = cluster
        .wait_converged(Duration::from_secs(5))
        .await
        .expect("converged after healing");
    assert_eq!(data["x"], 2);
    assert_ne!(cluster.status(old).await.expect("status")["role"], "leader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_reads_refuse_when_a_leader_without_skew_is_cut_off() {
    let (cluster, old, _new) = cut_off_leader("lease", false).await;
    let (code, v) = get(&cluster, old, "x").await;
    assert_eq!((code, &v["error"]), (503, &json!("read_timeout")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_reads_go_stale_when_the_leader_is_cut_off() {
    let (cluster, old, _new) = cut_off_leader("leader", false).await;
    let (code, v) = get(&cluster, old, "x").await;
    assert_eq!((code, &v["value"]), (200, &json!(1)), "stale read: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_index_never_serves_a_cut_off_leaders_state() {
    let (cluster, old, new) = cut_off_leader("read-index", false).await;
    let (code, v) = get(&cluster, old, "x").await;
    assert_eq!((code, &v["error"]), (503, &json!("read_timeout")), "{v}");
    let (code, v) = get(&cluster, new, "x").await;
    assert_eq!((code, &v["value"]), (200, &json!(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_reads_are_stale_on_a_lagging_follower() {
    let mut opts = Opts::new("async");
    opts.reads = "any";
    let cluster = Cluster::start(3, &opts);
    let leader = cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    put(&cluster, leader, 1, 1).await;
    cluster
        .wait_converged(Duration::from_secs(3))
        .await
        .expect("replicated");
    cluster
        .post(leader, "/admin/replication", &json!({"hold": true}))
        .await
        .expect("answer");
    put(&cluster, leader, 2, 2).await;
    let follower = (0..3).find(|&i| i != leader).expect("a follower");
    let (code, v) = get(&cluster, follower, "x").await;
    assert_eq!(
        (code, &v["value"]),
        (200, &json!(1)),
        "stale read on the follower"
    );
    let (code, v) = get(&cluster, leader, "x").await;
    assert_eq!((code, &v["value"]), (200, &json!(2)));
}
