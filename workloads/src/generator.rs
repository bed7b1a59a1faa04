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

/// The register workload's one key.
pub const REGISTER_KEY: &str = "r";
/// How many values written per key a cas may pick its `from` among. A few, not one: with many
/// concurrent clients the very last invoked write is often not yet (or never) applied, and an
/// older value gives cas a fair chance; more than a few makes almost every cas a mismatch.
const RECENT_VALUES: usize = 3;

/// Produces invocations for one workload from a seed. Write values are unique across the run
/// and appended (added) elements unique per key (the checker's search is far faster when a read
/// names the one write it saw).
///
/// Operations go to key *slots*, chosen by the key distribution. A slot of the register and kv
/// workloads is one key for the whole run. A slot of the append and set workloads moves to a
/// fresh key once `max_writes_per_key` appends (adds) went to its key, as Elle's list-append
/// generator does: a list never outgrows the bound, so reads (which carry the list) and every
/// step of the store's and the checker's work stay the same size however long the run.
pub struct Generator {
    spec: WorkloadSpec,
    rng: fastrand::Rng,
    next_value: u64,
    slots: KeyChooser,
    /// Per slot: the key it names now.
    slot_key: Vec<Key>,
    /// Keys named so far; a fresh key takes the next number.
    keys_used: usize,
    /// Per slot: the last few values invoked as writes or cas targets, newest last.
    recent: Vec<VecDeque<u64>>,
}

/// A key of the run: its number (its name is derived from it) and the appends (adds) it got.
#[derive(Debug, Clone, Copy)]
struct Key {
    id: usize,
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
    pub fn new(spec: WorkloadSpec, seed: u64) -> Self {
        let n = slot_count(&spec);
        Generator {
            rng: fastrand::Rng::with_seed(seed),
            next_value: 0,
            slots: KeyChooser::new(n, spec.key_distribution),
            slot_key: (0..n).map(|id| Key { id, writes: 0 }).collect(),
            keys_used: n,
            recent: vec![VecDeque::new(); n],
            spec,
        }
    }

    pub fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    /// The next operation.
    pub fn next_invocation(&mut self) -> Invocation {
        let k = self.slots.choose(&mut self.rng);
        let op = match self.choose_op() {
            // Nothing written to this key yet: a cas could only mismatch, so write instead (it
            // gives later cas operations something to compare with).
            OpKind::Cas if self.recent[k].is_empty() => OpKind::Write,
            op => op,
        };
        let key = Some(self.key_name(self.slot_key[k].id));
        match op {
            OpKind::Read => Invocation {
                f: "read".into(),
                key,
                value: Value::Null,
            },
            OpKind::Write => {
                let v = self.fresh_value();
                self.remember(k, v);
                Invocation {
                    f: "write".into(),
                    key,
                    value: Value::from(v),
                }
            }
            OpKind::Cas => {
                let from = self.recent_value(k).unwrap_or_default();
                let to = self.fresh_value();
                self.remember(k, to);
                Invocation {
                    f: "cas".into(),
                    key,
                    value: Value::from(vec![from, to]),
                }
            }
            OpKind::Append => Invocation {
                f: "append".into(),
                key,
                value: Value::from(self.next_element(k)),
            },
            OpKind::Add => Invocation {
                f: "add".into(),
                key,
                value: Value::from(self.next_element(k)),
            },
        }
    }

    /// The reads that end a run: one per key the run may have touched, retired keys included
    /// (only a final read can show that one of a retired key's last appends was lost).
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

    /// Every key named so far (a fresh generator: the keys it starts with), in order.
    pub fn keys(&self) -> Vec<String> {
        (0..self.keys_used).map(|id| self.key_name(id)).collect()
    }

    /// The `id`th key's name: the register's one key, `s0, s1, ...` for sets, `k0, k1, ...`
    /// otherwise.
    fn key_name(&self, id: usize) -> String {
        match self.spec.kind {
            WorkloadKind::Register => REGISTER_KEY.to_owned(),
            WorkloadKind::Set => format!("s{id}"),
            WorkloadKind::Kv | WorkloadKind::Append => format!("k{id}"),
        }
    }

    /// The element slot `k`'s next append (add) carries: 1, 2, 3, ... per key, unique within
    /// the key as Elle's are, and short, since every read carries the list. A key that got its
    /// last allowed element leaves the slot, which takes a fresh key.
    fn next_element(&mut self, k: usize) -> u64 {
        let key = &mut self.slot_key[k];
        key.writes += 1;
        let element = key.writes;
        if self
            .spec
            .max_writes_per_key
            .is_some_and(|max| key.writes >= max)
        {
            self.slot_key[k] = Key {
                id: self.keys_used,
                writes: 0,
            };
            self.keys_used += 1;
        }
        element
    }

    fn choose_op(&mut self) -> OpKind {
        let s = &self.spec;
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
            let i = self.rng.usize(..choices.len());
            return choices[i].0;
        }
        let mut pick = self.rng.u64(..total);
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

    /// 1, 2, 3, ...: unique across the run, so any value read names one write.
    fn fresh_value(&mut self) -> u64 {
        self.next_value += 1;
        self.next_value
    }

    fn remember(&mut self, k: usize, v: u64) {
        let recent = &mut self.recent[k];
        if recent.len() == RECENT_VALUES {
            recent.pop_front();
        }
        recent.push_back(v);
    }

    fn recent_value(&mut self, k: usize) -> Option<u64> {
        let recent = &self.recent[k];
        if recent.is_empty() {
            return None;
        }
        let i = self.rng.usize(..recent.len());
        recent.get(i).copied()
    }
}

/// The key slots a workload spreads over: one for `register` and `set`, `keys` otherwise (at
/// least one).
fn slot_count(spec: &WorkloadSpec) -> usize {
    match spec.kind {
        WorkloadKind::Register | WorkloadKind::Set => 1,
        WorkloadKind::Kv | WorkloadKind::Append => spec.keys.max(1),
    }
}

#[cfg(test)]
mod tests;
