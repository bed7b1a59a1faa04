//! kvnode under libfaketime (the clock nemesis's first choice): only the wall clock is faked
//! (`FAKETIME_DONT_FAKE_MONOTONIC=1`), tokio's timers keep working, and /status reports the
//! faked wall clock. Skipped where libfaketime is absent, unless FAULTLINE_REQUIRE_PRIVILEGED=1
//! (CI), where its absence fails the test.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::cluster::{Cluster, Opts};

const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
];

fn libfaketime() -> Option<&'static str> {
    LIBFAKETIME.iter().copied().find(|p| Path::new(p).exists())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_runs_under_libfaketime_with_a_skewed_wall_clock() {
    let Some(lib) = libfaketime() else {
        assert!(
            std::env::var("FAULTLINE_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
            "libfaketime is required here (apt-get install faketime)"
        );
        eprintln!("skipped: libfaketime not installed");
        return;
    };
    let mut opts = Opts::new("quorum");
    opts.reads = "lease";
    opts.env = vec![
        ("LD_PRELOAD".into(), lib.into()),
        ("FAKETIME".into(), "-120s".into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
    ];
    let cluster = Cluster::start(1, &opts);
    cluster
        .wait_for_leader(Duration::from_secs(3))
        .await
        .expect("elects itself: tokio timers are not faked");
    let status = cluster.status(0).await.expect("status");
    let real_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_millis() as i64;
    let skew = real_ms - status["wall_clock_ms"].as_i64().expect("wall clock");
    assert!(
        (119_000..121_000).contains(&skew),
        "node clock is {skew} ms behind"
    );
    assert_eq!(status["lease_valid"], true);
    let (code, _) = cluster
        .post(
            0,
            "/kv/put",
            &json!({"client_id": "f", "seq": 1, "key": "k", "value": 1}),
        )
        .await
        .expect("answer");
    assert_eq!(code, 200);
    let (code, v) = cluster
        .post(
            0,
            "/kv/get",
            &json!({"client_id": "f", "seq": 2, "key": "k"}),
        )
        .await
        .expect("answer");
    assert_eq!((code, &v["value"]), (200, &json!(1)));
}
