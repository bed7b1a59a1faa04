//! The inventory of `--hosts ssh`: which machines the nodes run on and how to log in, node N
//! on the N-th entry. Read through the one YAML module, so a mistake reads
//! `hosts.yaml:LINE:COLUMN: hosts[i].field: what was expected`.
//!
//! ```yaml
//! hosts:
//!   - address: 192.0.2.11     # the IP clients, peers and firewall rules use
//!     port: 22                # default 22
//!     user: admin
//!     identity: keys/id_ed25519   # optional (else ssh's config and agent); relative to this
//!                                 # file, or ~/... (ssh expands it)
//!     sudo: true              # default false: run privileged commands through `sudo -n`
//! ssh_config: ssh_config      # optional: an ssh_config file for every host (`ssh -F`),
//!                             # relative to this file
//! ```

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One remote machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshTarget {
    /// An IP, not a name: peers and firewall rules need the address itself.
    pub address: IpAddr,
    #[serde(default = "default_port")]
    pub port: u16,
    pub user: String,
    /// A private key file; None leaves the choice to ssh (config, agent).
    #[serde(default)]
    pub identity: Option<PathBuf>,
    /// Privileged commands (nft, kill of a root process) go through `sudo -n`.
    #[serde(default)]
    pub sudo: bool,
}

fn default_port() -> u16 {
    22
}

impl SshTarget {
    /// `user@address:port`, how errors and the report name the host.
    pub fn label(&self) -> String {
        match self.address {
            IpAddr::V4(a) => format!("{}@{a}:{}", self.user, self.port),
            IpAddr::V6(a) => format!("{}@[{a}]:{}", self.user, self.port),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    hosts: Vec<SshTarget>,
    #[serde(default)]
    ssh_config: Option<PathBuf>,
}

/// The machines of an inventory, in node order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub path: PathBuf,
    pub hosts: Vec<SshTarget>,
    /// An ssh_config file for every host (`ssh -F`); None: the user's.
    pub ssh_config: Option<PathBuf>,
}

impl Inventory {
    /// Reads an inventory file. Errors are one line naming the file (and line where there is
    /// one).
    pub fn load(path: &Path) -> Result<Inventory, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the inventory: {e}", path.display()))?;
        Inventory::parse(path, &text)
    }

    /// Parses `text`, the contents of `path`; a relative identity file is taken relative to
    /// the inventory's directory, as the file's author sees it.
    pub fn parse(path: &Path, text: &str) -> Result<Inventory, String> {
        let file: InventoryFile = crate::yaml::parse(path, text)?;
        if file.hosts.is_empty() {
            return Err(format!(
                "{}: hosts: expected at least one host, found none",
                path.display()
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let hosts = file
            .hosts
            .into_iter()
            .map(|mut h| {
                // `~/...` is left to ssh, which expands it.
                if let Some(id) = &h.identity
                    && id.is_relative()
                    && !id.starts_with("~")
                {
                    h.identity = Some(dir.join(id));
                }
                h
            })
            .collect::<Vec<_>>();
        for (i, h) in hosts.iter().enumerate() {
            if hosts[..i].iter().any(|o| o.address == h.address) {
                return Err(format!(
                    "{}: hosts[{i}].address: {} is listed twice; expected one node per machine",
                    path.display(),
                    h.address
                ));
            }
        }
        let ssh_config = file.ssh_config.map(|c| {
            if c.is_relative() && !c.starts_with("~") {
                dir.join(c)
            } else {
                c
            }
        });
        Ok(Inventory {
            path: path.to_owned(),
            hosts,
            ssh_config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Inventory, String> {
        Inventory::parse(Path::new("inv/hosts.yaml"), text)
    }

    #[test]
    fn defaults_fill_port_and_sudo_and_identity_is_relative_to_the_file() {
        let inv = parse(
            "hosts:\n  - {address: 10.0.0.1, user: root, identity: k/id}\n  - address: 10.0.0.2\n    port: 2222\n    user: admin\n    sudo: true\n",
        )
        .expect("valid");
        assert_eq!(inv.hosts.len(), 2);
        assert_eq!(inv.hosts[0].port, 22);
        assert!(!inv.hosts[0].sudo);
        assert_eq!(
            inv.hosts[0].identity.as_deref(),
            Some(Path::new("inv/k/id"))
        );
        assert_eq!(inv.hosts[1].port, 2222);
        assert!(inv.hosts[1].sudo);
        assert_eq!(inv.hosts[1].identity, None);
        assert_eq!(inv.hosts[1].label(), "admin@10.0.0.2:2222");
    }

    #[test]
    fn an_ssh_config_is_relative_to_the_file() {
        let inv =
            parse("hosts:\n  - {address: 10.0.0.1, user: root}\nssh_config: lab/ssh_config\n")
                .expect("valid");
        assert_eq!(
            inv.ssh_config.as_deref(),
            Some(Path::new("inv/lab/ssh_config"))
        );
        assert_eq!(
            parse("hosts:\n  - {address: 10.0.0.1, user: root}\n")
                .expect("valid")
                .ssh_config,
            None
        );
    }

    #[test]
    fn the_shipped_example_parses_and_keeps_a_home_relative_identity() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../hosts.example.yaml"
        ));
        let inv = Inventory::load(path).expect("hosts.example.yaml is valid");
        assert_eq!(inv.hosts.len(), 3);
        assert_eq!(
            inv.hosts[0].identity.as_deref(),
            Some(Path::new("~/.ssh/id_ed25519"))
        );
        assert!(inv.hosts.iter().all(|h| h.sudo && h.port == 22));
    }

    #[test]
    fn a_missing_field_names_file_line_and_field() {
        let err = parse("hosts:\n  - address: 10.0.0.1\n    port: 22\n").expect_err("no user");
        assert!(
            err.starts_with("inv/hosts.yaml:2:") && err.contains("missing field `user`"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn bad_values_name_file_line_and_what_was_expected() {
        let err = parse("hosts:\n  - {address: db1.example, user: root}\n").expect_err("name");
        assert!(err.starts_with("inv/hosts.yaml:2:"), "{err}");
        assert!(err.contains("address"), "{err}");
        let err =
            parse("hosts:\n  - {address: 10.0.0.1, user: root, port: 70000}\n").expect_err("port");
        assert!(err.starts_with("inv/hosts.yaml:2:"), "{err}");
        let err =
            parse("hosts:\n  - {address: 10.0.0.1, user: root, sudo: maybe}\n").expect_err("sudo");
        assert!(err.starts_with("inv/hosts.yaml:2:"), "{err}");
        let err =
            parse("hosts:\n  - {address: 10.0.0.1, user: root, pasword: x}\n").expect_err("typo");
        assert!(err.contains("unknown field `pasword`"), "{err}");
    }

    #[test]
    fn an_empty_or_repeated_list_is_refused() {
        let err = parse("hosts: []\n").expect_err("empty");
        assert_eq!(
            err,
            "inv/hosts.yaml: hosts: expected at least one host, found none"
        );
        let err =
            parse("hosts:\n  - {address: 10.0.0.1, user: a}\n  - {address: 10.0.0.1, user: b}\n")
                .expect_err("twice");
        assert!(
            err.contains("hosts[1].address: 10.0.0.1 is listed twice"),
            "{err}"
        );
    }
}
