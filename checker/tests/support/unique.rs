//! Histories whose written values are unique, as faultline's own generators write them (each
//! write, cas `to` and appended element is fresh), simulated against a real atomic object: every
//! operation takes effect at one instant between its invocation and its completion, so the
//! history is linearizable until a test mutates it. The checker's fast path applies to all of
//! them; the differential tests compare it with the search and a brute force.

use faultline_checker::history::{Event, EventType, Process};
use serde_json::{Value, json};

use super::rng::Rng;

/// What the simulated object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueObject {
    /// Registers (one per key) with read, write and cas; cas from a value recently written, so
    /// that chains of cas succeed.
    CasRegister,
    /// Lists (one per key) with read and append of one element.
    Append,
}

/// Knobs of a simulation.
#[derive(Debug, Clone)]
pub struct UniqueSimulation {
    pub object: UniqueObject,
    pub clients: usize,
    pub ops: usize,
    /// Keys to spread operations over; empty for a single unkeyed object.
    pub keys: Vec<String>,
    /// Percent of operations that end in `info` (taking effect or not, at random).
    pub info_percent: u64,
    /// The registers' start value (written values start above it); `None` for absent.
    pub init: Option<i64>,
    /// Percent of the times an idle client is scheduled that it thinks instead of invoking.
    pub think_percent: u64,
}

struct InFlight {
    process: u64,
    f: &'static str,
    key: Option<String>,
    input: Value,
    done: Option<(EventType, Value)>,
}

/// Simulates `sim` from `seed`. Operations still in flight at the end stay without completion.
pub fn simulate_unique(sim: &UniqueSimulation, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut events: Vec<Event> = Vec::new();
    let start = match sim.object {
        UniqueObject::CasRegister => sim.init.map_or(Value::Null, Value::from),
        UniqueObject::Append => json!([]),
    };
    let mut objects: std::collections::HashMap<Option<String>, Value> = Default::default();
    // Values written to each key, newest last: cas picks its `from` among the last few.
    let mut written: std::collections::HashMap<Option<String>, Vec<Value>> = Default::default();
    let mut fresh = sim.init.unwrap_or(0);
    let mut process: Vec<u64> = (0..sim.clients as u64).collect();
    let mut flying: Vec<Option<InFlight>> = (0..sim.clients).map(|_| None).collect();
    let mut invoked = 0;
    let mut time = 0u64;
    let mut push = |events: &mut Vec<Event>, p: u64, kind, f: &str, key: &Option<String>, value| {
        time += 1 + (p % 3);
        events.push(Event {
            index: events.len() as u64,
            time,
            process: Process::Client(p),
            kind,
            f: f.into(),
            key: key.clone(),
            value,
            error: None,
            node: None,
        });
    };
    while invoked < sim.ops || flying.iter().any(|f| f.is_some()) {
        let c = rng.below(sim.clients as u64) as usize;
        match flying[c].take() {
            None if invoked < sim.ops && !rng.chance(sim.think_percent) => {
                invoked += 1;
                let key = (!sim.keys.is_empty())
                    .then(|| sim.keys[rng.below(sim.keys.len() as u64) as usize].clone());
                let (f, input) = match (sim.object, rng.below(3)) {
                    (_, 0) => ("read", Value::Null),
                    (UniqueObject::CasRegister, 1) => {
                        fresh += 1;
                        ("write", json!(fresh))
                    }
                    (UniqueObject::CasRegister, _) => {
                        let recent = written.get(&key).map_or(&[][..], Vec::as_slice);
                        let back = rng.below(3) as usize;
                        let from = match recent.len().checked_sub(1 + back) {
                            Some(i) => recent[i].clone(),
                            None => start.clone(),
                        };
                        fresh += 1;
                        ("cas", json!([from, fresh]))
                    }
                    (UniqueObject::Append, _) => {
                        fresh += 1;
                        ("append", json!(fresh))
                    }
                };
                if f != "read" {
                    let to = if f == "cas" {
                        input[1].clone()
                    } else {
                        input.clone()
                    };
                    written.entry(key.clone()).or_default().push(to);
                }
                push(
                    &mut events,
                    process[c],
                    EventType::Invoke,
                    f,
                    &key,
                    input.clone(),
                );
                flying[c] = Some(InFlight {
                    process: process[c],
                    f,
                    key,
                    input,
                    done: None,
                });
            }
            None => {}
            Some(mut op) if op.done.is_none() => {
                // The linearization point. An `info` op takes effect or not, at random.
                let info = rng.chance(sim.info_percent);
                let takes_effect = !info || rng.chance(50);
                let current = objects.entry(op.key.clone()).or_insert(start.clone());
                let (kind, value) = match op.f {
                    "read" => (EventType::Ok, current.clone()),
                    "write" => {
                        if takes_effect {
                            *current = op.input.clone();
                        }
                        (EventType::Ok, op.input.clone())
                    }
                    "cas" if op.input[0] == *current => {
                        if takes_effect {
                            *current = op.input[1].clone();
                        }
                        (EventType::Ok, op.input.clone())
                    }
                    "cas" => (EventType::Fail, op.input.clone()),
                    _ => {
                        if takes_effect && let Value::Array(list) = current {
                            list.push(op.input.clone());
                        }
                        (EventType::Ok, op.input.clone())
                    }
                };
                let kind = if info && kind == EventType::Ok {
                    EventType::Info
                } else {
                    kind
                };
                op.done = Some((kind, value));
                flying[c] = Some(op);
            }
            Some(op) => {
                let (kind, value) = op.done.clone().unwrap_or((EventType::Info, Value::Null));
                push(&mut events, op.process, kind, op.f, &op.key, value);
                if kind == EventType::Info {
                    process[c] += sim.clients as u64;
                }
                if invoked >= sim.ops && rng.chance(10) {
                    break;
                }
            }
        }
    }
    events
}

/// Breaks one completion the way real anomalies do: a read's value replaced (by an older, a
/// newer or an unwritten value; a list shortened, reordered, missing or gaining an element), or
/// a completion's type flipped (`info` to `ok`, `fail` to `ok`, `ok` to `info`).
pub fn mutate_unique(events: &mut [Event], seed: u64) {
    let mut rng = Rng::new(seed ^ 0x5EED_F00D);
    let completions: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind != EventType::Invoke)
        .map(|(i, _)| i)
        .collect();
    if completions.is_empty() {
        return;
    }
    // One more than any value written: a value nobody wrote.
    let unwritten = events
        .iter()
        .flat_map(|e| match &e.value {
            Value::Array(items) => items.iter().filter_map(Value::as_i64).collect(),
            v => v.as_i64().into_iter().collect::<Vec<_>>(),
        })
        .max()
        .unwrap_or(0)
        + 1;
    let reads: Vec<usize> = completions
        .iter()
        .copied()
        .filter(|&i| events[i].f == "read" && events[i].kind == EventType::Ok)
        .collect();
    // Half the time a read's value, else any completion's type.
    if !reads.is_empty() && rng.chance(50) {
        let event = &mut events[reads[rng.below(reads.len() as u64) as usize]];
        match &mut event.value {
            Value::Array(list) => match rng.below(4) {
                0 if !list.is_empty() => {
                    list.pop();
                }
                1 if list.len() >= 2 => {
                    let j = rng.below(list.len() as u64 - 1) as usize;
                    list.swap(j, j + 1);
                }
                2 if !list.is_empty() => {
                    list.remove(rng.below(list.len() as u64) as usize);
                }
                _ => list.push(json!(unwritten)),
            },
            value => *value = json!(rng.below(unwritten as u64 + 1)),
        }
        return;
    }
    let event = &mut events[completions[rng.below(completions.len() as u64) as usize]];
    event.kind = if rng.chance(50) {
        EventType::Ok
    } else {
        EventType::Info
    };
}
