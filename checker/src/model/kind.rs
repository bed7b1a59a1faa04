//! The models a user can name on the command line.

use std::fmt;
use std::str::FromStr;

/// A model by name, as `--model` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// One register: read, write.
    Register,
    /// One register with compare-and-set: read, write, cas `[from to]`.
    CasRegister,
    /// Independent cas-registers, one per key.
    Kv,
    /// String values per key: get, put, append.
    KvAppend,
    /// Atomic transactions of reads and writes over several registers.
    MultiRegister,
    /// A lock: acquire, release.
    Mutex,
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Kv,
        ModelKind::KvAppend,
        ModelKind::MultiRegister,
        ModelKind::Mutex,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::KvAppend => "kv-append",
            ModelKind::MultiRegister => "multi-register",
            ModelKind::Mutex => "mutex",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ModelKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown model \"{s}\"; expected one of {}",
                    names.join(", ")
                )
            })
    }
}
