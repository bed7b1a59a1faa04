//! faultline-results' integration tests, compiled into one binary.

mod report;
mod store;
mod summary;
