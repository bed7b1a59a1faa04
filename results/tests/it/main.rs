//! faultline-results' integration tests, compiled into one binary.

mod browser;
mod charts;
mod report;
mod serve;
mod store;
mod summary;
