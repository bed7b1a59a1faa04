//! Asking nodes for `GET /status` and reading who leads from the answers.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use super::error::ClusterError;

/// One status request's budget. Short: a paused node never answers, and a leader query must not
/// stall the nemesis for long.
pub(crate) const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// An HTTP client for the nodes' status routes.
#[derive(Debug, Clone)]
pub(crate) struct StatusClient {
    http: reqwest::Client,
}

impl StatusClient {
    pub fn new() -> Result<Self, ClusterError> {
        let http = reqwest::Client::builder()
            // Node traffic stays on 127.0.0.0/8: never through an HTTP(S)_PROXY from the
            // environment.
            .no_proxy()
            .timeout(STATUS_TIMEOUT)
            .build()
            .map_err(ClusterError::Http)?;
        Ok(StatusClient { http })
    }

    /// The HTTP client, for readiness probes.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The node's /status document, or None when it does not answer with JSON in time.
    pub async fn get(&self, addr: SocketAddr) -> Option<Value> {
        let response = self
            .http
            .get(format!("http://{addr}/status"))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json::<Value>().await.ok()
    }

    /// Every node's status, asked at the same time (a paused node costs one timeout, not one
    /// per node).
    pub async fn get_all(&self, addrs: &[(u32, SocketAddr)]) -> Vec<(u32, Option<Value>)> {
        let mut tasks = tokio::task::JoinSet::new();
        for &(id, addr) in addrs {
            let client = self.clone();
            tasks.spawn(async move { (id, client.get(addr).await) });
        }
        let mut answers = Vec::with_capacity(addrs.len());
        while let Some(joined) = tasks.join_next().await {
            if let Ok(answer) = joined {
                answers.push(answer);
            }
        }
        answers.sort_by_key(|(id, _)| *id);
        answers
    }
}

fn role(status: &Value) -> Option<&str> {
    status.get("role")?.as_str()
}

fn term(status: &Value) -> u64 {
    status.get("term").and_then(Value::as_u64).unwrap_or(0)
}

fn believed_leader(status: &Value) -> Option<u32> {
    status
        .get("leader")?
        .as_u64()
        .and_then(|l| u32::try_from(l).ok())
}

/// Who leads, from the answers of a cluster of `cluster_size` nodes: the node that says it is
/// leader in the highest term (an old leader cut off from the others may still say so in an
/// older term), else the leader that a majority of all nodes names.
pub(crate) fn leader_of(statuses: &[(u32, Option<Value>)], cluster_size: usize) -> Option<u32> {
    let answered = statuses
        .iter()
        .filter_map(|(id, s)| Some((*id, s.as_ref()?)));
    if let Some((id, _)) = answered
        .clone()
        .filter(|(_, s)| role(s) == Some("leader"))
        .max_by_key(|(_, s)| term(s))
    {
        return Some(id);
    }
    let mut votes: Vec<(u32, usize)> = Vec::new();
    for leader in answered.filter_map(|(_, s)| believed_leader(s)) {
        match votes.iter_mut().find(|(l, _)| *l == leader) {
            Some((_, n)) => *n += 1,
            None => votes.push((leader, 1)),
        }
    }
    votes
        .into_iter()
        .find(|(_, n)| *n > cluster_size / 2)
        .map(|(l, _)| l)
}

/// The leader every node agrees on: all answered, exactly one says it leads, and every node
/// names it. What the cluster must reach before a run starts.
pub(crate) fn agreed_leader(statuses: &[(u32, Option<Value>)]) -> Option<u32> {
    let mut leaders = statuses
        .iter()
        .filter(|(_, s)| s.as_ref().and_then(role) == Some("leader"));
    let (leader, _) = leaders.next()?;
    if leaders.next().is_some() {
        return None;
    }
    statuses
        .iter()
        .all(|(_, s)| s.as_ref().and_then(believed_leader) == Some(*leader))
        .then_some(*leader)
}

/// "n1: follower term 3 leader n2, n2: no answer, ..." for error messages.
pub(crate) fn describe(statuses: &[(u32, Option<Value>)]) -> String {
    let views: Vec<String> = statuses
        .iter()
        .map(|(id, s)| match s {
            Some(s) => format!(
                "n{id}: {} term {} leader {}",
                role(s).unwrap_or("?"),
                term(s),
                believed_leader(s).map_or("none".to_string(), |l| format!("n{l}"))
            ),
            None => format!("n{id}: no answer"),
        })
        .collect();
    views.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(role: &str, term: u64, leader: Option<u32>) -> Option<Value> {
        Some(json!({"role": role, "term": term, "leader": leader}))
    }

    #[test]
    fn the_newest_self_declared_leader_wins() {
        let st = vec![
            (1, s("leader", 2, Some(1))),
            (2, s("leader", 3, Some(2))),
            (3, s("follower", 3, Some(2))),
        ];
        assert_eq!(leader_of(&st, 3), Some(2));
        assert_eq!(agreed_leader(&st), None, "two say they lead");
    }

    #[test]
    fn a_majority_names_a_leader_that_does_not_answer() {
        let st = vec![
            (1, None),
            (2, s("follower", 3, Some(1))),
            (3, s("follower", 3, Some(1))),
        ];
        assert_eq!(leader_of(&st, 3), Some(1));
        let split = vec![
            (1, None),
            (2, s("follower", 3, Some(1))),
            (3, s("candidate", 4, None)),
        ];
        assert_eq!(leader_of(&split, 3), None);
    }

    #[test]
    fn agreement_needs_every_node() {
        let st = vec![
            (1, s("leader", 1, Some(1))),
            (2, s("follower", 1, Some(1))),
            (3, s("follower", 1, None)),
        ];
        assert_eq!(agreed_leader(&st), None);
        let all = vec![
            (1, s("leader", 1, Some(1))),
            (2, s("follower", 1, Some(1))),
            (3, s("follower", 1, Some(1))),
        ];
        assert_eq!(agreed_leader(&all), Some(1));
        assert_eq!(
            describe(&[(1, s("follower", 2, None)), (2, None)]),
            "n1: follower term 2 leader none, n2: no answer"
        );
    }
}
