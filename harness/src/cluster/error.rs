//! Everything that can go wrong starting or driving a cluster, each naming the node and, where a
//! node misbehaved, the log to read.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("invalid cluster: {0}")]
    InvalidSpec(String),

    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("no free port on {ip}: {source}")]
    NoFreePort {
        ip: IpAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("n{node}: {source}")]
    Spawn {
        node: u32,
        #[source]
        source: crate::hosts::HostError,
    },

    #[error("cannot set up the hosts: {0}")]
    Hosts(#[source] crate::hosts::HostError),

    #[error("n{node} exited ({status}) before it was ready; see {}{tail}", log.display())]
    NodeExited {
        node: u32,
        status: String,
        log: PathBuf,
        /// The end of the node's log, already formatted (empty when the log is empty).
        tail: String,
    },

    #[error("n{node} was not ready within {waited:?} (waiting for {probe}); see {}", log.display())]
    NotAnswering {
        node: u32,
        /// What the readiness probe asks, e.g. "GET http://127.0.0.11:7001/status with status 200".
        probe: String,
        waited: Duration,
        log: PathBuf,
    },

    #[error("the nodes agreed on no leader within {waited:?} ({views}); see the logs in {}", logs.display())]
    NoLeader {
        waited: Duration,
        /// What each node said last, e.g. "n1: follower term 3 leader none".
        views: String,
        logs: PathBuf,
    },

    #[error("n{node}: {message}")]
    Node { node: u32, message: String },

    #[error(transparent)]
    System(#[from] crate::system::SystemError),

    #[error(transparent)]
    Network(#[from] crate::network::NetError),

    #[error("cannot build the HTTP client for /status: {0}")]
    Http(#[source] reqwest::Error),
}
