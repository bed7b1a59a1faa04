//! One night: a campaign run's summary.json read leniently — only what the trends use, every
//! field a newer faultline added defaulted, so that old summaries still read.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::campaign::{Provenance, Setup};

/// What the trends take from one run of a summary.json.
#[derive(Debug, Clone, Deserialize)]
pub struct NightRun {
    pub label: String,
    /// Absent before each run named its system: then the night's (its provenance's).
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// kvnode's two options, as summaries recorded them before runs carried `options`.
    #[serde(default)]
    pub replication: Option<String>,
    #[serde(default)]
    pub reads: Option<String>,
    pub workload: String,
    pub nemesis: String,
    /// Absent in summaries written before it was recorded: then read from the label.
    #[serde(default)]
    pub nodes: Option<usize>,
    /// The run's folder, relative to the night's folder.
    pub dir: String,
    pub verdict: String,
    /// `pass`, `fail` or `interrupted`.
    pub outcome: String,
    #[serde(default)]
    pub ops_per_s: Option<f64>,
    #[serde(default)]
    pub write_availability_during_faults: Option<f64>,
    #[serde(default)]
    pub write_p99_ms: Option<f64>,
    #[serde(default)]
    pub failover_s: Option<f64>,
}

impl NightRun {
    /// What the run ran; `system` is the night's, for runs that do not name their own.
    pub fn setup(&self, system: &str) -> Setup {
        let mut options = self.options.clone();
        for (name, value) in [("replication", &self.replication), ("reads", &self.reads)] {
            if let Some(value) = value {
                options
                    .entry(name.to_owned())
                    .or_insert_with(|| value.clone());
            }
        }
        Setup {
            system: self.system.clone().unwrap_or_else(|| system.to_owned()),
            options,
            workload: self.workload.clone(),
            nemesis: self.nemesis.clone(),
        }
    }

    /// The cluster's size: recorded, or the `-n<N>-` of a campaign label.
    pub fn node_count(&self) -> Option<usize> {
        self.nodes.or_else(|| {
            self.label
                .split('-')
                .rev()
                .find_map(|part| part.strip_prefix('n')?.parse().ok())
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
struct SummaryFile {
    #[serde(default)]
    provenance: Provenance,
    runs: Vec<NightRun>,
}

/// A night read: what it ran against and its runs.
#[derive(Debug, Clone)]
pub struct Night {
    pub stamp: String,
    pub provenance: Provenance,
    pub runs: Vec<NightRun>,
}

/// Reads a night's summary.json; the error says where and what was expected.
pub fn parse_night(stamp: &str, bytes: &[u8]) -> Result<Night, String> {
    let file: SummaryFile = serde_json::from_slice(bytes)
        .map_err(|e| format!("summary.json:{}:{}: {e}", e.line(), e.column()))?;
    Ok(Night {
        stamp: stamp.to_owned(),
        provenance: file.provenance,
        runs: file.runs,
    })
}
