//! Histories produced by simulating clients against a real, atomic object: every operation takes
//! effect at one instant between its invocation and its completion, so the history is
//! linearizable by construction (until a test mutates it).

use faultline_checker::history::{Event, EventType, Process};
use serde_json::{Value, json};

use super::rng::Rng;

/// What the simulated object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Registers (one per key) with read, write and cas.
    CasRegister,
    /// A lock with acquire and release.
    Mutex,
}

/// Knobs of a simulation.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub object: Object,
    pub clients: usize,
    pub ops: usize,
    /// Keys to spread operations over; empty for a single unkeyed object.
    pub keys: Vec<String>,
    /// Distinct values written (small ranges make reads ambiguous, which is the hard case).
    pub values: u64,
    /// Percent of operations that end in `info` (taking effect or not, at random).
    pub info_percent: u64,
    /// The registers' start value; `None` for absent.
    pub init: Option<i64>,
    /// Percent of the times an idle client is scheduled that it thinks instead of invoking
    /// (Jepsen's stagger): how many of the clients have an operation in flight at once.
    pub think_percent: u64,
}

struct InFlight {
    process: u64,
    f: &'static str,
    key: Option<String>,
    input: Value,
    /// The result once the operation took effect: (completion type, value).
    done: Option<(EventType, Value)>,
}

/// Simulates `sim` from `seed`. Operations still in flight at the end stay without completion.
pub fn simulate(sim: &Simulation, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut events: Vec<Event> = Vec::new();
    let mut registers: std::collections::HashMap<Option<String>, Value> = Default::default();
    let init = sim.init.map_or(Value::Null, Value::from);
    let mut held = false;
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
            f: f.to_owned(),
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
                let (f, input) = match sim.object {
                    Object::CasRegister => match rng.below(3) {
                        0 => ("read", Value::Null),
                        1 => ("write", json!(rng.below(sim.values))),
                        _ => ("cas", json!([rng.below(sim.values), rng.below(sim.values)])),
                    },
                    Object::Mutex => (
                        if rng.chance(50) { "acquire" } else { "release" },
                        Value::Null,
                    ),
                };
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
                let current = registers.entry(op.key.clone()).or_insert(init.clone());
                let (kind, value) = match (sim.object, op.f) {
                    (Object::CasRegister, "read") => (EventType::Ok, current.clone()),
                    (Object::CasRegister, "write") => {
                        if takes_effect {
                            *current = op.input.clone();
                        }
                        (EventType::Ok, op.input.clone())
                    }
                    (Object::CasRegister, _) => {
                        if op.input[0] == *current {
                            if takes_effect {
                                *current = op.input[1].clone();
                            }
                            (EventType::Ok, op.input.clone())
                        } else {
                            (EventType::Fail, op.input.clone())
                        }
                    }
                    (Object::Mutex, "acquire") if !held => {
                        held = takes_effect;
                        (EventType::Ok, Value::Null)
                    }
                    (Object::Mutex, "release") if held => {
                        held = !takes_effect;
                        (EventType::Ok, Value::Null)
                    }
                    (Object::Mutex, _) => (EventType::Fail, Value::Null),
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
                    // As in Jepsen, a client whose op is indeterminate continues as a new process.
                    process[c] += sim.clients as u64;
                }
                // Leave some operations without completion at the end.
                if invoked >= sim.ops && rng.chance(10) {
                    break;
                }
            }
        }
    }
    events
}

/// Changes one completed operation's result, or turns a completion into `info`/`ok`, so that
/// the history may stop being linearizable.
pub fn mutate(events: &mut [Event], seed: u64, values: u64) {
    let mut rng = Rng::new(seed ^ 0xDEAD_BEEF);
    let completions: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind != EventType::Invoke)
        .map(|(i, _)| i)
        .collect();
    if completions.is_empty() {
        return;
    }
    let i = completions[rng.below(completions.len() as u64) as usize];
    let event = &mut events[i];
    match (rng.below(3), event.f.as_str()) {
        (0, "read") => event.value = json!(rng.below(values + 1)),
        (1, _) => event.kind = EventType::Ok,
        _ => event.kind = EventType::Info,
    }
}

/// A history built to explode the search: `writers` concurrent writes of distinct values and as
/// many compare-and-sets chaining those values, none of which completes, then a read of a value
/// nobody wrote. Every subset and order of them is a configuration to rule out before the answer
/// "not linearizable".
pub fn explosive(writers: u64) -> Vec<Event> {
    let mut events = Vec::new();
    let mut push = |process: u64, kind, f: &str, value: Value| {
        events.push(Event {
            index: events.len() as u64,
            time: events.len() as u64,
            process: Process::Client(process),
            kind,
            f: f.to_owned(),
            key: None,
            value,
            error: None,
            node: None,
        });
    };
    for p in 0..writers {
        push(p, EventType::Invoke, "write", json!(p));
        push(
            writers + p,
            EventType::Invoke,
            "cas",
            json!([p, (p + 1) % writers]),
        );
    }
    push(2 * writers, EventType::Invoke, "read", Value::Null);
    push(2 * writers, EventType::Ok, "read", json!(writers + 1000));
    events
}
