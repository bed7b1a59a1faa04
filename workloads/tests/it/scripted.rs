//! `KvnodeClient` against scripted fake nodes: retries keep their seq, hints are followed and
//! remembered, and each way an attempt can end is classified as docs/history-format.md says.

use std::time::{Duration, Instant};

use faultline_checker::history::EventType;
use faultline_workloads::{Client, Invocation, KvnodeClient, MAX_ATTEMPTS, NodeAddr};
use serde_json::{Value, json};

use crate::fake_node::{FakeNode, Step};

const TIMEOUT: Duration = Duration::from_millis(300);

fn write(v: i64) -> Invocation {
    Invocation {
        f: "write".into(),
        key: Some("r".into()),
        value: json!(v),
    }
}

fn read() -> Invocation {
    Invocation {
        f: "read".into(),
        key: Some("r".into()),
        value: Value::Null,
    }
}

fn client(nodes: &[&FakeNode]) -> KvnodeClient {
    let nodes = nodes
        .iter()
        .zip(1..)
        .map(|(n, id)| NodeAddr {
            id,
            addr: n.addr.to_string(),
        })
        .collect();
    KvnodeClient::new("fake".into(), nodes, TIMEOUT)
}

fn seqs(node: &FakeNode) -> Vec<u64> {
    node.bodies()
        .iter()
        .filter_map(|b| b["seq"].as_u64())
        .collect()
}

#[tokio::test]
async fn hints_are_followed_and_remembered_and_retries_keep_their_seq() -> Result<(), String> {
    let leader = FakeNode::start(41, vec![Step::ok(Value::Null), Step::ok(json!(4))]).await?;
    let follower =
        FakeNode::start(42, vec![Step::not_leader(Some(&leader.addr.to_string()))]).await?;
    let mut c = client(&[&follower, &leader]);

    let w = c.invoke(&write(4)).await;
    assert_eq!(w.kind, EventType::Ok, "{w:?}");
    // Named by its id in the client's list (the leader is second: n2), not by its address.
    assert_eq!(w.node.as_deref(), Some("n2"));
    // The next invocation goes straight to the remembered leader, with a new seq.
    let r = c.invoke(&read()).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!(4)));
    assert_eq!(seqs(&follower), [1]);
    assert_eq!(seqs(&leader), [1, 2]);
    assert!(leader.bodies().iter().all(|b| b["client_id"] == "fake"));
    Ok(())
}

#[tokio::test]
async fn not_leader_without_a_leader_fails_after_the_attempts() -> Result<(), String> {
    let a = FakeNode::start(43, vec![]).await?;
    let b = FakeNode::start(44, vec![]).await?;
    let mut c = client(&[&a, &b]);
    let w = c.invoke(&write(1)).await;
    assert_eq!(w.kind, EventType::Fail, "{w:?}");
    assert_eq!(w.error, Some(json!("not_leader")));
    assert_eq!(seqs(&a).len() + seqs(&b).len(), MAX_ATTEMPTS);
    assert!(seqs(&a).iter().chain(&seqs(&b)).all(|&s| s == 1));
    Ok(())
}

#[tokio::test]
async fn a_definite_answer_after_an_indeterminate_attempt_is_info() -> Result<(), String> {
    // The first attempt may have been logged by a leader that then lost its leadership; that the
    // retries found no leader says nothing about whether it will commit.
    let node = FakeNode::start(45, vec![Step::error(503, "leadership_lost", false)]).await?;
    let mut c = client(&[&node]);
    let w = c.invoke(&write(1)).await;
    assert_eq!(w.kind, EventType::Info, "{w:?}");
    assert_eq!(w.error, Some(json!("not_leader")));
    assert!(seqs(&node).iter().all(|&s| s == 1), "{:?}", seqs(&node));

    // cas_mismatch is the state machine's answer to the seq itself: fail even after doubt.
    let node = FakeNode::start(
        46,
        vec![
            Step::error(504, "timeout", false),
            Step::error(409, "cas_mismatch", true),
        ],
    )
    .await?;
    let mut c = client(&[&node]);
    let cas = Invocation {
        f: "cas".into(),
        key: Some("r".into()),
        value: json!([1, 2]),
    };
    let done = c.invoke(&cas).await;
    assert_eq!(done.kind, EventType::Fail, "{done:?}");
    assert_eq!(done.error, Some(json!("cas_mismatch")));
    assert_eq!(seqs(&node), [1, 1]);
    Ok(())
}

#[tokio::test]
async fn a_retry_after_a_timeout_can_still_succeed() -> Result<(), String> {
    let node = FakeNode::start(
        47,
        vec![Step::error(504, "timeout", false), Step::ok(Value::Null)],
    )
    .await?;
    let mut c = client(&[&node]);
    let w = c.invoke(&write(3)).await;
    assert_eq!((w.kind, w.value), (EventType::Ok, json!(3)));
    assert_eq!(seqs(&node), [1, 1]);
    Ok(())
}

#[tokio::test]
async fn lost_answers_are_info_for_writes_and_fail_for_reads() -> Result<(), String> {
    let cases = [
        ("dropped", Step::Drop),
        (
            "garbage",
            Step::Answer(502, "<html>bad gateway</html>".into()),
        ),
        (
            "no definite",
            Step::json(500, json!({"ok": false, "error": "x"})),
        ),
        ("hang", Step::Hang),
    ];
    for (i, (name, step)) in cases.into_iter().enumerate() {
        let host = 50 + u8::try_from(i).map_err(|e| e.to_string())?;
        // Every attempt of the write and of the read meets the same fault.
        let node = FakeNode::start(host, vec![step; 2 * MAX_ATTEMPTS]).await?;
        let mut c = client(&[&node]);
        let started = Instant::now();
        let w = c.invoke(&write(9)).await;
        assert_eq!(w.kind, EventType::Info, "{name}: {w:?}");
        assert_eq!(w.value, json!(9), "{name}");
        assert!(w.error.is_some(), "{name}: {w:?}");
        let r = c.invoke(&read()).await;
        assert_eq!(r.kind, EventType::Fail, "{name}: {r:?}");
        let limit = 2 * c.deadline() + Duration::from_millis(300);
        assert!(
            started.elapsed() <= limit,
            "{name}: {:?}",
            started.elapsed()
        );
    }
    Ok(())
}

#[tokio::test]
async fn invocations_kvnode_cannot_take_fail_without_sending() -> Result<(), String> {
    let node = FakeNode::start(48, vec![]).await?;
    let mut c = client(&[&node]);
    let bad = Invocation {
        f: "cas".into(),
        key: Some("r".into()),
        value: json!(5),
    };
    let done = c.invoke(&bad).await;
    assert_eq!(done.kind, EventType::Fail, "{done:?}");
    assert!(node.bodies().is_empty());
    let mut nowhere = KvnodeClient::new("x".into(), Vec::new(), TIMEOUT);
    assert_eq!(nowhere.invoke(&write(1)).await.kind, EventType::Fail);
    Ok(())
}
