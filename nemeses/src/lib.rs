//! faultline-nemeses owns faults: process crash and pause today (network partitions, clock skew
//! and link delay to come), and the seeded schedules that decide when each fault starts and
//! heals and which nodes it hits.
//!
//! Invariants: depends on no other faultline crate; acts on nodes only through the `Nodes`
//! trait defined here; every fault it starts it heals, also when the run is cut short.

mod fault;
mod grudge;
mod nodes;
mod run;
mod schedule;

pub use fault::{FaultKind, Target};
pub use grudge::{Grudge, Shape};
pub use nodes::{NodeId, Nodes, NodesError};
pub use run::run_schedule;
pub use schedule::{NemesisEvent, NemesisEventKind, Schedule, ScheduleSpec};
