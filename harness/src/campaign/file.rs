//! The campaign file: a name, defaults for every run, a matrix of system × any of their options
//! (replication, reads, ...) × workload × nemesis × nodes, seeds (or a repeat count) and
//! expectations. Unknown keys are errors (in the matrix and in `when`, any other key is an
//! option, checked against the systems), so a typo never silently runs the wrong campaign.

use std::marker::PhantomData;

use serde::{Deserialize, Deserializer};

use faultline_nemeses::{FaultKind, Target};
use faultline_results::campaign::Expect;
use faultline_workloads::WorkloadKind;

use crate::network::Requested;

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
    /// Option values every cell of a system with that option gets (`opt: {reads: lease}`);
    /// an axis of the matrix overrides it.
    #[serde(default)]
    pub opt: crate::system::definition::Ordered<String>,
}

/// The axes crossed: systems, workloads, nemeses, node counts, and any option of the systems
/// (every other key: `replication`, `reads`, ...). Each system runs the values of the option
/// axes it has that it accepts; an axis none of its systems has, or a value none accepts, is an
/// error.
#[derive(Debug)]
pub struct Matrix {
    /// Built-in names or definition files (relative to the campaign file).
    pub system: Vec<String>,
    pub workload: Vec<Checked<Workload>>,
    /// Each entry a comma-separated nemesis list (`kill,pause`), or `none`.
    pub nemesis: Vec<Checked<Nemesis>>,
    pub nodes: Vec<usize>,
    /// Option axes in the order written: name → values.
    pub options: Vec<(String, Vec<Checked<OptionValue>>)>,
}

impl<'de> Deserialize<'de> for Matrix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MatrixVisitor)
    }
}

/// Reads the known keys with their types and every other key as an option axis, value by
/// value from the YAML itself, so an error still names its line and column.
struct MatrixVisitor;

impl<'de> serde::de::Visitor<'de> for MatrixVisitor {
    type Value = Matrix;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping of axes to their values")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Matrix, A::Error> {
        let mut m = Matrix {
            system: vec![crate::system::DEFAULT_SYSTEM.to_owned()],
            workload: default_workload(),
            nemesis: default_nemesis(),
            nodes: default_nodes(),
            options: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key \"{key}\"")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "system" => m.system = map.next_value()?,
                "workload" => m.workload = map.next_value()?,
                "nemesis" => m.nemesis = map.next_value()?,
                "nodes" => m.nodes = map.next_value()?,
                _ => {
                    // A key that is no built-in's option can only be a definition file's:
                    // with none of those listed before it, it is a typo, said at its place.
                    let typo = (!m.system.iter().any(|s| crate::system::is_path(s))
                        && !builtin_has_option(&key))
                    .then(|| {
                        format!(
                            "unknown axis \"{key}\": not system, workload, nemesis, nodes nor \
                             an option of {} (list `system:` first to vary the options of a \
                             definition file)",
                            m.system.join(", ")
                        )
                    });
                    if let Some(typo) = typo {
                        map.next_value_seed(Refuse(typo))?;
                    }
                    let values = map.next_value_seed(OptionValues(&key))?;
                    m.options.push((key, values));
                }
            }
        }
        Ok(m)
    }
}

/// Refuses the value it is asked to read, so the error carries the value's line and column.
struct Refuse(String);

impl<'de> serde::de::DeserializeSeed<'de> for Refuse {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Fails inside the visit, where the YAML reader still knows the position.
impl<'de> serde::de::Visitor<'de> for Refuse {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(serde::de::Error::custom(self.0))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        Err(serde::de::Error::custom(self.0))
    }

    fn visit_str<E: serde::de::Error>(self, _value: &str) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_u64<E: serde::de::Error>(self, _value: u64) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_i64<E: serde::de::Error>(self, _value: i64) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_bool<E: serde::de::Error>(self, _value: bool) -> Result<(), E> {
        Err(E::custom(self.0))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom(self.0))
    }
}

/// An option axis's values, each checked against the built-in systems that have the option.
struct OptionValues<'k>(&'k str);

impl<'de> serde::de::DeserializeSeed<'de> for OptionValues<'_> {
    type Value = Vec<Checked<OptionValue>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(OptionValuesVisitor(self.0))
    }
}

struct OptionValuesVisitor<'k>(&'k str);

impl<'de> serde::de::Visitor<'de> for OptionValuesVisitor<'_> {
    type Value = Vec<Checked<OptionValue>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of values of the option {}", self.0)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element_seed(OptionValueSeed(self.0))? {
            values.push(value);
        }
        Ok(values)
    }
}

struct OptionValueSeed<'k>(&'k str);

impl<'de> serde::de::DeserializeSeed<'de> for OptionValueSeed<'_> {
    type Value = Checked<OptionValue>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(OptionValueVisitor(self.0))
    }
}

struct OptionValueVisitor<'k>(&'k str);

impl serde::de::Visitor<'_> for OptionValueVisitor<'_> {
    type Value = Checked<OptionValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a value of the option {}", self.0)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        check_option_value(self.0, value).map_err(E::custom)?;
        Ok(Checked::known(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
        self.visit_str(&value.to_string())
    }
}

/// The built-in definitions (parsed each time: a campaign file is read once).
fn builtins() -> Vec<crate::system::Definition> {
    crate::system::builtin::BUILTINS
        .iter()
        .filter_map(|(_, file, text)| crate::yaml::parse(std::path::Path::new(file), text).ok())
        .collect()
}

fn builtin_has_option(name: &str) -> bool {
    builtins().iter().any(|d| d.options.get(name).is_some())
}

/// A value of option `name` is checked against the built-in systems that have that option
/// (a typo is caught at its line and column); an option no built-in has is a user system's,
/// checked when the cells are expanded.
fn check_option_value(name: &str, value: &str) -> Result<(), String> {
    let mut allowed: Vec<String> = Vec::new();
    for definition in builtins() {
        let system = &definition.name;
        if let Some(axis) = definition.options.get(name) {
            if axis.values.iter().any(|v| v == value) {
                return Ok(());
            }
            allowed.push(format!("{} ({system})", axis.values.join(", ")));
        }
    }
    if allowed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "unknown value \"{value}\" for option {name}; expected one of {}",
            allowed.join("; ")
        ))
    }
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

/// A value of an option axis (see `check_option_value`).
#[derive(Debug, Clone, PartialEq)]
pub struct OptionValue;

/// `when` these matrix values (all given ones must match), expect `verdict`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRule {
    #[serde(default)]
    pub when: When,
    pub verdict: Expect,
}

/// Which cells a rule matches: a system, workload, nemesis, node count, and any option values
/// (every other key), all given ones matching.
#[derive(Debug, Default)]
pub struct When {
    pub system: Option<String>,
    pub workload: Option<Checked<Workload>>,
    pub nemesis: Option<Checked<Nemesis>>,
    pub nodes: Option<usize>,
    pub options: Vec<(String, Checked<OptionValue>)>,
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(WhenVisitor)
    }
}

struct WhenVisitor;

impl<'de> serde::de::Visitor<'de> for WhenVisitor {
    type Value = When;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping of axes to the value a cell must have")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<When, A::Error> {
        let mut when = When::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "system" => when.system = Some(map.next_value()?),
                "workload" => when.workload = Some(map.next_value()?),
                "nemesis" => when.nemesis = Some(map.next_value()?),
                "nodes" => when.nodes = Some(map.next_value()?),
                _ => {
                    let value = map.next_value_seed(OptionValueSeed(&key))?;
                    when.options.push((key, value));
                }
            }
        }
        Ok(when)
    }
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
