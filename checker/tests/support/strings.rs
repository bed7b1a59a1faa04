//! Porcupine's kv object: string values per key with get, put and append, simulated as an atomic
//! object (linearizable until a test mutates it). The written texts come from one of three
//! alphabets, to exercise the order reads reveal (`model/append/order.rs`) where it applies and
//! where it must not: tokens written once each (`x7y`), tokens some ops repeat (as Porcupine's
//! files do), and short texts whose concatenations split more than one way (`a`, `ab`, `b`).

use std::collections::HashMap;

use faultline_checker::history::{Event, EventType};
use serde_json::Value;

use super::rng::Rng;
use super::schedule::{self, Atomic, Schedule, completions};

/// Which texts puts and appends write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    /// Every write a fresh token.
    Unique,
    /// Tokens from a small pool: some repeat.
    Repeated,
    /// Texts whose concatenations are ambiguous.
    Ambiguous,
}

pub fn simulate_strings(schedule: &Schedule, alphabet: Alphabet, seed: u64) -> Vec<Event> {
    let mut object = Strings {
        alphabet,
        values: HashMap::new(),
        fresh: 0,
    };
    schedule::schedule(schedule, seed, &mut object)
}

struct Strings {
    alphabet: Alphabet,
    values: HashMap<Option<String>, String>,
    fresh: u64,
}

impl Strings {
    fn text(&mut self, rng: &mut Rng) -> String {
        match self.alphabet {
            Alphabet::Unique => {
                self.fresh += 1;
                format!("x{}y", self.fresh)
            }
            Alphabet::Repeated => format!("x{}y", rng.below(4)),
            Alphabet::Ambiguous => ["a", "b", "ab", "ba", "aab"][rng.below(5) as usize].into(),
        }
    }
}

impl Atomic for Strings {
    fn invoke(&mut self, rng: &mut Rng, _key: &Option<String>) -> (&'static str, Value) {
        match rng.below(5) {
            0 | 1 => ("get", Value::Null),
            2 => ("put", Value::String(self.text(rng))),
            _ => ("append", Value::String(self.text(rng))),
        }
    }

    fn apply(
        &mut self,
        f: &'static str,
        key: &Option<String>,
        input: &Value,
        takes_effect: bool,
    ) -> (EventType, Value) {
        let value = self.values.entry(key.clone()).or_default();
        let text = input.as_str().unwrap_or_default();
        match f {
            "get" => (EventType::Ok, Value::String(value.clone())),
            "put" => {
                if takes_effect {
                    *value = text.to_owned();
                }
                (EventType::Ok, input.clone())
            }
            _ => {
                if takes_effect {
                    value.push_str(text);
                }
                (EventType::Ok, input.clone())
            }
        }
    }
}

/// Breaks one completion: a get's value cut short, grown, reordered (its halves swapped) or
/// replaced by another get's, or a completion's type flipped.
pub fn mutate_strings(events: &mut [Event], seed: u64) {
    let mut rng = Rng::new(seed ^ 0x57E1_4A11);
    let completions = completions(events);
    if completions.is_empty() {
        return;
    }
    let gets: Vec<usize> = completions
        .iter()
        .copied()
        .filter(|&i| events[i].f == "get" && events[i].kind == EventType::Ok)
        .collect();
    if !gets.is_empty() && rng.chance(60) {
        let other = events[gets[rng.below(gets.len() as u64) as usize]]
            .value
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let event = &mut events[gets[rng.below(gets.len() as u64) as usize]];
        let value = event.value.as_str().unwrap_or_default().to_owned();
        let cut = if value.is_empty() {
            0
        } else {
            rng.below(value.len() as u64) as usize
        };
        let changed = match rng.below(4) {
            0 => value[..cut].to_owned(),
            1 => format!("{value}x0y"),
            2 => format!("{}{}", &value[cut..], &value[..cut]),
            _ => other,
        };
        event.value = Value::String(changed);
        return;
    }
    let event = &mut events[completions[rng.below(completions.len() as u64) as usize]];
    event.kind = if rng.chance(50) {
        EventType::Ok
    } else {
        EventType::Info
    };
}
