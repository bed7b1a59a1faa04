//! The scheduler every simulated history shares: clients invoke operations on random keys, each
//! operation takes effect at one instant between its invocation and its completion (so the
//! history is linearizable by construction until a test mutates it), some end `info`, and idle
//! clients think. What an operation is and how it applies is the simulated object's business
//! (`Atomic`); `simulate.rs` and `unique.rs` only describe their objects.

use faultline_checker::history::{Event, EventType, Process};
use serde_json::Value;

use super::rng::Rng;

/// How clients are scheduled, whatever the object.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub clients: usize,
    pub ops: usize,
    /// Keys to spread operations over; empty for a single unkeyed object.
    pub keys: Vec<String>,
    /// Percent of operations that end in `info` (taking effect or not, at random).
    pub info_percent: u64,
    /// Percent of the times an idle client is scheduled that it thinks instead of invoking
    /// (Jepsen's stagger): how many of the clients have an operation in flight at once.
    pub think_percent: u64,
}

/// A simulated object: what a client invokes and what happens at the linearization point.
pub trait Atomic {
    /// The operation a client invokes next on `key`: its function and input.
    fn invoke(&mut self, rng: &mut Rng, key: &Option<String>) -> (&'static str, Value);
    /// Applies the operation at its linearization point, changing the object only if
    /// `takes_effect` (an `info` op may not), and returns its completion as if it had been
    /// acknowledged: the scheduler turns an `ok` into `info` where the op is indeterminate.
    fn apply(
        &mut self,
        f: &'static str,
        key: &Option<String>,
        input: &Value,
        takes_effect: bool,
    ) -> (EventType, Value);
}

struct InFlight {
    process: u64,
    f: &'static str,
    key: Option<String>,
    input: Value,
    /// The result once the operation took effect: (completion type, value).
    done: Option<(EventType, Value)>,
}

/// Runs `schedule` against `object` from `seed`. Operations still in flight at the end stay
/// without completion.
pub fn schedule(schedule: &Schedule, seed: u64, object: &mut impl Atomic) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut events: Vec<Event> = Vec::new();
    let mut process: Vec<u64> = (0..schedule.clients as u64).collect();
    let mut flying: Vec<Option<InFlight>> = (0..schedule.clients).map(|_| None).collect();
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
    while invoked < schedule.ops || flying.iter().any(|f| f.is_some()) {
        let c = rng.below(schedule.clients as u64) as usize;
        match flying[c].take() {
            None if invoked < schedule.ops && !rng.chance(schedule.think_percent) => {
                invoked += 1;
                let keys = &schedule.keys;
                let key =
                    (!keys.is_empty()).then(|| keys[rng.below(keys.len() as u64) as usize].clone());
                let (f, input) = object.invoke(&mut rng, &key);
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
                let info = rng.chance(schedule.info_percent);
                let takes_effect = !info || rng.chance(50);
                let (kind, value) = object.apply(op.f, &op.key, &op.input, takes_effect);
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
                    process[c] += schedule.clients as u64;
                }
                // Leave some operations without completion at the end.
                if invoked >= schedule.ops && rng.chance(10) {
                    break;
                }
            }
        }
    }
    events
}

/// A register's read, write or cas (`[from, to]`) at its linearization point: what both
/// simulated registers do, whatever values they write.
pub fn apply_to_register(
    current: &mut Value,
    f: &str,
    input: &Value,
    takes_effect: bool,
) -> (EventType, Value) {
    match f {
        "read" => (EventType::Ok, current.clone()),
        "write" => {
            if takes_effect {
                *current = input.clone();
            }
            (EventType::Ok, input.clone())
        }
        _ if input[0] == *current => {
            if takes_effect {
                *current = input[1].clone();
            }
            (EventType::Ok, input.clone())
        }
        _ => (EventType::Fail, input.clone()),
    }
}

/// Indices of the completions (every event but invocations): what the mutators pick from.
pub fn completions(events: &[Event]) -> Vec<usize> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind != EventType::Invoke)
        .map(|(i, _)| i)
        .collect()
}
