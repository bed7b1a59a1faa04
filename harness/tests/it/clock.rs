//! Clock skew on real nodes, through both backends: a node's reported wall clock moves by the
//! offset set and comes back on reset; libfaketime's files go with the cluster.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use faultline::clock::ApiClocks;
use faultline::cluster::{Cluster, ClusterSpec};
use faultline::machine::LIBFAKETIME;
use faultline_nemeses::Clocks;

fn spec(dir: &Path, faketime: Option<PathBuf>) -> ClusterSpec {
    ClusterSpec {
        faketime,
        ..crate::cluster::spec(dir, 3)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The node's wall clock minus ours, from /status (the round trip on loopback is a few ms).
async fn skew(cluster: &Cluster, id: u32) -> i64 {
    let status = cluster.status(id).await.expect("the node answers");
    let wall = status["wall_clock_ms"].as_i64().expect("wall_clock_ms");
    wall - now_ms()
}

fn near(actual: i64, expected: i64) -> bool {
    (actual - expected).abs() < 300
}

async fn moves_and_resets<C: Clocks>(cluster: &Cluster, clocks: &C) {
    for id in 1..=3 {
        assert!(near(skew(cluster, id).await, 0), "node {id} starts on time");
    }
    clocks.set_offset(2, -3000).await.expect("set back");
    assert!(
        near(skew(cluster, 2).await, -3000),
        "{}",
        skew(cluster, 2).await
    );
    assert!(near(skew(cluster, 1).await, 0), "only node 2 moved");
    clocks.set_offset(2, 1500).await.expect("set forward");
    assert!(near(skew(cluster, 2).await, 1500));
    clocks.set_offset(2, 0).await.expect("reset");
    assert!(near(skew(cluster, 2).await, 0));
    // Monotonic time was left alone: the cluster still has a leader after all that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(faultline_nemeses::Nodes::leader(cluster).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_clocks_move_one_node_and_reset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(spec(dir.path(), None))
        .await
        .expect("cluster starts");
    let clocks = ApiClocks::new(cluster.addrs()).expect("client");
    moves_and_resets(&cluster, &clocks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faketime_clocks_move_one_node_and_leave_no_file() {
    if !Path::new(LIBFAKETIME).is_file() {
        assert!(
            std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
            "FAULTLINE_REQUIRE_PRIVILEGED=1 but {LIBFAKETIME} is missing"
        );
        eprintln!("skipping: needs libfaketime at {LIBFAKETIME} (apt-get install faketime)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(spec(dir.path(), Some(LIBFAKETIME.into())))
        .await
        .expect("cluster starts under libfaketime");
    let clocks = cluster.faketime_clocks().expect("faketime clocks");
    moves_and_resets(&cluster, &clocks).await;
    let files = cluster.faketime_files();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|f| f.is_file()));
    drop(cluster);
    assert!(
        files
            .iter()
            .all(|f| !f.exists() && f.parent().is_some_and(|d| !d.exists())),
        "timestamp files removed with the cluster"
    );
}
