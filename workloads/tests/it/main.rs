//! faultline-workloads' integration tests: `KvnodeClient` against real `kvnode` processes on
//! loopback (one binary, so the kvnode build is shared), and against scripted fake nodes for
//! the answers a real node gives only under faults; `StdioClient` with the Python example
//! client and with broken programs.

mod client;
mod cluster;
mod fake_node;
mod kvnode_bin;
mod scripted;
mod stdio;
