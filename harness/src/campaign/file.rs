//! The campaign file: a name, defaults for every run, a matrix of replication × reads ×
//! workload × nemesis × nodes, seeds (or a repeat count) and expectations. Unknown keys are
//! errors, so a typo never silently runs the wrong campaign.

use serde::Deserialize;

use faultline_results::campaign::Expect;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignFile {
    pub name: String,
    #[serde(default)]
    pub defaults: Defaults,
    pub matrix: Matrix,
    /// Seeds to run every cell with.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// Or: run every cell this many times, with seeds 1, 2, ...
    #[serde(default)]
    pub repeat: Option<u64>,
    /// Rules, first match wins; cells no rule matches expect `any`.
    #[serde(default)]
    pub expect: Vec<ExpectRule>,
}

/// Flags of `faultline run` every cell shares (the same names, with `_` for `-`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub time_limit: Option<f64>,
    pub recovery: Option<f64>,
    pub concurrency: Option<usize>,
    pub rate: Option<f64>,
    pub keys: Option<usize>,
    pub max_writes_per_key: Option<u64>,
    pub fault_duration: Option<f64>,
    pub quiet_duration: Option<f64>,
    pub request_timeout: Option<u64>,
    pub network: Option<String>,
    pub targets: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub replication: Vec<String>,
    #[serde(default = "default_reads")]
    pub reads: Vec<String>,
    #[serde(default = "default_workload")]
    pub workload: Vec<String>,
    /// Each entry a comma-separated nemesis list (`kill,pause`), or `none`.
    #[serde(default = "default_nemesis")]
    pub nemesis: Vec<String>,
    #[serde(default = "default_nodes")]
    pub nodes: Vec<usize>,
}

fn default_reads() -> Vec<String> {
    vec!["read-index".into()]
}
fn default_workload() -> Vec<String> {
    vec!["register".into()]
}
fn default_nemesis() -> Vec<String> {
    vec!["none".into()]
}
fn default_nodes() -> Vec<usize> {
    vec![3]
}

/// `when` these matrix values (all given ones must match), expect `verdict`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRule {
    #[serde(default)]
    pub when: When,
    pub verdict: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub replication: Option<String>,
    pub reads: Option<String>,
    pub workload: Option<String>,
    pub nemesis: Option<String>,
    pub nodes: Option<usize>,
}
