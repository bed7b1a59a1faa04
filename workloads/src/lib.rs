//! faultline-workloads owns what clients do to a store: seeded operation generators (register, kv,
//! append, set), the async HTTP clients that talk to a store and classify every outcome as `ok`,
//! `fail` or `info`, and which checker model judges each workload.
//!
//! Not built yet: see issue 4. It will depend on `faultline-checker` for the history types only.
