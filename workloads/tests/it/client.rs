//! `KvnodeClient` against a real three-node cluster: hint following, the ok / fail / info
//! classification, deadlines.

use std::time::{Duration, Instant};

use faultline_checker::history::EventType;
use faultline_workloads::{Client, Completion, Invocation, KvnodeClient, NodeAddr};
use serde_json::{Value, json};

use crate::cluster::{Cluster, dead_addr};

const TIMEOUT: Duration = Duration::from_millis(400);
const LEADER_WITHIN: Duration = Duration::from_secs(5);

fn op(f: &str, key: &str, value: Value) -> Invocation {
    Invocation {
        f: f.into(),
        key: Some(key.into()),
        value,
    }
}

/// A started cluster, its leader's index, and its nodes with a follower first.
async fn cluster() -> Result<(Cluster, usize, Vec<NodeAddr>), String> {
    let cluster = Cluster::start(3)?;
    let leader = cluster.wait_for_leader(LEADER_WITHIN).await?;
    let mut nodes = cluster.node_addrs();
    let first_follower = (leader + 1) % nodes.len();
    nodes.rotate_left(first_follower);
    Ok((cluster, leader, nodes))
}

fn assert_kind(c: &Completion, kind: EventType) {
    assert_eq!(c.kind, kind, "{c:?}");
}

#[tokio::test]
async fn reads_go_to_the_home_node_when_the_read_mode_lets_followers_answer() -> Result<(), String>
{
    for (reads, answered_by_home) in [("any", true), ("read-index", false)] {
        let cluster = Cluster::start_with_reads(3, reads)?;
        let leader = cluster.wait_for_leader(LEADER_WITHIN).await?;
        let follower = (leader + 1) % 3;
        let nodes = cluster.node_addrs();
        let mut client =
            KvnodeClient::new(format!("home-{reads}"), nodes.clone(), TIMEOUT).with_home(follower);
        let w = client.invoke(&op("write", "h", json!(5))).await;
        assert_kind(&w, EventType::Ok);
        let r = client.invoke(&op("read", "h", Value::Null)).await;
        assert_kind(&r, EventType::Ok);
        let expected = if answered_by_home { follower } else { leader };
        // The history names the node that answered as `n<id>`, never by its address.
        assert_eq!(r.node, Some(format!("n{}", nodes[expected].id)), "{reads}");
    }
    Ok(())
}

#[tokio::test]
async fn a_client_started_at_a_follower_follows_the_hint() -> Result<(), String> {
    let (cluster, leader, nodes) = cluster().await?;
    let leader_addr = cluster.nodes[leader].addr.to_string();
    let leader_name = format!("n{}", cluster.nodes[leader].id);
    assert_ne!(nodes[0].addr, leader_addr);
    let mut client = KvnodeClient::new("c1".into(), nodes, TIMEOUT);

    let w = client.invoke(&op("write", "r", json!(1))).await;
    assert_kind(&w, EventType::Ok);
    assert_eq!((w.value, w.error), (json!(1), None));
    assert_eq!(w.node.as_deref(), Some(leader_name.as_str()));

    let r = client.invoke(&op("read", "r", Value::Null)).await;
    assert_kind(&r, EventType::Ok);
    assert_eq!(r.value, json!(1));
    assert_eq!(r.node.as_deref(), Some(leader_name.as_str()));

    let absent = client.invoke(&op("read", "nothing", Value::Null)).await;
    assert_kind(&absent, EventType::Ok);
    assert_eq!(absent.value, Value::Null);
    Ok(())
}

#[tokio::test]
async fn cas_succeeds_or_fails_definitely_and_append_records_its_element() -> Result<(), String> {
    let (_cluster, _, nodes) = cluster().await?;
    let mut client = KvnodeClient::new("c2".into(), nodes, TIMEOUT);

    assert_kind(
        &client.invoke(&op("write", "k", json!(1))).await,
        EventType::Ok,
    );
    let cas = client.invoke(&op("cas", "k", json!([1, 2]))).await;
    assert_kind(&cas, EventType::Ok);
    assert_eq!(cas.value, json!([1, 2]));

    let mismatch = client.invoke(&op("cas", "k", json!([1, 3]))).await;
    assert_kind(&mismatch, EventType::Fail);
    assert_eq!(mismatch.value, json!([1, 3]));
    assert_eq!(mismatch.error, Some(json!("cas_mismatch")));

    let r = client.invoke(&op("read", "k", Value::Null)).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!(2)));

    // kvnode answers an append with the whole list; the completion keeps only the element
    // (an add: nothing), so no event grows with its list. A read carries the list.
    let a1 = client.invoke(&op("append", "l", json!(1))).await;
    assert_eq!((a1.kind, a1.value), (EventType::Ok, json!(1)));
    let a2 = client.invoke(&op("add", "l", json!(2))).await;
    assert_eq!((a2.kind, a2.value), (EventType::Ok, Value::Null));
    let a3 = client.invoke(&op("append", "l", json!(3))).await;
    assert_eq!((a3.kind, a3.value), (EventType::Ok, json!(3)));
    let r = client.invoke(&op("read", "l", Value::Null)).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!([1, 2, 3])));

    // Appending to a scalar is refused by the state machine: certainly not applied.
    let bad = client.invoke(&op("append", "k", json!(4))).await;
    assert_kind(&bad, EventType::Fail);
    assert_eq!(bad.error, Some(json!("type_mismatch")));
    Ok(())
}

#[tokio::test]
async fn a_paused_cluster_makes_writes_info_and_reads_fail_within_the_deadline()
-> Result<(), String> {
    let (cluster, _, nodes) = cluster().await?;
    let mut client = KvnodeClient::new("c3".into(), nodes, TIMEOUT);
    assert_kind(
        &client.invoke(&op("write", "r", json!(1))).await,
        EventType::Ok,
    );
    for node in &cluster.nodes {
        node.pause()?;
    }
    // Slack for the backoff and scheduling on a busy two-core machine.
    let limit = client.deadline() + Duration::from_millis(300);

    let started = Instant::now();
    let w = client.invoke(&op("write", "r", json!(2))).await;
    let took = started.elapsed();
    // The request reached a socket of a stopped node, which may apply it when it resumes.
    assert_kind(&w, EventType::Info);
    assert_eq!(w.value, json!(2));
    assert!(w.node.is_some(), "{w:?}");
    assert!(took >= TIMEOUT && took <= limit, "took {took:?}");

    let started = Instant::now();
    let r = client.invoke(&op("read", "r", Value::Null)).await;
    let took = started.elapsed();
    assert_kind(&r, EventType::Fail);
    assert!(took <= limit, "took {took:?}");

    let cas = client.invoke(&op("cas", "r", json!([1, 3]))).await;
    assert_kind(&cas, EventType::Info);
    Ok(())
}

#[tokio::test]
async fn refused_connections_fail_writes_and_a_dead_node_is_skipped() -> Result<(), String> {
    let dead = NodeAddr {
        id: 9,
        addr: dead_addr()?.to_string(),
    };
    let mut lonely = KvnodeClient::new("c4".into(), vec![dead.clone()], TIMEOUT);
    let started = Instant::now();
    let w = lonely.invoke(&op("write", "r", json!(5))).await;
    // Nothing listens: the request never left, so it certainly did not happen.
    assert_kind(&w, EventType::Fail);
    assert_eq!(w.error, Some(json!("connection refused")));
    assert_eq!(w.node.as_deref(), Some("n9"));
    assert!(started.elapsed() < TIMEOUT, "{:?}", started.elapsed());
    let r = lonely.invoke(&op("read", "r", Value::Null)).await;
    assert_kind(&r, EventType::Fail);

    let (_cluster, _, mut nodes) = cluster().await?;
    nodes.insert(0, dead);
    let mut client = KvnodeClient::new("c5".into(), nodes, TIMEOUT);
    let w = client.invoke(&op("write", "r", json!(6))).await;
    assert_kind(&w, EventType::Ok);
    Ok(())
}

#[tokio::test]
async fn after_the_leader_is_killed_the_client_finds_the_new_one() -> Result<(), String> {
    let (mut cluster, leader, nodes) = cluster().await?;
    let mut client = KvnodeClient::new("c6".into(), nodes, TIMEOUT);
    assert_kind(
        &client.invoke(&op("write", "r", json!(1))).await,
        EventType::Ok,
    );
    cluster.nodes[leader].kill()?;

    // While the others elect a leader, writes end `fail` (nobody leads, nothing was applied) or
    // `info`; never a wrong `ok`. Within a few seconds one goes through at the new leader.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut value = 1;
    let done = loop {
        value += 1;
        let w = client.invoke(&op("write", "r", json!(value))).await;
        if w.kind == EventType::Ok || Instant::now() > deadline {
            break w;
        }
    };
    assert_kind(&done, EventType::Ok);
    let old = format!("n{}", cluster.nodes[leader].id);
    assert!(done.node.is_some(), "{done:?}");
    assert_ne!(done.node, Some(old));
    let r = client.invoke(&op("read", "r", Value::Null)).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!(value)));
    Ok(())
}
