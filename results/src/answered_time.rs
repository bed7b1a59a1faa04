//! Availability in time: of the workload's seconds, those in which the store answered at least
//! one operation (at least one write). Counting operations alone hides an outage: a healthy
//! second holds thousands of answers, a dead one a timeout per client.

use std::collections::BTreeSet;

const SECOND: u64 = 1_000_000_000;

/// Seconds with an answer, counted from the workload's first invocation.
#[derive(Default)]
pub struct AnsweredSeconds {
    /// The first client invocation: second 0 starts here.
    start: Option<u64>,
    /// The last client completion: the last second ends with it.
    end: u64,
    any: BTreeSet<u64>,
    writes: BTreeSet<u64>,
}

impl AnsweredSeconds {
    pub fn invoked(&mut self, time: u64) {
        self.start.get_or_insert(time);
    }

    /// A completion at `time`, answered or not, of a write or not.
    pub fn completed(&mut self, time: u64, answered: bool, write: bool) {
        let Some(start) = self.start else { return };
        self.end = self.end.max(time);
        if answered {
            let second = time.saturating_sub(start) / SECOND;
            self.any.insert(second);
            if write {
                self.writes.insert(second);
            }
        }
    }

    /// (any operation, writes): the fractions of the workload's seconds that had an answer.
    pub fn fractions(&self) -> (Option<f64>, Option<f64>) {
        let Some(start) = self.start else {
            return (None, None);
        };
        let seconds = self.end.saturating_sub(start).div_ceil(SECOND).max(1);
        // A completion exactly at the end falls in the last second, not one past it.
        let fraction = |set: &BTreeSet<u64>| {
            let hit = set
                .iter()
                .map(|&s| s.min(seconds - 1))
                .collect::<BTreeSet<_>>();
            Some(hit.len() as f64 / seconds as f64)
        };
        (fraction(&self.any), fraction(&self.writes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_count_once_however_many_answers_they_hold() {
        let mut t = AnsweredSeconds::default();
        assert_eq!(t.fractions(), (None, None));
        t.invoked(500_000_000);
        for ms in [600, 700, 800, 1_400] {
            t.completed(ms * 1_000_000, true, false);
        }
        t.completed(1_600_000_000, true, true);
        // Nothing answered from 1.6 s to 4.5 s.
        t.completed(4_500_000_000, false, true);
        // 4 seconds from 0.5 s to 4.5 s, the first two answered; one write, in the second.
        assert_eq!(t.fractions(), (Some(0.5), Some(0.25)));
    }
}
