//! The history explorer of report.html: every client operation on its process's lane at its
//! real interval, fault windows shaded by family, node clock offsets, the anomalies as a list
//! that jumps to each; zoom, pan, hover and select in the page (`explorer.js`, vanilla
//! JavaScript on a canvas, inline: the page still opens offline from disk).
//!
//! Rust decides what the page gets (`data.rs`: rows and their columns; `budget.rs`: which rows
//! when there are too many) and every colour (from `palette`); the script only draws and
//! answers the reader.

mod budget;
mod data;

use faultline_checker::Explanation;
use faultline_checker::history::Event;
use serde::Serialize;
use serde_json::{Value, json};

use crate::faults::FaultWindow;
use crate::nodes::node_name;
use crate::palette::{self, OutcomeColour};
use crate::store::ClockSample;
use crate::summary::RunResults;

pub use budget::MAX_SHOWN;

/// The page's script, inlined into report.html.
pub const SCRIPT: &str = include_str!("explorer.js");

/// At most this many anomalies listed (results.json keeps the first 100 anyway).
const MAX_LISTED: usize = 100;

/// What the explorer shows, ready for the page.
pub struct Explorer {
    /// The data as JSON, safe inside a `<script>` element.
    pub json: String,
    /// Past the budget: what was left out, in one sentence.
    pub sampled: Option<String>,
}

#[derive(Serialize)]
struct Page<'a> {
    /// End of the run, microseconds.
    end: u64,
    total: usize,
    lanes: Vec<String>,
    ops: data::Columns,
    faults: Vec<Value>,
    clocks: Vec<Value>,
    anomalies: Vec<Value>,
    /// History index of the operation the checker could not linearize.
    blocked: Option<u64>,
    colours: Value,
    sampled: Option<&'a str>,
}

/// The explorer of a run, with at most `max` operations embedded (`MAX_SHOWN` in reports).
pub fn explorer(
    events: &[Event],
    results: &RunResults,
    clocks: &[ClockSample],
    max: usize,
) -> Explorer {
    let rows = data::rows(events);
    let lanes = data::lanes(&rows);
    let explanation = results
        .linearizability
        .as_ref()
        .and_then(|c| c.explanation.as_ref());
    let kept = budget::keep(&rows, &anchors(results, explanation), max);
    let sampled = kept.sampled.then(|| {
        format!(
            "{} of {} operations shown: every operation around each anomaly and fault edge, \
             an even sample elsewhere (history.jsonl has them all).",
            kept.rows.len(),
            rows.len(),
        )
    });
    let end = events.iter().map(|e| e.time).max().unwrap_or(0);
    let page = Page {
        end: end / 1_000,
        total: rows.len(),
        lanes: lanes.iter().map(|p| format!("process {p}")).collect(),
        ops: data::columns(kept.rows.iter().map(|&i| &rows[i]), &lanes),
        faults: results.faults.iter().map(fault).collect(),
        clocks: clock_series(clocks),
        anomalies: anomalies(results, explanation),
        blocked: explanation.map(|e| e.op.invoke_index),
        colours: colours(),
        sampled: sampled.as_deref(),
    };
    let json = serde_json::to_string(&page).unwrap_or_else(|_| "null".to_owned());
    Explorer {
        // `<` appears only inside JSON strings, where `\u003c` means the same: no string can
        // close the script element.
        json: json.replace('<', "\\u003c"),
        sampled,
    }
}

/// Steps of the longest linearization kept around the counterexample (it draws at most 24).
const PREFIX_ANCHORS: usize = 24;

fn anchors(results: &RunResults, explanation: Option<&Explanation>) -> budget::Anchors {
    let mut indices: Vec<u64> = results
        .anomalies
        .iter()
        .flat_map(|a| std::iter::once(a.read_index).chain(a.write_index))
        .collect();
    if let Some(e) = explanation {
        indices.extend(
            std::iter::once(&e.op)
                .chain(&e.concurrent)
                // The end of the longest linearization, as the counterexample draws it: the whole
                // prefix can be as long as the key's history.
                .chain(e.prefix.iter().rev().take(PREFIX_ANCHORS))
                .chain(&e.conflict)
                .map(|op| op.invoke_index),
        );
    }
    indices.sort_unstable();
    indices.dedup();
    let times = results
        .faults
        .iter()
        .flat_map(|w| [w.start, w.heal_start, w.end])
        .collect();
    budget::Anchors { indices, times }
}

fn fault(w: &FaultWindow) -> Value {
    json!({
        "fault": w.fault,
        "family": palette::family_of_fault(&w.fault),
        "text": w.describe(),
        "targets": w.targets,
        "shape": w.shape,
        "start": w.start / 1_000,
        "heal": w.heal_start / 1_000,
        "end": w.end / 1_000,
    })
}

/// Per node: sample times (µs) and offsets (ms), for the offsets at a moment on hover.
fn clock_series(samples: &[ClockSample]) -> Vec<Value> {
    let mut nodes: Vec<u32> = samples.iter().map(|s| s.node).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
        .into_iter()
        .map(|node| {
            let (t, ms): (Vec<u64>, Vec<f64>) = samples
                .iter()
                .filter(|s| s.node == node)
                .map(|s| (s.time / 1_000, (s.offset_ms * 10.0).round() / 10.0))
                .unzip();
            json!({"node": node_name(u64::from(node)), "t": t, "ms": ms})
        })
        .collect()
}

/// The anomalies in words, each with the operation it jumps to; the checker's blocked
/// operation first when no anomaly names it (a write or cas that cannot be linearized).
fn anomalies(results: &RunResults, explanation: Option<&Explanation>) -> Vec<Value> {
    let mut list: Vec<Value> = Vec::new();
    if let Some(e) = explanation
        && !results
            .anomalies
            .iter()
            .any(|a| a.read_index == e.op.invoke_index)
    {
        list.push(json!({
            "idx": e.op.invoke_index,
            "kind": "not linearizable",
            "text": format!("cannot be linearized: {}", e.op),
        }));
    }
    list.extend(results.anomalies.iter().take(MAX_LISTED).map(|a| {
        json!({
            "idx": a.read_index,
            "kind": a.kind,
            "text": a.to_string(),
        })
    }));
    list
}

/// Every colour the explorer draws with, from the palette.
fn colours() -> Value {
    let outcome = |o| palette::outcome(o).hex();
    json!({
        "outcome": [
            outcome(OutcomeColour::Ok),
            outcome(OutcomeColour::Fail),
            outcome(OutcomeColour::Info),
            outcome(OutcomeColour::Rejected),
            // Never answered: indeterminate, as an `info`.
            outcome(OutcomeColour::Info),
        ],
        "family": {
            "process": palette::fault_family("process").hex(),
            "network": palette::fault_family("network").hex(),
            "clock": palette::fault_family("clock").hex(),
            "other": palette::fault_family("other").hex(),
        },
        "blocked": palette::BLOCKED.hex(),
        "context": palette::CONTEXT.hex(),
    })
}
