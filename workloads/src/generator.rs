//! Seeded operation generators: the same spec and seed give the same operations.

use serde_json::Value;

use crate::workload::WorkloadSpec;

/// How keys are chosen.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum KeyDistribution {
    Uniform,
    /// Key `k` (from 0) chosen with probability proportional to `1 / (k + 1)^exponent`.
    Zipfian { exponent: f64 },
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

/// Produces invocations for one workload from a seed. Write values are unique across the run
/// (the checker's search is far faster when a read names the one write it saw).
pub struct Generator {
    spec: WorkloadSpec,
    rng: fastrand::Rng,
    next_value: u64,
}

impl Generator {
    pub fn new(spec: WorkloadSpec, seed: u64) -> Self {
        Generator {
            spec,
            rng: fastrand::Rng::with_seed(seed),
            next_value: 0,
        }
    }

    pub fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    /// The next operation.
    pub fn next_invocation(&mut self) -> Invocation {
        todo!("workloads helper: {:?} {}", self.spec.kind, self.rng.u64(..) + self.next_value)
    }

    /// The reads that end a run: one per key the run may have touched.
    pub fn final_reads(&self) -> Vec<Invocation> {
        todo!("workloads helper")
    }
}
