//! faultline-workloads owns what clients do to a store: seeded operation generators (register,
//! kv, append, set), the clients that talk to a store and classify every outcome as `ok`, `fail`
//! or `info`, and which checker model judges each workload.
//!
//! Invariants: generators are deterministic given their seed and never write a value twice to
//! one key; the append and set workloads move to a fresh key after a fixed number of appends
//! (adds), and a completion carries only what the checker needs (a read its value, never the
//! list an append returns), so no event of a history grows with the run's length; a client
//! reports `fail` only when the operation certainly did not happen (the table is in
//! `kvnode_client/classify.rs`); a client retries an invocation only under its one
//! `(client_id, seq)`, so kvnode's dedup table keeps retries from applying twice; this crate
//! knows kvnode only through its HTTP API (`kvnode_client.rs`), so another store plugs in with
//! another `Client`.

mod client;
mod generator;
mod kvnode_client;
mod workload;

pub use client::{Client, Completion};
pub use generator::{Generator, Invocation, KeyDistribution, REGISTER_KEY};
pub use kvnode_client::{ClientError, KvnodeClient, MAX_ATTEMPTS, NodeAddr};
pub use workload::{DEFAULT_MAX_WRITES_PER_KEY, WorkloadKind, WorkloadSpec};
