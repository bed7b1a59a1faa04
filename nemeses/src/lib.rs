//! faultline-nemeses owns faults: process crash and pause, network partitions shaped as grudges
//! link delay and clock skew, and the seeded schedules that decide when each fault starts and
//! heals and which nodes it hits.
//!
//! Invariants: depends on no other faultline crate; acts on nodes only through the `Nodes`
//! `Network` and `Clocks` traits defined here; every fault it starts it heals, also when the run is cut short.

mod clock;
mod fault;
mod grudge;
mod network;
mod nodes;
mod run;
mod schedule;

pub use clock::{ClockChange, ClockError, ClockSpec, Clocks, NoClocks, set_offsets};
pub use fault::{Aim, FaultKind, Target, lanes};
pub use grudge::{Grudge, Shape};
pub use network::{LinkDelay, Network, NetworkError, NoNetwork};
pub use nodes::{NodeId, Nodes, NodesError};
pub use run::run_schedule;
pub use schedule::{NemesisEvent, NemesisEventKind, Schedule, ScheduleSpec};
