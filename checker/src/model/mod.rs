//! Models: what a correct sequential object does. Each model turns a history's operations into
//! partitions of compact, model-specific operations (P-compositionality: keys are independent
//! wherever the model allows it) and steps its state through them.

mod append;
mod kind;
mod multi_register;
mod mutex;
mod register;
mod values;

use std::hash::Hash;

use serde_json::Value;

pub(crate) use append::AppendOp;
pub use append::KvAppend;
pub use kind::ModelKind;
pub use multi_register::MultiRegister;
pub use mutex::Mutex;
pub use register::Register;
pub(crate) use register::RegisterOp;

/// A sequential specification, as the search sees it.
pub trait Model {
    /// The object's state. Memoised with the set of linearized operations, so keep it small.
    type State: Clone + Eq + Hash;
    /// One prepared operation: input and, when completed, output. Equal ops step alike (the
    /// search linearizes equal pending ops in call order only: they are interchangeable).
    type Op: PartialEq;

    fn init(&self) -> Self::State;

    /// Whether `op` leaves the state as it is wherever it can happen (a read). The search then
    /// linearizes it as soon as it can without trying the alternatives (search/mod.rs), so this
    /// must never be true of an op that can change the state.
    fn read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// The state after `op`, or `None` when `op` cannot happen in `state`.
    /// A pending operation (no `ok` completion) is stepped as "it took effect here".
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// Heap bytes one state holds beyond its inline size, for the memory budget.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }

    /// Bytes the model holds beyond the states themselves (interned values), for the memory budget.
    fn extra_bytes(&self) -> usize {
        0
    }

    /// The state as JSON, for explanations.
    fn describe_state(&self, state: &Self::State) -> Value;

    /// Called once before the search takes the partition of `ops` (not when the fast path
    /// decides it): work that only the search needs, such as kv-append's order reads reveal.
    fn prepare_search(&mut self, _ops: &[SearchOp<Self::Op>]) {}

    /// Whether `step` refuses some places for an op only because a read elsewhere rules them
    /// out (kv-append's order reads reveal). The verdict is the same with or without it, but a
    /// failed search then blames the op refused early rather than the read that cannot be
    /// linearized, which is what a reader needs to see: the search that explains a failure
    /// turns it off (`stop_read_pruning`).
    fn prunes_by_reads(&self) -> bool {
        false
    }

    /// Steps from here on without the pruning `prunes_by_reads` describes.
    fn stop_read_pruning(&self) {}
}

/// One operation prepared for the search.
#[derive(Debug, Clone)]
pub struct SearchOp<O> {
    /// The `Operation::id` it came from.
    pub id: usize,
    /// History index of the invocation.
    pub call: u64,
    /// History index of the `ok` completion; `None` when pending.
    pub ret: Option<u64>,
    pub op: O,
}

/// The operations of one independent part of a history (one key, for keyed models).
pub struct Partition<M: Model> {
    pub key: Option<String>,
    pub model: M,
    pub ops: Vec<SearchOp<M::Op>>,
}

/// Why a history does not fit a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("operation invoked at history index {index}: {message}")]
    BadOperation { index: u64, message: String },
    #[error("initial value: {0}")]
    BadInit(String),
}

impl ModelError {
    pub(crate) fn bad_op(op: &crate::history::Operation, message: impl Into<String>) -> Self {
        ModelError::BadOperation {
            index: op.call_index,
            message: message.into(),
        }
    }
}

/// Groups operations by key, in order of first appearance, keeping history order inside a key.
pub(crate) fn group_by_key(
    ops: &[crate::history::Operation],
) -> Vec<(Option<String>, Vec<&crate::history::Operation>)> {
    let mut index: std::collections::HashMap<Option<&str>, usize> = Default::default();
    let mut groups: Vec<(Option<String>, Vec<&crate::history::Operation>)> = Vec::new();
    for op in ops {
        let slot = *index.entry(op.key.as_deref()).or_insert_with(|| {
            groups.push((op.key.as_deref().map(str::to_owned), Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(op);
    }
    groups
}

pub(crate) fn search_op<O>(op: &crate::history::Operation, prepared: O) -> SearchOp<O> {
    SearchOp {
        id: op.id,
        call: op.call_index,
        ret: op.return_index,
        op: prepared,
    }
}
