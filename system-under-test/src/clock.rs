//! The node's wall clock: real time, shifted by an offset and scaled by a rate that
//! `POST /admin/clock` sets (the clock nemesis's fallback when libfaketime is absent).
//! Lease validity is judged on this clock, so skewing it can make a leader serve stale reads.

use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// A settable wall clock. `now_ms` = `anchor_fake + (real_now - anchor_real) * rate`.
#[derive(Debug)]
pub struct Clock {
    state: Mutex<ClockState>,
}

#[derive(Debug, Clone, Copy)]
struct ClockState {
    anchor_real_ms: f64,
    anchor_fake_ms: f64,
    offset_ms: i64,
    rate: f64,
}

/// A clock setting that is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClockError {
    #[error("rate must be a finite number above 0 (got {0})")]
    BadRate(f64),
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock that tells real time.
    pub fn new() -> Self {
        let now = real_now_ms();
        Clock {
            state: Mutex::new(ClockState {
                anchor_real_ms: now,
                anchor_fake_ms: now,
                offset_ms: 0,
                rate: 1.0,
            }),
        }
    }

    /// Milliseconds since the Unix epoch, as this node believes.
    pub fn now_ms(&self) -> i64 {
        let s = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (s.anchor_fake_ms + (real_now_ms() - s.anchor_real_ms) * s.rate) as i64
    }

    /// From now on the clock reads real time + `offset_ms`, and advances `rate` times as fast
    /// as real time. `offset_ms = 0, rate = 1` restores real time.
    pub fn set(&self, offset_ms: i64, rate: f64) -> Result<(), ClockError> {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(ClockError::BadRate(rate));
        }
        let now = real_now_ms();
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *s = ClockState {
            anchor_real_ms: now,
            anchor_fake_ms: now + offset_ms as f64,
            offset_ms,
            rate,
        };
        Ok(())
    }

    /// The last `(offset_ms, rate)` set.
    pub fn settings(&self) -> (i64, f64) {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (s.offset_ms, s.rate)
    }
}

fn real_now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_rate_apply() {
        let clock = Clock::new();
        let real = real_now_ms() as i64;
        assert!((clock.now_ms() - real).abs() < 50);
        clock.set(10_000, 1.0).expect("valid");
        assert!((clock.now_ms() - real - 10_000).abs() < 50);
        clock.set(-5_000, 0.5).expect("valid");
        assert!((clock.now_ms() - real + 5_000).abs() < 50);
        assert_eq!(clock.settings(), (-5_000, 0.5));
        assert_eq!(clock.set(0, 0.0), Err(ClockError::BadRate(0.0)));
        assert!(clock.set(0, f64::NAN).is_err());
    }
}
