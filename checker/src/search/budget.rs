//! The search's budget: a deadline and a memory limit shared by every partition checked at once,
//! plus a cancel flag so that one partition's proof of non-linearizability stops the others.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Limits on one check. `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    pub timeout: Option<Duration>,
    /// Bytes of memo, stack and model state the search may hold, across all partitions.
    pub memory_limit: Option<usize>,
}

/// Why a search gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exhausted {
    Time {
        limit: Duration,
        configurations: u64,
    },
    Memory {
        limit: usize,
        configurations: u64,
    },
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exhausted::Time {
                limit,
                configurations,
            } => write!(
                f,
                "time budget of {:.3}s exhausted after {configurations} configurations",
                limit.as_secs_f64()
            ),
            Exhausted::Memory {
                limit,
                configurations,
            } => write!(
                f,
                "memory budget of {} MB exhausted after {configurations} configurations",
                limit / (1024 * 1024)
            ),
        }
    }
}

/// The budget as the searches running in parallel share it.
pub(crate) struct SharedBudget {
    budget: Budget,
    deadline: Option<Instant>,
    used: AtomicUsize,
    peak: AtomicUsize,
    cancelled: AtomicBool,
}

impl SharedBudget {
    pub fn new(budget: Budget) -> Self {
        SharedBudget {
            budget,
            deadline: budget.timeout.map(|t| Instant::now() + t),
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            cancelled: AtomicBool::new(false),
        }
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn out_of_time(&self, configurations: u64) -> Option<Exhausted> {
        let deadline = self.deadline?;
        (Instant::now() >= deadline).then(|| Exhausted::Time {
            limit: self.budget.timeout.unwrap_or_default(),
            configurations,
        })
    }

    /// Claims `bytes` more memory; fails (claiming nothing) when that would pass the limit.
    pub fn claim(&self, bytes: usize, configurations: u64) -> Result<(), Exhausted> {
        let limit = self.budget.memory_limit.unwrap_or(usize::MAX);
        let before = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&total| total <= limit)
            })
            .map_err(|_| Exhausted::Memory {
                limit,
                configurations,
            })?;
        self.peak.fetch_max(before + bytes, Ordering::Relaxed);
        Ok(())
    }

    pub fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The memory limit, when there is one.
    pub fn memory_limit(&self) -> Option<usize> {
        self.budget.memory_limit
    }

    /// The most memory claimed at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}
