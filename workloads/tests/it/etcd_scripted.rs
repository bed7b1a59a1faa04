//! `EtcdClient` against scripted fake members (`fake_node.rs`, which speaks any JSON): the
//! answers etcd gives only under faults, on demand, and a count of every request, to show that
//! a write in doubt is never sent again and a write certainly refused moves on.

use std::time::{Duration, Instant};

use faultline_checker::history::EventType;
use faultline_workloads::{Client, EtcdClient, EtcdReads, Invocation, NodeAddr};
use serde_json::{Value, json};

use crate::fake_node::{FakeNode, Step};

const TIMEOUT: Duration = Duration::from_millis(300);
/// The first fake member's address is 127.0.0.FIRST_HOST (kvnode's fakes use .41 to .5x).
const FIRST_HOST: u8 = 81;

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

fn client(nodes: &[&FakeNode]) -> EtcdClient {
    let nodes = nodes
        .iter()
        .zip(1..)
        .map(|(n, id)| NodeAddr {
            id,
            addr: n.addr.to_string(),
        })
        .collect();
    EtcdClient::new(nodes, EtcdReads::Linearizable, TIMEOUT)
}

/// An etcd error as the gateway writes it.
fn etcd_error(status: u16, code: i64, message: &str) -> Step {
    Step::json(
        status,
        json!({"error": message, "message": message, "code": code}),
    )
}

fn header() -> Value {
    json!({"cluster_id": "1", "member_id": "2", "revision": "3", "raft_term": "2"})
}

fn put_ok() -> Step {
    Step::json(200, json!({"header": header()}))
}

fn range_ok(stored: &str) -> Step {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    Step::json(
        200,
        json!({"header": header(), "kvs": [{"key": b64("r"), "value": b64(stored)}], "count": "1"}),
    )
}

async fn members(first: u8, scripts: Vec<Vec<Step>>) -> Result<Vec<FakeNode>, String> {
    let mut nodes = Vec::new();
    for (i, script) in scripts.into_iter().enumerate() {
        let host = first + u8::try_from(i).map_err(|e| e.to_string())?;
        nodes.push(FakeNode::start(host, script).await?);
    }
    Ok(nodes)
}

#[tokio::test]
async fn a_write_in_doubt_is_never_sent_again() -> Result<(), String> {
    let timed_out = etcd_error(503, 14, "etcdserver: request timed out");
    let m = members(FIRST_HOST, vec![vec![timed_out], vec![put_ok()]]).await?;
    let mut c = client(&[&m[0], &m[1]]);
    let w = c.invoke(&write(1)).await;
    assert_eq!(w.kind, EventType::Info, "{w:?}");
    assert_eq!(w.error, Some(json!("etcdserver: request timed out")));
    assert_eq!(w.node.as_deref(), Some("n1"));
    assert_eq!((m[0].bodies().len(), m[1].bodies().len()), (1, 0));
    // The next invocation starts at the member after the one that left it in doubt.
    let w = c.invoke(&write(2)).await;
    assert_eq!((w.kind, w.node.as_deref()), (EventType::Ok, Some("n2")));
    Ok(())
}

#[tokio::test]
async fn a_write_certainly_refused_moves_on_to_the_next_member() -> Result<(), String> {
    let no_leader = etcd_error(503, 14, "etcdserver: no leader");
    let dropped = etcd_error(500, 2, "raft proposal dropped");
    let m = members(
        FIRST_HOST + 2,
        vec![vec![no_leader], vec![dropped], vec![put_ok()]],
    )
    .await?;
    let mut c = client(&[&m[0], &m[1], &m[2]]);
    let w = c.invoke(&write(5)).await;
    assert_eq!((w.kind, &w.value), (EventType::Ok, &json!(5)), "{w:?}");
    assert_eq!(w.node.as_deref(), Some("n3"));
    let sent: Vec<usize> = m.iter().map(|n| n.bodies().len()).collect();
    assert_eq!(sent, [1, 1, 1]);
    // What was sent is what the gateway takes: base64 key and JSON-text value.
    assert_eq!(m[2].bodies()[0], json!({"key": "cg==", "value": "NQ=="}));

    // A request refused for what it is would be refused anywhere: fail, not retried.
    let invalid = etcd_error(400, 3, "etcdserver: request is too large");
    let m = members(FIRST_HOST + 5, vec![vec![invalid], vec![put_ok()]]).await?;
    let mut c = client(&[&m[0], &m[1]]);
    let w = c.invoke(&write(6)).await;
    assert_eq!(w.kind, EventType::Fail, "{w:?}");
    assert_eq!((m[0].bodies().len(), m[1].bodies().len()), (1, 0));
    Ok(())
}

#[tokio::test]
async fn a_read_is_asked_again_elsewhere_after_any_error() -> Result<(), String> {
    let changed = etcd_error(503, 14, "etcdserver: leader changed");
    let m = members(FIRST_HOST + 7, vec![vec![changed], vec![range_ok("7")]]).await?;
    let mut c = client(&[&m[0], &m[1]]);
    let r = c.invoke(&read()).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!(7)));
    assert_eq!(r.node.as_deref(), Some("n2"));
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
        ("not etcd's", Step::json(200, json!({"ok": true}))),
        ("hang", Step::Hang),
    ];
    for (i, (name, step)) in cases.into_iter().enumerate() {
        let host = FIRST_HOST + 9 + u8::try_from(i).map_err(|e| e.to_string())?;
        // One member, every attempt meeting the same fault.
        let node = FakeNode::start(host, vec![step; 10]).await?;
        let mut c = client(&[&node]);
        let started = Instant::now();
        let w = c.invoke(&write(9)).await;
        assert_eq!(w.kind, EventType::Info, "{name}: {w:?}");
        assert_eq!(w.value, json!(9), "{name}");
        assert_eq!(
            node.bodies().len(),
            1,
            "{name}: a write in doubt was sent again"
        );
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
