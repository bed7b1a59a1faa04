//! The counterexample in words, above its chart: the op that cannot be linearized and the node
//! that answered it, the state it needed against the state the longest linearization left (and
//! the op that replaced it), the faults in force and what they did to that node.

use std::collections::HashMap;

use faultline_checker::Explanation;
use serde_json::Value;

use super::{Answer, label, millis, seconds};
use crate::faults::FaultWindow;

/// The chart in words: the op, who answered it and when; the state it needed against the state
/// the linearization left, and the op that replaced it; the faults in force while it ran.
pub(super) fn story(
    e: &Explanation,
    answers: &HashMap<u64, Answer>,
    needed: Option<&Value>,
    replaced: Option<(usize, usize)>,
    faults: &[&FaultWindow],
) -> Vec<String> {
    let op = &e.op;
    let node_of = |index: u64| {
        answers
            .get(&index)
            .and_then(|a| a.node.clone())
            .map(|n| format!(" by {n}"))
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    let mut first = format!(
        "Cannot be linearized: #{} process {} {}",
        op.invoke_index,
        op.process,
        label(op).rsplit_once(" #").map_or("", |(l, _)| l)
    );
    match op.complete_time {
        Some(done) => first.push_str(&format!(
            ", answered{} {} after it was invoked at {}.",
            node_of(op.invoke_index),
            millis(done.saturating_sub(op.invoke_time)),
            seconds(op.invoke_time)
        )),
        None => first.push_str(&format!(
            ", invoked at {} and never answered.",
            seconds(op.invoke_time)
        )),
    }
    lines.push(first);
    let key = e
        .key
        .as_deref()
        .or(op.key.as_deref())
        .unwrap_or("the state");
    match (&e.reason, needed) {
        (Some(reason), Some(needed)) => {
            let mut line = format!("It needed {key} = {needed}: {reason}");
            if let Some(c) = &e.conflict {
                let c_label = label(c);
                let c_label = c_label.rsplit_once(" #").map_or("", |(l, _)| l);
                line.push_str(&format!(
                    "; it conflicts with #{} {c_label} (process {}{})",
                    c.invoke_index,
                    c.process,
                    node_of(c.invoke_index)
                        .strip_prefix(" by")
                        .map(|n| format!(", answered by{n}"))
                        .unwrap_or_default()
                ));
            }
            line.push('.');
            lines.push(line);
        }
        (Some(reason), None) => lines.push(format!("Because {reason}.")),
        (None, needed) => {
            let mut line = format!(
                "The longest linearization found ({} ops) leaves {key} = {}",
                e.prefix.len(),
                e.state
            );
            if let Some(needed) = needed {
                line.push_str(&format!("; this {} needed {needed}", op.f));
            }
            if let Some((_, by)) = replaced {
                let w = &e.prefix[by];
                let w_label = label(w);
                let w_label = w_label.rsplit_once(" #").map_or("", |(l, _)| l);
                match w.complete_time {
                    Some(done) => {
                        let when = if done < op.invoke_time {
                            "before it was invoked"
                        } else {
                            "while it ran"
                        };
                        line.push_str(&format!(
                            ", replaced by #{} {w_label} (process {}), acknowledged{} at {}, {when}",
                            w.invoke_index,
                            w.process,
                            node_of(w.invoke_index),
                            seconds(done)
                        ));
                    }
                    None => line.push_str(&format!(
                        ", replaced by #{} {w_label} (process {}, never answered)",
                        w.invoke_index, w.process
                    )),
                }
            }
            line.push('.');
            lines.push(line);
        }
    }
    if faults.is_empty() {
        lines.push("No fault was in force while it ran.".to_owned());
    } else {
        let node = answers
            .get(&op.invoke_index)
            .and_then(|a| a.node.as_deref());
        let names: Vec<String> = faults
            .iter()
            .map(|w| match node.and_then(|n| what_it_did_to(w, n)) {
                Some(effect) => format!("{}, {effect}", w.describe()),
                None => w.describe(),
            })
            .collect();
        lines.push(format!("In force while it ran: {}.", names.join("; ")));
    }
    lines
}

/// What fault `w` did to `node`, the node that answered the blocked op, in words: who a
/// partition cut it off from, whether a clock fault moved its clock.
fn what_it_did_to(w: &FaultWindow, node: &str) -> Option<String> {
    let targeted = w.targets.iter().any(|t| t == node);
    match (w.fault.as_str(), &w.cut_off_from_leader, &w.leader) {
        ("partition", Some(cut), Some(leader)) if leader == node && !cut.is_empty() => {
            Some(format!(
                "which cut {node} (the node that answered; the leader when it began) off from {}",
                cut.join(" ")
            ))
        }
        ("partition", Some(cut), Some(leader)) if cut.iter().any(|c| c == node) => Some(format!(
            "which cut {node} (the node that answered) off from the leader {leader}"
        )),
        ("clock", _, _) if targeted => {
            Some(format!("on the clock of {node}, the node that answered"))
        }
        (_, _, _) if targeted => Some(format!("on {node}, the node that answered")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(fault: &str, targets: &[&str], leader: &str, cut: Option<&[&str]>) -> FaultWindow {
        FaultWindow {
            fault: fault.to_owned(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            leader: Some(leader.to_owned()),
            hit_leader: targets.contains(&leader),
            shape: None,
            start: 0,
            end: 10_000_000_000,
            heal_start: 10_000_000_000,
            cut_off_from_leader: cut.map(|c| c.iter().map(|n| n.to_string()).collect()),
            availability: None,
            write_availability: None,
        }
    }

    #[test]
    fn the_story_says_what_a_fault_did_to_the_node_that_answered() {
        let isolated = window("partition", &["n3"], "n1", Some(&["n3"]));
        assert_eq!(
            what_it_did_to(&isolated, "n3").as_deref(),
            Some("which cut n3 (the node that answered) off from the leader n1")
        );
        assert_eq!(what_it_did_to(&isolated, "n2"), None);
        let old_leader = window("partition", &["n3"], "n3", Some(&["n1", "n2"]));
        assert!(
            what_it_did_to(&old_leader, "n3")
                .is_some_and(|s| s.contains("the leader when it began) off from n1 n2"))
        );
        let clock = window("clock", &["n3"], "n3", None);
        assert_eq!(
            what_it_did_to(&clock, "n3").as_deref(),
            Some("on the clock of n3, the node that answered")
        );
    }
}
