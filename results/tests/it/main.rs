//! faultline-results' integration tests, compiled into one binary.

mod store;
mod summary;
