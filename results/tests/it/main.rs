//! faultline-results' integration tests, compiled into one binary.

mod browser;
mod report;
mod serve;
mod store;
mod summary;
