//! faultline-workloads' integration tests: `KvnodeClient` against real `kvnode` processes on
//! loopback (one binary, so the kvnode build is shared), and against scripted fake nodes for
//! the answers a real node gives only under faults; `EtcdClient` against a real etcd cluster and
//! against scripted fake members; `PostgresClient` against a real PostgreSQL server;
//! `StdioClient` with the Python example client and with broken programs.

mod client;
mod cluster;
mod etcd;
mod etcd_scripted;
mod fake_node;
mod kvnode_bin;
mod postgres;
mod scripted;
mod stdio;
