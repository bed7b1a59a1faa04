//! The campaign file: a name, defaults for every run, a matrix of replication × reads ×
//! workload × nemesis × nodes, seeds (or a repeat count) and expectations. Unknown keys are
//! errors, so a typo never silently runs the wrong campaign.

use std::marker::PhantomData;

use serde::{Deserialize, Deserializer};

use faultline_nemeses::{FaultKind, Target};
use faultline_results::campaign::Expect;
use faultline_workloads::WorkloadKind;

use crate::network::Requested;
use crate::run::{READ_MODES, REPLICATION_MODES};

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
    pub concurrency: Option<AtLeastOne>,
    pub rate: Option<f64>,
    pub keys: Option<AtLeastOne>,
    pub threads_per_key: Option<AtLeastOne>,
    /// 0: one key per slot for the whole run.
    pub ops_per_key: Option<u64>,
    pub max_writes_per_key: Option<AtLeastOne>,
    pub fault_duration: Option<f64>,
    pub quiet_duration: Option<f64>,
    pub request_timeout: Option<u64>,
    pub network: Option<Checked<Network>>,
    pub hosts: Option<Checked<Hosts>>,
    /// The inventory of `hosts: ssh`, relative to the campaign file.
    pub inventory: Option<std::path::PathBuf>,
    pub targets: Option<Checked<Targets>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub replication: Vec<Checked<Replication>>,
    #[serde(default = "default_reads")]
    pub reads: Vec<Checked<Reads>>,
    #[serde(default = "default_workload")]
    pub workload: Vec<Checked<Workload>>,
    /// Each entry a comma-separated nemesis list (`kill,pause`), or `none`.
    #[serde(default = "default_nemesis")]
    pub nemesis: Vec<Checked<Nemesis>>,
    #[serde(default = "default_nodes")]
    pub nodes: Vec<usize>,
}

fn default_reads() -> Vec<Checked<Reads>> {
    vec![Checked::known("read-index")]
}
fn default_workload() -> Vec<Checked<Workload>> {
    vec![Checked::known("register")]
}
fn default_nemesis() -> Vec<Checked<Nemesis>> {
    vec![Checked::known("none")]
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
    pub replication: Option<Checked<Replication>>,
    pub reads: Option<Checked<Reads>>,
    pub workload: Option<Checked<Workload>>,
    pub nemesis: Option<Checked<Nemesis>>,
    pub nodes: Option<usize>,
}

/// A value that must name something faultline knows (a replication mode, a nemesis list, ...).
/// It is checked while the file is read, so an unknown one is reported at its own line and
/// column, in the words `faultline run` uses for the same mistake. A typo in an expectation's
/// `when` is caught the same way (it would otherwise silently match nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<K> {
    value: String,
    kind: PhantomData<K>,
}

/// What a [`Checked`] value must be.
pub trait Known {
    fn check(value: &str) -> Result<(), String>;
}

impl<K> Checked<K> {
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// A default written in this file, known to be valid.
    fn known(value: &str) -> Self {
        Checked {
            value: value.to_owned(),
            kind: PhantomData,
        }
    }
}

impl<'de, K: Known> Deserialize<'de> for Checked<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CheckedVisitor(PhantomData))
    }
}

/// Checks inside the visitor rather than after `String::deserialize`: an error raised while the
/// scalar is being read carries the scalar's own position, one raised after it only the
/// position of the sequence or map around it.
struct CheckedVisitor<K>(PhantomData<K>);

impl<K: Known> serde::de::Visitor<'_> for CheckedVisitor<K> {
    type Value = Checked<K>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        K::check(value).map_err(E::custom)?;
        Ok(Checked::known(value))
    }
}

fn one_of(what: &str, value: &str, names: &[&str]) -> Result<(), String> {
    if names.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "unknown {what} \"{value}\"; expected one of {}",
            names.join(", ")
        ))
    }
}

/// A count that must be at least 1 (clients, keys, clients per key, appends per key), checked
/// while the file is read like a [`Checked`] value, so a 0 is reported at its own line and
/// column rather than as a flag of the cell it ends up in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtLeastOne(pub u64);

impl<'de> Deserialize<'de> for AtLeastOne {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_u64(AtLeastOneVisitor)
    }
}

struct AtLeastOneVisitor;

impl serde::de::Visitor<'_> for AtLeastOneVisitor {
    type Value = AtLeastOne;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number, at least 1")
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
        if value == 0 {
            return Err(E::custom("expected at least 1, found 0"));
        }
        Ok(AtLeastOne(value))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Err(E::custom(format!("expected at least 1, found {value}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replication;
impl Known for Replication {
    fn check(value: &str) -> Result<(), String> {
        one_of("replication mode", value, &REPLICATION_MODES)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reads;
impl Known for Reads {
    fn check(value: &str) -> Result<(), String> {
        one_of("read mode", value, &READ_MODES)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workload;
impl Known for Workload {
    fn check(value: &str) -> Result<(), String> {
        value.parse::<WorkloadKind>().map(drop)
    }
}

/// A comma-separated list of faults, or `none`.
#[derive(Debug, Clone, PartialEq)]
pub struct Nemesis;
impl Known for Nemesis {
    fn check(value: &str) -> Result<(), String> {
        value
            .split(',')
            .filter(|n| !n.is_empty() && *n != "none")
            .try_for_each(|n| n.parse::<FaultKind>().map(drop))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network;
impl Known for Network {
    fn check(value: &str) -> Result<(), String> {
        value.parse::<Requested>().map(drop)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hosts;
impl Known for Hosts {
    fn check(value: &str) -> Result<(), String> {
        value.parse::<crate::hosts::HostKind>().map(drop)
    }
}

/// A comma-separated list of fault targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets;
impl Known for Targets {
    fn check(value: &str) -> Result<(), String> {
        value
            .split(',')
            .try_for_each(|t| t.parse::<Target>().map(drop))
    }
}
