//! Latency percentiles per operation type, over completed (`ok`) client operations.

use std::collections::BTreeMap;

use faultline_checker::history::Operation;
use serde::Serialize;

/// Latencies of one operation type, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Per `f`, the latency of its `ok` operations (nearest-rank percentiles).
pub fn latencies(ops: &[Operation]) -> BTreeMap<String, LatencySummary> {
    let mut by_f: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for op in ops {
        if let Some(done) = op.return_time {
            by_f.entry(op.f.to_string())
                .or_default()
                .push(done.saturating_sub(op.call_time));
        }
    }
    by_f.into_iter()
        .map(|(f, mut ns)| {
            ns.sort_unstable();
            let at = |q: f64| {
                let rank = ((q * ns.len() as f64).ceil() as usize).clamp(1, ns.len());
                ns[rank - 1] as f64 / 1e6
            };
            let summary = LatencySummary {
                count: ns.len(),
                p50_ms: at(0.50),
                p95_ms: at(0.95),
                p99_ms: at(0.99),
                max_ms: at(1.0),
            };
            (f, summary)
        })
        .collect()
}
