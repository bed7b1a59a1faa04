//! The resolved spec of one run: every choice made, seed included. Written as `test.json`
//! before anything starts, so a run can be repeated and a stored run analysed.

use faultline_nemeses::{FaultKind, Shape, Target};
use faultline_workloads::WorkloadSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The test's name: the folder under the store.
    pub name: String,
    pub nodes: usize,
    /// The system under test: its definition's name (`kvnode`, `etcd`).
    #[serde(default = "default_system")]
    pub system: String,
    /// The definition file `--system` named, when it is not a built-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<std::path::PathBuf>,
    /// Every option of the system with its value (defaults included).
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
    /// What each option's value promises, from the definition's `explain` (option → text; only
    /// values it explains), so the run's report and its campaign's page say it without the
    /// definition at hand.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub option_explanations: std::collections::BTreeMap<String, String>,
    /// The `replication` option ("" when the system has none). Kept while results and
    /// campaign pages group by it; goes when they group by `options`.
    pub replication: String,
    /// The `reads` option ("" when the system has none), kept for the same reason.
    pub reads: String,
    pub workload: WorkloadSpec,
    pub nemesis: Vec<FaultKind>,
    pub targets: Vec<Target>,
    /// The shapes partitions take (all when empty).
    #[serde(default)]
    pub shapes: Vec<Shape>,
    /// What the nodes run on (`--hosts`).
    #[serde(default)]
    pub hosts: crate::hosts::HostKind,
    /// The inventory of ssh hosts (`--inventory`), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<std::path::PathBuf>,
    /// Where each node ran, filled in once the cluster is up (test.json is written again then).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NodeAddress>,
    /// What enforces partitions and delays (chosen from `--network`).
    #[serde(default)]
    pub network: crate::network::Backend,
    /// What skews clocks (chosen from `--clock`).
    #[serde(default)]
    pub clock: crate::clock::ClockBackend,
    pub seed: u64,
    /// Clients running at once.
    pub concurrency: usize,
    /// Invocations per second across all clients; unlimited when absent.
    pub rate: Option<f64>,
    pub time_limit_s: f64,
    /// Quiet time after healing, before the final reads.
    pub recovery_s: f64,
    pub fault_duration_s: f64,
    pub quiet_duration_s: f64,
    /// A client's per-request timeout.
    pub request_timeout_ms: u64,
    /// Flags passed to every node besides the modes.
    pub node_args: Vec<String>,
    /// Keep the nodes' data after a valid run (a run that is not valid always keeps it).
    #[serde(default)]
    pub keep_data: bool,
}

fn default_system() -> String {
    crate::system::DEFAULT_SYSTEM.to_owned()
}

impl RunSpec {
    /// What `--system` named: the definition file, else the built-in's name.
    pub fn system_source(&self) -> String {
        match &self.definition {
            Some(path) => path.display().to_string(),
            None => self.system.clone(),
        }
    }

    /// The options as (name, value) pairs, to resolve the system again.
    pub fn option_pairs(&self) -> Vec<(String, String)> {
        self.options
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// One node's host and the address clients and peers reached it at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddress {
    /// `n1`, ...
    pub node: String,
    /// The host's name (`127.0.0.11`, or the network namespace `fl<pid>x<run>n<id>`).
    pub host: String,
    /// ip:port.
    pub address: String,
}

pub const REPLICATION_MODES: [&str; 3] = ["async", "sync", "quorum"];
pub const READ_MODES: [&str; 4] = ["leader", "read-index", "lease", "any"];
