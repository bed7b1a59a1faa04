//! What a client is: something that performs one invocation at a time against a store and says
//! how it ended.

use std::future::Future;

use faultline_checker::history::EventType;
use serde_json::Value;

use crate::generator::Invocation;

/// How an invocation ended, as the history records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// `Ok`: it happened. `Fail`: it certainly did not happen. `Info`: it may have happened.
    pub kind: EventType,
    /// On `ok`: the value read for a read, nothing (null) for a set's add, the argument for
    /// every other operation (an append's element, not the list kvnode answers). On `fail` and
    /// `info`: the argument.
    pub value: Value,
    /// Why it failed or is indeterminate (`"not_leader"`, `"timeout"`, `"connection reset"`).
    pub error: Option<Value>,
    /// The node that answered (or that was asked last), by name (`n1`, see `NodeAddr::name`).
    pub node: Option<String>,
}

impl Completion {
    /// An invocation refused before anything was sent: it certainly did not happen.
    pub fn not_sent(invocation: &Invocation, why: String) -> Completion {
        Completion::of(invocation, EventType::Fail, Some(why), None)
    }

    /// An invocation ended as `kind` carrying its own argument (a `fail` or `info`, or an `ok`
    /// whose value is the argument).
    pub fn of(
        invocation: &Invocation,
        kind: EventType,
        error: Option<String>,
        node: Option<String>,
    ) -> Completion {
        Completion {
            kind,
            value: invocation.value.clone(),
            error: error.map(Value::from),
            node,
        }
    }
}

/// A client of the store under test. One client performs one invocation at a time (a Jepsen
/// process); a harness runs many clients concurrently.
pub trait Client: Send {
    fn invoke(&mut self, invocation: &Invocation) -> impl Future<Output = Completion> + Send;
}
