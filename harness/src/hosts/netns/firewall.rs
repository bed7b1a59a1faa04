//! The firewall inside one node's namespace: an nft table `faultline` whose input chain drops
//! packets from the addresses the node cannot hear, as Jepsen's `jepsen.net` adds iptables
//! rules on each node. Dropping on input looks to the sender like a lost packet (no reset, no
//! ICMP). The table goes with the namespace, so nothing else has to remove it.

use std::fmt::Write;
use std::net::IpAddr;

pub(super) const TABLE: &str = "faultline";

/// The nft commands that create the (empty) table, run once when the namespace is made.
pub(super) fn create_table() -> String {
    format!(
        "add table ip {TABLE}; add chain ip {TABLE} input {{ type filter hook input priority -10; policy accept; }}"
    )
}

/// The nft commands (one transaction) that replace the rules with a drop of everything from
/// `sources`; none clears the chain (heal).
pub(super) fn replace_rules(sources: &[IpAddr]) -> String {
    let mut script = format!("flush chain ip {TABLE} input");
    if !sources.is_empty() {
        let set: Vec<String> = sources.iter().map(ToString::to_string).collect();
        let _ = write!(
            script,
            "; add rule ip {TABLE} input ip saddr {{ {} }} drop",
            set.join(", ")
        );
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_drop_the_sources_in_one_transaction_and_none_heals() {
        let a: IpAddr = [10, 213, 7, 11].into();
        let b: IpAddr = [10, 213, 7, 13].into();
        assert_eq!(
            replace_rules(&[a, b]),
            "flush chain ip faultline input; add rule ip faultline input ip saddr { 10.213.7.11, 10.213.7.13 } drop"
        );
        assert_eq!(replace_rules(&[]), "flush chain ip faultline input");
    }
}
