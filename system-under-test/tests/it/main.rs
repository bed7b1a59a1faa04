//! kvnode integration tests.
