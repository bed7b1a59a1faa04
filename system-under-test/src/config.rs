//! Command-line flags of a kvnode process, parsed with clap and checked for consistency.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, ValueEnum};
use serde::Serialize;

/// When the leader answers a client write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replication {
    /// Answer once the leader has applied the write locally; replicate afterwards.
    Async,
    /// Answer once every follower has acknowledged the entry.
    Sync,
    /// Answer once a majority (leader included) has acknowledged the entry (Raft commit rule).
    Quorum,
}

/// How reads are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadMode {
    /// The leader answers from its local state, without checking that it is still leader.
    Leader,
    /// The leader confirms its leadership with a heartbeat round to a majority first.
    ReadIndex,
    /// The leader answers locally while its (wall) clock says its lease holds.
    Lease,
    /// Whichever node is asked answers from its local state.
    Any,
}

/// When the write-ahead log is forced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FsyncPolicy {
    /// fsync once per batch of records (group commit) before anything in it is acknowledged.
    Always,
    /// Never fsync: records are handed to the OS page cache only.
    Never,
}

/// One other member of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    pub id: u64,
    pub addr: SocketAddr,
}

/// An inclusive range of milliseconds, written `MIN-MAX` (or a single number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsRange {
    pub min: u64,
    pub max: u64,
}

/// Flags of `kvnode`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kvnode",
    version,
    about = "faultline's replicated key-value store under test"
)]
pub struct Config {
    /// This node's id (a positive integer, unique in the cluster).
    #[arg(long)]
    pub id: u64,
    /// Address to serve HTTP on, e.g. 127.0.0.1:7001. Outgoing peer connections bind to its IP.
    #[arg(long)]
    pub listen: SocketAddr,
    /// The other nodes, as ID=ADDR pairs separated by commas, e.g. 2=127.0.0.2:7000,3=127.0.0.3:7000.
    #[arg(long, value_delimiter = ',', value_parser = parse_peer)]
    pub peers: Vec<PeerSpec>,
    /// Directory holding the write-ahead log (created if absent).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// When a client write is acknowledged.
    #[arg(long, value_enum, default_value = "quorum")]
    pub replication: Replication,
    /// How reads are served.
    #[arg(long, value_enum, default_value = "read-index")]
    pub reads: ReadMode,
    /// Leader heartbeat interval in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub heartbeat_ms: u64,
    /// Election timeout range in milliseconds, MIN-MAX; each wait picks uniformly in it.
    #[arg(long, default_value = "300-600", value_parser = parse_range)]
    pub election_timeout_ms: MsRange,
    /// Leader lease length in milliseconds (lease reads); at most the minimum election timeout.
    /// Default: 80% of the minimum election timeout.
    #[arg(long)]
    pub lease_ms: Option<u64>,
    /// fsync policy of the write-ahead log.
    #[arg(long, value_enum, default_value = "always")]
    pub fsync: FsyncPolicy,
    /// Largest accepted request body in bytes (larger ones get 413).
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Whether a leader steps down after hearing no majority for the maximum election timeout.
    /// `false` lets a cut-off leader believe it leads until it hears a higher term (longer
    /// stale-read windows for `leader` and skewed `lease` reads).
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub check_quorum: bool,
    /// How long a client request may wait for replication before answering `timeout`, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub request_timeout_ms: u64,
}

/// A flag combination that parses but makes no sense.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("--id must be positive")]
    ZeroId,
    #[error("--peers lists this node's own id {0}")]
    SelfInPeers(u64),
    #[error("--peers lists id {0} twice")]
    DuplicatePeer(u64),
    #[error("--peers gives address {0} that is this node's --listen address")]
    PeerIsSelf(SocketAddr),
    #[error("--heartbeat-ms must be positive")]
    ZeroHeartbeat,
    #[error("--heartbeat-ms ({heartbeat}) must be below the minimum election timeout ({min})")]
    HeartbeatTooLong { heartbeat: u64, min: u64 },
    #[error("--lease-ms ({lease}) must not exceed the minimum election timeout ({min})")]
    LeaseTooLong { lease: u64, min: u64 },
    #[error("--max-body-bytes must be positive")]
    ZeroBodyLimit,
    #[error("--request-timeout-ms must be positive")]
    ZeroRequestTimeout,
}

impl Config {
    /// Checks what clap cannot check flag by flag.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.id == 0 {
            return Err(ConfigError::ZeroId);
        }
        let mut seen = BTreeSet::new();
        for peer in &self.peers {
            if peer.id == self.id {
                return Err(ConfigError::SelfInPeers(peer.id));
            }
            if !seen.insert(peer.id) {
                return Err(ConfigError::DuplicatePeer(peer.id));
            }
            if peer.addr == self.listen {
                return Err(ConfigError::PeerIsSelf(peer.addr));
            }
        }
        if self.heartbeat_ms == 0 {
            return Err(ConfigError::ZeroHeartbeat);
        }
        if self.heartbeat_ms >= self.election_timeout_ms.min {
            return Err(ConfigError::HeartbeatTooLong {
                heartbeat: self.heartbeat_ms,
                min: self.election_timeout_ms.min,
            });
        }
        if self.lease_ms() > self.election_timeout_ms.min {
            return Err(ConfigError::LeaseTooLong {
                lease: self.lease_ms(),
                min: self.election_timeout_ms.min,
            });
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::ZeroBodyLimit);
        }
        if self.request_timeout_ms == 0 {
            return Err(ConfigError::ZeroRequestTimeout);
        }
        Ok(())
    }

    /// Number of nodes in the cluster, this one included.
    pub fn cluster_size(&self) -> usize {
        self.peers.len() + 1
    }

    /// Votes or acknowledgements (this node included) that make a majority.
    pub fn majority(&self) -> usize {
        self.cluster_size() / 2 + 1
    }

    /// The lease length in milliseconds.
    pub fn lease_ms(&self) -> u64 {
        self.lease_ms
            .unwrap_or(self.election_timeout_ms.min * 4 / 5)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// A fresh random election timeout from the configured range.
    pub fn random_election_timeout(&self) -> Duration {
        let MsRange { min, max } = self.election_timeout_ms;
        Duration::from_millis(fastrand::u64(min..=max))
    }

    /// Timeout of one peer RPC: a peer slower than this is treated as unreachable for that round.
    pub fn peer_rpc_timeout(&self) -> Duration {
        Duration::from_millis(self.election_timeout_ms.min.max(self.heartbeat_ms * 2))
    }

    /// The address of a peer, if `id` names one.
    pub fn peer_addr(&self, id: u64) -> Option<SocketAddr> {
        if id == self.id {
            return Some(self.listen);
        }
        self.peers.iter().find(|p| p.id == id).map(|p| p.addr)
    }
}

fn parse_peer(text: &str) -> Result<PeerSpec, String> {
    let (id, addr) = text
        .split_once('=')
        .ok_or_else(|| format!("peer `{text}` is not ID=ADDR (e.g. 2=127.0.0.2:7000)"))?;
    let id: u64 = id
        .trim()
        .parse()
        .map_err(|_| format!("peer id `{id}` is not a positive integer"))?;
    if id == 0 {
        return Err("peer id must be positive".to_string());
    }
    let addr: SocketAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("peer address `{addr}` is not IP:PORT"))?;
    Ok(PeerSpec { id, addr })
}

fn parse_range(text: &str) -> Result<MsRange, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{s}` is not a number of milliseconds"))
    };
    let (min, max) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let v = parse(text)?;
            (v, v)
        }
    };
    if min == 0 || min > max {
        return Err(format!(
            "election timeout range `{text}` must be MIN-MAX with 0 < MIN <= MAX"
        ));
    }
    Ok(MsRange { min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["kvnode", "--id", "1", "--listen", "127.0.0.1:7001"];
        all.extend_from_slice(&["--data-dir", "/tmp/x"]);
        all.extend_from_slice(args);
        Config::try_parse_from(all).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_peers_and_ranges() {
        let cfg = parse(&[
            "--peers",
            "2=127.0.0.2:7002,3=127.0.0.3:7003",
            "--election-timeout-ms",
            "150-300",
        ])
        .expect("valid flags");
        assert_eq!(cfg.peers.len(), 2);
        assert_eq!(cfg.peers[1].id, 3);
        assert_eq!(cfg.election_timeout_ms, MsRange { min: 150, max: 300 });
        assert_eq!(cfg.majority(), 2);
        assert_eq!(cfg.validate(), Ok(()));
    }

    #[test]
    fn rejects_bad_flags_clearly() {
        let err = parse(&["--peers", "2:127.0.0.2:7002"]).unwrap_err();
        assert!(err.contains("ID=ADDR"), "{err}");
        let err = parse(&["--replication", "eventual"]).unwrap_err();
        assert!(err.contains("eventual"), "{err}");
        let err = parse(&["--election-timeout-ms", "300-100"]).unwrap_err();
        assert!(err.contains("MIN <= MAX"), "{err}");
        let cfg = parse(&["--peers", "1=127.0.0.2:7002"]).expect("parses");
        assert_eq!(cfg.validate(), Err(ConfigError::SelfInPeers(1)));
        let cfg = parse(&["--lease-ms", "1000"]).expect("parses");
        assert!(matches!(
            cfg.validate(),
            Err(ConfigError::LeaseTooLong { .. })
        ));
    }
}
