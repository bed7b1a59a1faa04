//! The follower side of replication, driven directly through `POST /raft/append` by the test
//! acting as leader: duplicates acknowledged but not stored, the consistency check, conflicting
//! suffixes truncated, stale terms refused, and all of it durable across a restart.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::{Cluster, Opts};

fn entry(term: u64, index: u64, key: &str, value: i64) -> Value {
    json!({"term": term, "index": index,
           "command": {"client_id": "c", "seq": index, "op": "put", "key": key, "value": value}})
}

fn append(term: u64, prev: (u64, u64), entries: Vec<Value>, commit: u64) -> Value {
    json!({"term": term, "leader_id": 2, "prev_log_index": prev.0, "prev_log_term": prev.1,
           "entries": entries, "leader_commit": commit})
}

async fn send(cluster: &Cluster, body: &Value) -> Value {
    let (code, v) = cluster
        .post(0, "/raft/append", body)
        .await
        .expect("follower answers");
    assert_eq!(code, 200, "{v}");
    v
}

async fn wait_up(cluster: &Cluster) -> Value {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if let Some(s) = cluster.status(0).await {
            return s;
        }
        assert!(Instant::now() < deadline, "node did not come up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_checks_truncates_and_acknowledges_duplicates() {
    let mut opts = Opts::new("quorum");
    // A long election timeout: the node stays a follower of the test for the whole test.
    opts.election_ms = "20000-30000";
    // Its peers (ids 2 and 3) are ports nobody listens on.
    let dead = crate::cluster::free_ports(2);
    opts.extra = vec![
        "--peers".into(),
        format!("2=127.0.0.1:{},3=127.0.0.1:{}", dead[0], dead[1]),
    ];
    let mut cluster = Cluster::start(1, &opts);
    wait_up(&cluster).await;

    let e1 = entry(1, 1, "a", 1);
    let e2 = entry(1, 2, "b", 2);
    let v = send(
        &cluster,
        &append(1, (0, 0), vec![e1.clone(), e2.clone()], 0),
    )
    .await;
    assert_eq!(
        (&v["success"], &v["match_index"]),
        (&json!(true), &json!(2))
    );
    let s = cluster.status(0).await.expect("status");
    assert_eq!(
        (&s["role"], &s["leader"], &s["last_log_index"]),
        (&json!("follower"), &json!(2), &json!(2))
    );

    // The same entries again: acknowledged, not stored twice.
    let v = send(
        &cluster,
        &append(1, (0, 0), vec![e1.clone(), e2.clone()], 0),
    )
    .await;
    assert_eq!(
        (&v["success"], &v["match_index"]),
        (&json!(true), &json!(2))
    );
    let v = send(&cluster, &append(1, (1, 1), vec![e2.clone()], 0)).await;
    assert_eq!(v["success"], true);
    assert_eq!(
        cluster.status(0).await.expect("status")["last_log_index"],
        2
    );

    // Consistency check: a gap, or a wrong previous term, is refused with a retry hint.
    let v = send(&cluster, &append(1, (5, 1), vec![entry(1, 6, "z", 0)], 0)).await;
    assert_eq!(
        (&v["success"], &v["conflict_index"]),
        (&json!(false), &json!(3))
    );
    let v = send(&cluster, &append(1, (2, 7), vec![entry(7, 3, "z", 0)], 0)).await;
    assert_eq!(
        (&v["success"], &v["conflict_index"]),
        (&json!(false), &json!(1))
    );

    // A new leader in term 2 replaces entry 2 (conflicting suffix truncated) and commits.
    let v = send(&cluster, &append(2, (1, 1), vec![entry(2, 2, "b", 20)], 2)).await;
    assert_eq!(
        (&v["success"], &v["match_index"], &v["term"]),
        (&json!(true), &json!(2), &json!(2))
    );
    let s = cluster.status(0).await.expect("status");
    assert_eq!(
        (
            &s["last_log_index"],
            &s["last_log_term"],
            &s["commit_index"]
        ),
        (&json!(2), &json!(2), &json!(2))
    );
    let dump = cluster.dump(0).await.expect("dump");
    assert_eq!(dump["data"], json!({"a": 1, "b": 20}));

    // The old leader's term is refused and told the current one.
    let v = send(&cluster, &append(1, (2, 1), vec![], 0)).await;
    assert_eq!((&v["success"], &v["term"]), (&json!(false), &json!(2)));

    // All of it was durable: after SIGKILL and restart, the log and term are the same.
    cluster.nodes[0].kill();
    cluster.nodes[0].start();
    let s = wait_up(&cluster).await;
    assert_eq!(
        (&s["term"], &s["last_log_index"], &s["last_log_term"]),
        (&json!(2), &json!(2), &json!(2))
    );
    let v = send(&cluster, &append(2, (2, 2), vec![], 2)).await;
    assert_eq!(v["success"], true);
    let dump = cluster.dump(0).await.expect("dump");
    assert_eq!(
        dump["data"],
        json!({"a": 1, "b": 20}),
        "re-applied after restart"
    );
}
