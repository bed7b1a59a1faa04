//! faultline-workloads owns what clients do to a store: seeded operation generators (register,
//! kv, append, set), the clients that talk to a store and classify every outcome as `ok`, `fail`
//! or `info`, and which checker model judges each workload.
//!
//! Invariants: generators are deterministic given their seed and never repeat a written value; a
//! client reports `fail` only when the operation certainly did not happen (the table is in
//! `kvnode_client/classify.rs`); a client retries an invocation only under its one
//! `(client_id, seq)`, so kvnode's dedup table keeps retries from applying twice; this crate
//! knows kvnode only through its HTTP API (`kvnode_client.rs`), so another store plugs in with
//! another `Client`.

mod client;
mod generator;
mod kvnode_client;
mod workload;

pub use client::{Client, Completion};
pub use generator::{Generator, Invocation, KeyDistribution, REGISTER_KEY, SET_KEY};
pub use kvnode_client::{ClientError, KvnodeClient, MAX_ATTEMPTS, NodeAddr};
pub use workload::{WorkloadKind, WorkloadSpec};
