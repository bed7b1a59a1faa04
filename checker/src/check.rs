//! The checker's entry points: a history and a model in, a verdict (with its explanation) out.
//! Each partition goes to the polynomial fast path when its values identify its writes
//! (`fast/`), to the search otherwise; searched partitions are checked in parallel across cores,
//! largest first, within one shared budget. A partition the fast path finds not linearizable is
//! searched once more, alone and within a small budget, only to explain it.

use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::explain::{Explanation, OpSummary, concurrent_with};
use crate::fast::{self, Fast, Witness};
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

/// How partitions are checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// The fast path (read mapping for registers, version order for list appends) wherever
    /// values identify writes, the search everywhere else.
    #[default]
    Auto,
    /// The Wing–Gong–Lowe search for every partition.
    Search,
}

impl Method {
    pub const ALL: [Method; 2] = [Method::Auto, Method::Search];

    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Search => "search",
        }
    }
}

impl FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown method \"{s}\"; expected auto or search"))
    }
}

/// How many partitions each method decided (a partition left unknown, or not checked because
/// another was found not linearizable first, counts in neither).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Decided {
    /// By the fast path: read mapping (registers) or version order (list appends).
    pub fast: usize,
    /// By the Wing–Gong–Lowe search.
    pub search: usize,
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
    /// Distinct configurations the search memoised (the search that explains a fast-path
    /// failure included).
    pub configurations: u64,
    /// The most memory the search held at once (memo, model state), in bytes; the fast path holds
    /// none of it.
    pub peak_memory_bytes: usize,
    /// How many partitions each method decided.
    pub decided: Decided,
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

/// `check_events` with a chosen method.
pub fn check_events_with(
    events: &[Event],
    model: ModelKind,
    init: Option<&Value>,
    budget: Budget,
    method: Method,
) -> Result<CheckResult, ModelError> {
    check_operations_with(&pair_operations(events), model, init, budget, method)
}

/// Checks paired operations (`Operation::id` must be each operation's position in `ops`).
pub fn check_operations(
    ops: &[Operation],
    model: ModelKind,
    init: Option<&Value>,
    budget: Budget,
) -> Result<CheckResult, ModelError> {
    check_operations_with(ops, model, init, budget, Method::Auto)
}

/// The explanation search of a partition the fast path found not linearizable stops at the
/// caller's budget or at these, whichever is smaller: the verdict is already known.
const EXPLAIN_TIME: Duration = Duration::from_secs(10);
const EXPLAIN_MEMORY: usize = 1 << 30;
/// The search that only moves a failure's blame from an append to a read (`search_one`) stops
/// sooner: the failure is already explained, only less directly.
const REBLAME_TIME: Duration = Duration::from_secs(1);

/// `check_operations` with a chosen method.
pub fn check_operations_with(
    ops: &[Operation],
    model: ModelKind,
    init: Option<&Value>,
    budget: Budget,
    method: Method,
) -> Result<CheckResult, ModelError> {
    let explain = Budget {
        timeout: Some(budget.timeout.map_or(EXPLAIN_TIME, |t| t.min(EXPLAIN_TIME))),
        memory_limit: Some(
            budget
                .memory_limit
                .map_or(EXPLAIN_MEMORY, |m| m.min(EXPLAIN_MEMORY)),
        ),
    };
    let budget = SharedBudget::new(budget);
    let ctx = Context {
        ops,
        budget: &budget,
        explain,
        method,
        explain_peak: AtomicUsize::new(0),
    };
    let found = match model {
        ModelKind::Register => ctx.run(Register::prepare(ops, init, false)?, fast::register::check),
        ModelKind::CasRegister | ModelKind::Kv => {
            ctx.run(Register::prepare(ops, init, true)?, fast::register::check)
        }
        ModelKind::KvAppend => ctx.run(KvAppend::prepare(ops)?, |p| fast::append::check(p, ops)),
        ModelKind::MultiRegister => {
            ctx.run(MultiRegister::prepare(ops, init)?, |_| Fast::NotApplicable)
        }
        ModelKind::Mutex => ctx.run(MutexModel::prepare(ops)?, |_| Fast::NotApplicable),
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
        peak_memory_bytes: budget.peak().max(found.explain_peak),
        decided: found.decided,
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
    decided: Decided,
    /// The most memory the explanation search held, when there was one.
    explain_peak: usize,
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

/// What every partition of one history is checked with.
struct Context<'a> {
    ops: &'a [Operation],
    budget: &'a SharedBudget,
    /// The budget of the search that explains a fast-path failure.
    explain: Budget,
    /// `Method::Search` sends every partition to the search.
    method: Method,
    /// The largest peak of the searches that explained a failure found with read pruning.
    explain_peak: AtomicUsize,
}

impl Context<'_> {
    /// Checks each partition with `fast` where it applies (and the method allows it) and searches
    /// the others.
    fn run<M, F>(&self, partitions: Vec<Partition<M>>, fast: F) -> Found
    where
        M: Model + Send,
        M::Op: Send,
        F: Fn(&Partition<M>) -> Fast,
    {
        let count = partitions.len();
        let mut searched = Vec::with_capacity(count);
        let mut decided_fast = 0;
        let mut failure: Option<(Partition<M>, Witness)> = None;
        for partition in partitions {
            let decided = match self.method {
                Method::Auto => fast(&partition),
                Method::Search => Fast::NotApplicable,
            };
            match decided {
                Fast::NotApplicable => searched.push(partition),
                Fast::Linearizable => decided_fast += 1,
                Fast::NotLinearizable(witness) => {
                    decided_fast += 1;
                    // Explain the failure that shows earliest in the history.
                    let call = |(p, w): &(Partition<M>, Witness)| p.ops[w.op].call;
                    let candidate = (partition, witness);
                    if failure.as_ref().is_none_or(|f| call(&candidate) < call(f)) {
                        failure = Some(candidate);
                    }
                }
            }
        }
        if let Some((partition, witness)) = failure {
            // The verdict is decided; the other partitions need no search.
            return self.explain_fast(count, decided_fast, &partition, &witness);
        }
        let mut found = self.search(count, searched);
        found.decided.fast = decided_fast;
        found
    }

    /// The search's explanation of a partition the fast path found not linearizable, or, when the
    /// search cannot finish within the explain budget (or disagrees, which would be a bug), one
    /// built from the fast path's witness. The verdict stays "not linearizable" either way.
    fn explain_fast<M: Model>(
        &self,
        partitions: usize,
        decided_fast: usize,
        partition: &Partition<M>,
        witness: &Witness,
    ) -> Found {
        let budget = SharedBudget::new(self.explain);
        partition.model.stop_read_pruning();
        let outcome = check_one(partition, &budget);
        let mut configurations = 0;
        let searched = match outcome {
            PartitionOutcome::NotLinearizable {
                key,
                blocked,
                prefix,
                state,
                configurations: c,
            } => {
                configurations = c;
                explain_failure(key, blocked, prefix, state, self.ops)
            }
            PartitionOutcome::Linearizable(c) => {
                debug_assert!(false, "the search and the fast path disagree");
                configurations = c;
                None
            }
            PartitionOutcome::Unknown(_) | PartitionOutcome::Cancelled => None,
        };
        let explanation = searched.or_else(|| explain_witness(partition, witness, self.ops));
        Found {
            partitions,
            not_linearizable: true,
            configurations,
            explanation,
            exhausted: None,
            decided: Decided {
                fast: decided_fast,
                search: 0,
            },
            explain_peak: budget.peak(),
        }
    }

    fn search<M>(&self, count: usize, mut partitions: Vec<Partition<M>>) -> Found
    where
        M: Model + Send,
        M::Op: Send,
    {
        for p in &mut partitions {
            p.model.prepare_search(&p.ops);
        }
        // Largest first, so the longest search starts at once and small ones fill the gaps.
        partitions.sort_by_key(|p| std::cmp::Reverse(p.ops.len()));
        let threads = thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(partitions.len());
        let outcomes: Vec<PartitionOutcome> = if threads <= 1 {
            partitions.iter().map(|p| self.search_one(p)).collect()
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
                            let outcome = self.search_one(&partition);
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
        let mut found = summarise(count, outcomes, self.ops);
        found.explain_peak = self.explain_peak.load(Ordering::Relaxed);
        found
    }

    /// Searches one partition. A failure found with the model's read pruning on, blamed on an op
    /// that changes the state (an append the pruning refused early), is searched again without
    /// it so that the blame falls where a reader looks: the read that cannot be linearized. That
    /// second search only moves the blame, so it gets at most `REBLAME_TIME`; if it cannot
    /// finish, the first explanation stands. The verdict is the first search's.
    fn search_one<M: Model>(&self, partition: &Partition<M>) -> PartitionOutcome {
        let outcome = check_one(partition, self.budget);
        let PartitionOutcome::NotLinearizable {
            configurations,
            blocked,
            ..
        } = outcome
        else {
            return outcome;
        };
        let model = &partition.model;
        let blames_a_read = partition
            .ops
            .iter()
            .find(|op| op.id == blocked)
            .is_none_or(|op| model.read_only(&op.op));
        if blames_a_read || !model.prunes_by_reads() {
            return outcome;
        }
        model.stop_read_pruning();
        let budget = SharedBudget::new(Budget {
            timeout: Some(
                self.explain
                    .timeout
                    .map_or(REBLAME_TIME, |t| t.min(REBLAME_TIME)),
            ),
            ..self.explain
        });
        let mut again = check_one(partition, &budget);
        self.explain_peak
            .fetch_max(budget.peak(), Ordering::Relaxed);
        match &mut again {
            PartitionOutcome::NotLinearizable {
                configurations: more,
                ..
            } => {
                *more += configurations;
                again
            }
            _ => outcome,
        }
    }
}

fn summarise(partitions: usize, outcomes: Vec<PartitionOutcome>, ops: &[Operation]) -> Found {
    let mut found = Found {
        partitions,
        not_linearizable: false,
        configurations: 0,
        explanation: None,
        exhausted: None,
        decided: Decided::default(),
        explain_peak: 0,
    };
    let mut failures = Vec::new();
    for outcome in outcomes {
        if matches!(
            outcome,
            PartitionOutcome::Linearizable(_) | PartitionOutcome::NotLinearizable { .. }
        ) {
            found.decided.search += 1;
        }
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
    failures
        .sort_by_key(|(_, blocked, _, _)| fast::operation(ops, *blocked).map(|op| op.call_index));
    found.explanation = failures
        .into_iter()
        .find_map(|(key, blocked, prefix, state)| {
            explain_failure(key, blocked, prefix, state, ops)
        });
    found
}

/// The search's explanation: the blocked op (by `Operation::id`), the ops concurrent with it and
/// the longest linearization found.
fn explain_failure(
    key: Option<String>,
    blocked: usize,
    prefix: Vec<usize>,
    state: Value,
    ops: &[Operation],
) -> Option<Explanation> {
    let target = fast::operation(ops, blocked)?;
    let same_key = ops.iter().filter(|op| op.key == target.key);
    Some(Explanation {
        key,
        op: OpSummary::from(target),
        concurrent: concurrent_with(target, same_key),
        prefix: prefix
            .into_iter()
            .filter_map(|id| fast::operation(ops, id))
            .map(OpSummary::from)
            .collect(),
        state,
        conflict: None,
        reason: None,
    })
}

/// An explanation from the fast path's witness alone: the op that cannot be placed, the op it
/// conflicts with, the state it needed and why, in words.
fn explain_witness<M: Model>(
    partition: &Partition<M>,
    witness: &Witness,
    ops: &[Operation],
) -> Option<Explanation> {
    let target = fast::operation(ops, partition.ops.get(witness.op)?.id)?;
    let same_key = ops.iter().filter(|op| op.key == target.key);
    let conflict = witness
        .conflict
        .and_then(|c| partition.ops.get(c))
        .and_then(|c| fast::operation(ops, c.id))
        .map(OpSummary::from);
    Some(Explanation {
        key: partition.key.clone(),
        op: OpSummary::from(target),
        concurrent: concurrent_with(target, same_key),
        prefix: Vec::new(),
        state: witness.needed.clone(),
        conflict,
        reason: Some(witness.why.clone()),
    })
}
