//! faultline-workloads' integration tests: `KvnodeClient` against real `kvnode` processes on
//! loopback (one binary, so the kvnode build and the test processes are shared).

mod client;
mod cluster;
mod kvnode_bin;
