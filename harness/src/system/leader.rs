//! Who leads: the discoverers faultline has built in, chosen by a definition's `leader:`.
//! kvnode's reads every node's `/status`; etcd's asks every member's status through the etcd
//! client (`etcd_leader`); `none` never names one (leader-targeted faults then pick any node).

use std::net::SocketAddr;

use serde_json::Value;

use faultline_workloads::NodeAddr;

use super::NodePorts;
use super::definition::LeaderKind;
use crate::cluster::status::{StatusClient, agreed_leader, describe, leader_of};

/// What the nodes say about who leads, asked once.
#[derive(Debug, Clone)]
pub enum Views {
    /// kvnode's `/status` answers.
    Kvnode(Vec<(u32, Option<Value>)>),
    /// A discoverer that names the leader directly (etcd's), or none (`leader: none`).
    Named(Option<u32>),
}

impl Views {
    /// Asks every node at once.
    pub(crate) async fn ask(
        kind: LeaderKind,
        status: &StatusClient,
        addrs: &[(u32, SocketAddr)],
        ports: &[NodePorts],
    ) -> Views {
        match kind {
            LeaderKind::Patroni => Views::Named(patroni_leader(status.http(), ports).await),
            LeaderKind::Kvnode => Views::Kvnode(status.get_all(addrs).await),
            LeaderKind::Etcd => Views::Named(etcd_leader(status.http(), addrs).await),
            LeaderKind::None => Views::Named(None),
        }
    }

    /// The leader now (for the nemesis and fault annotations): kvnode's newest self-declared
    /// leader, else one a majority names.
    pub fn leader(&self, cluster_size: usize) -> Option<u32> {
        match self {
            Views::Kvnode(statuses) => leader_of(statuses, cluster_size),
            Views::Named(leader) => *leader,
        }
    }

    /// The leader every node agrees on: what a cluster waits for before a run starts.
    pub fn agreed(&self) -> Option<u32> {
        match self {
            Views::Kvnode(statuses) => agreed_leader(statuses),
            Views::Named(leader) => *leader,
        }
    }

    /// "n1: follower term 3 leader n2, ..." for an error.
    pub fn describe(&self) -> String {
        match self {
            Views::Kvnode(statuses) => describe(statuses),
            Views::Named(Some(id)) => format!("n{id} leads"),
            Views::Named(None) => "no leader named".to_owned(),
        }
    }
}

/// Whether `Cluster::start` waits for an agreed leader: only where a discoverer can say.
pub fn waits_for_leader(kind: LeaderKind) -> bool {
    match kind {
        LeaderKind::Kvnode | LeaderKind::Etcd | LeaderKind::Patroni => true,
        LeaderKind::None => false,
    }
}

/// etcd's discoverer: each member's `/v3/maintenance/status` names the leader's member id,
/// `/v3/cluster/member/list` maps ids to names (the etcd client's `etcd_leader`), and the
/// names are the definition's `--name {{ node }}` (`n1`, ...), so the leader's id is its name
/// without the `n`. A leader only when every answering member names the same one.
pub async fn etcd_leader(
    http: &reqwest::Client,
    client_addrs: &[(u32, SocketAddr)],
) -> Option<u32> {
    let nodes: Vec<NodeAddr> = client_addrs
        .iter()
        .map(|&(id, addr)| NodeAddr {
            id,
            addr: addr.to_string(),
        })
        .collect();
    let name = faultline_workloads::etcd_leader(http, &nodes).await?;
    name.strip_prefix('n')?.parse().ok()
}

/// Patroni's discoverer: `GET /leader` on every node's port named `patroni` answers 200 on the
/// node that holds the leader lock and runs the primary, 503 elsewhere. A leader only when
/// exactly one node says so (two during a split brain would make a targeted fault a guess).
pub async fn patroni_leader(http: &reqwest::Client, nodes: &[NodePorts]) -> Option<u32> {
    let mut asks = tokio::task::JoinSet::new();
    for (id, ip, ports) in nodes {
        let Some(port) = ports.get("patroni") else {
            continue;
        };
        let url = format!("http://{}/leader", SocketAddr::new(*ip, *port));
        let (http, id) = (http.clone(), *id);
        asks.spawn(async move {
            let answer = http
                .get(url)
                .timeout(std::time::Duration::from_millis(500))
                .send()
                .await
                .ok()?;
            answer.status().is_success().then_some(id)
        });
    }
    let leaders: Vec<u32> = asks.join_all().await.into_iter().flatten().collect();
    match leaders.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}
