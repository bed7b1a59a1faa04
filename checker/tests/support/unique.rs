//! Histories whose written values are unique, as faultline's own generators write them (each
//! write, cas `to` and appended element is fresh), simulated against a real atomic object: every
//! operation takes effect at one instant between its invocation and its completion, so the
//! history is linearizable until a test mutates it. The checker's fast path applies to all of
//! them; the differential tests compare it with the search and a brute force.

use std::collections::HashMap;

use faultline_checker::history::{Event, EventType};
use serde_json::{Value, json};

use super::rng::Rng;
use super::schedule::{self, Atomic, Schedule, apply_to_register, completions};

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
    pub schedule: Schedule,
    /// The registers' start value (written values start above it); `None` for absent.
    pub init: Option<i64>,
}

/// Simulates `sim` from `seed`. Operations still in flight at the end stay without completion.
pub fn simulate_unique(sim: &UniqueSimulation, seed: u64) -> Vec<Event> {
    let mut object = Unique {
        object: sim.object,
        start: match sim.object {
            UniqueObject::CasRegister => sim.init.map_or(Value::Null, Value::from),
            UniqueObject::Append => json!([]),
        },
        objects: Default::default(),
        written: Default::default(),
        fresh: sim.init.unwrap_or(0),
    };
    schedule::schedule(&sim.schedule, seed, &mut object)
}

/// The state of a simulated `UniqueObject`.
struct Unique {
    object: UniqueObject,
    /// Every key's value before its first write.
    start: Value,
    objects: HashMap<Option<String>, Value>,
    /// Values written to each key, newest last: cas picks its `from` among the last few.
    written: HashMap<Option<String>, Vec<Value>>,
    /// The last value handed out; the next write takes one more.
    fresh: i64,
}

impl Atomic for Unique {
    fn invoke(&mut self, rng: &mut Rng, key: &Option<String>) -> (&'static str, Value) {
        let (f, input) = match (self.object, rng.below(3)) {
            (_, 0) => return ("read", Value::Null),
            (UniqueObject::CasRegister, 1) => {
                self.fresh += 1;
                ("write", json!(self.fresh))
            }
            (UniqueObject::CasRegister, _) => {
                let recent = self.written.get(key).map_or(&[][..], Vec::as_slice);
                let back = rng.below(3) as usize;
                let from = match recent.len().checked_sub(1 + back) {
                    Some(i) => recent[i].clone(),
                    None => self.start.clone(),
                };
                self.fresh += 1;
                ("cas", json!([from, self.fresh]))
            }
            (UniqueObject::Append, _) => {
                self.fresh += 1;
                ("append", json!(self.fresh))
            }
        };
        let to = if f == "cas" {
            input[1].clone()
        } else {
            input.clone()
        };
        self.written.entry(key.clone()).or_default().push(to);
        (f, input)
    }

    fn apply(
        &mut self,
        f: &'static str,
        key: &Option<String>,
        input: &Value,
        takes_effect: bool,
    ) -> (EventType, Value) {
        let current = self
            .objects
            .entry(key.clone())
            .or_insert(self.start.clone());
        match f {
            "append" => {
                if takes_effect && let Value::Array(list) = current {
                    list.push(input.clone());
                }
                (EventType::Ok, input.clone())
            }
            _ => apply_to_register(current, f, input, takes_effect),
        }
    }
}

/// Breaks one completion the way real anomalies do: a read's value replaced (by an older, a
/// newer or an unwritten value; a list shortened, reordered, missing or gaining an element), or
/// a completion's type flipped (`info` to `ok`, `fail` to `ok`, `ok` to `info`).
pub fn mutate_unique(events: &mut [Event], seed: u64) {
    let mut rng = Rng::new(seed ^ 0x5EED_F00D);
    let completions = completions(events);
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
