//! One line of a history: an invocation, a completion, or a nemesis action.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who performed an event: a client process (a logical thread, renumbered after an `info`) or
/// the nemesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(u64),
    Nemesis,
}

/// What an event says about its operation (Jepsen's op types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// The operation started.
    Invoke,
    /// The operation happened.
    Ok,
    /// The operation certainly did not happen.
    Fail,
    /// The operation may or may not have happened, at any point after its invocation.
    Info,
}

impl EventType {
    /// The type's name in histories: `invoke`, `ok`, `fail`, `info`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::Invoke => "invoke",
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            EventType::Info => "info",
        }
    }

    /// The type named `name` (as [`EventType::name`] spells it), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            EventType::Invoke,
            EventType::Ok,
            EventType::Fail,
            EventType::Info,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

/// One event of a history, with fields close to Jepsen's op maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the history, from 0.
    pub index: u64,
    /// Nanoseconds since the run started (monotonic). Importers without times use the index.
    pub time: u64,
    pub process: Process,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The operation's function: `read`, `write`, `cas`, `append`, `txn`, `acquire`, ...
    pub f: String,
    /// The key the operation acts on, when the workload has keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The operation's value: its argument on `invoke`, its result on `ok`.
    #[serde(default)]
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// The node the client talked to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(p) => Ok(Process::Client(p)),
            Raw::Name(n) if n == "nemesis" => Ok(Process::Nemesis),
            Raw::Name(n) => Err(serde::de::Error::custom(format!(
                "expected a non-negative integer or \"nemesis\" for process, found \"{n}\""
            ))),
        }
    }
}
