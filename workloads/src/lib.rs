//! faultline-workloads owns what clients do to a store: seeded operation generators (register,
//! kv, append, set), the clients that talk to a store and classify every outcome as `ok`, `fail`
//! or `info`, and which checker model judges each workload.
//!
//! Invariants: generators are deterministic given their seed (and, per group, the order its
//! workers ask) and never write a value twice in a run; clients work in groups of
//! `threads_per_key`, each on keys of its own (`jepsen.independent`), so no key is used by more
//! clients than a group holds whatever the concurrency; a key slot moves to a fresh key after
//! `ops_per_key` operations (and, for append and set, `max_writes_per_key` appends or adds),
//! and a completion carries only what the checker needs (a read its value, never the list an
//! append returns), so neither a key's history nor an event grows with the run's length; a client
//! reports `fail` only when the operation certainly did not happen (the table is in
//! `kvnode_client/classify.rs`); a client retries an invocation only under its one
//! `(client_id, seq)`, so kvnode's dedup table keeps retries from applying twice, and the etcd
//! client sends a write again only after an attempt that certainly did not apply it (etcd has
//! no dedup table; its table is in `etcd_client/classify.rs`); this crate knows the stores it
//! speaks to only through their APIs — kvnode through its HTTP API (`kvnode_client.rs`), etcd
//! through its v3 JSON gateway (`etcd_client/`), PostgreSQL through its wire protocol
//! (`postgres_client/`) — so another store plugs in with another `Client`. `StdioClient` is that
//! other client for any store: a program the user writes, in any language, speaking the stdio
//! protocol (docs/stdio-protocol.md).

mod client;
mod etcd_client;
mod generator;
mod kvnode_client;
mod no_answer;
mod postgres_client;
mod stdio_client;
mod workload;

pub use client::{Client, Completion};
pub use etcd_client::{EtcdClient, EtcdReads, etcd_leader};
pub use generator::{Generator, Invocation, KeyDistribution};
pub use kvnode_client::{ClientError, KvnodeClient, MAX_ATTEMPTS, NodeAddr};
pub use postgres_client::{
    PostgresClient, PostgresConfig, PostgresReads, SetupError as PostgresSetupError, postgres_setup,
};
pub use stdio_client::{DEFAULT_READY_TIMEOUT, StdioClient, StdioNode, StdioNotice, StdioProgram};
pub use workload::{
    DEFAULT_MAX_WRITES_PER_KEY, DEFAULT_OPS_PER_KEY, DEFAULT_THREADS_PER_KEY, WorkloadKind,
    WorkloadSpec,
};
