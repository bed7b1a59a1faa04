//! Which operations a report embeds. Up to `MAX_SHOWN` all of them; past it, every operation
//! around each anchor (an anomaly's read and the write it missed, the counterexample's
//! operations, each fault's start, heal and end) and an even sample of the rest.
//!
//! Why 60 000: an operation costs ~32–40 bytes of columns (docs/benchmarks.md), so the page
//! carries at most ~2.4 MB of them, parses in tens of milliseconds and draws a full-range frame
//! in a few: a 30 s run of ~250 000 operations stays within a few MB and interactive within a
//! second, and anything shorter than ~7 s at that rate is shown whole.

use super::data::Row;

/// At most this many operations in the page.
pub const MAX_SHOWN: usize = 60_000;
/// Operations kept on each side of an anchor, in invocation order (fewer when anchors are many,
/// so that they take at most half the budget).
const NEIGHBOURS: usize = 200;

/// Where the kept operations must be.
pub struct Anchors {
    /// History indices of invocations (anomalies, the counterexample).
    pub indices: Vec<u64>,
    /// Moments, nanoseconds since the run started (fault edges).
    pub times: Vec<u64>,
}

/// What the budget kept.
pub struct Kept {
    /// Positions in the rows, in order.
    pub rows: Vec<usize>,
    /// Whether operations away from the anchors were left out.
    pub sampled: bool,
}

/// The rows to embed, with `max` as the bound (`MAX_SHOWN` in reports; tests pass smaller).
/// Never more than `max`: the anchored operations first, then those in flight at an anchor's
/// moments, then the neighbourhoods, then the even sample, each while room is left.
pub fn keep(rows: &[Row], anchors: &Anchors, max: usize) -> Kept {
    if rows.len() <= max {
        return Kept {
            rows: (0..rows.len()).collect(),
            sampled: false,
        };
    }
    let end = rows.iter().map(|r| r.invoke_time).max().unwrap_or(0);
    let mut kept = Marks::new(rows.len(), max);
    // Each anchor as a position in invocation order and a moment; the anchored ops themselves.
    let mut at: Vec<(usize, u64)> = Vec::new();
    for &index in &anchors.indices {
        let pos = rows.partition_point(|r| r.index < index);
        if let Some(r) = rows.get(pos).filter(|r| r.index == index) {
            kept.mark(pos);
            at.push((pos, r.invoke_time));
            if let Some(t) = r.complete_time {
                at.push((rows.partition_point(|r| r.invoke_time <= t), t));
            }
        }
    }
    for &time in &anchors.times {
        at.push((rows.partition_point(|r| r.invoke_time < time), time));
    }
    // Operations in flight at an anchor's moment, however long ago they were invoked: a 600 ms
    // read beside a stale one is the story. One pass, the moments sorted.
    let mut moments: Vec<u64> = at.iter().map(|&(_, t)| t).collect();
    moments.sort_unstable();
    for (i, r) in rows.iter().enumerate() {
        let next = moments.partition_point(|&t| t < r.invoke_time);
        if moments
            .get(next)
            .is_some_and(|&t| t <= r.complete_time.unwrap_or(end))
        {
            kept.mark(i);
        }
    }
    let neighbours = NEIGHBOURS.min(max / 4 / at.len().max(1));
    for &(pos, _) in &at {
        let from = pos.saturating_sub(neighbours);
        let to = (pos + neighbours + 1).min(rows.len());
        (from..to).for_each(|i| kept.mark(i));
    }
    let anchored = kept.count;
    let rest = rows.len() - anchored;
    // `room` of the `rest`, evenly: the j-th is kept when j * room / rest steps to the next
    // integer.
    let room = max.saturating_sub(anchored).min(rest);
    let mut nth = 0usize;
    for i in 0..rows.len() {
        if !kept.kept[i] {
            if (nth * room) / rest.max(1) != ((nth + 1) * room) / rest.max(1) {
                kept.mark(i);
            }
            nth += 1;
        }
    }
    Kept {
        rows: (0..rows.len()).filter(|&i| kept.kept[i]).collect(),
        sampled: true,
    }
}

/// Which rows are kept so far, never more than `max`.
struct Marks {
    kept: Vec<bool>,
    count: usize,
    max: usize,
}

impl Marks {
    fn new(rows: usize, max: usize) -> Marks {
        Marks {
            kept: vec![false; rows],
            count: 0,
            max,
        }
    }

    fn mark(&mut self, i: usize) {
        if self.count < self.max && !self.kept[i] {
            self.kept[i] = true;
            self.count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::data::Outcome;
    use super::*;

    fn row(i: u64) -> Row {
        Row {
            invoke_time: i * 1_000,
            complete_time: Some(i * 1_000 + 500),
            process: i % 4,
            f: "read".into(),
            key: Some("r".into()),
            value: String::new(),
            result: "1".into(),
            outcome: Outcome::Ok,
            node: None,
            index: 2 * i,
        }
    }

    #[test]
    fn within_the_bound_everything_is_kept() {
        let rows: Vec<Row> = (0..100).map(row).collect();
        let kept = keep(
            &rows,
            &Anchors {
                indices: vec![],
                times: vec![],
            },
            100,
        );
        assert_eq!(kept.rows.len(), 100);
        assert!(!kept.sampled);
    }

    #[test]
    fn past_the_bound_anchors_keep_their_neighbourhood_and_the_rest_is_sampled() {
        let mut rows: Vec<Row> = (0..100_000).map(row).collect();
        // A long read invoked early, still in flight at the anomaly.
        rows[10].complete_time = Some(80_000 * 1_000);
        let anchors = Anchors {
            indices: vec![2 * 70_000],
            times: vec![30_000 * 1_000],
        };
        let kept = keep(&rows, &anchors, 10_000);
        // The whole budget is used, no more.
        assert!(
            (9_900..=10_000).contains(&kept.rows.len()),
            "{}",
            kept.rows.len()
        );
        assert!(kept.sampled);
        for around in [70_000, 30_000] {
            for i in around - 200..=around + 200 {
                assert!(kept.rows.binary_search(&i).is_ok(), "{i} near {around}");
            }
        }
        assert!(
            kept.rows.binary_search(&10).is_ok(),
            "in flight at the anomaly"
        );
        // The sample covers the whole run.
        assert!(kept.rows.iter().any(|&i| i > 95_000));
        assert!(kept.rows.iter().any(|&i| i < 5_000 && i != 10));
    }

    #[test]
    fn many_anchors_and_unanswered_ops_never_break_the_bound() {
        // Every tenth op never answered (in flight at every later moment) and an anchor on
        // every op: the marks stop at the bound, anchored ops first.
        let rows: Vec<Row> = (0..20_000)
            .map(|i| Row {
                complete_time: (i % 10 != 0).then_some(i * 1_000 + 500),
                ..row(i)
            })
            .collect();
        let anchors = Anchors {
            indices: (0..20_000).map(|i| 2 * i).collect(),
            times: (0..100).map(|t| t * 200_000).collect(),
        };
        let kept = keep(&rows, &anchors, 1_000);
        assert_eq!(kept.rows.len(), 1_000);
        assert!(kept.sampled);
    }

    #[test]
    fn what_runs_during_a_long_anchored_op_is_kept_around_its_completion() {
        // Op 10 runs for 5 000 ops' time; the ops invoked near its completion are kept.
        let rows: Vec<Row> = (0..100_000)
            .map(|i| Row {
                complete_time: Some(if i == 10 { 5_010_000 } else { i * 1_000 + 500 }),
                ..row(i)
            })
            .collect();
        let anchors = Anchors {
            indices: vec![20],
            times: vec![],
        };
        let kept = keep(&rows, &anchors, 1_000);
        for i in 5_000..5_010 {
            assert!(
                kept.rows.binary_search(&i).is_ok(),
                "{i} near the completion"
            );
        }
    }
}
