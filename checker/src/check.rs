//! The checker's entry points: a history and a model in, a verdict (with its explanation) out.
//! Partitions are checked in parallel across cores, largest first, within one shared budget.

use std::sync::Mutex;
use std::thread;

use serde::Serialize;
use serde_json::Value;

use crate::explain::{Explanation, OpSummary, concurrent_with};
use crate::history::{Event, Operation, pair_operations};
use crate::model::{
    KvAppend, Model, ModelError, ModelKind, MultiRegister, Mutex as MutexModel, Partition, Register,
};
use crate::search::budget::{Budget, Exhausted, SharedBudget};
use crate::search::{Outcome, check_partition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable,
    /// The budget ran out before the search could decide.
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Linearizable => "linearizable",
            Verdict::NotLinearizable => "not-linearizable",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The checker's answer for one history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub verdict: Verdict,
    /// Why the verdict is `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(serialize_with = "serialize_model")]
    pub model: ModelKind,
    /// Operations that constrain the search (invocations not ending in `fail`).
    pub operations: usize,
    /// Independent parts checked (keys, for keyed models).
    pub partitions: usize,
    /// Distinct configurations the search memoised.
    pub configurations: u64,
    /// The most memory the search held at once (memo, model state), in bytes.
    pub peak_memory_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

fn serialize_model<S: serde::Serializer>(model: &ModelKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(model.name())
}

/// Checks a history of events against `model`, starting from `init` (absent when `None`).
pub fn check_events(
    events: &[Event],
    model: ModelKind,
    init: Option<&Value>,
    budget: Budget,
) -> Result<CheckResult, ModelError> {
    check_operations(&pair_operations(events), model, init, budget)
}

/// Checks paired operations (`Operation::id` must be each operation's position in `ops`).
pub fn check_operations(
    ops: &[Operation],
    model: ModelKind,
    init: Option<&Value>,
    budget: Budget,
) -> Result<CheckResult, ModelError> {
    let budget = SharedBudget::new(budget);
    let found = match model {
        ModelKind::Register => run(Register::prepare(ops, init, false)?, ops, &budget),
        ModelKind::CasRegister | ModelKind::Kv => {
            run(Register::prepare(ops, init, true)?, ops, &budget)
        }
        ModelKind::KvAppend => run(KvAppend::prepare(ops)?, ops, &budget),
        ModelKind::MultiRegister => run(MultiRegister::prepare(ops, init)?, ops, &budget),
        ModelKind::Mutex => run(MutexModel::prepare(ops)?, ops, &budget),
    };
    let verdict = if found.not_linearizable {
        Verdict::NotLinearizable
    } else if found.exhausted.is_some() {
        Verdict::Unknown
    } else {
        Verdict::Linearizable
    };
    Ok(CheckResult {
        verdict,
        reason: (verdict == Verdict::Unknown)
            .then(|| found.exhausted.map(|e| e.to_string()))
            .flatten(),
        model,
        operations: ops.len(),
        partitions: found.partitions,
        configurations: found.configurations,
        peak_memory_bytes: budget.peak(),
        explanation: found.explanation,
    })
}

/// What the partitions of one history add up to.
struct Found {
    partitions: usize,
    /// Some partition is not linearizable (decides the verdict, explanation or not).
    not_linearizable: bool,
    configurations: u64,
    explanation: Option<Explanation>,
    exhausted: Option<Exhausted>,
}

/// One partition's outcome, with the model state already described (so it crosses threads).
enum PartitionOutcome {
    Linearizable(u64),
    NotLinearizable {
        key: Option<String>,
        blocked: usize,
        prefix: Vec<usize>,
        state: Value,
        configurations: u64,
    },
    Unknown(Exhausted),
    Cancelled,
}

fn check_one<M: Model>(partition: &Partition<M>, budget: &SharedBudget) -> PartitionOutcome {
    let id = |i: usize| partition.ops[i].id;
    match check_partition(partition, budget) {
        Outcome::Linearizable { configurations } => PartitionOutcome::Linearizable(configurations),
        Outcome::NotLinearizable {
            blocked,
            prefix,
            state,
            configurations,
        } => PartitionOutcome::NotLinearizable {
            key: partition.key.clone(),
            blocked: id(blocked),
            prefix: prefix.into_iter().map(id).collect(),
            state: partition.model.describe_state(&state),
            configurations,
        },
        Outcome::Unknown(exhausted) => PartitionOutcome::Unknown(exhausted),
        Outcome::Cancelled => PartitionOutcome::Cancelled,
    }
}

fn run<M>(mut partitions: Vec<Partition<M>>, ops: &[Operation], budget: &SharedBudget) -> Found
where
    M: Model + Send,
    M::Op: Send,
{
    let count = partitions.len();
    // Largest first, so the longest search starts at once and small ones fill the gaps.
    partitions.sort_by_key(|p| std::cmp::Reverse(p.ops.len()));
    let threads = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count);
    let outcomes: Vec<PartitionOutcome> = if threads <= 1 {
        partitions.iter().map(|p| check_one(p, budget)).collect()
    } else {
        let queue = Mutex::new(partitions.into_iter());
        let done = Mutex::new(Vec::with_capacity(count));
        thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        // A poisoned lock means another worker panicked; scope re-raises it.
                        let next = match queue.lock() {
                            Ok(mut q) => q.next(),
                            Err(_) => None,
                        };
                        let Some(partition) = next else { break };
                        let outcome = check_one(&partition, budget);
                        if let Ok(mut d) = done.lock() {
                            d.push(outcome);
                        }
                    }
                });
            }
        });
        done.into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    summarise(count, outcomes, ops)
}

fn summarise(partitions: usize, outcomes: Vec<PartitionOutcome>, ops: &[Operation]) -> Found {
    let lookup = |id: usize| -> Option<&Operation> {
        match ops.get(id) {
            Some(op) if op.id == id => Some(op),
            _ => ops.iter().find(|op| op.id == id),
        }
    };
    let mut found = Found {
        partitions,
        not_linearizable: false,
        configurations: 0,
        explanation: None,
        exhausted: None,
    };
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            PartitionOutcome::Linearizable(c) => found.configurations += c,
            PartitionOutcome::NotLinearizable {
                key,
                blocked,
                prefix,
                state,
                configurations,
            } => {
                found.configurations += configurations;
                failures.push((key, blocked, prefix, state));
            }
            PartitionOutcome::Unknown(e) => {
                found.configurations += match &e {
                    Exhausted::Time { configurations, .. }
                    | Exhausted::Memory { configurations, .. } => *configurations,
                };
                found.exhausted.get_or_insert(e);
            }
            PartitionOutcome::Cancelled => {}
        }
    }
    found.not_linearizable = !failures.is_empty();
    // Several keys may fail before the others are cancelled: explain the earliest failure.
    failures.sort_by_key(|(_, blocked, _, _)| lookup(*blocked).map(|op| op.call_index));
    found.explanation = failures
        .into_iter()
        .find_map(|(key, blocked, prefix, state)| {
            let target = lookup(blocked)?;
            let same_key = ops.iter().filter(|op| op.key == target.key);
            Some(Explanation {
                key,
                op: OpSummary::from(target),
                concurrent: concurrent_with(target, same_key),
                prefix: prefix
                    .into_iter()
                    .filter_map(lookup)
                    .map(OpSummary::from)
                    .collect(),
                state,
            })
        });
    found
}
