//! Malformed and oversize bodies, missing fields and unknown routes get 4xx JSON errors, and
//! the node keeps serving.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cluster::{Cluster, Opts};

/// method, route, content type, body, expected status, expected error code.
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    String,
    u16,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_4xx_json_and_node_keeps_serving() {
    let mut opts = Opts::new("quorum");
    opts.extra = vec!["--max-body-bytes".into(), "1024".into()];
    let cluster = Cluster::start(1, &opts);
    cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("single node leads");
    let base = format!("http://{}", cluster.nodes[0].addr);
    let http = &cluster.http;
    let big =
        json!({"client_id": "c", "seq": 1, "key": "k", "value": "x".repeat(4096)}).to_string();
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/kv/put",
            Some("application/json"),
            "{not json".into(),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/kv/put",
            Some("application/json"),
            "".into(),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/kv/put",
            Some("application/json"),
            r#"{"client_id":"c","seq":1,"key":"k"}"#.into(),
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/kv/put",
            Some("application/json"),
            r#"{"client_id":"c","seq":1,"key":"k","value":1.5}"#.into(),
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/kv/cas",
            Some("application/json"),
            r#"{"client_id":"c","seq":-1,"key":"k","from":1,"to":2}"#.into(),
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/kv/get",
            Some("application/json"),
            r#"[1,2,3]"#.into(),
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/kv/get",
            None,
            r#"{"client_id":"c","seq":1,"key":"k"}"#.into(),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/kv/put",
            Some("application/json"),
            big,
            413,
            "payload_too_large",
        ),
        ("GET", "/nope", None, String::new(), 404, "not_found"),
        (
            "POST",
            "/kv/delete",
            Some("application/json"),
            "{}".into(),
            404,
            "not_found",
        ),
        (
            "GET",
            "/kv/put",
            None,
            String::new(),
            405,
            "method_not_allowed",
        ),
        (
            "POST",
            "/admin/clock",
            Some("application/json"),
            r#"{"offset_ms":0,"rate":0}"#.into(),
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/raft/append",
            Some("application/json"),
            r#"{"term":"x"}"#.into(),
            422,
            "invalid_request",
        ),
    ];
    for (method, route, content_type, body, want_status, want_error) in cases {
        let mut req = http.request(method.parse().expect("method"), format!("{base}{route}"));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.body(body).send().await.expect("node answers");
        let status = resp.status().as_u16();
        let v: Value = resp.json().await.expect("JSON error body");
        assert_eq!(status, want_status, "{method} {route}: {v}");
        assert_eq!(v["ok"], false, "{method} {route}: {v}");
        assert_eq!(v["error"], want_error, "{method} {route}: {v}");
        assert_eq!(v["definite"], true, "{method} {route}: {v}");
        assert!(v["message"].is_string());
    }

    // Still serving, and none of the bad requests changed anything.
    let (code, v) = cluster
        .post(
            0,
            "/kv/get",
            &json!({"client_id": "c", "seq": 2, "key": "k"}),
        )
        .await
        .expect("answer");
    assert_eq!((code, v["value"].clone()), (200, Value::Null));
    let (code, _) = cluster
        .post(
            0,
            "/kv/put",
            &json!({"client_id": 5, "seq": 3, "key": "k", "value": 9}),
        )
        .await
        .expect("answer");
    assert_eq!(code, 200);
    let (code, v) = cluster
        .post(
            0,
            "/kv/cas",
            &json!({"client_id": 5, "seq": 4, "key": "k", "from": 1, "to": 2}),
        )
        .await
        .expect("answer");
    assert_eq!(
        (code, &v["error"], &v["value"]),
        (409, &json!("cas_mismatch"), &json!(9))
    );
    let (code, v) = cluster
        .post(
            0,
            "/kv/append",
            &json!({"client_id": 5, "seq": 5, "key": "k", "value": 1}),
        )
        .await
        .expect("answer");
    assert_eq!((code, &v["error"]), (409, &json!("type_mismatch")));
    assert_eq!(cluster.status(0).await.expect("status")["role"], "leader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_clock_shifts_reported_wall_clock() {
    let cluster = Cluster::start(1, &Opts::new("quorum"));
    cluster
        .wait_for_leader(Duration::from_secs(2))
        .await
        .expect("up");
    let before = cluster.status(0).await.expect("status");
    let (code, v) = cluster
        .post(
            0,
            "/admin/clock",
            &json!({"offset_ms": 60_000, "rate": 1.0}),
        )
        .await
        .expect("answer");
    assert_eq!(code, 200, "{v}");
    let after = cluster.status(0).await.expect("status");
    let shift = after["wall_clock_ms"].as_i64().expect("ms")
        - before["wall_clock_ms"].as_i64().expect("ms");
    assert!((59_000..62_000).contains(&shift), "shift {shift}");
    assert_eq!(after["clock_offset_ms"], 60_000);
}
