//! Which operations a report embeds. Up to `MAX_SHOWN` all of them; past it, every operation
//! around each anchor (an anomaly's read and the write it missed, the counterexample's
//! operations, each fault's start, heal and end) and an even sample of the rest.
//!
//! Why 60 000: an operation costs ~25–35 bytes of columns (docs/benchmarks.md), so the page
//! carries at most ~2 MB of them, parses in tens of milliseconds and draws a full-range frame
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
pub fn keep(rows: &[Row], anchors: &Anchors, max: usize) -> Kept {
    if rows.len() <= max {
        return Kept {
            rows: (0..rows.len()).collect(),
            sampled: false,
        };
    }
    let end = rows.iter().map(|r| r.invoke_time).max().unwrap_or(0);
    // Each anchor as a position in invocation order and a moment.
    let mut at: Vec<(usize, u64)> = Vec::new();
    for &index in &anchors.indices {
        let pos = rows.partition_point(|r| r.index < index);
        if let Some(r) = rows.get(pos).filter(|r| r.index == index) {
            at.push((pos, r.invoke_time));
            if let Some(t) = r.complete_time {
                at.push((pos, t));
            }
        }
    }
    for &time in &anchors.times {
        at.push((rows.partition_point(|r| r.invoke_time < time), time));
    }
    let neighbours = NEIGHBOURS.min(max / 4 / at.len().max(1));
    let mut kept = vec![false; rows.len()];
    for &(pos, time) in &at {
        let from = pos.saturating_sub(neighbours);
        let to = (pos + neighbours + 1).min(rows.len());
        kept[from..to].iter_mut().for_each(|k| *k = true);
        // Operations in flight at that moment, however long ago they were invoked: a 600 ms
        // read beside a stale one is the story. At most one per process (plus unanswered ones).
        for (i, r) in rows[..from].iter().enumerate() {
            if r.complete_time.unwrap_or(end) >= time {
                kept[i] = true;
            }
        }
    }
    let anchored = kept.iter().filter(|&&k| k).count();
    let rest = rows.len() - anchored;
    // `room` of the `rest`, evenly: the j-th is kept when j * room / rest steps to the next
    // integer.
    let room = max.saturating_sub(anchored).min(rest);
    let mut nth = 0usize;
    for k in kept.iter_mut() {
        if !*k {
            *k = (nth * room) / rest.max(1) != ((nth + 1) * room) / rest.max(1);
            nth += 1;
        }
    }
    Kept {
        rows: (0..rows.len()).filter(|&i| kept[i]).collect(),
        sampled: room < rest,
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
}
