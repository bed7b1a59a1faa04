//! kvnode owns the replicated key-value store that faultline tests: election, replication modes
//! (async, sync, quorum), read modes, the write-ahead log and the HTTP API.
//!
//! It imports nothing of faultline; the harness reaches it over HTTP and through signals,
//! exactly as it would reach etcd. The parts, one job per module:
//! - [`config`]: command-line flags and their checks;
//! - [`clock`]: the settable wall clock that judges leases (`POST /admin/clock`);
//! - [`wal`]: the checksummed append-only log file and its torn-tail recovery;
//! - [`raft`]: roles, terms, votes, log replication, commit, reads, durable state;
//! - [`state_machine`] and [`dedup`]: the replicated keys and the first answer per request;
//! - [`peer_client`]: outgoing peer RPCs bound to the node's own IP;
//! - [`api`]: the HTTP+JSON routes and their errors;
//! - [`process`]: the node as a process (flags, logging, runtime), for `kvnode` and `faultline kvnode`.
//!
//! The API is documented in docs/kvnode.md.

pub mod api;
pub mod clock;
pub mod config;
pub mod dedup;
pub mod peer_client;
pub mod process;
pub mod raft;
pub mod state_machine;
pub mod wal;

use config::Config;
use raft::Node;
use raft::storage::{Storage, StorageError};
use tracing::{info, warn};

/// Why a node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Peer(#[from] peer_client::PeerError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// Recovers from the WAL, then serves until SIGTERM or Ctrl-C.
pub async fn run(cfg: Config) -> Result<(), NodeError> {
    let (storage, restored) = Storage::open(&cfg.data_dir, cfg.fsync)?;
    if let Some(cut) = &restored.cut {
        warn!(
            node = cfg.id,
            offset = cut.offset,
            dropped_bytes = cut.dropped,
            reason = cut.reason,
            "cut the write-ahead log's torn tail"
        );
    }
    info!(
        node = cfg.id,
        records = restored.records,
        term = restored.term,
        last_index = restored.log.last_index(),
        "recovered from the write-ahead log"
    );
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| NodeError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let node = Node::new(cfg, storage, restored)?;
    info!(
        node = node.cfg.id,
        listen = %node.cfg.listen,
        replication = ?node.cfg.replication,
        reads = ?node.cfg.reads,
        "serving; role follower"
    );
    node.start();
    axum::serve(listener, api::router(node))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(NodeError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
    info!("shutting down");
}
