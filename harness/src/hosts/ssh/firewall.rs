//! The firewall of an ssh host: an nft table `faultline_ssh_<pid>_<n>` (the controller's marker,
//! as its run directory) whose input chain drops packets from the addresses the node cannot
//! hear, as Jepsen's iptables rules on each node. Only node addresses are dropped, so the
//! controller (its SSH connection, the clients) still reaches every host. The table is created
//! by the first partition, deleted at the end of the run (`SshHost::clean_up`) and, if the
//! controller died, at the next start (`SshHost::remove_stale`).

use std::fmt::Write;
use std::net::IpAddr;

/// Prefix of the tables' names.
pub(super) const PREFIX: &str = "faultline_ssh_";

/// `faultline_ssh_<pid>_<n>` for the run directory `faultline-<pid>-<n>`.
pub(super) fn table_for(run_dir_name: &str) -> Option<String> {
    let rest = run_dir_name.strip_prefix(super::MARKER)?;
    let (pid, run) = rest.split_once('-')?;
    Some(format!("{PREFIX}{pid}_{run}"))
}

/// The pid in a table name of ours.
pub(super) fn owner(table: &str) -> Option<u32> {
    let (pid, run) = table.strip_prefix(PREFIX)?.split_once('_')?;
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    (numeric(pid) && numeric(run)).then(|| pid.parse().ok())?
}

/// One nft transaction: create the table and chain if need be (`add` is idempotent), then
/// replace the rules with a drop of everything from `sources`; none only flushes (heal).
pub(super) fn replace_rules(table: &str, sources: &[IpAddr]) -> String {
    let mut script = format!(
        "add table inet {table}; add chain inet {table} input {{ type filter hook input priority -10; policy accept; }}; flush chain inet {table} input"
    );
    if !sources.is_empty() {
        let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = sources.iter().partition(|a| a.is_ipv4());
        for (family, set) in [("ip", v4), ("ip6", v6)] {
            if set.is_empty() {
                continue;
            }
            let set: Vec<String> = set.iter().map(ToString::to_string).collect();
            let _ = write!(
                script,
                "; add rule inet {table} input {family} saddr {{ {} }} drop",
                set.join(", ")
            );
        }
    }
    script
}

/// Deletes the table if it exists (no error when it never was created).
pub(super) fn delete_table(table: &str) -> String {
    // `destroy` needs nft 1.0.8; add-then-delete works everywhere.
    format!("add table inet {table}; delete table inet {table}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_carry_the_run_directory_marker() {
        let table = table_for("faultline-4242-3").expect("a run directory");
        assert_eq!(table, "faultline_ssh_4242_3");
        assert_eq!(owner(&table), Some(4242));
        assert_eq!(owner("faultline_4242_3"), None, "a loopback run's table");
        assert_eq!(owner("faultline_ssh_x_3"), None);
        assert_eq!(table_for("other"), None);
    }

    #[test]
    fn rules_drop_the_sources_in_one_transaction_and_none_heals() {
        let a: IpAddr = [192, 0, 2, 11].into();
        let b: IpAddr = "2001:db8::1".parse().expect("v6");
        let script = replace_rules("t", &[a, b]);
        assert!(
            script.starts_with("add table inet t; add chain inet t input"),
            "{script}"
        );
        assert!(script.ends_with("flush chain inet t input; add rule inet t input ip saddr { 192.0.2.11 } drop; add rule inet t input ip6 saddr { 2001:db8::1 } drop"), "{script}");
        assert!(replace_rules("t", &[]).ends_with("flush chain inet t input"));
    }
}
