//! Histories produced by simulating clients against a real, atomic object: every operation takes
//! effect at one instant between its invocation and its completion, so the history is
//! linearizable by construction (until a test mutates it).

use std::collections::HashMap;

use faultline_checker::history::{Event, EventType, Process};
use serde_json::{Value, json};

use super::rng::Rng;
use super::schedule::{self, Atomic, Schedule, apply_to_register, completions};

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
    pub schedule: Schedule,
    /// Distinct values written (small ranges make reads ambiguous, which is the hard case).
    pub values: u64,
    /// The registers' start value; `None` for absent.
    pub init: Option<i64>,
}

/// Simulates `sim` from `seed`. Operations still in flight at the end stay without completion.
pub fn simulate(sim: &Simulation, seed: u64) -> Vec<Event> {
    let mut object = Simulated {
        object: sim.object,
        values: sim.values,
        init: sim.init.map_or(Value::Null, Value::from),
        registers: Default::default(),
        held: false,
    };
    schedule::schedule(&sim.schedule, seed, &mut object)
}

/// The state of a simulated `Object`.
struct Simulated {
    object: Object,
    values: u64,
    init: Value,
    registers: HashMap<Option<String>, Value>,
    held: bool,
}

impl Atomic for Simulated {
    fn invoke(&mut self, rng: &mut Rng, _key: &Option<String>) -> (&'static str, Value) {
        match self.object {
            Object::CasRegister => match rng.below(3) {
                0 => ("read", Value::Null),
                1 => ("write", json!(rng.below(self.values))),
                _ => (
                    "cas",
                    json!([rng.below(self.values), rng.below(self.values)]),
                ),
            },
            Object::Mutex => (
                if rng.chance(50) { "acquire" } else { "release" },
                Value::Null,
            ),
        }
    }

    fn apply(
        &mut self,
        f: &'static str,
        key: &Option<String>,
        input: &Value,
        takes_effect: bool,
    ) -> (EventType, Value) {
        let current = self
            .registers
            .entry(key.clone())
            .or_insert(self.init.clone());
        match (self.object, f) {
            (Object::CasRegister, _) => apply_to_register(current, f, input, takes_effect),
            (Object::Mutex, "acquire") if !self.held => {
                self.held = takes_effect;
                (EventType::Ok, Value::Null)
            }
            (Object::Mutex, "release") if self.held => {
                self.held = !takes_effect;
                (EventType::Ok, Value::Null)
            }
            (Object::Mutex, _) => (EventType::Fail, Value::Null),
        }
    }
}

/// Changes one completed operation's result, or turns a completion into `info`/`ok`, so that
/// the history may stop being linearizable.
pub fn mutate(events: &mut [Event], seed: u64, values: u64) {
    let mut rng = Rng::new(seed ^ 0xDEAD_BEEF);
    let completions = completions(events);
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
