//! faultline-results' integration tests, compiled into one binary.

mod anomalies;
mod browser;
mod campaign;
mod charts;
mod interruption;
mod report;
mod serve;
mod store;
mod summary;
