//! kvnode owns the replicated key-value store that faultline tests: election, replication modes
//! (async, sync, quorum), read modes, the write-ahead log and the HTTP API.
//!
//! Not built yet: see issue 3. It imports nothing of faultline; the harness reaches it over HTTP
//! and through signals, exactly as it would reach etcd.
