//! Availability in time: of the workload's seconds in which clients were asking (an operation
//! in flight: invoked, not yet completed), those in which the store answered at least one.
//! Counting operations alone hides an outage: a healthy second holds thousands of answers, a
//! dead one a timeout per client. Seconds in which nobody asked (a low `--rate`) count neither
//! way.

const SECOND: u64 = 1_000_000_000;

/// Per second since the workload's first invocation: was something asked, was it answered.
#[derive(Default)]
struct Seconds {
    asked: Vec<bool>,
    answered: Vec<bool>,
}

impl Seconds {
    fn mark(marks: &mut Vec<bool>, from: usize, to: usize) {
        if marks.len() <= to {
            marks.resize(to + 1, false);
        }
        marks[from..=to].fill(true);
    }

    fn fraction(&self) -> Option<f64> {
        let asked = self.asked.iter().filter(|&&a| a).count();
        let answered = self.answered.iter().filter(|&&a| a).count();
        (asked > 0).then(|| answered as f64 / asked as f64)
    }
}

/// The seconds of the workload with operations in flight, and those with an answer, for all
/// operations and for writes alone.
#[derive(Default)]
pub struct AnsweredSeconds {
    /// The first client invocation: second 0 starts here.
    start: Option<u64>,
    /// The last completion: operations that never completed were in flight until it.
    end: u64,
    any: Seconds,
    writes: Seconds,
}

impl AnsweredSeconds {
    fn second(&self, time: u64) -> usize {
        let start = self.start.unwrap_or(time);
        usize::try_from(time.saturating_sub(start) / SECOND).unwrap_or(usize::MAX)
    }

    pub fn invoked(&mut self, time: u64) {
        self.start.get_or_insert(time);
    }

    /// An operation invoked at `invoked` completed at `done`, answered (`ok`, or rejected on
    /// its merits) or not.
    pub fn completed(&mut self, invoked: u64, done: u64, answered: bool, write: bool) {
        self.invoked(invoked);
        self.end = self.end.max(done);
        let (from, to) = (self.second(invoked), self.second(done));
        for seconds in [Some(&mut self.any), write.then_some(&mut self.writes)]
            .into_iter()
            .flatten()
        {
            Seconds::mark(&mut seconds.asked, from, to);
            if answered {
                Seconds::mark(&mut seconds.answered, to, to);
            }
        }
    }

    /// An operation that never completed: in flight from `invoked` to the last completion.
    pub fn pending(&mut self, invoked: u64, write: bool) {
        let end = self.end.max(invoked);
        self.completed(invoked, end, false, write);
    }

    /// (all operations, writes): the fraction of the seconds with operations in flight in which
    /// at least one was answered.
    pub fn fractions(&self) -> (Option<f64>, Option<f64>) {
        (self.any.fraction(), self.writes.fraction())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn seconds_count_once_however_many_answers_they_hold() {
        let mut t = AnsweredSeconds::default();
        assert_eq!(t.fractions(), (None, None));
        t.invoked(500 * MS);
        for ms in [600, 700, 800, 1_400] {
            t.completed(ms * MS - MS, ms * MS, true, false);
        }
        t.completed(1_550 * MS, 1_600 * MS, true, true);
        // Asked from 1.6 s, never answered: in flight through seconds 1 to 3.
        t.completed(1_600 * MS, 4_400 * MS, false, true);
        // Seconds 0-3 asked, 0 and 1 answered; writes asked in 1-3, answered in 1.
        assert_eq!(t.fractions(), (Some(0.5), Some(1.0 / 3.0)));
    }

    #[test]
    fn seconds_in_which_nobody_asked_do_not_count() {
        // One operation every three seconds (a low --rate), each answered at once.
        let mut t = AnsweredSeconds::default();
        for s in [0, 3, 6, 9] {
            t.completed(s * 1_000 * MS, s * 1_000 * MS + MS, true, false);
        }
        assert_eq!(t.fractions(), (Some(1.0), None));
        // A timeout, then a request that never came back: both asked, neither answered, the
        // second until the last completion.
        t.completed(9_600 * MS, 11_500 * MS, false, false);
        t.pending(9_500 * MS, false);
        assert_eq!(t.fractions(), (Some(4.0 / 6.0), None));
    }
}
