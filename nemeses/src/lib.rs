//! faultline-nemeses owns faults: network partitions (grudges enforced by nftables or a userspace
//! proxy), process crash and pause, clock skew, and the seeded schedules that decide when each
//! fault starts and heals.
//!
//! Not built yet: see issues 4 and 5. It will define its own small trait for "the nodes I can act
//! on" and depend on no other faultline crate.
