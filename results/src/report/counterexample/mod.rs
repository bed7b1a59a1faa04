//! The counterexample view: for a non-linearizable history, the operations that matter on their
//! processes' lanes, as Porcupine draws a partial linearization — the operation that cannot be
//! linearized (always visible, whatever its length), the operations concurrent with it, the end
//! of the longest linearization found drawn as an order over them (numbered, joined by a path),
//! the faults in force shaded behind, and above the chart what it shows in words: the op, the
//! node that answered it, the state it needed against the state the linearization left, the
//! faults in force.
//!
//! Operations are named by history index (`#5646`), as the text and history.jsonl number them;
//! the numbers in circles are positions in the order drawn. This file chooses what to draw;
//! `story.rs` says it in words, `layout.rs` places it (no label over another, no bar narrower
//! than 6 px), `svg.rs` draws it.

mod layout;
mod story;
mod svg;

use std::collections::{HashMap, HashSet};

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Explanation, OpSummary};
use serde_json::Value;

use crate::faults::FaultWindow;
use crate::markup::escape;
use crate::nodes::name_recorded;
use crate::palette::{self, Rgb};
use layout::{Band, Item};
use story::story;

/// At most this many operations drawn (each adds up to two event times to the axis, each time
/// at least 6 px).
const MAX_OPS: usize = 40;
/// The last steps of the longest linearization drawn; more when ops concurrent with the
/// blocked one were linearized earlier, up to `MAX_STEPS`.
const STEPS_SHOWN: usize = 10;
const MAX_STEPS: usize = 24;
/// Fault header rows at most (the story above the chart names every fault in force).
const MAX_BANDS: usize = 4;

/// How an operation takes part in the counterexample (its colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Cannot be linearized.
    Blocked,
    /// A step of the longest linearization found.
    Linearized,
    /// Concurrent with the blocked op and not linearized.
    Concurrent,
    /// What the fast path's witness says the blocked op conflicts with.
    Conflict,
}

/// One operation as the chart draws it.
pub(super) struct CxOp {
    pub process: u64,
    /// History index of its invocation.
    pub index: u64,
    pub start: u64,
    pub end: Option<u64>,
    pub label: String,
    /// Everything about it, for its `<title>`.
    pub hover: String,
    pub role: Role,
}

/// What the history says of an op's completion beyond the explanation: who answered, and for
/// an op the checker leaves pending, whether it timed out (`info`) and when.
pub(super) struct Answer {
    pub node: Option<String>,
    pub kind: EventType,
    pub time: u64,
}

/// The counterexample view as an HTML fragment: the story in words, then the chart (SVG).
pub fn counterexample(e: &Explanation, events: &[Event], faults: &[FaultWindow]) -> String {
    let states = replay(&e.prefix).filter(|s| s.last().is_none_or(|last| *last == e.state));
    let in_prefix: HashMap<u64, usize> = e
        .prefix
        .iter()
        .enumerate()
        .map(|(i, op)| (op.invoke_index, i))
        .collect();

    // The end of the linearization: its last steps, reaching back to the earliest concurrent op
    // it took (within MAX_STEPS).
    let earliest_concurrent = e
        .concurrent
        .iter()
        .filter_map(|op| in_prefix.get(&op.invoke_index).copied())
        .min();
    let tail_from = e
        .prefix
        .len()
        .saturating_sub(STEPS_SHOWN)
        .min(earliest_concurrent.unwrap_or(usize::MAX))
        .max(e.prefix.len().saturating_sub(MAX_STEPS));
    let steps = &e.prefix[tail_from..];

    // The concurrent ops not linearized, nearest the blocked op's invocation first, as many as
    // there is room for.
    let mut open: Vec<&OpSummary> = e
        .concurrent
        .iter()
        .filter(|op| !in_prefix.contains_key(&op.invoke_index))
        .collect();
    open.sort_by_key(|op| op.invoke_time.abs_diff(e.op.invoke_time));
    let room = MAX_OPS.saturating_sub(steps.len() + 2);
    let hidden = open.len().saturating_sub(room);
    open.truncate(room);
    open.sort_by_key(|op| op.invoke_index);

    // The op that replaced the state the blocked op needed, named in the story.
    let needed = needed_state(e);
    let replaced = states
        .as_ref()
        .zip(needed.as_ref())
        .and_then(|(states, needed)| replaced_by(&e.prefix, states, needed));

    let mut wanted: HashSet<u64> = steps.iter().map(|op| op.invoke_index).collect();
    wanted.extend(open.iter().map(|op| op.invoke_index));
    wanted.insert(e.op.invoke_index);
    wanted.extend(e.conflict.iter().map(|op| op.invoke_index));
    wanted.extend(replaced.map(|(_, by)| e.prefix[by].invoke_index));
    let answers = answers(events, &wanted);

    let key = e.key.as_deref().or(e.op.key.as_deref()).unwrap_or("");
    let state_of = |pos: usize| -> Option<String> {
        let states = states.as_ref()?;
        let before = match pos {
            0 => "the start".to_owned(),
            p => states[p - 1].to_string(),
        };
        Some(format!("{key} {before} → {}", states[pos]))
    };

    let mut ops: Vec<CxOp> = Vec::new();
    let mut order: Vec<usize> = Vec::new();
    for (i, op) in steps.iter().enumerate() {
        let pos = tail_from + i;
        let mut step = format!(
            "step {} of the order drawn ({} of {} in the longest linearization found)",
            i + 1,
            pos + 1,
            e.prefix.len()
        );
        if let Some(change) = state_of(pos) {
            step.push_str(&format!("\nstate: {change}"));
        }
        order.push(ops.len());
        ops.push(cx_op(op, Role::Linearized, &answers, Some(&step)));
    }
    for op in &open {
        ops.push(cx_op(
            op,
            Role::Concurrent,
            &answers,
            Some("concurrent with the blocked op, not linearized"),
        ));
    }
    if let Some(c) = &e.conflict
        && !ops.iter().any(|o| o.index == c.invoke_index)
    {
        ops.push(cx_op(
            c,
            Role::Conflict,
            &answers,
            Some("the op the blocked one conflicts with"),
        ));
    }
    let blocked_note = match &needed {
        Some(n) => format!(
            "cannot be linearized: it needed {key} = {n}; the linearization leaves {}",
            e.state
        ),
        None => "cannot be linearized".to_owned(),
    };
    ops.push(cx_op(&e.op, Role::Blocked, &answers, Some(&blocked_note)));
    if let Some(op) = ops.last_mut() {
        // The node that served it, on the chart itself, not only on hover.
        if let Some(node) = answers
            .get(&e.op.invoke_index)
            .and_then(|a| a.node.as_ref())
        {
            // Before the history index, which ends the label (a key or value may hold " #").
            if let Some(at) = op.label.rfind(" #") {
                op.label.insert_str(at, &format!(" from {node}"));
            }
        }
    }

    let first = ops.iter().map(|o| o.start).min().unwrap_or(0);
    let last = ops
        .iter()
        .filter_map(|o| o.end)
        .chain(ops.iter().map(|o| o.start))
        .max()
        .unwrap_or(first);
    let blocked_end = e.op.complete_time.unwrap_or(last);
    let during_blocked: Vec<&FaultWindow> = faults
        .iter()
        .filter(|w| w.in_force_during(e.op.invoke_time, blocked_end))
        .collect();
    // Faults in force in the window, those in force while the blocked op ran first.
    let mut shown: Vec<&FaultWindow> = faults
        .iter()
        .filter(|w| w.start <= last && first < w.end)
        .collect();
    shown.sort_by_key(|w| {
        (
            !during_blocked.iter().any(|d| std::ptr::eq(*d, *w)),
            w.start,
        )
    });
    shown.truncate(MAX_BANDS);
    shown.sort_by_key(|w| w.start);
    let bands: Vec<Band> = shown
        .iter()
        .map(|w| Band {
            start: w.start,
            end: w.end,
            label: w.describe(),
        })
        .collect();
    let band_looks: Vec<(Rgb, String)> = shown
        .iter()
        .map(|w| {
            (
                palette::fault_family(palette::family_of_fault(&w.fault)),
                format!(
                    "{}\nin force {} to {} (heal began {})",
                    w.describe(),
                    seconds(w.start),
                    seconds(w.end),
                    seconds(w.heal_start)
                ),
            )
        })
        .collect();

    let mut lanes: Vec<u64> = ops.iter().map(|o| o.process).collect();
    lanes.sort_unstable();
    lanes.dedup();
    let items: Vec<Item> = ops
        .iter()
        .map(|o| Item {
            lane: o.process,
            start: o.start,
            end: o.end,
            label: o.label.clone(),
        })
        .collect();
    let placed = layout::layout(&items, &bands, &order, &lanes, |t| {
        format!("{:.6}", t as f64 / 1e9)
    });
    let chart = svg::svg(&svg::Drawing {
        layout: &placed,
        ops: &ops,
        order: &order,
        bands: &band_looks,
        axis_note: "s since the run started; not to scale: each interval between two events ≥ 6 px, longer ones wider (log)",
    });

    let mut story = story(e, &answers, needed.as_ref(), replaced, &during_blocked);
    let not_linearized = open.len() + hidden;
    let mut drawn = if steps.is_empty() {
        match &e.conflict {
            Some(c) => format!(
                "Drawn: the op (red) and #{}, the op it conflicts with (grey)",
                c.invoke_index
            ),
            None => "Drawn: the op (red)".to_owned(),
        }
    } else {
        format!(
            "Drawn: the last {} of the {} steps of that linearization (green, numbered in order)",
            steps.len(),
            e.prefix.len()
        )
    };
    match (not_linearized, hidden) {
        (0, _) => drawn.push_str("; every op concurrent with it was linearized"),
        (n, 0) => drawn.push_str(&format!(
            " and the {n} concurrent op{} it did not linearize (orange)",
            if n == 1 { "" } else { "s" }
        )),
        (n, hidden) => drawn.push_str(&format!(
            " and {} of the {n} concurrent ops it did not linearize (orange; {hidden} more not drawn)",
            open.len()
        )),
    }
    drawn.push_str(". Hover a bar for its node, latency and the state before and after it.");
    story.push(drawn);
    let mut html = String::from(r#"<div class="counterexample-view" id="counterexample">"#);
    for line in story {
        html.push_str("<p>");
        html.push_str(&escape(&line));
        html.push_str("</p>");
    }
    html.push_str(&chart);
    html.push_str("</div>");
    html
}

pub(super) fn seconds(ns: u64) -> String {
    format!("{:.6} s", ns as f64 / 1e9)
}

pub(super) fn millis(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The state the blocked op needed: what a read returned, what a cas expected; from the fast
/// path alone, its witness says it.
fn needed_state(e: &Explanation) -> Option<Value> {
    if e.reason.is_some() {
        return Some(e.state.clone());
    }
    match e.op.f.as_str() {
        "read" => e.op.output.clone(),
        "cas" => e.op.value.as_array().and_then(|a| a.first()).cloned(),
        _ => None,
    }
}

/// The state after each step of `prefix`, for the models whose state the ops spell (registers,
/// list appends); `None` for anything else.
fn replay(prefix: &[OpSummary]) -> Option<Vec<Value>> {
    let mut state: Option<Value> = None;
    let mut states = Vec::with_capacity(prefix.len());
    for op in prefix {
        let next = match op.f.as_str() {
            "read" => op.output.clone()?,
            "write" => op.value.clone(),
            "cas" => op.value.as_array()?.get(1)?.clone(),
            "append" => {
                let mut list = match state.take() {
                    Some(Value::Array(list)) => list,
                    None | Some(Value::Null) => Vec::new(),
                    Some(_) => return None,
                };
                list.push(op.value.clone());
                Value::Array(list)
            }
            _ => return None,
        };
        states.push(next.clone());
        state = Some(next);
    }
    Some(states)
}

/// The step that replaced `needed`: the first change after the last step that left it, as
/// (that step, the replacing step) positions.
fn replaced_by(prefix: &[OpSummary], states: &[Value], needed: &Value) -> Option<(usize, usize)> {
    let had = states.iter().rposition(|s| s == needed)?;
    let by = (had + 1..prefix.len()).find(|&i| states[i] != *needed)?;
    Some((had, by))
}

/// The completion of each wanted op (by invocation index): a process has one op in flight, so
/// its next completion is the op's.
fn answers(events: &[Event], wanted: &HashSet<u64>) -> HashMap<u64, Answer> {
    let mut open: HashMap<u64, u64> = HashMap::new();
    let mut found = HashMap::new();
    for e in events {
        let Process::Client(p) = e.process else {
            continue;
        };
        if e.kind == EventType::Invoke {
            open.insert(p, e.index);
        } else if let Some(call) = open.remove(&p)
            && wanted.contains(&call)
        {
            found.insert(
                call,
                Answer {
                    node: e.node.as_deref().map(name_recorded),
                    kind: e.kind,
                    time: e.time,
                },
            );
        }
    }
    found
}

/// `f key value`, what it returned, and its history index: `read r → 1826 #5646`,
/// `cas r 1837→1838 #5652`, `write r 1840 → ? #5700` (never answered).
pub(super) fn label(op: &OpSummary) -> String {
    let mut text = op.f.clone();
    if let Some(key) = &op.key {
        text.push(' ');
        text.push_str(key);
    }
    let pending = op.complete_index.is_none();
    match (op.f.as_str(), op.value.as_array()) {
        ("cas", Some(pair)) if pair.len() == 2 => {
            text.push_str(&format!(" {}→{}", pair[0], pair[1]));
            if pending {
                text.push_str(" ?");
            }
        }
        _ => {
            if !op.value.is_null() {
                text.push_str(&format!(" {}", op.value));
            }
            match &op.output {
                _ if pending => text.push_str(" → ?"),
                Some(out) if !out.is_null() && *out != op.value => {
                    text.push_str(&format!(" → {out}"))
                }
                Some(out) if out.is_null() && op.value.is_null() => text.push_str(" → nil"),
                _ => {}
            }
        }
    }
    text.push_str(&format!(" #{}", op.invoke_index));
    text
}

fn cx_op(op: &OpSummary, role: Role, answers: &HashMap<u64, Answer>, note: Option<&str>) -> CxOp {
    let answer = answers.get(&op.invoke_index);
    let mut hover = format!("#{} process {} {}", op.invoke_index, op.process, label(op));
    if let Some(i) = hover.rfind(" #") {
        hover.truncate(i);
    }
    let node = answer
        .and_then(|a| a.node.clone())
        .unwrap_or_else(|| "an unrecorded node".to_owned());
    match (op.complete_time, answer) {
        (Some(done), _) => hover.push_str(&format!(
            "\nanswered ok by {node} after {}\ninvoked {}, completed {}",
            millis(done.saturating_sub(op.invoke_time)),
            seconds(op.invoke_time),
            seconds(done)
        )),
        (None, Some(a)) if a.kind == EventType::Info => hover.push_str(&format!(
            "\nno answer: the client gave up after {} (info; may have happened)\ninvoked {}",
            millis(a.time.saturating_sub(op.invoke_time)),
            seconds(op.invoke_time)
        )),
        (None, _) => hover.push_str(&format!(
            "\nnever answered in the history\ninvoked {}",
            seconds(op.invoke_time)
        )),
    }
    if let Some(note) = note {
        hover.push('\n');
        hover.push_str(note);
    }
    CxOp {
        process: op.process,
        index: op.invoke_index,
        start: op.invoke_time,
        end: op.complete_time,
        label: label(op),
        hover,
        role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(process: u64, f: &str, value: Value, output: Option<Value>, index: u64) -> OpSummary {
        OpSummary {
            process,
            f: f.to_owned(),
            key: Some("r".to_owned()),
            value,
            output: output.clone(),
            invoke_index: index,
            invoke_time: index * 1_000_000,
            complete_index: output.as_ref().map(|_| index + 1),
            complete_time: output.map(|_| index * 1_000_000 + 300_000),
        }
    }

    #[test]
    fn labels_name_ops_by_history_index() {
        assert_eq!(
            label(&op(6, "read", Value::Null, Some(json!(1826)), 5646)),
            "read r → 1826 #5646"
        );
        assert_eq!(
            label(&op(
                3,
                "cas",
                json!([1837, 1838]),
                Some(json!([1837, 1838])),
                5652
            )),
            "cas r 1837→1838 #5652"
        );
        assert_eq!(
            label(&op(3, "write", json!(1840), None, 5700)),
            "write r 1840 → ? #5700"
        );
    }

    #[test]
    fn replay_spells_each_state_and_finds_what_replaced_the_needed_one() {
        let prefix = vec![
            op(1, "write", json!(1), Some(json!(1)), 10),
            op(2, "read", Value::Null, Some(json!(1)), 12),
            op(1, "write", json!(2), Some(json!(2)), 14),
            op(1, "cas", json!([2, 3]), Some(json!([2, 3])), 16),
        ];
        let states = replay(&prefix).expect("register ops");
        assert_eq!(states, vec![json!(1), json!(1), json!(2), json!(3)]);
        assert_eq!(replaced_by(&prefix, &states, &json!(1)), Some((1, 2)));
        let appends = vec![
            op(1, "append", json!(1), Some(json!(1)), 10),
            op(1, "append", json!(2), None, 12),
        ];
        assert_eq!(replay(&appends), Some(vec![json!([1]), json!([1, 2])]));
    }

    /// The fast path's explanation alone (the search could not finish): no linearization, the
    /// state needed and the op it conflicts with.
    #[test]
    fn a_witness_without_a_linearization_is_drawn_with_its_conflict() {
        let blocked = op(1, "read", Value::Null, Some(json!(1)), 20);
        let conflict = op(0, "write", json!(2), Some(json!(2)), 10);
        let e = Explanation {
            key: Some("r".to_owned()),
            op: blocked,
            concurrent: Vec::new(),
            prefix: Vec::new(),
            state: json!(1),
            conflict: Some(conflict),
            reason: Some("2 was written before the read began".to_owned()),
        };
        let html = counterexample(&e, &[], &[]);
        assert!(html.contains(r#"id="cx-blocked""#));
        assert!(html.contains("read r → 1 #20"), "{html}");
        assert!(html.contains("write r 2 #10"), "{html}");
        assert!(html.contains("It needed r = 1: 2 was written before the read began"));
        assert!(html.contains("the op it conflicts with"));
        assert!(html.contains("No fault was in force while it ran."));
        assert!(!html.contains("cx-order"), "no order to draw");
    }
}
