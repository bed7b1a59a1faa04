//! A run in one line, the same on the terminal (`faultline run`) and at the top of its report:
//! outcomes (cas rejected on their merits apart from real failures), availability during
//! faults first, then overall per operation and in time, throughput, faults.

use crate::figures::percent;
use crate::summary::{OpCounts, RunResults};

/// `182878 ok, 61900 rejected cas, 85 failed, 7 info; during faults 95.0% of operations
/// answered, 90.0% of writes; overall 99.8% of operations, 100.0% of seconds; 7326 ops/s over
/// 30.0 s; 4 faults (2 on the leader)`.
pub fn headline(r: &RunResults) -> String {
    let total = |count: fn(&OpCounts) -> usize| r.ops.values().map(count).sum::<usize>();
    let rejected = total(|c| c.rejected);
    let mut outcomes = vec![format!("{} ok", total(|c| c.ok))];
    if rejected > 0 || r.ops.contains_key("cas") {
        // kvnode rejects only cas on its merits, short of a workload mixing lists and scalars.
        let only_cas = r.ops.iter().all(|(f, c)| f == "cas" || c.rejected == 0);
        outcomes.push(format!(
            "{rejected} rejected{}",
            if only_cas { " cas" } else { "" }
        ));
    }
    outcomes.push(format!("{} failed", total(|c| c.fail)));
    outcomes.push(format!("{} info", total(|c| c.info)));

    let a = &r.availability;
    let mut parts = vec![outcomes.join(", ")];
    if !r.faults.is_empty() {
        parts.push(format!(
            "during faults {} of operations answered, {} of writes",
            percent(a.during_faults),
            percent(a.writes_during_faults)
        ));
    }
    parts.push(format!(
        "overall {} of operations, {} of seconds",
        percent(a.overall),
        percent(a.overall_by_time)
    ));
    parts.push(format!(
        "{:.0} ops/s over {:.1} s",
        r.throughput_ops_per_s, r.duration_s
    ));
    parts.push(match r.faults.len() {
        0 => "no faults".to_owned(),
        n => format!(
            "{n} fault{} ({} on the leader)",
            if n == 1 { "" } else { "s" },
            r.faults.iter().filter(|f| f.hit_leader).count()
        ),
    });
    parts.join("; ")
}
