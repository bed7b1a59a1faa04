//! The nftables backend: kernel packet drops between the nodes' loopback addresses.
//!
//! One table per cluster, `faultline_<controller pid>_<n>`, so parallel runs and tests never
//! touch each other's rules, and a table whose controller died can be recognised and removed
//! by the next controller. Rules name the cluster's ports as well as its addresses: two
//! clusters may share 127.0.0.11–13 (on different ports) and must not cut each other.
//!
//! Invariant: the table is deleted when the `NftNet` is dropped; a controller killed before
//! that leaves it to `remove_stale_tables`, which every new `NftNet` runs first.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use faultline_nemeses::{Grudge, LinkDelay, Network, NetworkError, NodeId};

use super::NetError;

const PREFIX: &str = "faultline_";

/// Root and an `nft` that can list the ruleset: what this backend needs.
pub fn available() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    root && Command::new("nft")
        .args(["list", "tables"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A cluster's nftables table.
pub struct NftNet {
    table: String,
    /// Every node's listen address: rules are scoped to these (address, port) pairs.
    nodes: BTreeMap<NodeId, SocketAddr>,
}

impl NftNet {
    /// Removes tables left by dead controllers, then creates this cluster's (empty) table.
    pub fn create(nodes: &[(NodeId, SocketAddr)]) -> Result<NftNet, NetError> {
        remove_stale_tables();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let table = format!(
            "{PREFIX}{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        // A filter chain on input: loopback packets pass it after `lo`, and dropping there
        // looks to the sender exactly like a lost packet (no reset, no ICMP).
        run_script(&format!(
            "table ip {table} {{\n  chain input {{ type filter hook input priority -10; policy accept; }}\n}}\n"
        ))?;
        Ok(NftNet {
            table,
            nodes: nodes.iter().copied().collect(),
        })
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The rules dropping `from → to`: packets from `from`'s address to `to`'s, on a
    /// connection to `to`'s port (requests) or from `from`'s port (answers to `to`).
    fn rules(&self, from: NodeId, to: NodeId) -> Vec<String> {
        let (Some(a), Some(b)) = (self.nodes.get(&from), self.nodes.get(&to)) else {
            return Vec::new();
        };
        let base = format!(
            "add rule ip {} input iifname \"lo\" ip saddr {} ip daddr {}",
            self.table,
            a.ip(),
            b.ip()
        );
        vec![
            format!("{base} tcp dport {} drop", b.port()),
            format!("{base} tcp sport {} drop", a.port()),
        ]
    }

    /// Replaces the rules with the grudge's, in one nft transaction.
    pub fn apply(&self, grudge: &Grudge) -> Result<(), NetError> {
        let mut script = format!("flush chain ip {} input\n", self.table);
        for (from, to) in grudge.links() {
            for rule in self.rules(from, to) {
                script.push_str(&rule);
                script.push('\n');
            }
        }
        run_script(&script)
    }

    pub fn flush(&self) -> Result<(), NetError> {
        run_script(&format!("flush chain ip {} input\n", self.table))
    }
}

impl Drop for NftNet {
    fn drop(&mut self) {
        let _ = run_script(&format!("delete table ip {}\n", self.table));
    }
}

impl Network for NftNet {
    async fn partition(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        self.apply(grudge).map_err(|e| NetworkError(e.to_string()))
    }

    async fn slow(&self, _: &[NodeId], _: LinkDelay) -> Result<(), NetworkError> {
        Err(NetworkError(
            "the nft backend cannot delay links; use --network proxy".into(),
        ))
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        self.flush().map_err(|e| NetworkError(e.to_string()))
    }
}

/// Deletes every `faultline_<pid>_<n>` table whose controller is no longer running. Best
/// effort: a table that cannot be listed or deleted is left for the next controller.
pub fn remove_stale_tables() {
    let Ok(out) = Command::new("nft").args(["list", "tables"]).output() else {
        return;
    };
    let listing = String::from_utf8_lossy(&out.stdout);
    for (family, table) in stale_tables(&listing, crate::machine::process_alive) {
        let _ = run_script(&format!("delete table {family} {table}\n"));
    }
}

/// (family, name) of the faultline tables in an `nft list tables` listing whose owner pid is
/// not alive.
fn stale_tables(listing: &str, alive: impl Fn(u32) -> bool) -> Vec<(String, String)> {
    listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (Some("table"), Some(family), Some(name)) =
                (words.next(), words.next(), words.next())
            else {
                return None;
            };
            let pid: u32 = name.strip_prefix(PREFIX)?.split('_').next()?.parse().ok()?;
            (!alive(pid)).then(|| (family.to_owned(), name.to_owned()))
        })
        .collect()
}

/// Runs an nft script (`nft -f -`) as one transaction.
fn run_script(script: &str) -> Result<(), NetError> {
    let fail = |message: String| NetError::Nft {
        script: script.lines().next().unwrap_or_default().to_owned(),
        message,
    };
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run nft: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| fail(format!("cannot write to nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("nft did not finish: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_faultline_tables_of_dead_controllers_are_stale() {
        let listing = "table ip faultline_100_0\ntable inet filter\ntable ip faultline_200_3\n\
                       table ip faultline_x\ntable ip faultline_100_1\n";
        let stale = stale_tables(listing, |pid| pid == 200);
        assert_eq!(
            stale,
            vec![
                ("ip".to_owned(), "faultline_100_0".to_owned()),
                ("ip".to_owned(), "faultline_100_1".to_owned())
            ]
        );
    }

    #[test]
    fn rules_name_addresses_and_ports_of_one_direction() {
        let net = NftNet {
            table: "faultline_1_0".into(),
            nodes: [
                (1, SocketAddr::from(([127, 0, 0, 11], 7001))),
                (2, SocketAddr::from(([127, 0, 0, 12], 7002))),
            ]
            .into(),
        };
        let rules = net.rules(1, 2);
        assert_eq!(
            rules,
            [
                "add rule ip faultline_1_0 input iifname \"lo\" ip saddr 127.0.0.11 ip daddr 127.0.0.12 tcp dport 7002 drop",
                "add rule ip faultline_1_0 input iifname \"lo\" ip saddr 127.0.0.11 ip daddr 127.0.0.12 tcp sport 7001 drop",
            ]
        );
        assert!(net.rules(1, 9).is_empty());
        // Not created through nft: nothing to delete on drop.
        std::mem::forget(net);
    }
}
