//! Seeded operation generators: the same spec and seed give the same operations.

mod keys;

use std::collections::VecDeque;

use serde_json::Value;

use crate::workload::{WorkloadKind, WorkloadSpec};
use keys::KeyChooser;

/// How keys are chosen.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum KeyDistribution {
    Uniform,
    /// Key `k` (from 0) chosen with probability proportional to `1 / (k + 1)^exponent`.
    Zipfian {
        exponent: f64,
    },
}

/// An operation to perform, before it is performed: what goes into the history's `invoke`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// `read`, `write`, `cas`, `append`, `add`.
    pub f: String,
    pub key: Option<String>,
    /// The argument: the value to write or append, `[from, to]` for cas, null for reads.
    pub value: Value,
}

/// How many values written per key a cas may pick its `from` among. A few, not one: with many
/// concurrent clients the very last invoked write is often not yet (or never) applied, and an
/// older value gives cas a fair chance; more than a few makes almost every cas a mismatch.
const RECENT_VALUES: usize = 3;

/// Produces invocations for one workload from a seed. Write values are unique across the run
/// and appended (added) elements unique per key (the checker's search is far faster when a read
/// names the one write it saw).
///
/// Clients are split into groups of `threads_per_key` consecutive workers (worker `w` is in
/// group `w / threads_per_key`; the last group may be smaller), as `jepsen.independent` does:
/// each group has key slots of its own, chosen by the key distribution, so no key is ever used
/// by more clients than a group holds, whatever the concurrency. A slot moves to a fresh,
/// never-used key once `ops_per_key` operations were invoked on its key, and (append, set) once
/// `max_writes_per_key` appends (adds) went to it, as Elle's list-append generator does:
/// neither a key's history nor a list (which every read carries) grows with the run.
///
/// Each group draws from its own seeded generator, numbers its keys `g, g + G, g + 2G, ...`
/// and its values `g + 1, g + 1 + G, ...` (`G` groups): a group's operations depend only on
/// the seed and the order its own workers ask, never on how the other groups interleave.
pub struct Generator {
    spec: WorkloadSpec,
    slots: KeyChooser,
    /// Consecutive workers per group.
    group_size: usize,
    groups: Vec<Group>,
}

/// One group of workers: its draws, its key slots and the keys and values it named so far.
struct Group {
    rng: fastrand::Rng,
    /// Values this group introduced so far; the next is `introduced * groups + index + 1`.
    introduced: u64,
    /// Keys this group named so far; the next is `keys_named * groups + index`.
    keys_named: usize,
    slots: Vec<Slot>,
}

/// A key slot: the key it names now and the last few values invoked on it as writes or cas
/// targets, newest last.
struct Slot {
    key: Key,
    recent: VecDeque<u64>,
}

/// A key of the run: its number (its name is derived from it), the operations invoked on it
/// and the appends (adds) it got.
#[derive(Debug, Clone, Copy)]
struct Key {
    id: usize,
    ops: u64,
    writes: u64,
}

/// Which operation to generate next, before its key and value are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Read,
    Write,
    Cas,
    Append,
    Add,
}

impl Generator {
    /// A generator for `workers` clients (worker indices `0..workers`).
    pub fn new(spec: WorkloadSpec, workers: usize, seed: u64) -> Self {
        let workers = workers.max(1);
        // No bound (`set`, old runs) or one larger than the concurrency: one group of everyone.
        let group_size = spec
            .threads_per_key
            .map_or(workers, |t| t.clamp(1, workers));
        let count = workers.div_ceil(group_size);
        let slot_count = slot_count(&spec);
        let groups = (0..count)
            .map(|g| {
                let mut group = Group {
                    rng: fastrand::Rng::with_seed(group_seed(seed, g)),
                    introduced: 0,
                    keys_named: 0,
                    slots: Vec::with_capacity(slot_count),
                };
                for _ in 0..slot_count {
                    let key = group.fresh_key(g, count);
                    group.slots.push(Slot {
                        key,
                        recent: VecDeque::new(),
                    });
                }
                group
            })
            .collect();
        Generator {
            slots: KeyChooser::new(slot_count, spec.key_distribution),
            group_size,
            groups,
            spec,
        }
    }

    pub fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    /// How many groups the workers form.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// The next operation of worker `worker` (a client loop's index, which stays the same when
    /// its process number changes after an `info`). An index past the workers given to `new`
    /// wraps around rather than failing.
    pub fn next_invocation(&mut self, worker: usize) -> Invocation {
        let count = self.groups.len();
        let g = (worker / self.group_size) % count;
        let k = self.slots.choose(&mut self.groups[g].rng);
        let op = match choose_op(&self.spec, &mut self.groups[g].rng) {
            // Nothing written to this key yet: a cas could only mismatch, so write instead (it
            // gives later cas operations something to compare with).
            OpKind::Cas if self.groups[g].slots[k].recent.is_empty() => OpKind::Write,
            op => op,
        };
        let group = &mut self.groups[g];
        let key = Some(key_name(self.spec.kind, group.slots[k].key.id));
        group.slots[k].key.ops += 1;
        let invocation = match op {
            OpKind::Read => Invocation {
                f: "read".into(),
                key,
                value: Value::Null,
            },
            OpKind::Write => {
                let v = group.fresh_value(g, count);
                group.slots[k].remember(v);
                Invocation {
                    f: "write".into(),
                    key,
                    value: Value::from(v),
                }
            }
            OpKind::Cas => {
                let from = group.recent_value(k).unwrap_or_default();
                let to = group.fresh_value(g, count);
                group.slots[k].remember(to);
                Invocation {
                    f: "cas".into(),
                    key,
                    value: Value::from(vec![from, to]),
                }
            }
            OpKind::Append => Invocation {
                f: "append".into(),
                key,
                value: Value::from(group.slots[k].next_element()),
            },
            OpKind::Add => Invocation {
                f: "add".into(),
                key,
                value: Value::from(group.slots[k].next_element()),
            },
        };
        if group.slots[k].key.is_done(&self.spec) {
            let key = group.fresh_key(g, count);
            group.slots[k] = Slot {
                key,
                recent: VecDeque::new(),
            };
        }
        invocation
    }

    /// The reads that end a run: one per key the run may have touched, retired keys included
    /// (only a final read can show that one of a retired key's last writes was lost).
    pub fn final_reads(&self) -> Vec<Invocation> {
        self.keys()
            .into_iter()
            .map(|key| Invocation {
                f: "read".into(),
                key: Some(key),
                value: Value::Null,
            })
            .collect()
    }

    /// Every key named so far (a fresh generator: the keys it starts with), in order of number.
    pub fn keys(&self) -> Vec<String> {
        let count = self.groups.len();
        let mut ids: Vec<usize> = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| (0..group.keys_named).map(move |j| j * count + g))
            .collect();
        ids.sort_unstable();
        ids.into_iter()
            .map(|id| key_name(self.spec.kind, id))
            .collect()
    }
}

impl Group {
    /// This group's next never-used key.
    fn fresh_key(&mut self, index: usize, groups: usize) -> Key {
        let id = self.keys_named * groups + index;
        self.keys_named += 1;
        Key {
            id,
            ops: 0,
            writes: 0,
        }
    }

    /// This group's next value, unique across the run, so any value read names one write.
    fn fresh_value(&mut self, index: usize, groups: usize) -> u64 {
        let v = self.introduced * groups as u64 + index as u64 + 1;
        self.introduced += 1;
        v
    }

    fn recent_value(&mut self, k: usize) -> Option<u64> {
        let recent = &self.slots[k].recent;
        if recent.is_empty() {
            return None;
        }
        let i = self.rng.usize(..recent.len());
        recent.get(i).copied()
    }
}

impl Key {
    /// Whether the key got all the operations (or, for lists, the appends) it may take.
    fn is_done(&self, spec: &WorkloadSpec) -> bool {
        let ops_done = spec.kind.groups_clients()
            && spec
                .ops_per_key
                .is_some_and(|max| max > 0 && self.ops >= max);
        let list_full = spec.kind.grows_lists()
            && spec
                .max_writes_per_key
                .is_some_and(|max| self.writes >= max);
        ops_done || list_full
    }
}

impl Slot {
    fn remember(&mut self, v: u64) {
        if self.recent.len() == RECENT_VALUES {
            self.recent.pop_front();
        }
        self.recent.push_back(v);
    }

    /// The element the slot's next append (add) carries: 1, 2, 3, ... per key, unique within
    /// the key as Elle's are, and short, since every read carries the list.
    fn next_element(&mut self) -> u64 {
        self.key.writes += 1;
        self.key.writes
    }
}

/// Group `g`'s seed: the run's seed for group 0 (one group draws as the generator always did),
/// spread by an odd constant for the others.
fn group_seed(seed: u64, g: usize) -> u64 {
    seed ^ (g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The `id`th key's name: `r0, r1, ...` for registers, `s0, s1, ...` for sets, `k0, k1, ...`
/// otherwise.
fn key_name(kind: WorkloadKind, id: usize) -> String {
    match kind {
        WorkloadKind::Register => format!("r{id}"),
        WorkloadKind::Set => format!("s{id}"),
        WorkloadKind::Kv | WorkloadKind::Append => format!("k{id}"),
    }
}

/// Which kind of operation comes next, by the spec's weights.
fn choose_op(s: &WorkloadSpec, rng: &mut fastrand::Rng) -> OpKind {
    let choices: Vec<(OpKind, u32)> = match s.kind {
        WorkloadKind::Register | WorkloadKind::Kv => vec![
            (OpKind::Read, s.read_weight),
            (OpKind::Write, s.write_weight),
            (OpKind::Cas, s.cas_weight),
        ],
        // The append workload has no cas: `write_weight` is the weight of appends.
        WorkloadKind::Append => vec![
            (OpKind::Read, s.read_weight),
            (OpKind::Append, s.write_weight),
        ],
        // The set workload reads only at the end (`final_reads`): reads in between would
        // need a set-over-time checker, and the set checker only compares the final read.
        WorkloadKind::Set => return OpKind::Add,
    };
    let total: u64 = choices.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        // All weights zero is a spec nobody means; an even mix is the least surprise and
        // keeps the generator total (it never has nothing to produce).
        let i = rng.usize(..choices.len());
        return choices[i].0;
    }
    let mut pick = rng.u64(..total);
    for (op, w) in &choices {
        let w = u64::from(*w);
        if pick < w {
            return *op;
        }
        pick -= w;
    }
    // Unreachable: `pick < total`, the sum of the weights.
    choices[choices.len() - 1].0
}

/// The key slots each group spreads over: one for `set`, `keys` otherwise (at least one).
fn slot_count(spec: &WorkloadSpec) -> usize {
    match spec.kind {
        WorkloadKind::Set => 1,
        WorkloadKind::Register | WorkloadKind::Kv | WorkloadKind::Append => spec.keys.max(1),
    }
}

#[cfg(test)]
mod tests;
