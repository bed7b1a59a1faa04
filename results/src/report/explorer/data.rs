//! The run's operations as the explorer reads them: one row per client invocation (whatever
//! its outcome: the explorer shows `fail`s and unanswered operations, which the checker's
//! pairing drops or leaves pending), then the rows kept by the budget written as columns of
//! small integers with every string interned once.

use std::collections::HashMap;

use faultline_checker::history::{Event, EventType, Process};
use serde::Serialize;
use serde_json::Value;

use crate::nodes::name_recorded;
use crate::summary::is_rejection;

/// A value longer than this is cut in the page (the history file has it whole): an append
/// run's reads return lists that grow with the key.
const MAX_TEXT: usize = 160;

/// How an operation ended. The numbers are the page's (`explorer.js` reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok = 0,
    Fail = 1,
    Info = 2,
    /// A cas answered and refused on its merits.
    Rejected = 3,
    /// Invoked, never answered: drawn to the end of the run.
    Unanswered = 4,
}

/// One client operation, before encoding.
#[derive(Debug, Clone)]
pub struct Row {
    /// Nanoseconds since the run started.
    pub invoke_time: u64,
    /// `None` when never answered.
    pub complete_time: Option<u64>,
    pub process: u64,
    pub f: String,
    pub key: Option<String>,
    /// The invocation's value, as JSON text ("" for none).
    pub value: String,
    /// What the completion said: an `ok`'s value, a `fail`'s or `info`'s error.
    pub result: String,
    pub outcome: Outcome,
    /// The node that answered (`nN`), when recorded.
    pub node: Option<String>,
    /// History index of the invocation (as the history file and the report's text number it).
    pub index: u64,
}

/// Every client invocation with the next completion of its process, in invocation order (a
/// process has one operation in flight; a new invocation leaves the previous one unanswered).
pub fn rows(events: &[Event]) -> Vec<Row> {
    let mut open: HashMap<u64, usize> = HashMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for e in events {
        let Process::Client(process) = e.process else {
            continue;
        };
        let outcome = match e.kind {
            EventType::Invoke => {
                open.insert(process, rows.len());
                rows.push(Row {
                    invoke_time: e.time,
                    complete_time: None,
                    process,
                    f: e.f.clone(),
                    key: e.key.clone(),
                    value: text(&e.value),
                    result: String::new(),
                    outcome: Outcome::Unanswered,
                    node: None,
                    index: e.index,
                });
                continue;
            }
            EventType::Ok => Outcome::Ok,
            EventType::Fail if is_rejection(e.error.as_ref()) => Outcome::Rejected,
            EventType::Fail => Outcome::Fail,
            EventType::Info => Outcome::Info,
        };
        if let Some(row) = open.remove(&process).and_then(|i| rows.get_mut(i)) {
            row.complete_time = Some(e.time);
            row.outcome = outcome;
            row.node = e.node.as_deref().map(name_recorded);
            row.result = match (outcome, &e.error) {
                (Outcome::Ok, _) | (_, None) => text(&e.value),
                (_, Some(error)) => text(error),
            };
        }
    }
    rows
}

/// JSON text of a value, strings bare, cut at `MAX_TEXT` characters.
fn text(v: &Value) -> String {
    let s = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match s.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

/// Strings written once, referred to by position.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    ids: HashMap<String, i64>,
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.list.len() as i64;
        self.list.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    /// Position plus one; 0 for none.
    fn id_of(&mut self, s: Option<&str>) -> i64 {
        s.map_or(0, |s| self.id(s) + 1)
    }
}

/// The kept rows as columns. Times are microseconds since the run started; `t0` and `idx` are
/// deltas from the row before (rows are in invocation order, so both are small and never
/// negative); `lat` is -1 for an operation never answered; `f`, `key` and `node` are positions
/// in `names` plus one (0 for none), `val` and `res` positions in `values`, `res` -1 when the
/// result is the value (an `ok` write or cas). Two tables, so that the few names keep small
/// numbers however many distinct values a run writes; every choice here saves a byte or two
/// an operation, which is the page's size (docs/benchmarks.md).
#[derive(Serialize)]
pub struct Columns {
    pub names: Vec<String>,
    pub values: Vec<String>,
    pub t0: Vec<u64>,
    pub lat: Vec<i64>,
    pub lane: Vec<usize>,
    pub f: Vec<i64>,
    pub key: Vec<i64>,
    pub val: Vec<i64>,
    pub res: Vec<i64>,
    pub out: Vec<u8>,
    pub node: Vec<i64>,
    pub idx: Vec<u64>,
}

/// Client processes in numeric order: the lanes.
pub fn lanes(rows: &[Row]) -> Vec<u64> {
    let mut processes: Vec<u64> = rows.iter().map(|r| r.process).collect();
    processes.sort_unstable();
    processes.dedup();
    processes
}

/// `rows` (in invocation order) as columns, `lanes` numbering the processes.
pub fn columns<'a>(rows: impl Iterator<Item = &'a Row>, lanes: &[u64]) -> Columns {
    let us = |ns: u64| ns / 1_000;
    let (mut names, mut values) = (Strings::default(), Strings::default());
    let mut c = Columns {
        names: Vec::new(),
        values: Vec::new(),
        t0: Vec::new(),
        lat: Vec::new(),
        lane: Vec::new(),
        f: Vec::new(),
        key: Vec::new(),
        val: Vec::new(),
        res: Vec::new(),
        out: Vec::new(),
        node: Vec::new(),
        idx: Vec::new(),
    };
    let (mut last_time, mut last_index) = (0u64, 0u64);
    for r in rows {
        let t0 = us(r.invoke_time);
        c.t0.push(t0.saturating_sub(last_time));
        last_time = last_time.max(t0);
        c.lat.push(
            r.complete_time
                .map_or(-1, |t| us(t).saturating_sub(t0) as i64),
        );
        c.lane.push(lanes.binary_search(&r.process).unwrap_or(0));
        c.f.push(names.id(&r.f) + 1);
        c.key.push(names.id_of(r.key.as_deref()));
        c.val.push(values.id(&r.value));
        c.res.push(if r.result == r.value {
            -1
        } else {
            values.id(&r.result)
        });
        c.out.push(r.outcome as u8);
        c.node.push(names.id_of(r.node.as_deref()));
        c.idx.push(r.index.saturating_sub(last_index));
        last_index = last_index.max(r.index);
    }
    c.names = names.list;
    c.values = values.list;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(index: u64, process: u64, kind: EventType, value: Value) -> Event {
        Event {
            index,
            time: index * 1_000_000,
            process: Process::Client(process),
            kind,
            f: "cas".into(),
            key: Some("k".into()),
            value,
            error: (kind == EventType::Fail).then(|| json!("cas_mismatch")),
            node: Some("127.0.0.12:4000".into()),
        }
    }

    #[test]
    fn rows_pair_by_process_and_keep_what_the_checker_drops() {
        let events = vec![
            event(0, 3, EventType::Invoke, json!([1, 2])),
            event(1, 1, EventType::Invoke, json!([2, 3])),
            event(2, 3, EventType::Fail, json!([1, 2])),
            event(3, 1, EventType::Invoke, json!([4, 5])),
        ];
        let rows = rows(&events);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].outcome, Outcome::Rejected);
        assert_eq!(rows[0].result, "cas_mismatch");
        assert_eq!(rows[0].node.as_deref(), Some("n2"));
        assert_eq!(rows[1].outcome, Outcome::Unanswered);
        assert_eq!(lanes(&rows), vec![1, 3]);
        let c = columns(rows.iter(), &lanes(&rows));
        assert_eq!(c.lane, vec![1, 0, 0]);
        assert_eq!(c.idx, vec![0, 1, 2]);
        assert_eq!(c.t0, vec![0, 1000, 2000]);
        assert_eq!(c.lat, vec![2000, -1, -1]);
        assert_eq!(c.values[c.val[0] as usize], "[1,2]");
        assert_eq!(c.values[c.res[0] as usize], "cas_mismatch");
        assert_eq!(c.names[c.node[0] as usize - 1], "n2");
        assert_eq!(c.node[1], 0, "never answered: no node");
    }

    #[test]
    fn long_values_are_cut() {
        let long = json!((0..500).collect::<Vec<_>>());
        assert!(text(&long).chars().count() <= MAX_TEXT + 1);
        assert!(text(&long).ends_with('…'));
    }
}
