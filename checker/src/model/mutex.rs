//! A lock: `acquire` succeeds only when the lock is free, `release` only when it is held.
//! Checked key by key when operations carry keys (several independent locks).

use serde_json::Value;

use super::{Model, ModelError, Partition, group_by_key, search_op};
use crate::history::Operation;

#[derive(Debug, Clone, Default)]
pub struct Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutexOp {
    Acquire,
    Release,
}

impl Model for Mutex {
    /// Whether the lock is held.
    type State = bool;
    type Op = MutexOp;

    fn init(&self) -> bool {
        false
    }

    fn step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        match op {
            MutexOp::Acquire => (!held).then_some(true),
            MutexOp::Release => held.then_some(false),
        }
    }

    fn describe_state(&self, held: &bool) -> Value {
        Value::from(if *held { "held" } else { "free" })
    }
}

impl Mutex {
    pub(crate) fn prepare(ops: &[Operation]) -> Result<Vec<Partition<Mutex>>, ModelError> {
        group_by_key(ops)
            .into_iter()
            .map(|(key, ops)| {
                let prepared = ops
                    .into_iter()
                    .map(|op| {
                        let m = match op.f.as_str() {
                            "acquire" => MutexOp::Acquire,
                            "release" => MutexOp::Release,
                            other => {
                                return Err(ModelError::bad_op(
                                    op,
                                    format!(
                                        "expected f to be acquire or release, found \"{other}\""
                                    ),
                                ));
                            }
                        };
                        Ok(search_op(op, m))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Partition {
                    key,
                    model: Mutex,
                    ops: prepared,
                })
            })
            .collect()
    }
}
