//! kvnode's integration tests: real `kvnode` processes on loopback, one temp dir each.

mod bad_requests;
mod chaos;
mod cluster;
mod dedup;
mod election;
mod faketime;
mod log_matching;
mod peer_link;
mod reads;
mod replication;
mod wal;
