//! Which etcd member leads, as the harness asks for leader-targeted faults, fault annotations
//! and failover times: every member's `POST /v3/maintenance/status` names the leader's member
//! id (`{"header": {"member_id": "..."}, "leader": "...", ...}`, ids as decimal strings, no
//! `leader` while the member knows none), and `POST /v3/cluster/member/list` maps ids to member
//! names (`{"members": [{"ID": "...", "name": "n1", ...}]}`; the harness names members as it
//! names nodes).

use std::time::Duration;

use serde::Deserialize;
use tokio::task::JoinSet;

use crate::kvnode_client::NodeAddr;

/// How long one member may take to say whom it follows: a paused member must not hold up a
/// fault annotation for long.
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Deserialize)]
struct StatusResponse {
    /// Absent (zero) while the member knows no leader.
    #[serde(default)]
    leader: Option<String>,
}

#[derive(Deserialize)]
struct MemberListResponse {
    #[serde(default)]
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct Member {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default)]
    name: String,
}

/// The name of the member every answering member calls leader; `None` when none answers, one
/// knows no leader, two disagree (an election, a partition), or the leader's id is not in the
/// member list. Members are asked at once, each within 500 ms. Must run inside a tokio runtime.
pub async fn etcd_leader(http: &reqwest::Client, nodes: &[NodeAddr]) -> Option<String> {
    let mut asked = JoinSet::new();
    for node in nodes {
        let (http, addr) = (http.clone(), node.addr.clone());
        asked.spawn(
            async move { post::<StatusResponse>(&http, &addr, "/v3/maintenance/status").await },
        );
    }
    let mut leaders = Vec::new();
    while let Some(joined) = asked.join_next().await {
        if let Ok(Some(status)) = joined {
            leaders.push(status.leader);
        }
    }
    let leader = agreed(&leaders)?;
    // Any member answers the member list; the first that does is enough.
    for node in nodes {
        let Some(list) =
            post::<MemberListResponse>(http, &node.addr, "/v3/cluster/member/list").await
        else {
            continue;
        };
        return list
            .members
            .into_iter()
            .find(|m| m.id == leader)
            .map(|m| m.name)
            .filter(|name| !name.is_empty());
    }
    None
}

/// The one leader id every answer names, if they all name the same non-zero one.
fn agreed(leaders: &[Option<String>]) -> Option<String> {
    let first = leaders.first()?.as_ref()?;
    let all_same = leaders.iter().all(|l| l.as_ref() == Some(first));
    (all_same && first != "0").then(|| first.clone())
}

/// A POST with an empty request to one member, its JSON answer if it gave one in time.
async fn post<T: for<'de> Deserialize<'de>>(
    http: &reqwest::Client,
    addr: &str,
    route: &str,
) -> Option<T> {
    let response = http
        .post(format!("http://{addr}{route}"))
        .timeout(STATUS_TIMEOUT)
        .body("{}")
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|l| l.map(str::to_owned)).collect()
    }

    #[test]
    fn a_leader_only_when_every_answer_names_it() {
        assert_eq!(
            agreed(&ids(&[Some("7"), Some("7"), Some("7")])),
            Some("7".into())
        );
        // A member that did not answer is not asked about (a killed or paused one).
        assert_eq!(agreed(&ids(&[Some("7"), Some("7")])), Some("7".into()));
        assert_eq!(agreed(&ids(&[Some("7"), Some("8"), Some("7")])), None);
        assert_eq!(agreed(&ids(&[Some("7"), None, Some("7")])), None);
        assert_eq!(agreed(&ids(&[None, None])), None);
        assert_eq!(agreed(&ids(&[Some("0")])), None);
        assert_eq!(agreed(&[]), None);
    }

    #[test]
    fn answers_as_etcd_3_4_writes_them() {
        let status = r#"{"header":{"cluster_id":"1","member_id":"119","revision":"3","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"119","raftIndex":"7","raftTerm":"2","raftAppliedIndex":"7","dbSizeInUse":"16384"}"#;
        let s: StatusResponse = serde_json::from_str(status).unwrap();
        assert_eq!(s.leader.as_deref(), Some("119"));
        let list = r#"{"header":{"cluster_id":"1","member_id":"119","raft_term":"2"},"members":[{"ID":"119","name":"n1","peerURLs":["http://127.0.0.51:23801"],"clientURLs":["http://127.0.0.51:23791"]}]}"#;
        let l: MemberListResponse = serde_json::from_str(list).unwrap();
        assert_eq!(
            (l.members[0].id.as_str(), l.members[0].name.as_str()),
            ("119", "n1")
        );
    }
}
