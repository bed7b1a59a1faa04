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
/// The set workload's one key (a list the adds append to).
pub const SET_KEY: &str = "s";
/// How many values written per key a cas may pick its `from` among. A few, not one: with many
/// concurrent clients the very last invoked write is often not yet (or never) applied, and an
/// older value gives cas a fair chance; more than a few makes almost every cas a mismatch.
const RECENT_VALUES: usize = 3;

/// Produces invocations for one workload from a seed. Write values are unique across the run
/// (the checker's search is far faster when a read names the one write it saw).
pub struct Generator {
    spec: WorkloadSpec,
    rng: fastrand::Rng,
    next_value: u64,
    keys: KeyChooser,
    /// Per key index: the last few values invoked as writes or cas targets, newest last.
    recent: Vec<VecDeque<u64>>,
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
        let keys = KeyChooser::new(key_names(&spec), spec.key_distribution);
        let recent = vec![VecDeque::new(); keys.len()];
        Generator {
            spec,
            rng: fastrand::Rng::with_seed(seed),
            next_value: 0,
            keys,
            recent,
        }
    }

    pub fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    /// The next operation.
    pub fn next_invocation(&mut self) -> Invocation {
        let k = self.keys.choose(&mut self.rng);
        let op = match self.choose_op() {
            // Nothing written to this key yet: a cas could only mismatch, so write instead (it
            // gives later cas operations something to compare with).
            OpKind::Cas if self.recent[k].is_empty() => OpKind::Write,
            op => op,
        };
        let key = Some(self.keys.name(k).to_owned());
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
            OpKind::Append => {
                // Strings with a letter in front: kvnode lists hold scalars of either kind, and
                // "e" delimits elements if a checker ever joins a list into one string.
                let element = format!("e{}", self.fresh_value());
                Invocation {
                    f: "append".into(),
                    key,
                    value: Value::from(element),
                }
            }
            OpKind::Add => Invocation {
                f: "add".into(),
                key,
                value: Value::from(self.fresh_value()),
            },
        }
    }

    /// The reads that end a run: one per key the run may have touched.
    pub fn final_reads(&self) -> Vec<Invocation> {
        (0..self.keys.len())
            .map(|k| Invocation {
                f: "read".into(),
                key: Some(self.keys.name(k).to_owned()),
                value: Value::Null,
            })
            .collect()
    }

    /// Every key this generator may name, in order.
    pub fn keys(&self) -> Vec<String> {
        (0..self.keys.len())
            .map(|k| self.keys.name(k).to_owned())
            .collect()
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

    /// 1, 2, 3, ...: unique across the run whatever the op, so any value read names one write.
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

/// The keys a workload uses: one fixed key for `register` and `set`, `k0..k{n-1}` otherwise (at
/// least one).
fn key_names(spec: &WorkloadSpec) -> Vec<String> {
    match spec.kind {
        WorkloadKind::Register => vec![REGISTER_KEY.to_owned()],
        WorkloadKind::Set => vec![SET_KEY.to_owned()],
        WorkloadKind::Kv | WorkloadKind::Append => {
            (0..spec.keys.max(1)).map(|k| format!("k{k}")).collect()
        }
    }
}

#[cfg(test)]
mod tests;
