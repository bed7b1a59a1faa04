//! What a verdict says to a person: for a non-linearizable history, the operation that cannot be
//! linearized, the operations concurrent with it, and the longest linearization found, each by
//! history index and time.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::history::Operation;

/// One operation as an explanation shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpSummary {
    pub process: u64,
    pub f: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The invocation's value.
    pub value: Value,
    /// The `ok` completion's value; absent when the operation is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    pub invoke_index: u64,
    pub invoke_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<u64>,
}

impl From<&Operation> for OpSummary {
    fn from(op: &Operation) -> Self {
        OpSummary {
            process: op.process,
            f: op.f.to_string(),
            key: op.key.as_ref().map(|k| k.to_string()),
            value: op.input.to_json(),
            output: op.output.as_ref().map(|v| v.to_json()),
            invoke_index: op.call_index,
            invoke_time: op.call_time,
            complete_index: op.return_index,
            complete_time: op.return_time,
        }
    }
}

/// Why a history is not linearizable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The key (partition) that is not linearizable, for keyed models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The operation that cannot be linearized: its completion is the furthest point of the
    /// history any linearization reached.
    pub op: OpSummary,
    /// Operations whose interval overlaps it, in invocation order.
    pub concurrent: Vec<OpSummary>,
    /// The longest linearization found up to that point, in linearization order (empty when the
    /// explanation comes from the fast path alone).
    pub prefix: Vec<OpSummary>,
    /// The model's state after `prefix`; from the fast path alone, the state the op needed.
    pub state: Value,
    /// From the fast path alone: the operation it conflicts with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<OpSummary>,
    /// From the fast path alone (when the search could not finish within its explain budget):
    /// why the operation cannot be placed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How many operations of the prefix and of the concurrent set the text summary prints.
const SHOWN: usize = 8;

impl fmt::Display for OpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {} {} ", self.process, self.f)?;
        if let Some(key) = &self.key {
            write!(f, "key {key:?} ")?;
        }
        if !self.value.is_null() {
            write!(f, "{} ", self.value)?;
        }
        match (&self.output, self.complete_index) {
            (Some(out), Some(done)) => {
                write!(f, "-> ok ")?;
                if !out.is_null() {
                    write!(f, "{out} ")?;
                }
                write!(f, "(history index {}..{done})", self.invoke_index)
            }
            _ => write!(
                f,
                "-> pending (invoked at history index {})",
                self.invoke_index
            ),
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(key) = &self.key {
            writeln!(f, "key {key:?} is not linearizable.")?;
        }
        writeln!(f, "cannot linearize: {}", self.op)?;
        if let Some(reason) = &self.reason {
            writeln!(f, "because {reason}")?;
        }
        if let Some(conflict) = &self.conflict {
            writeln!(f, "conflicts with: {conflict}")?;
        }
        writeln!(
            f,
            "state after the longest linearization found ({} ops): {}",
            self.prefix.len(),
            self.state
        )?;
        let skipped = self.prefix.len().saturating_sub(SHOWN);
        if skipped > 0 {
            writeln!(f, "  ... {skipped} earlier ops")?;
        }
        for op in &self.prefix[skipped..] {
            writeln!(f, "  {op}")?;
        }
        writeln!(f, "concurrent with it ({}):", self.concurrent.len())?;
        for op in self.concurrent.iter().take(SHOWN) {
            writeln!(f, "  {op}")?;
        }
        if self.concurrent.len() > SHOWN {
            writeln!(f, "  ... {} more", self.concurrent.len() - SHOWN)?;
        }
        Ok(())
    }
}

/// Operations whose [invoke, complete] interval overlaps `target`'s (pending ones never end).
pub(crate) fn concurrent_with<'a>(
    target: &Operation,
    ops: impl IntoIterator<Item = &'a Operation>,
) -> Vec<OpSummary> {
    let end = |op: &Operation| op.return_index.unwrap_or(u64::MAX);
    ops.into_iter()
        .filter(|op| op.id != target.id)
        .filter(|op| op.call_index < end(target) && target.call_index < end(op))
        .map(OpSummary::from)
        .collect()
}
