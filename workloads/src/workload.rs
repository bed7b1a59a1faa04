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
    /// Adds of unique elements to one list, and a final read. Judged by the set checker.
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

/// Everything a generator needs besides its seed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadSpec {
    pub kind: WorkloadKind,
    /// Keys to spread operations over (`register` and `set` use one).
    pub keys: usize,
    pub key_distribution: KeyDistribution,
    /// Relative weights of read, write and cas (register, kv) or read and append (append).
    pub read_weight: u32,
    pub write_weight: u32,
    pub cas_weight: u32,
}

impl WorkloadSpec {
    /// Jepsen-like defaults for a workload: an even mix, 10 keys for keyed workloads.
    pub fn defaults(kind: WorkloadKind) -> Self {
        WorkloadSpec {
            kind,
            keys: match kind {
                WorkloadKind::Register | WorkloadKind::Set => 1,
                WorkloadKind::Kv | WorkloadKind::Append => 10,
            },
            key_distribution: KeyDistribution::Uniform,
            read_weight: 1,
            write_weight: 1,
            cas_weight: 1,
        }
    }
}
