//! Election, failover and rejoin.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::{Cluster, Opts, RetryingClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_one_leader_fail_over_and_rejoin() {
    let started = Instant::now();
    let mut cluster = Cluster::start(3, &Opts::new("quorum"));
    let leader = cluster
        .wait_for_leader(Duration::from_secs(1))
        .await
        .expect("exactly one leader within 1 s");
    let elected_after = started.elapsed();
    eprintln!("leader {} elected after {elected_after:?}", leader + 1);
    assert!(elected_after < Duration::from_secs(1));
    let status = cluster.status(leader).await.expect("leader status");
    assert_eq!(status["role"], "leader");
    assert!(status["elections_started"].as_u64() >= Some(1));
    assert!(status["wall_clock_ms"].as_i64() > Some(1_600_000_000_000));

    let mut client = RetryingClient::new(cluster.addrs(), "election");
    for i in 0..5 {
        let (code, _) = client
            .call(
                "/kv/put",
                json!({"key": format!("a{i}"), "value": i}),
                Duration::from_secs(5),
            )
            .await
            .expect("put acknowledged");
        assert_eq!(code, 200);
    }

    // SIGKILL the leader: a new one within 2 s.
    let old_term = status["term"].as_u64().expect("term");
    cluster.nodes[leader].kill();
    let killed_at = Instant::now();
    let new_leader = cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("a new leader within 2 s");
    let failover = killed_at.elapsed();
    eprintln!("new leader {} after {failover:?}", new_leader + 1);
    assert_ne!(new_leader, leader);
    assert!(failover < Duration::from_secs(2));
    let new_status = cluster.status(new_leader).await.expect("status");
    assert!(new_status["term"].as_u64() > Some(old_term));

    // Writes while the old leader is down.
    for i in 0..20 {
        let (code, _) = client
            .call(
                "/kv/put",
                json!({"key": format!("b{i}"), "value": format!("v{i}")}),
                Duration::from_secs(5),
            )
            .await
            .expect("put acknowledged");
        assert_eq!(code, 200);
    }

    // The old leader restarts as a follower of the new one and catches up.
    cluster.nodes[leader].start();
    let data = cluster
        .wait_converged(Duration::from_secs(5))
        .await
        .expect("all three nodes converge");
    for i in 0..5 {
        assert_eq!(data[format!("a{i}")], json!(i));
    }
    for i in 0..20 {
        assert_eq!(data[format!("b{i}")], json!(format!("v{i}")));
    }
    let rejoined = cluster.status(leader).await.expect("rejoined status");
    assert_eq!(rejoined["role"], "follower");
    assert_eq!(rejoined["leader"], json!(new_leader as u64 + 1));
    assert_eq!(
        cluster.wait_for_leader(Duration::from_secs(1)).await,
        Some(new_leader),
        "the rejoining node does not disturb the leader"
    );
    assert!(
        cluster.nodes[leader].log().contains("role change"),
        "role changes are logged"
    );
}
