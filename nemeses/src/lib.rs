//! faultline-nemeses owns faults: process crash and pause, network partitions shaped as grudges
//! and link delay (clock skew to come), and the seeded schedules that decide when each fault starts and
//! heals and which nodes it hits.
//!
//! Invariants: depends on no other faultline crate; acts on nodes only through the `Nodes`
//! and `Network` traits defined here; every fault it starts it heals, also when the run is cut short.

mod fault;
mod grudge;
mod network;
mod nodes;
mod run;
mod schedule;

pub use fault::{Aim, FaultKind, Target};
pub use grudge::{Grudge, Shape};
pub use network::{LinkDelay, Network, NetworkError, NoNetwork};
pub use nodes::{NodeId, Nodes, NodesError};
pub use run::run_schedule;
pub use schedule::{NemesisEvent, NemesisEventKind, Schedule, ScheduleSpec};
