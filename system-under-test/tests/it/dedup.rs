//! A retried (client_id, seq) is applied once, also across a failover.

use std::time::Duration;

use serde_json::json;

use crate::cluster::{Cluster, Opts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_request_three_times_across_failover_applies_once() {
    let mut cluster = Cluster::start(3, &Opts::new("quorum"));
    let leader = cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("leader");
    let request = json!({"client_id": "dup", "seq": 7, "key": "d", "value": "x"});

    let (code, first) = cluster
        .post(leader, "/kv/append", &request)
        .await
        .expect("answer");
    assert_eq!(code, 200, "{first}");
    assert_eq!(first["value"], json!(["x"]));
    let (code, second) = cluster
        .post(leader, "/kv/append", &request)
        .await
        .expect("answer");
    assert_eq!(
        (code, &second),
        (200, &first),
        "a retry gets the first answer"
    );

    cluster.nodes[leader].kill();
    let new_leader = cluster
        .wait_for_leader(Duration::from_secs(3))
        .await
        .expect("new leader");
    let (code, third) = cluster
        .post(new_leader, "/kv/append", &request)
        .await
        .expect("answer");
    assert_eq!(
        (code, &third),
        (200, &first),
        "dedup table survived failover"
    );

    // A new seq is applied normally, after exactly one "x".
    let next = json!({"client_id": "dup", "seq": 8, "key": "d", "value": "y"});
    let (code, v) = cluster
        .post(new_leader, "/kv/append", &next)
        .await
        .expect("answer");
    assert_eq!(code, 200);
    assert_eq!(v["value"], json!(["x", "y"]));
    let data = cluster
        .wait_converged(Duration::from_secs(3))
        .await
        .expect("converged");
    assert_eq!(data["d"], json!(["x", "y"]));
}
