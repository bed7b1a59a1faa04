//! What to start: how many nodes, their modes, where their files go, which program runs them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use super::error::ClusterError;
use crate::hosts::HostKind;

/// The highest node id: node N listens on 127.0.0.(10+N) (or 10.213.x.(10+N) on netns hosts),
/// which must stay below .255.
pub const MAX_NODES: usize = 244;

/// A cluster to start. Node ids are 1..=nodes.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub nodes: usize,
    /// kvnode's `--replication` (async, sync, quorum).
    pub replication: String,
    /// kvnode's `--reads` (leader, read-index, lease, any).
    pub reads: String,
    /// The run folder: node data in `dir/data/n<id>`, node logs in `dir/nodes/<id>.log`.
    pub dir: PathBuf,
    pub program: NodeProgram,
    /// Appended to every node's flags (e.g. `--heartbeat-ms 50`).
    pub extra_args: Vec<String>,
    /// How nodes reach each other.
    pub links: PeerLinks,
    /// Run every node under this libfaketime library, with a timestamp file each in
    /// `dir/faketime/` (see `clock::FaketimeFiles`).
    pub faketime: Option<PathBuf>,
    /// What the nodes run on (`crate::hosts`).
    pub hosts: HostKind,
}

/// How a node's `--peers` reach the other nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeerLinks {
    /// Straight to each peer's listen address (partitions, if any, by firewall rules).
    #[default]
    Direct,
    /// Through a controller-owned proxy per directed link (`network::ProxyNet`), which can
    /// cut and slow each link without privileges.
    Proxied,
}

/// The command that runs one node: `exe leading_args... --id N --listen ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProgram {
    pub exe: PathBuf,
    pub leading_args: Vec<String>,
}

impl NodeProgram {
    /// kvnode built into the running faultline binary (`faultline kvnode ...`): what a shipped
    /// faultline uses, so that no second binary has to be found.
    ///
    /// On Linux the program is `/proc/self/exe`: in the forked child it still names the
    /// controller's own executable even after the file was replaced on disk (a rebuild while a
    /// run goes on), so a node restarted mid-run runs the same code as the others.
    pub fn current_faultline() -> std::io::Result<NodeProgram> {
        let proc_exe = std::path::Path::new("/proc/self/exe");
        let exe = if proc_exe.exists() {
            proc_exe.to_owned()
        } else {
            std::env::current_exe()?
        };
        Ok(NodeProgram {
            exe,
            leading_args: vec!["kvnode".to_string()],
        })
    }

    /// A standalone kvnode binary.
    pub fn kvnode(exe: impl Into<PathBuf>) -> NodeProgram {
        NodeProgram {
            exe: exe.into(),
            leading_args: Vec::new(),
        }
    }
}

impl ClusterSpec {
    pub(crate) fn validate(&self) -> Result<(), ClusterError> {
        if self.nodes == 0 {
            return Err(ClusterError::InvalidSpec(
                "a cluster needs at least one node".into(),
            ));
        }
        if self.nodes > MAX_NODES {
            return Err(ClusterError::InvalidSpec(format!(
                "{} nodes requested, at most {MAX_NODES} (one loopback address 127.0.0.(10+id) each)",
                self.nodes
            )));
        }
        if self.hosts == HostKind::Netns && self.links == PeerLinks::Proxied {
            return Err(ClusterError::InvalidSpec(
                "link proxies listen on loopback: they cannot serve netns hosts".into(),
            ));
        }
        Ok(())
    }

    /// Node ids, 1..=nodes.
    pub fn ids(&self) -> impl Iterator<Item = u32> + use<> {
        // validate() keeps `nodes` within MAX_NODES, so the cast cannot truncate.
        1..=(self.nodes.min(MAX_NODES) as u32)
    }

    /// 127.0.0.(10+id): one loopback address per node, so that a firewall rule on
    /// (source, destination) can cut exactly one link later (kvnode binds its outgoing peer
    /// connections to its listen IP).
    pub fn node_ip(id: u32) -> Ipv4Addr {
        crate::hosts::loopback_ip(id)
    }

    pub fn data_dir(&self, id: u32) -> PathBuf {
        self.dir.join("data").join(format!("n{id}"))
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("nodes")
    }

    pub fn log_path(&self, id: u32) -> PathBuf {
        self.logs_dir().join(format!("{id}.log"))
    }

    /// The full argument list of node `id` (after the program's leading args), given its listen
    /// address and the address it dials for each other node (the node's own, or a proxy's).
    pub(crate) fn node_args(
        &self,
        id: u32,
        listen: SocketAddr,
        peers: &[(u32, SocketAddr)],
    ) -> Vec<String> {
        let mut args = self.program.leading_args.clone();
        args.extend([
            "--id".to_string(),
            id.to_string(),
            "--listen".to_string(),
            listen.to_string(),
        ]);
        let peers: Vec<String> = peers
            .iter()
            .filter(|(i, _)| *i != id)
            .map(|(i, a)| format!("{i}={a}"))
            .collect();
        // kvnode reads "no --peers" as a one-node cluster; an empty value would be an error.
        if !peers.is_empty() {
            args.extend(["--peers".to_string(), peers.join(",")]);
        }
        args.extend([
            "--data-dir".to_string(),
            self.data_dir(id).display().to_string(),
            "--replication".to_string(),
            self.replication.clone(),
            "--reads".to_string(),
            self.reads.clone(),
        ]);
        args.extend(self.extra_args.iter().cloned());
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(nodes: usize) -> ClusterSpec {
        ClusterSpec {
            nodes,
            replication: "quorum".into(),
            reads: "read-index".into(),
            dir: PathBuf::from("/run"),
            program: NodeProgram {
                exe: PathBuf::from("/bin/faultline"),
                leading_args: vec!["kvnode".into()],
            },
            extra_args: vec!["--heartbeat-ms".into(), "50".into()],
            links: PeerLinks::Direct,
            faketime: None,
            hosts: HostKind::Loopback,
        }
    }

    #[test]
    fn node_args_name_the_others_as_peers() {
        let s = spec(3);
        let addrs: Vec<(u32, SocketAddr)> = s
            .ids()
            .map(|id| {
                (
                    id,
                    SocketAddr::from((ClusterSpec::node_ip(id), 7000 + id as u16)),
                )
            })
            .collect();
        assert_eq!(
            s.node_args(2, addrs[1].1, &addrs).join(" "),
            "kvnode --id 2 --listen 127.0.0.12:7002 --peers 1=127.0.0.11:7001,3=127.0.0.13:7003 \
             --data-dir /run/data/n2 --replication quorum --reads read-index --heartbeat-ms 50"
        );
        assert_eq!(s.log_path(2), PathBuf::from("/run/nodes/2.log"));
    }

    #[test]
    fn one_node_has_no_peers_flag() {
        let s = spec(1);
        let addrs = vec![(1, SocketAddr::from(([127, 0, 0, 11], 7001)))];
        assert!(
            !s.node_args(1, addrs[0].1, &addrs)
                .contains(&"--peers".to_string())
        );
    }

    #[test]
    fn sizes_are_checked() {
        assert!(spec(0).validate().is_err());
        assert!(spec(MAX_NODES + 1).validate().is_err());
        assert!(spec(MAX_NODES).validate().is_ok());
        assert_eq!(
            ClusterSpec::node_ip(MAX_NODES as u32),
            Ipv4Addr::new(127, 0, 0, 254)
        );
    }
}
