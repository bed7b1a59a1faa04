//! The workloads a test can run, and what judges each.

use std::fmt;
use std::str::FromStr;

use faultline_checker::ModelKind;

use crate::generator::KeyDistribution;

/// A workload by name, as `--workload` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// One key: read, write, cas. Judged by the cas-register model.
    Register,
    /// Many keys, the same ops. Judged by the kv model (a cas-register per key).
    Kv,
    /// Appends to lists under many keys, and reads. Judged by the kv-append model.
    Append,
    /// Adds of unique elements to one list at a time, and final reads. Judged by the set checker.
    Set,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 4] = [
        WorkloadKind::Register,
        WorkloadKind::Kv,
        WorkloadKind::Append,
        WorkloadKind::Set,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Register => "register",
            WorkloadKind::Kv => "kv",
            WorkloadKind::Append => "append",
            WorkloadKind::Set => "set",
        }
    }

    /// Whether the workload appends to lists (append, set), which `max_writes_per_key` bounds.
    pub fn grows_lists(self) -> bool {
        matches!(self, WorkloadKind::Append | WorkloadKind::Set)
    }

    /// The linearizability model that judges this workload's history; `None` for `set`, which
    /// the set checker judges (every acknowledged add present in the final read).
    pub fn model(self) -> Option<ModelKind> {
        match self {
            WorkloadKind::Register => Some(ModelKind::CasRegister),
            WorkloadKind::Kv => Some(ModelKind::Kv),
            WorkloadKind::Append => Some(ModelKind::KvAppend),
            WorkloadKind::Set => None,
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WorkloadKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkloadKind::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = WorkloadKind::ALL.iter().map(|w| w.name()).collect();
                format!(
                    "unknown workload \"{s}\"; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Appends (adds) a key of the append and set workloads takes before the workload moves on to a
/// fresh key: Elle's list-append default. Every read carries its key's list, so this bounds
/// the size of a read; the number of final reads (one per key) is operations / this.
pub const DEFAULT_MAX_WRITES_PER_KEY: u64 = 32;

/// Everything a generator needs besides its seed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadSpec {
    pub kind: WorkloadKind,
    /// Keys to spread operations over at a time (`register` and `set` use one).
    pub keys: usize,
    /// `append` and `set`: appends (adds) per key before its slot moves to a fresh key.
    /// `None`: unbounded, as runs recorded before the bound existed were (their `test.json` has
    /// no such field); also `None` for `register` and `kv`, whose values do not grow.
    #[serde(default)]
    pub max_writes_per_key: Option<u64>,
    pub key_distribution: KeyDistribution,
    /// Relative weights of read, write and cas (register, kv) or read and append (append).
    pub read_weight: u32,
    pub write_weight: u32,
    pub cas_weight: u32,
}

impl WorkloadSpec {
    /// Jepsen-like defaults for a workload: an even mix, 10 keys for keyed workloads, lists
    /// bounded at [`DEFAULT_MAX_WRITES_PER_KEY`].
    pub fn defaults(kind: WorkloadKind) -> Self {
        WorkloadSpec {
            kind,
            keys: match kind {
                WorkloadKind::Register | WorkloadKind::Set => 1,
                WorkloadKind::Kv | WorkloadKind::Append => 10,
            },
            max_writes_per_key: kind.grows_lists().then_some(DEFAULT_MAX_WRITES_PER_KEY),
            key_distribution: KeyDistribution::Uniform,
            read_weight: 1,
            write_weight: 1,
            cas_weight: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_recorded_before_the_bound_existed_reads_as_unbounded() {
        let old = r#"{"kind":"append","keys":10,"key_distribution":{"kind":"uniform"},
                      "read_weight":1,"write_weight":1,"cas_weight":1}"#;
        let spec: WorkloadSpec = serde_json::from_str(old).expect("an old test.json's workload");
        assert_eq!(spec.max_writes_per_key, None);
        let now =
            serde_json::to_value(WorkloadSpec::defaults(WorkloadKind::Append)).expect("serialises");
        assert_eq!(now["max_writes_per_key"], DEFAULT_MAX_WRITES_PER_KEY);
    }
}
