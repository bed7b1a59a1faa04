//! Which backend enforces a run's partitions, chosen from `--network` before anything starts.

use std::fmt;

use crate::hosts::HostKind;
use crate::machine::Capabilities;

/// The backend a run uses (recorded in test.json).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// No network faults in this run: peers talk directly, nothing to set up.
    #[default]
    None,
    /// A userspace proxy on every peer link.
    Proxy,
    /// nftables rules dropping packets between the nodes' loopback addresses.
    Nft,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::None => "none",
            Backend::Proxy => "proxy",
            Backend::Nft => "nft",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What `--network` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Auto,
    Nft,
    Proxy,
}

impl std::str::FromStr for Requested {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Requested::Auto),
            "nft" => Ok(Requested::Nft),
            "proxy" => Ok(Requested::Proxy),
            other => Err(format!(
                "unknown network backend \"{other}\"; expected one of auto, nft, proxy"
            )),
        }
    }
}

/// The backend for a run that injects partitions and/or link delays. `auto` picks nftables
/// when it can — real kernel drops, nothing in the data path — unless the run also delays links,
/// which only the proxy can do. On netns hosts nftables is the only choice (rules inside each
/// node's namespace): link proxies listen on loopback, and delay, a proxy fault, is
/// unavailable (no netem in this kernel). Errors are one line for the user.
pub fn choose(
    requested: Requested,
    partitions: bool,
    delays: bool,
    caps: Capabilities,
    hosts: HostKind,
) -> Result<Backend, String> {
    if hosts != HostKind::Loopback {
        return on_hosts(hosts, requested, partitions, delays);
    }
    if !partitions && !delays {
        return Ok(Backend::None);
    }
    match requested {
        Requested::Proxy => Ok(Backend::Proxy),
        Requested::Nft if delays => Err(
            "--network nft cannot delay links (--nemesis delay); use --network proxy or auto"
                .into(),
        ),
        Requested::Nft if !caps.nft => Err(
            "--network nft needs root and the nft command (nftables); use --network proxy".into(),
        ),
        Requested::Nft => Ok(Backend::Nft),
        Requested::Auto if caps.nft && !delays => Ok(Backend::Nft),
        Requested::Auto => Ok(Backend::Proxy),
    }
}

/// Netns and ssh hosts: nft on each host (its own firewall) is the only backend.
fn on_hosts(
    hosts: HostKind,
    requested: Requested,
    partitions: bool,
    delays: bool,
) -> Result<Backend, String> {
    if requested == Requested::Proxy {
        return Err(format!(
            "--network proxy cannot serve --hosts {hosts} (link proxies listen on loopback); \
             use --network auto or nft"
        ));
    }
    if delays {
        return Err(format!(
            "--nemesis delay is unavailable with --hosts {hosts}: delay is a proxy fault and this \
             kernel has no netem; use --hosts loopback"
        ));
    }
    Ok(if partitions {
        Backend::Nft
    } else {
        Backend::None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFT: Capabilities = Capabilities {
        nft: true,
        faketime: false,
        netns: true,
    };
    const NO_NFT: Capabilities = Capabilities {
        nft: false,
        faketime: false,
        netns: false,
    };

    #[test]
    fn auto_prefers_nft_unless_it_cannot() {
        assert_eq!(
            choose(Requested::Auto, true, false, NFT, HostKind::Loopback),
            Ok(Backend::Nft)
        );
        assert_eq!(
            choose(Requested::Auto, true, false, NO_NFT, HostKind::Loopback),
            Ok(Backend::Proxy)
        );
        assert_eq!(
            choose(Requested::Auto, true, true, NFT, HostKind::Loopback),
            Ok(Backend::Proxy)
        );
        assert_eq!(
            choose(Requested::Auto, false, false, NFT, HostKind::Loopback),
            Ok(Backend::None)
        );
    }

    #[test]
    fn explicit_choices_are_honoured_or_refused() {
        assert_eq!(
            choose(Requested::Proxy, true, false, NFT, HostKind::Loopback),
            Ok(Backend::Proxy)
        );
        assert_eq!(
            choose(Requested::Nft, true, false, NFT, HostKind::Loopback),
            Ok(Backend::Nft)
        );
        assert!(
            choose(Requested::Nft, true, false, NO_NFT, HostKind::Loopback)
                .is_err_and(|e| e.contains("root") && !e.contains('\n'))
        );
        assert!(choose(Requested::Nft, false, true, NFT, HostKind::Loopback).is_err());
    }

    #[test]
    fn netns_hosts_partition_with_nft_and_refuse_proxies_and_delay() {
        let netns = HostKind::Netns;
        assert_eq!(
            choose(Requested::Auto, true, false, NFT, netns),
            Ok(Backend::Nft)
        );
        assert_eq!(
            choose(Requested::Nft, true, false, NFT, netns),
            Ok(Backend::Nft)
        );
        assert_eq!(
            choose(Requested::Auto, false, false, NFT, netns),
            Ok(Backend::None)
        );
        assert!(
            choose(Requested::Proxy, true, false, NFT, netns)
                .is_err_and(|e| e.contains("--network proxy") && !e.contains('\n'))
        );
        assert!(
            choose(Requested::Auto, true, true, NFT, netns)
                .is_err_and(|e| e.contains("netem") && !e.contains('\n'))
        );
    }
}
