//! Test support shared by the integration tests and the benchmarks.
#![allow(dead_code)]

pub mod corpus;
pub mod rng;
pub mod schedule;
pub mod simulate;
pub mod strings;
pub mod unique;
