//! What a run ran: the system under test, the values of its options (as its definition names
//! them: kvnode's `replication` and `reads`, etcd's `reads`, ...), the workload and the nemesis.
//! Pages group and name runs by it; nothing here knows which options a system has.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Setup {
    pub system: String,
    /// Option name → value.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub workload: String,
    pub nemesis: String,
}

impl Setup {
    /// kvnode's setup: its two options.
    pub fn kvnode(replication: &str, reads: &str, workload: &str, nemesis: &str) -> Setup {
        Setup {
            system: "kvnode".to_owned(),
            options: [("replication", replication), ("reads", reads)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            workload: workload.to_owned(),
            nemesis: nemesis.to_owned(),
        }
    }

    /// The value of option `name`, if the run's system has it.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// The options' values as labels spell them: replication, then reads (kvnode's labels
    /// since the first campaign), then the others by name.
    pub fn option_values(&self) -> impl Iterator<Item = &str> {
        const FIRST: [&str; 2] = ["replication", "reads"];
        FIRST.iter().filter_map(|name| self.option(name)).chain(
            self.options
                .iter()
                .filter(|(name, _)| !FIRST.contains(&name.as_str()))
                .map(|(_, value)| value.as_str()),
        )
    }
}
