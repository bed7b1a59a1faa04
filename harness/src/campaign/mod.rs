//! Campaigns: a matrix of runs from a YAML file (or the built-in quickstart), run one after the
//! other, each cell resolved exactly as `faultline run` resolves its flags, with the outputs
//! (index.html, summary.json, junit.xml) written by faultline-results.

mod file;
mod provenance;

use std::path::Path;

use faultline_results::campaign::Expect;

use crate::system::System;
use file::{CampaignFile, When};
pub use provenance::provenance;

/// One run to do: its label, the `faultline run` flags, and what it is expected to conclude.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub label: String,
    /// The system's name (`kvnode`, `etcd`).
    pub system: String,
    /// Every option of the system with its value.
    pub options: std::collections::BTreeMap<String, String>,
    pub workload: String,
    pub nemesis: String,
    /// The cluster's size (the trends identify a cell by it).
    pub nodes: usize,
    pub seed: u64,
    /// Flags for `faultline run` (without `--store` and `--name`, which the runner adds).
    pub flags: Vec<String>,
    pub expect: Expect,
}

impl Cell {
    /// What the cell runs, as the pages group and name it.
    pub fn setup(&self) -> faultline_results::campaign::Setup {
        faultline_results::campaign::Setup {
            system: self.system.clone(),
            options: self.options.clone(),
            workload: self.workload.clone(),
            nemesis: self.nemesis.clone(),
        }
    }
}

/// A parsed campaign: its name and its cells in the order they run.
#[derive(Debug)]
pub struct Campaign {
    pub name: String,
    /// The `--system` value of each system it runs, in the matrix's order.
    pub systems: Vec<String>,
    pub cells: Vec<Cell>,
}

/// Reads a campaign file. Errors name the file, line and column.
pub fn load(path: &Path, text: &str) -> Result<Campaign, String> {
    let mut file: CampaignFile = crate::yaml::parse(path, text)?;
    // An inventory or a definition file named in a campaign file is found beside it, wherever
    // the campaign runs.
    let beside = |p: &Path| path.parent().unwrap_or(Path::new("")).join(p);
    if let Some(inventory) = &mut file.defaults.inventory
        && inventory.is_relative()
    {
        *inventory = beside(inventory);
    }
    for system in &mut file.matrix.system {
        if crate::system::is_path(system) && Path::new(system.as_str()).is_relative() {
            *system = beside(Path::new(system.as_str())).display().to_string();
        }
    }
    expand(file).map_err(|e| format!("{}: {e}", path.display()))
}

fn matches(when: &When, c: &Cell, nodes: usize) -> bool {
    when.system.as_ref().is_none_or(|s| *s == c.system)
        && when
            .workload
            .as_ref()
            .is_none_or(|w| w.as_str() == c.workload)
        && when
            .nemesis
            .as_ref()
            .is_none_or(|n| n.as_str() == c.nemesis)
        && when.nodes.is_none_or(|n| n == nodes)
        && when
            .options
            .iter()
            .all(|(name, value)| c.options.get(name).map(String::as_str) == Some(value.as_str()))
}

/// One system of the matrix with the option combinations it runs, in the matrix's order.
struct SystemCells {
    system: System,
    /// The `--system` value.
    source: String,
    combinations: Vec<Vec<(String, String)>>,
}

/// For each system: the option axes it has, each with the values it accepts (defaults and
/// `opt:` first, the matrix's axes over them). An axis no system has, a value no system
/// accepts, or an axis of a system left without any value it accepts is an error.
fn systems_of(file: &CampaignFile) -> Result<Vec<SystemCells>, String> {
    let m = &file.matrix;
    let mut all = Vec::with_capacity(m.system.len());
    for source in &m.system {
        let (definition, _) =
            crate::system::load(source).map_err(|e| format!("matrix.system: {e}"))?;
        // `opt:` applies to the systems that have the option.
        let defaults: Vec<(String, String)> = file
            .defaults
            .opt
            .iter()
            .filter(|(name, _)| definition.options.get(name).is_some())
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        let system =
            System::resolve(source, &defaults).map_err(|e| format!("defaults.opt: {e}"))?;
        let mut combinations: Vec<Vec<(String, String)>> = vec![defaults];
        for (name, values) in &m.options {
            let Some(axis) = definition.options.get(name) else {
                continue;
            };
            let accepted: Vec<&str> = values
                .iter()
                .map(|v| v.as_str())
                .filter(|v| axis.values.iter().any(|a| a == v))
                .collect();
            if accepted.is_empty() {
                return Err(format!(
                    "matrix.{name}: none of its values is one of system {}'s ({})",
                    definition.name,
                    axis.values.join(", ")
                ));
            }
            combinations = combinations
                .into_iter()
                .flat_map(|base| {
                    accepted.iter().map(move |v| {
                        let mut c = base.clone();
                        c.push((name.clone(), (*v).to_owned()));
                        c
                    })
                })
                .collect();
        }
        all.push(SystemCells {
            system,
            source: source.clone(),
            combinations,
        });
    }
    for (name, values) in &m.options {
        if values.is_empty() {
            return Err(format!("matrix.{name}: expected at least one value"));
        }
        let havers: Vec<&SystemCells> = all
            .iter()
            .filter(|s| s.system.definition.options.get(name).is_some())
            .collect();
        if havers.is_empty() {
            return Err(format!(
                "matrix.{name}: no system of this campaign ({}) has an option {name}",
                all.iter()
                    .map(|s| s.system.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for value in values {
            let accepted = havers.iter().any(|s| {
                s.system
                    .definition
                    .options
                    .get(name)
                    .is_some_and(|a| a.values.iter().any(|v| v == value.as_str()))
            });
            if !accepted {
                return Err(format!(
                    "matrix.{name}: \"{}\" is a value of no system of this campaign",
                    value.as_str()
                ));
            }
        }
    }
    Ok(all)
}

fn expand(file: CampaignFile) -> Result<Campaign, String> {
    if file.name.is_empty() || file.name.contains('/') || file.name.starts_with('.') {
        return Err(format!(
            "name: expected a folder name, found {:?}",
            file.name
        ));
    }
    let seeds: Vec<u64> = match (&file.seeds, file.repeat) {
        (Some(_), Some(_)) => return Err("give either seeds or repeat, not both".into()),
        (Some(seeds), None) if !seeds.is_empty() => seeds.clone(),
        (Some(_), None) => return Err("seeds: expected at least one seed".into()),
        (None, Some(0)) => return Err("repeat: expected at least 1".into()),
        (None, Some(n)) => (1..=n).collect(),
        (None, None) => vec![1],
    };
    let m = &file.matrix;
    for (key, empty) in [
        ("system", m.system.is_empty()),
        ("workload", m.workload.is_empty()),
        ("nemesis", m.nemesis.is_empty()),
        ("nodes", m.nodes.is_empty()),
    ] {
        if empty {
            return Err(format!("matrix.{key}: expected at least one value"));
        }
    }
    let systems = systems_of(&file)?;
    // An expectation naming an option no system has would silently match no cell.
    for (i, rule) in file.expect.iter().enumerate() {
        for (name, _) in &rule.when.options {
            if !systems
                .iter()
                .any(|s| s.system.definition.options.get(name).is_some())
            {
                return Err(format!(
                    "expect[{i}].when.{name}: no system of this campaign ({}) has an option {name}",
                    systems
                        .iter()
                        .map(|s| s.system.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    let d = &file.defaults;
    let mut shared: Vec<String> = Vec::new();
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            shared.push(format!("--{name}"));
            shared.push(v);
        }
    };
    flag("time-limit", d.time_limit.map(|v| v.to_string()));
    flag("recovery", d.recovery.map(|v| v.to_string()));
    flag("concurrency", d.concurrency.map(|v| v.0.to_string()));
    flag("rate", d.rate.map(|v| v.to_string()));
    flag("keys", d.keys.map(|v| v.0.to_string()));
    flag(
        "threads-per-key",
        d.threads_per_key.map(|v| v.0.to_string()),
    );
    flag("ops-per-key", d.ops_per_key.map(|v| v.to_string()));
    flag(
        "max-writes-per-key",
        d.max_writes_per_key.map(|v| v.0.to_string()),
    );
    flag("fault-duration", d.fault_duration.map(|v| v.to_string()));
    flag("quiet-duration", d.quiet_duration.map(|v| v.to_string()));
    flag("request-timeout", d.request_timeout.map(|v| v.to_string()));
    flag("network", d.network.as_ref().map(|v| v.as_str().to_owned()));
    flag("hosts", d.hosts.as_ref().map(|v| v.as_str().to_owned()));
    flag(
        "inventory",
        d.inventory
            .as_ref()
            .map(|v| v.to_string_lossy().into_owned()),
    );
    flag("targets", d.targets.as_ref().map(|v| v.as_str().to_owned()));

    let mut cells = Vec::new();
    for sys in &systems {
        for combination in &sys.combinations {
            let system = System::resolve(&sys.source, combination).map_err(|e| e.to_string())?;
            for workload in m.workload.iter().map(|v| v.as_str()) {
                for nemesis in m.nemesis.iter().map(|v| v.as_str()) {
                    for &nodes in &m.nodes {
                        for &seed in &seeds {
                            cells.push(cell(
                                &file,
                                &system,
                                &sys.source,
                                workload,
                                nemesis,
                                nodes,
                                seed,
                                &shared,
                            ));
                        }
                    }
                }
            }
        }
    }
    Ok(Campaign {
        systems: systems.iter().map(|s| s.source.clone()).collect(),
        name: file.name,
        cells,
    })
}

/// One cell: its label (kvnode's as it always was, `workload-replication-reads-nemesis-nN-sS`;
/// another system's led by its name), its `faultline run` flags and its expectation.
#[allow(clippy::too_many_arguments)]
fn cell(
    file: &CampaignFile,
    system: &System,
    source: &str,
    workload: &str,
    nemesis: &str,
    nodes: usize,
    seed: u64,
    shared: &[String],
) -> Cell {
    let mut label = if system.name() == crate::system::DEFAULT_SYSTEM {
        String::new()
    } else {
        format!("{}-", system.name())
    };
    label += workload;
    for value in system.option_values() {
        label += &format!("-{value}");
    }
    label += &format!("-{}-n{nodes}-s{seed}", nemesis.replace(',', "+"));
    let mut flags: Vec<String> = vec!["--system".into(), source.to_owned()];
    for (name, value) in &system.options {
        flags.extend(["--opt".into(), format!("{name}={value}")]);
    }
    flags.extend(
        ["--workload", workload, "--nemesis", nemesis]
            .iter()
            .map(|s| s.to_string()),
    );
    flags.extend(["--nodes".into(), nodes.to_string()]);
    flags.extend(["--seed".into(), seed.to_string()]);
    flags.extend(shared.iter().cloned());
    let mut cell = Cell {
        label,
        system: system.name().to_owned(),
        options: system.options.clone(),
        workload: workload.to_owned(),
        nemesis: nemesis.to_owned(),
        nodes,
        seed,
        flags,
        expect: Expect::Any,
    };
    cell.expect = file
        .expect
        .iter()
        .find(|rule| matches(&rule.when, &cell, nodes))
        .map_or(Expect::Any, |rule| rule.verdict);
    cell
}

/// The campaign `faultline quickstart` runs: the three replication modes under partitions and
/// crashes, short enough to finish in about a minute.
pub const QUICKSTART: &str = include_str!("quickstart.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_expands_with_expectations_first_match_wins() {
        let text = r#"
name: t
defaults: { time_limit: 5, concurrency: 4, max_writes_per_key: 8, threads_per_key: 2, ops_per_key: 0 }
matrix:
  replication: [sync, async]
  nemesis: ["kill,pause"]
repeat: 2
expect:
  - when: { replication: async }
    verdict: invalid
  - verdict: valid
"#;
        let c = load(Path::new("t.yaml"), text).expect("parses");
        assert_eq!(c.cells.len(), 4);
        assert_eq!(
            c.cells[0].label,
            "register-sync-read-index-kill+pause-n3-s1"
        );
        assert_eq!(c.cells[0].expect, Expect::Valid);
        assert_eq!(c.cells[3].expect, Expect::Invalid);
        assert!(
            c.cells[0]
                .flags
                .windows(2)
                .any(|w| w == ["--time-limit", "5"])
        );
        assert!(
            c.cells[0]
                .flags
                .windows(2)
                .any(|w| w == ["--max-writes-per-key", "8"])
        );
        for pair in [["--threads-per-key", "2"], ["--ops-per-key", "0"]] {
            assert!(
                c.cells[0].flags.windows(2).any(|w| w == pair),
                "{pair:?}: {:?}",
                c.cells[0].flags
            );
        }
    }

    #[test]
    fn counts_of_zero_name_the_value_s_line_and_column() {
        for (key, column) in [
            ("threads_per_key", 20),
            ("concurrency", 16),
            ("keys", 9),
            ("max_writes_per_key", 23),
        ] {
            let text = format!("name: t\ndefaults:\n  {key}: 0\nmatrix: {{replication: [sync]}}\n");
            let err = load(Path::new("c.yaml"), &text).expect_err(key);
            assert!(
                err.starts_with(&format!(
                    "c.yaml:3:{column}: defaults.{key}: expected at least 1, found 0"
                )),
                "{key}: {err}"
            );
        }
        let err = load(
            Path::new("c.yaml"),
            "name: t\ndefaults: {threads_per_key: -3}\nmatrix: {replication: [sync]}\n",
        )
        .expect_err("negative");
        assert!(
            err.starts_with("c.yaml:2:29: defaults.threads_per_key: ")
                && err.contains("-3")
                && err.contains("at least 1"),
            "{err}"
        );
        // ops_per_key takes 0 (one key for the whole run).
        let c = load(
            Path::new("c.yaml"),
            "name: t\ndefaults: {ops_per_key: 0}\nmatrix: {replication: [sync]}\n",
        )
        .expect("0 ops per key is a choice");
        assert!(
            c.cells[0]
                .flags
                .windows(2)
                .any(|w| w == ["--ops-per-key", "0"])
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line_and_column() {
        let err = load(
            Path::new("c.yaml"),
            "name: t\nmatrix:\n  replication: [sync]\n  replicaton: [async]\n",
        )
        .expect_err("typo");
        assert!(err.starts_with("c.yaml:4:"), "{err}");
        assert!(err.contains("replicaton"), "{err}");
        let err =
            load(Path::new("c.yaml"), "name: t\nmatrix: {replication: []}\n").expect_err("empty");
        assert!(err.contains("matrix.replication"), "{err}");
        let err = load(
            Path::new("c.yaml"),
            "name: t\nmatrix: {replication: [sync]}\nexpect:\n  - verdict: maybe\n",
        )
        .expect_err("bad verdict");
        assert!(err.starts_with("c.yaml:4:"), "{err}");
    }

    #[test]
    fn unknown_modes_and_faults_name_the_value_s_line_and_column_not_a_flag() {
        let err = load(
            Path::new("c.yaml"),
            "name: t\nmatrix:\n  replication: [sync, asink]\n",
        )
        .expect_err("unknown mode");
        assert!(
            err.starts_with(
                "c.yaml:3:23: matrix.replication[1]: unknown value \"asink\" for option \
                 replication; expected one of async, sync, quorum (kvnode)"
            ),
            "{err}"
        );
        assert!(!err.contains("--") && !err.contains(" at line "), "{err}");
        let err = load(
            Path::new("c.yaml"),
            "name: t\nmatrix:\n  replication: [sync]\n  nemesis:\n    - kill\n    - \"kill,flood\"\n",
        )
        .expect_err("unknown fault");
        assert!(
            err.starts_with("c.yaml:6:7: matrix.nemesis[1]: unknown nemesis \"flood\""),
            "{err}"
        );
        for (text, at) in [
            ("matrix: {replication: [sync], reads: [stale]}", "c.yaml:2:"),
            (
                "matrix: {replication: [sync], workload: [bank]}",
                "c.yaml:2:",
            ),
            (
                "defaults: {targets: \"one,all\"}\nmatrix: {replication: [sync]}",
                "c.yaml:2:",
            ),
            (
                "defaults: {network: iptables}\nmatrix: {replication: [sync]}",
                "c.yaml:2:",
            ),
            (
                "defaults: {hosts: moon}\nmatrix: {replication: [sync]}",
                "c.yaml:2:",
            ),
            // A typo in an expectation would silently match no cell.
            (
                "matrix: {replication: [sync]}\nexpect:\n  - when: {replication: snyc}\n    verdict: valid",
                "c.yaml:4:",
            ),
        ] {
            let err = load(Path::new("c.yaml"), &format!("name: t\n{text}\n")).expect_err(text);
            assert!(
                err.starts_with(at) && err.contains("unknown"),
                "{text}: {err}"
            );
            assert!(!err.contains("--"), "{text}: {err}");
        }
    }

    #[test]
    fn an_inventory_is_found_beside_the_campaign_file() {
        let c = load(
            Path::new("campaigns/c.yaml"),
            "name: t\ndefaults: {hosts: ssh, inventory: lab.yaml}\nmatrix: {replication: [sync]}\n",
        )
        .expect("parses");
        let flags = &c.cells[0].flags;
        assert!(
            flags.windows(2).any(|w| w == ["--hosts", "ssh"]),
            "{flags:?}"
        );
        assert!(
            flags
                .windows(2)
                .any(|w| w == ["--inventory", "campaigns/lab.yaml"]),
            "{flags:?}"
        );
    }

    #[test]
    fn hosts_is_a_flag_every_cell_shares() {
        let c = load(
            Path::new("c.yaml"),
            "name: t\ndefaults: {hosts: netns}\nmatrix: {replication: [sync, async]}\n",
        )
        .expect("parses");
        for cell in &c.cells {
            assert!(cell.flags.windows(2).any(|w| w == ["--hosts", "netns"]));
        }
    }

    #[test]
    fn the_built_in_quickstart_parses() {
        let c = load(Path::new("quickstart"), QUICKSTART).expect("parses");
        let modes: Vec<&str> = c
            .cells
            .iter()
            .map(|c| c.options["replication"].as_str())
            .collect();
        assert_eq!(
            modes,
            ["sync", "sync", "quorum", "quorum", "async", "async"]
        );
    }

    #[test]
    fn a_matrix_crosses_systems_with_the_option_values_each_accepts() {
        let text = "name: t\ndefaults: {opt: {replication: async}}\nmatrix:\n  system: [kvnode, etcd]\n  \
                    reads: [lease, linearizable, serializable]\nexpect:\n  - when: {system: etcd, reads: \
                    serializable}\n    verdict: any\n  - verdict: valid\n";
        let c = load(Path::new("c.yaml"), text).expect("parses");
        let labels: Vec<&str> = c.cells.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "register-async-lease-none-n3-s1",
                "etcd-register-linearizable-none-n3-s1",
                "etcd-register-serializable-none-n3-s1"
            ]
        );
        assert_eq!(c.cells[0].options["replication"], "async", "defaults.opt");
        assert!(
            !c.cells[1].options.contains_key("replication"),
            "etcd has no replication"
        );
        assert_eq!(c.cells[2].options["reads"], "serializable");
        assert_eq!(
            c.cells.iter().map(|c| c.expect).collect::<Vec<_>>(),
            [Expect::Valid, Expect::Valid, Expect::Any]
        );
        let flags = &c.cells[2].flags;
        for pair in [["--system", "etcd"], ["--opt", "reads=serializable"]] {
            assert!(flags.windows(2).any(|w| w == pair), "{pair:?}: {flags:?}");
        }
    }

    #[test]
    fn option_axes_that_fit_no_system_are_refused() {
        for (matrix, expected) in [
            (
                "{system: [etcd], reads: [lease]}",
                "c.yaml: matrix.reads: none of its values is one of system etcd's (linearizable, serializable)",
            ),
            (
                "{system: [etcd], replication: [sync]}",
                "c.yaml: matrix.replication: no system of this campaign (etcd) has an option replication",
            ),
            (
                "{system: [etcd, kvnode], reads: [sideways]}",
                "c.yaml:2:42: matrix.reads[0]: unknown value \"sideways\" for option reads",
            ),
            (
                "{system: [mongo]}",
                "c.yaml: matrix.system: --system: no built-in system \"mongo\"",
            ),
            (
                "{system: [etcd]}\nexpect:\n  - when: {replicaton: sync}\n    verdict: valid",
                "c.yaml: expect[0].when.replicaton: no system of this campaign (etcd) has an option replicaton",
            ),
        ] {
            let err = load(Path::new("c.yaml"), &format!("name: t\nmatrix: {matrix}\n"))
                .expect_err(matrix);
            assert!(err.starts_with(expected), "{matrix}: {err}");
        }
    }

    #[test]
    fn the_shipped_campaigns_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../campaigns");
        for (file, cells) in [("nightly.yaml", 36), ("postgres.yaml", 6)] {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).expect("shipped campaign");
            let c = load(&path, &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.cells.len(), cells, "{file}");
        }
        let text = std::fs::read_to_string(dir.join("postgres.yaml")).expect("read");
        let c = load(&dir.join("postgres.yaml"), &text).expect("load");
        let modes: Vec<&str> = c
            .cells
            .iter()
            .map(|c| c.options["replication"].as_str())
            .collect();
        assert_eq!(
            modes,
            [
                "async",
                "async",
                "sync",
                "sync",
                "sync-strict",
                "sync-strict"
            ]
        );
        assert!(c.cells.iter().all(|c| c.system == "postgres-patroni"));
    }
}
