//! Campaigns: a matrix of runs from a YAML file (or the built-in quickstart), run one after the
//! other, each cell resolved exactly as `faultline run` resolves its flags, with the outputs
//! (index.html, summary.json, junit.xml) written by faultline-results.

mod file;
mod provenance;

use std::path::Path;

use faultline_results::campaign::Expect;

use file::{CampaignFile, When};
pub use provenance::provenance;

/// One run to do: its label, the `faultline run` flags, and what it is expected to conclude.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub label: String,
    pub replication: String,
    pub reads: String,
    pub workload: String,
    pub nemesis: String,
    /// The cluster's size (the trends identify a cell by it).
    pub nodes: usize,
    pub seed: u64,
    /// Flags for `faultline run` (without `--store` and `--name`, which the runner adds).
    pub flags: Vec<String>,
    pub expect: Expect,
}

/// A parsed campaign: its name and its cells in the order they run.
#[derive(Debug)]
pub struct Campaign {
    pub name: String,
    pub cells: Vec<Cell>,
}

/// Reads a campaign file. Errors name the file, line and column.
pub fn load(path: &Path, text: &str) -> Result<Campaign, String> {
    let mut file: CampaignFile = crate::yaml::parse(path, text)?;
    // An inventory named in a campaign file is found beside it, wherever the campaign runs.
    if let Some(inventory) = &mut file.defaults.inventory
        && inventory.is_relative()
    {
        *inventory = path.parent().unwrap_or(Path::new("")).join(&*inventory);
    }
    expand(file).map_err(|e| format!("{}: {e}", path.display()))
}

fn matches(when: &When, c: &Cell, nodes: usize) -> bool {
    when.replication
        .as_ref()
        .is_none_or(|r| r.as_str() == c.replication)
        && when.reads.as_ref().is_none_or(|r| r.as_str() == c.reads)
        && when
            .workload
            .as_ref()
            .is_none_or(|w| w.as_str() == c.workload)
        && when
            .nemesis
            .as_ref()
            .is_none_or(|n| n.as_str() == c.nemesis)
        && when.nodes.is_none_or(|n| n == nodes)
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
        ("replication", m.replication.is_empty()),
        ("reads", m.reads.is_empty()),
        ("workload", m.workload.is_empty()),
        ("nemesis", m.nemesis.is_empty()),
        ("nodes", m.nodes.is_empty()),
    ] {
        if empty {
            return Err(format!("matrix.{key}: expected at least one value"));
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
    for replication in m.replication.iter().map(|v| v.as_str()) {
        for reads in m.reads.iter().map(|v| v.as_str()) {
            for workload in m.workload.iter().map(|v| v.as_str()) {
                for nemesis in m.nemesis.iter().map(|v| v.as_str()) {
                    for &nodes in &m.nodes {
                        for &seed in &seeds {
                            let label = format!(
                                "{workload}-{replication}-{reads}-{}-n{nodes}-s{seed}",
                                nemesis.replace(',', "+")
                            );
                            let mut flags: Vec<String> = [
                                "--replication",
                                replication,
                                "--reads",
                                reads,
                                "--workload",
                                workload,
                                "--nemesis",
                                nemesis,
                            ]
                            .iter()
                            .map(|s| s.to_string())
                            .collect();
                            flags.extend(["--nodes".into(), nodes.to_string()]);
                            flags.extend(["--seed".into(), seed.to_string()]);
                            flags.extend(shared.iter().cloned());
                            let mut cell = Cell {
                                label,
                                replication: replication.to_owned(),
                                reads: reads.to_owned(),
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
                            cells.push(cell);
                        }
                    }
                }
            }
        }
    }
    Ok(Campaign {
        name: file.name,
        cells,
    })
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
                "c.yaml:3:23: matrix.replication[1]: unknown replication mode \"asink\""
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
        let modes: Vec<&str> = c.cells.iter().map(|c| c.replication.as_str()).collect();
        assert_eq!(
            modes,
            ["sync", "sync", "quorum", "quorum", "async", "async"]
        );
    }
}
