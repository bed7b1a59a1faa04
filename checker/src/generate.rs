//! Generated cas-register histories for benchmarks and tests (not a stable API).
//!
//! A deterministic generator (a seed fixes every byte) of single-key or multi-key cas-register
//! histories in the shape that is hard for a linearizability checker: `clients` operations always
//! in flight, each completing at a random moment, with unique write values (as faultline's
//! workloads write), optionally 1% `info` operations (taking effect or not, at random; the
//! process is renumbered after one, as Jepsen's are) and one stale read in the middle that makes
//! the history not linearizable.
//!
//! It lives in the library, hidden, so that the `generated` benchmark, the integration tests and
//! the `generate_history` example (which writes the files for `faultline check` and Porcupine)
//! share one generator without a test binary of their own.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::history::{Event, EventType, HistoryWriter, Process};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSpec {
    /// Operations in flight at every moment until the last invocation.
    pub clients: usize,
    /// Operations (invocations) in the history.
    pub ops: usize,
    /// Keys (registers); 1 is a single register, written without keys.
    pub keys: usize,
    /// Percent of operations that end in `info`.
    pub info_percent: u64,
    /// Whether the read invoked halfway returns a stale value (not linearizable).
    pub bad_read: bool,
    pub seed: u64,
}

impl GenSpec {
    /// A name for files and benchmark ids: `c50-n100000-k1-info1-bad`.
    pub fn name(&self) -> String {
        format!(
            "c{}-n{}-k{}{}{}",
            self.clients,
            self.ops,
            self.keys,
            if self.info_percent > 0 {
                format!("-info{}", self.info_percent)
            } else {
                String::new()
            },
            if self.bad_read { "-bad" } else { "" }
        )
    }
}

/// splitmix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum F {
    Read,
    Write,
    Cas,
}

struct InFlight {
    process: u64,
    f: F,
    key: usize,
    /// Write: the value; cas: (from, to); read: unused.
    a: i64,
    b: i64,
    invoked_at: u64,
    bad: bool,
}

/// An acknowledged write's value and when it was invoked and completed (history indices).
#[derive(Clone, Copy)]
struct Written {
    value: i64,
    invoked: u64,
    completed: u64,
}

/// How many acknowledged writes per key the stale read may choose from.
const RECENT: usize = 256;

/// The state of one generation: the registers, the recent writes, the operations in flight.
struct Generator<'a, E: FnMut(&Event)> {
    spec: &'a GenSpec,
    keys: usize,
    rng: Rng,
    emit: E,
    current: Vec<Option<i64>>,
    recent: Vec<Vec<Written>>,
    next_value: i64,
    index: u64,
    invoked: usize,
    next_process: u64,
}

impl<E: FnMut(&Event)> Generator<'_, E> {
    fn event(&mut self, process: u64, kind: EventType, f: F, key: usize, value: Value) {
        let e = Event {
            index: self.index,
            time: self.index * 1000,
            process: Process::Client(process),
            kind,
            f: match f {
                F::Read => "read",
                F::Write => "write",
                F::Cas => "cas",
            }
            .to_owned(),
            key: (self.keys > 1).then(|| format!("k{key}")),
            value,
            error: None,
            node: None,
        };
        self.index += 1;
        (self.emit)(&e);
    }

    fn fresh_value(&mut self) -> i64 {
        self.next_value += 1;
        self.next_value - 1
    }

    fn invoke(&mut self, process: u64) -> InFlight {
        let bad = self.spec.bad_read && self.invoked == self.spec.ops / 2;
        self.invoked += 1;
        let key = self.rng.below(self.keys as u64) as usize;
        let f = match (bad, self.rng.below(3)) {
            (true, _) | (false, 0) => F::Read,
            (false, 1) => F::Write,
            _ => F::Cas,
        };
        let (a, b, value) = match f {
            F::Read => (0, 0, Value::Null),
            F::Write => {
                let v = self.fresh_value();
                (v, 0, json!(v))
            }
            F::Cas => {
                // Half the time from the current value (likely to apply), else from a recent one.
                let recent = &self.recent[key];
                let from = match (self.rng.below(2), self.current[key]) {
                    (0, Some(v)) => v,
                    _ => {
                        let i = self.rng.below(recent.len().max(1) as u64) as usize;
                        recent.get(i).map_or(0, |w| w.value)
                    }
                };
                let to = self.fresh_value();
                (from, to, json!([from, to]))
            }
        };
        let invoked_at = self.index;
        self.event(process, EventType::Invoke, f, key, value);
        InFlight {
            process,
            f,
            key,
            a,
            b,
            invoked_at,
            bad,
        }
    }

    /// Completes `op`: it takes effect now (or, for an `info`, perhaps never).
    fn complete(&mut self, op: &InFlight) -> bool {
        // The bad read always completes `ok`: as an `info` it would observe nothing, and the
        // history would be linearizable after all.
        let info =
            !op.bad && self.spec.info_percent > 0 && self.rng.below(100) < self.spec.info_percent;
        let applies = !info || self.rng.below(2) == 0;
        let now = self.index;
        let key = op.key;
        let (kind, value) = match op.f {
            F::Read if info => (EventType::Info, Value::Null),
            F::Read => {
                let seen = if op.bad {
                    // Never written when no write is old enough (a very short history).
                    Some(stale(&self.recent[key], op.invoked_at).unwrap_or(-1))
                } else {
                    self.current[key]
                };
                (EventType::Ok, seen.map_or(Value::Null, Value::from))
            }
            F::Write => {
                if applies {
                    self.current[key] = Some(op.a);
                    if !info {
                        remember(&mut self.recent[key], op.a, op.invoked_at, now);
                    }
                }
                (EventType::Ok, json!(op.a))
            }
            F::Cas if self.current[key] == Some(op.a) => {
                if applies {
                    self.current[key] = Some(op.b);
                    if !info {
                        remember(&mut self.recent[key], op.b, op.invoked_at, now);
                    }
                }
                (EventType::Ok, json!([op.a, op.b]))
            }
            F::Cas => (EventType::Fail, json!([op.a, op.b])),
        };
        let kind = if info { EventType::Info } else { kind };
        self.event(op.process, kind, op.f, key, value);
        info
    }
}

/// Generates the history event by event (invocations and completions; no nemesis events).
pub fn generate(spec: &GenSpec, emit: impl FnMut(&Event)) {
    let clients = spec.clients.max(1);
    let keys = spec.keys.max(1);
    let mut g = Generator {
        spec,
        keys,
        rng: Rng(spec.seed ^ 0x005E_ED0F_FA17),
        emit,
        current: vec![None; keys],
        recent: vec![Vec::new(); keys],
        next_value: 1,
        index: 0,
        invoked: 0,
        next_process: clients as u64,
    };
    let mut flying: Vec<InFlight> = Vec::with_capacity(clients);
    for p in 0..clients as u64 {
        if g.invoked < spec.ops {
            flying.push(g.invoke(p));
        }
    }
    while !flying.is_empty() {
        let slot = g.rng.below(flying.len() as u64) as usize;
        let op = flying.swap_remove(slot);
        let info = g.complete(&op);
        // After an info the process is a new one, as in Jepsen.
        let process = if info {
            g.next_process += 1;
            g.next_process - 1
        } else {
            op.process
        };
        if g.invoked < spec.ops {
            flying.push(g.invoke(process));
        }
    }
}

fn remember(recent: &mut Vec<Written>, value: i64, invoked: u64, completed: u64) {
    if recent.len() == RECENT {
        recent.remove(0);
    }
    recent.push(Written {
        value,
        invoked,
        completed,
    });
}

/// A value no linearization lets a read invoked at `read_invoked` return: written by an
/// acknowledged write that completed before another acknowledged write was invoked, which itself
/// completed before the read was invoked (values are unique, so nothing else wrote it).
fn stale(recent: &[Written], read_invoked: u64) -> Option<i64> {
    recent
        .iter()
        .rev()
        .filter(|newer| newer.completed < read_invoked)
        .find_map(|newer| {
            recent
                .iter()
                .rev()
                .find(|older| older.completed < newer.invoked)
                .map(|older| older.value)
        })
}

/// Writes the history as faultline JSON Lines.
pub fn write_jsonl<W: Write>(spec: &GenSpec, out: W) -> io::Result<W> {
    let mut writer = HistoryWriter::new(out);
    let mut result = Ok(());
    generate(spec, |e| {
        if result.is_ok() {
            result = writer.append(e);
        }
    });
    result?;
    writer.into_inner()
}

/// Writes the history as Jepsen log lines (the format of Porcupine's etcd logs:
/// `INFO  jepsen.util - PROCESS\t:TYPE\t:F\tVALUE`). Jepsen's log has no keys: single-key
/// histories only.
pub fn write_jepsen_log<W: Write>(spec: &GenSpec, out: W) -> io::Result<W> {
    if spec.keys > 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Jepsen log lines carry no key: generate a single-key history (keys = 1)",
        ));
    }
    let mut out = io::BufWriter::new(out);
    let mut result = Ok(());
    generate(spec, |e| {
        if result.is_err() {
            return;
        }
        let Process::Client(p) = e.process else {
            return;
        };
        let value = match &e.value {
            Value::Null => "nil".to_owned(),
            Value::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            other => other.to_string(),
        };
        result = writeln!(
            out,
            "INFO  jepsen.util - {p}\t:{}\t:{}\t{value}",
            e.kind.name(),
            e.f
        );
    });
    result?;
    out.into_inner().map_err(io::IntoInnerError::into_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(bad_read: bool, info_percent: u64) -> GenSpec {
        GenSpec {
            clients: 5,
            ops: 400,
            keys: 1,
            info_percent,
            bad_read,
            seed: 7,
        }
    }

    #[test]
    fn deterministic_and_always_in_flight() {
        let s = spec(false, 1);
        let a = write_jsonl(&s, Vec::new()).unwrap();
        assert_eq!(a, write_jsonl(&s, Vec::new()).unwrap());
        let mut open = 0i64;
        let mut max_open = 0;
        let mut invokes = 0;
        generate(&s, |e| {
            if e.kind == EventType::Invoke {
                open += 1;
                invokes += 1;
            } else {
                open -= 1;
            }
            max_open = max_open.max(open);
        });
        assert_eq!((invokes, max_open), (400, 5));
    }

    #[test]
    fn jepsen_log_lines() {
        let text =
            String::from_utf8(write_jepsen_log(&spec(true, 0), Vec::new()).unwrap()).unwrap();
        assert!(
            text.starts_with("INFO  jepsen.util - 0\t:invoke\t:"),
            "{text}"
        );
        assert!(text.contains(":cas\t["), "{text}");
        let multi = GenSpec {
            keys: 3,
            ..spec(false, 0)
        };
        assert!(write_jepsen_log(&multi, Vec::new()).is_err());
    }
}
