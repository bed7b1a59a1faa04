//! The schema of a system definition (`systems/*.yaml`): what a node of the store is (files,
//! processes, ports), how to tell it is ready and who leads, what options it takes, what it
//! needs installed, and which faults and workloads apply. Keys are kebab-case; an unknown key
//! anywhere is an error at its line and column (`deny_unknown_fields`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Definition {
    /// What `--system` and results call it (`kvnode`, `etcd`).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Programs that must be on `PATH` before anything starts.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// A command whose first line of output says the system's version (provenance).
    #[serde(default)]
    pub version: Option<Vec<String>>,
    /// Named axes, in the order written (it is the order they appear in test names).
    #[serde(default)]
    pub options: Ordered<OptionAxis>,
    /// Named ports with their number on hosts of their own (netns, ssh); on loopback every node
    /// gets a free port for each name instead.
    #[serde(default)]
    pub ports: Ordered<u16>,
    /// The workloads it can run (register, kv, append, set).
    pub workloads: Vec<String>,
    #[serde(default)]
    pub faults: FaultLimits,
    /// Written into the node's data dir before each start.
    #[serde(default)]
    pub files: Vec<FileTemplate>,
    /// Started in this order on every node; kill and pause act on all of them.
    pub processes: Vec<ProcessTemplate>,
    pub ready: Ready,
    #[serde(default)]
    pub leader: LeaderKind,
    pub client: ClientSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Requirement {
    pub program: String,
    /// How to install it, printed when it is missing (`Debian: apt-get install etcd-server`).
    #[serde(default)]
    pub install: Option<String>,
}

/// One option: its values, the one a run gets unless told, and what values promise.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionAxis {
    pub values: Vec<String>,
    pub default: String,
    /// What a value promises and how it can still fail, in two or three sentences, for the
    /// values that have one (reports show it beside the run's results). Every key is one of
    /// `values`: a key that is not is refused at its line (`option_axis.rs`).
    pub explain: Ordered<String>,
}

/// Faults that cannot apply to the system, each with the reason faultline gives when asked for
/// them. Absent: the fault applies.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultLimits {
    /// Clock faults do nothing to it (e.g. libfaketime does not reach Go programs).
    #[serde(default)]
    pub clock: Option<String>,
    /// Partitions and delays cannot be enforced between nodes on loopback (its peers dial from
    /// any source address, so neither a firewall rule nor a link proxy cuts exactly one link).
    #[serde(default)]
    pub loopback_partitions: Option<String>,
    /// How long a fault lasts (and the quiet between faults, and the recovery before the final
    /// reads) unless the run says: a system whose failover waits out a lease (Patroni's ttl)
    /// needs faults longer than that lease, or no partition ever fails it over.
    #[serde(default)]
    pub fault_duration_s: Option<f64>,
    #[serde(default)]
    pub quiet_duration_s: Option<f64>,
    #[serde(default)]
    pub recovery_s: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileTemplate {
    /// Relative to the node's data dir.
    pub path: String,
    pub template: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProcessTemplate {
    /// Names the process in messages and its log (`nodes/<N>-<name>.log` past the first).
    pub name: String,
    /// Each item a template; an item that renders to nothing is left out, so an optional flag
    /// and its value can both depend on a condition.
    pub argv: Vec<String>,
    #[serde(default)]
    pub env: Ordered<String>,
    /// An unprivileged account to run as (where the host can switch users).
    #[serde(default)]
    pub user: Option<String>,
}

/// When a node counts as ready: one probe, passed within `timeout-s` of its start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ready {
    #[serde(default)]
    pub http: Option<HttpProbe>,
    #[serde(default)]
    pub tcp: Option<TcpProbe>,
    /// argv templates, run on the controller; exit status 0 is ready.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default = "default_ready_timeout")]
    pub timeout_s: f64,
}

fn default_ready_timeout() -> f64 {
    10.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpProbe {
    /// A name from `ports`.
    pub port: String,
    pub path: String,
    #[serde(default = "default_status")]
    pub status: u16,
}

fn default_status() -> u16 {
    200
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TcpProbe {
    pub port: String,
}

/// Who leads, found by a discoverer faultline has built in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaderKind {
    /// kvnode's `/status`: every node names the same leader and it says it leads.
    Kvnode,
    /// etcd's maintenance status (the etcd client's discoverer).
    Etcd,
    /// Patroni's REST API on the port named `patroni`: `GET /leader` answers 200 on the
    /// leader only (a replica, or a node that lost its lock, answers 503).
    Patroni,
    /// No leader: leader-targeted faults pick any node.
    #[default]
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClientSpec {
    pub protocol: Protocol,
    /// The port clients dial, a name from `ports` (kvnode, etcd).
    #[serde(default)]
    pub port: Option<String>,
    /// stdio: the client program's argv (templates).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// postgres: the role clients log in as (`postgres` when absent).
    #[serde(default)]
    pub user: Option<String>,
    /// postgres: the database clients use (`postgres` when absent).
    #[serde(default)]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    Kvnode,
    Etcd,
    Stdio,
    /// PostgreSQL's own protocol (`client.user`, `client.database`).
    Postgres,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Kvnode => "kvnode",
            Protocol::Etcd => "etcd",
            Protocol::Stdio => "stdio",
            Protocol::Postgres => "postgres",
        }
    }
}

/// A YAML mapping read in the order written (test names and argv depend on it), duplicate
/// keys refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<V> Ordered<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OrderedVisitor(std::marker::PhantomData))
    }
}

struct OrderedVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for OrderedVisitor<V> {
    type Value = Ordered<V>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, V)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(serde::de::Error::custom(format!("duplicate key \"{key}\"")));
            }
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Ordered(entries))
    }
}

impl Definition {
    /// The checks a schema cannot say: names that must refer to something, one probe, a
    /// default among the values. Each error names the key.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.contains('/') || self.name.starts_with('.') {
            return Err(format!(
                "name: expected a plain name, found {:?}",
                self.name
            ));
        }
        for (name, axis) in self.options.iter() {
            if axis.values.is_empty() {
                return Err(format!(
                    "options.{name}.values: expected at least one value"
                ));
            }
            if !axis.values.contains(&axis.default) {
                return Err(format!(
                    "options.{name}.default: \"{}\" is not one of its values ({})",
                    axis.default,
                    axis.values.join(", ")
                ));
            }
        }
        for workload in &self.workloads {
            workload
                .parse::<faultline_workloads::WorkloadKind>()
                .map_err(|e| format!("workloads: {e}"))?;
        }
        if self.workloads.is_empty() {
            return Err("workloads: expected at least one workload".into());
        }
        if self.processes.is_empty() {
            return Err("processes: expected at least one process".into());
        }
        for (i, p) in self.processes.iter().enumerate() {
            if p.argv.is_empty() {
                return Err(format!("processes[{i}] ({}): argv is empty", p.name));
            }
            if p.name.is_empty() || p.name.contains('/') {
                return Err(format!("processes[{i}].name: expected a plain name"));
            }
        }
        let probes = [
            self.ready.http.is_some(),
            self.ready.tcp.is_some(),
            self.ready.command.is_some(),
        ];
        if probes.iter().filter(|p| **p).count() != 1 {
            return Err("ready: give exactly one of http, tcp, command".into());
        }
        if !(self.ready.timeout_s.is_finite() && self.ready.timeout_s > 0.0) {
            return Err(format!(
                "ready.timeout-s: expected a positive number of seconds, found {}",
                self.ready.timeout_s
            ));
        }
        let port = |key: &str, name: &str| -> Result<(), String> {
            if self.ports.get(name).is_some() {
                Ok(())
            } else {
                Err(format!(
                    "{key}: no port named \"{name}\" in ports (has: {})",
                    self.ports.keys().collect::<Vec<_>>().join(", ")
                ))
            }
        };
        if let Some(http) = &self.ready.http {
            port("ready.http.port", &http.port)?;
        }
        if let Some(tcp) = &self.ready.tcp {
            port("ready.tcp.port", &tcp.port)?;
        }
        match (
            self.client.protocol,
            &self.client.port,
            &self.client.command,
        ) {
            (Protocol::Stdio, _, None) => {
                return Err("client.command: the stdio protocol needs the client's argv".into());
            }
            (Protocol::Stdio, _, Some(_)) => {}
            (_, None, _) => {
                return Err(format!(
                    "client.port: the {} protocol needs the port clients dial",
                    self.client.protocol.name()
                ));
            }
            (_, Some(name), _) => port("client.port", name)?,
        }
        if self.leader == LeaderKind::Patroni && self.ports.get("patroni").is_none() {
            return Err(
                "leader: patroni asks Patroni's REST API on the port named \"patroni\"; ports has none"
                    .into(),
            );
        }
        if self.ports.is_empty() {
            return Err("ports: expected at least one named port".into());
        }
        Ok(())
    }

    /// The port clients dial (and the link proxies carry): the client's, else the first.
    pub fn main_port(&self) -> &str {
        self.client
            .port
            .as_deref()
            .or_else(|| self.ports.keys().next())
            .unwrap_or_default()
    }

    /// The option values a run gets when it asks for none.
    pub fn default_options(&self) -> BTreeMap<String, String> {
        self.options
            .iter()
            .map(|(k, a)| (k.to_owned(), a.default.clone()))
            .collect()
    }
}
