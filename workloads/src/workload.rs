//! The workloads a test can run, and what judges each.

use std::fmt;
use std::str::FromStr;

use faultline_checker::ModelKind;

use crate::generator::KeyDistribution;

/// A workload by name, as `--workload` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// Registers (one key per group at a time by default): read, write, cas. Judged by the
    /// cas-register model, key by key.
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

    /// Whether the workload runs as `jepsen.independent` does: clients in groups of
    /// `threads_per_key`, each group on keys of its own, a key retired after `ops_per_key`
    /// operations. Every workload but `set`, whose checker compares only the final read and does
    /// not care how many clients add to one list.
    pub fn groups_clients(self) -> bool {
        !matches!(self, WorkloadKind::Set)
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

/// Clients per group: at most this many clients ever use one key, whatever the concurrency, so
/// the checker's work per key stays bounded (`jepsen.independent`'s thread groups).
pub const DEFAULT_THREADS_PER_KEY: usize = 10;

/// Operations invoked on a key (reads too) before its slot moves to a fresh key, as
/// `jepsen.independent`'s `gen/limit` does: a key's history stays short enough to check.
pub const DEFAULT_OPS_PER_KEY: u64 = 1000;

/// Everything a generator needs besides its seed and the number of clients.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadSpec {
    pub kind: WorkloadKind,
    /// Keys each group of clients spreads its operations over at a time (`set` uses one).
    pub keys: usize,
    /// Clients per group (`register`, `kv`, `append`): clients `0..T` share their own key
    /// slots, `T..2T` theirs, and so on. `None`: every client shares one set of slots, as
    /// `set` does and as runs recorded before groups existed did (their `test.json` has no such
    /// field).
    #[serde(default)]
    pub threads_per_key: Option<usize>,
    /// `register`, `kv`, `append`: operations invoked on a key (reads too) before its slot moves
    /// to a fresh key; `Some(0)` and `None` (`set`, runs recorded before) never move on.
    #[serde(default)]
    pub ops_per_key: Option<u64>,
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
    /// Jepsen-like defaults for a workload: an even mix, 10 keys for kv and append (per group),
    /// groups of [`DEFAULT_THREADS_PER_KEY`] clients moving on after [`DEFAULT_OPS_PER_KEY`]
    /// operations per key, lists bounded at [`DEFAULT_MAX_WRITES_PER_KEY`].
    pub fn defaults(kind: WorkloadKind) -> Self {
        WorkloadSpec {
            kind,
            keys: match kind {
                WorkloadKind::Register | WorkloadKind::Set => 1,
                WorkloadKind::Kv | WorkloadKind::Append => 10,
            },
            threads_per_key: kind.groups_clients().then_some(DEFAULT_THREADS_PER_KEY),
            ops_per_key: kind.groups_clients().then_some(DEFAULT_OPS_PER_KEY),
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
        // ... and as one group of every client on keys that never move on.
        assert_eq!((spec.threads_per_key, spec.ops_per_key), (None, None));
        let now =
            serde_json::to_value(WorkloadSpec::defaults(WorkloadKind::Append)).expect("serialises");
        assert_eq!(now["max_writes_per_key"], DEFAULT_MAX_WRITES_PER_KEY);
        assert_eq!(now["threads_per_key"], DEFAULT_THREADS_PER_KEY);
        assert_eq!(now["ops_per_key"], DEFAULT_OPS_PER_KEY);
    }

    #[test]
    fn set_records_no_groups() {
        let set = serde_json::to_value(WorkloadSpec::defaults(WorkloadKind::Set)).expect("json");
        assert!(
            set["threads_per_key"].is_null() && set["ops_per_key"].is_null(),
            "{set}"
        );
        for kind in [
            WorkloadKind::Register,
            WorkloadKind::Kv,
            WorkloadKind::Append,
        ] {
            let spec = WorkloadSpec::defaults(kind);
            assert_eq!(
                spec.threads_per_key,
                Some(DEFAULT_THREADS_PER_KEY),
                "{kind}"
            );
            assert_eq!(spec.ops_per_key, Some(DEFAULT_OPS_PER_KEY), "{kind}");
        }
    }
}
