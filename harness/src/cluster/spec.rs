//! What to start: how many nodes, which system with which options, where their files go.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::error::ClusterError;
use crate::hosts::HostKind;
use crate::system::System;

/// The highest node id: node N listens on 127.0.0.(10+N) (or 10.213.x.(10+N) on netns hosts),
/// which must stay below .255.
pub const MAX_NODES: usize = 244;

/// A cluster to start. Node ids are 1..=nodes.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub nodes: usize,
    /// What every node runs, with its options (`crate::system`).
    pub system: System,
    /// The run folder: node data in `dir/data/n<id>`, node logs in `dir/nodes/<id>.log`.
    pub dir: PathBuf,
    /// What `{{ faultline }} kvnode` at the start of a process's argv runs: the controller's
    /// own kvnode, or a standalone kvnode binary (`--kvnode`).
    pub program: NodeProgram,
    /// Appended to the argv of every node's first process (e.g. kvnode's `--heartbeat-ms 50`).
    pub extra_args: Vec<String>,
    /// How nodes reach each other.
    pub links: PeerLinks,
    /// Run every node under this libfaketime library, with a timestamp file each in
    /// `dir/faketime/` (see `clock::FaketimeFiles`).
    pub faketime: Option<PathBuf>,
    /// What the nodes run on (`crate::hosts`).
    pub hosts: HostKind,
}

/// How a node's peers are reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeerLinks {
    /// Straight to each peer's listen address (partitions, if any, by firewall rules).
    #[default]
    Direct,
    /// Through a controller-owned proxy per directed link (`network::ProxyNet`), which can
    /// cut and slow each link without privileges. Only the definition's client port is
    /// proxied (`peers[].dial`): kvnode's single port.
    Proxied,
}

/// The command `{{ faultline }} kvnode` stands for in a definition: `exe leading_args...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProgram {
    pub exe: PathBuf,
    pub leading_args: Vec<String>,
}

impl NodeProgram {
    /// kvnode built into the running faultline binary (`faultline kvnode ...`): what a shipped
    /// faultline uses, so that no second binary has to be found (`system::controller_exe`).
    pub fn current_faultline() -> std::io::Result<NodeProgram> {
        Ok(NodeProgram {
            exe: crate::system::controller_exe(),
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

    /// `argv` with a leading `{{ faultline }} kvnode` replaced by this program.
    pub(crate) fn substitute(&self, argv: Vec<String>) -> Vec<String> {
        let faultline = crate::system::controller_exe().display().to_string();
        if argv.len() >= 2 && argv[0] == faultline && argv[1] == "kvnode" {
            let mut out = vec![self.exe.display().to_string()];
            out.extend(self.leading_args.iter().cloned());
            out.extend(argv.into_iter().skip(2));
            out
        } else {
            argv
        }
    }
}

impl ClusterSpec {
    /// How long a start (and each later restart) waits for the nodes: the definition's
    /// `ready.timeout-s`.
    pub fn ready_timeout(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.system.definition.ready.timeout_s)
            .unwrap_or(super::DEFAULT_START_TIMEOUT)
    }

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

    /// The log of node `id`'s process number `index` of its definition: the node's log for the
    /// first (so a one-process node's log is where it always was), `<id>-<name>.log` for the
    /// others.
    pub fn process_log_path(&self, id: u32, index: usize, name: &str) -> PathBuf {
        if index == 0 {
            self.log_path(id)
        } else {
            self.logs_dir().join(format!("{id}-{name}.log"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(nodes: usize) -> ClusterSpec {
        ClusterSpec {
            nodes,
            system: System::kvnode(&[]).expect("kvnode resolves"),
            dir: PathBuf::from("/run"),
            program: NodeProgram::kvnode("/bin/kvnode"),
            extra_args: vec!["--heartbeat-ms".into(), "50".into()],
            links: PeerLinks::Direct,
            faketime: None,
            hosts: HostKind::Loopback,
        }
    }

    #[test]
    fn a_standalone_kvnode_replaces_faultline_kvnode() {
        let faultline = crate::system::controller_exe().display().to_string();
        let argv = vec![
            faultline.clone(),
            "kvnode".into(),
            "--id".into(),
            "1".into(),
        ];
        assert_eq!(
            NodeProgram::kvnode("/bin/kvnode").substitute(argv.clone()),
            ["/bin/kvnode", "--id", "1"]
        );
        let own = NodeProgram::current_faultline().expect("own exe");
        assert_eq!(own.substitute(argv.clone()), argv);
        let etcd = vec!["etcd".to_owned(), "--name".into()];
        assert_eq!(own.substitute(etcd.clone()), etcd);
        assert_eq!(spec(1).log_path(2), PathBuf::from("/run/nodes/2.log"));
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
