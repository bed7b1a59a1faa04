//! Replication modes: no acknowledged write is lost in `quorum` and `sync` through leader
//! crashes; `async` loses one acknowledged by a leader that dies before replicating.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cluster::{Cluster, Opts, RetryingClient};

const CLIENTS: usize = 10;
const WRITES_PER_CLIENT: usize = 100;

/// 10 clients append 100 values each; the leader is SIGKILLed (and restarted) twice meanwhile.
/// Every acknowledged append is on every node afterwards, exactly once and in order.
async fn acked_writes_survive_leader_crashes(mode: &'static str) {
    let mut cluster = Cluster::start(3, &Opts::new(mode));
    cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let mut client = RetryingClient::new(cluster.addrs(), format!("client-{c}"));
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..WRITES_PER_CLIENT {
                let body = json!({"key": format!("k{c}"), "value": i});
                match client
                    .call("/kv/append", body, Duration::from_secs(20))
                    .await
                {
                    Some((200, _)) => {
                        mine.push(i);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    other => panic!("client {c} write {i}: no acknowledgement: {other:?}"),
                }
            }
            mine
        }));
    }
    for threshold in [300, 650] {
        while acked.load(Ordering::SeqCst) < threshold {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let leader = cluster
            .wait_for_leader(Duration::from_secs(5))
            .await
            .expect("leader before crash");
        eprintln!(
            "{mode}: killing leader {} at {} acked",
            leader + 1,
            acked.load(Ordering::SeqCst)
        );
        cluster.nodes[leader].kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.nodes[leader].start();
    }
    let mut acked_by_client = Vec::new();
    for task in tasks {
        acked_by_client.push(task.await.expect("client task"));
    }
    assert_eq!(acked.load(Ordering::SeqCst), CLIENTS * WRITES_PER_CLIENT);
    let data = cluster
        .wait_converged(Duration::from_secs(10))
        .await
        .expect("all nodes converge");
    for (c, mine) in acked_by_client.iter().enumerate() {
        let expected: Vec<Value> = mine.iter().map(|&i| json!(i)).collect();
        assert_eq!(data[format!("k{c}")], Value::Array(expected), "client {c}");
    }
    // Converged means equal on every node; check each node explicitly too.
    for i in cluster.live() {
        let dump = cluster.dump(i).await.expect("dump");
        assert_eq!(dump["data"], data, "node {}", i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_keeps_every_acked_write_through_two_leader_crashes() {
    acked_writes_survive_leader_crashes("quorum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_keeps_every_acked_write_through_two_leader_crashes() {
    acked_writes_survive_leader_crashes("sync").await;
}

/// The leader holds entries back (a replication link where nothing arrives; heartbeats
/// still flow, so nobody suspects it) and gets a write.
async fn write_to_isolated_leader(mode: &'static str) -> (Option<(u16, Value)>, Cluster, usize) {
    let cluster = Cluster::start(3, &Opts::new(mode));
    let leader = cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    let (code, _) = cluster
        .post(
            leader,
            "/kv/put",
            &json!({"client_id": "w", "seq": 1, "key": "before", "value": 1}),
        )
        .await
        .expect("answer");
    assert_eq!(code, 200);
    cluster
        .wait_converged(Duration::from_secs(3))
        .await
        .expect("replicated everywhere");
    let (code, _) = cluster
        .post(leader, "/admin/replication", &json!({"hold": true}))
        .await
        .expect("answer");
    assert_eq!(code, 200);
    let answer = cluster
        .post(
            leader,
            "/kv/put",
            &json!({"client_id": "w", "seq": 2, "key": "lost", "value": 2}),
        )
        .await;
    (answer, cluster, leader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_loses_a_write_acked_by_a_leader_killed_before_replicating() {
    let (answer, mut cluster, leader) = write_to_isolated_leader("async").await;
    let (code, v) = answer.expect("answer");
    assert_eq!(code, 200, "async acknowledges at once: {v}");
    let dump = cluster.dump(leader).await.expect("dump");
    assert_eq!(dump["data"]["lost"], 2, "the old leader applied it");
    for i in 0..3 {
        if i != leader {
            let other = cluster.dump(i).await.expect("dump");
            assert_eq!(other["data"].get("lost"), None, "not replicated yet");
        }
    }

    cluster.nodes[leader].kill();
    let new_leader = cluster
        .wait_for_leader(Duration::from_secs(3))
        .await
        .expect("new leader");
    let (code, v) = cluster
        .post(
            new_leader,
            "/kv/get",
            &json!({"client_id": "r", "seq": 1, "key": "lost"}),
        )
        .await
        .expect("answer");
    assert_eq!(code, 200);
    assert_eq!(v["value"], Value::Null, "the acknowledged write is gone");
    // A write in the new term, then the old leader rejoins: its suffix is cut.
    let (code, _) = cluster
        .post(
            new_leader,
            "/kv/put",
            &json!({"client_id": "w", "seq": 3, "key": "after", "value": 3}),
        )
        .await
        .expect("answer");
    assert_eq!(code, 200);
    cluster.nodes[leader].start();
    let data = cluster
        .wait_converged(Duration::from_secs(5))
        .await
        .expect("converged");
    assert_eq!(data["before"], 1);
    assert_eq!(data["after"], 3);
    assert_eq!(
        data.get("lost"),
        None,
        "lost on every node, old leader included"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_does_not_acknowledge_what_it_could_not_replicate() {
    let (answer, _cluster, _leader) = write_to_isolated_leader("quorum").await;
    let (code, v) = answer.expect("answer");
    assert_eq!(code, 504, "quorum must not acknowledge: {v}");
    assert_eq!(v["error"], "timeout");
    assert_eq!(v["definite"], false, "the outcome is unknown: {v}");
}

/// SIGSTOP: a paused follower majority makes a quorum leader give up leadership.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_leader_steps_down_when_followers_pause() {
    let cluster = Cluster::start(3, &Opts::new("quorum"));
    let leader = cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    for i in 0..3 {
        if i != leader {
            cluster.nodes[i].pause();
        }
    }
    let (code, v) = cluster
        .post(
            leader,
            "/kv/put",
            &json!({"client_id": "w", "seq": 1, "key": "k", "value": 1}),
        )
        .await
        .expect("answer");
    assert_ne!(code, 200, "{v}");
    assert_eq!(v["definite"], false, "{v}");
    let status = cluster.status(leader).await.expect("status");
    assert_ne!(status["role"], "leader", "stepped down without a majority");
    for i in 0..3 {
        if i != leader {
            cluster.nodes[i].resume();
        }
    }
    cluster
        .wait_for_leader(Duration::from_secs(3))
        .await
        .expect("a leader again after resume");
}
