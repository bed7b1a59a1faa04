//! The replicated state: a map from string keys to values, plus the dedup table. Every replica
//! applies the same committed commands in the same order and so reaches the same state.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::dedup::DedupTable;

/// A value a client can write: a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    Str(String),
}

/// A stored value: a scalar (put, cas) or a list of scalars (append).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Scalar(Scalar),
    List(Vec<Scalar>),
}

/// A state-changing operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Written by a new leader to commit entries of earlier terms; changes nothing.
    Noop,
    Put {
        key: String,
        value: Scalar,
    },
    Cas {
        key: String,
        from: Scalar,
        to: Scalar,
    },
    Append {
        key: String,
        value: Scalar,
    },
}

/// A client's operation with its identity, as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub client_id: String,
    pub seq: u64,
    #[serde(flatten)]
    pub op: Op,
}

impl Command {
    pub fn noop() -> Self {
        Command {
            client_id: String::new(),
            seq: 0,
            op: Op::Noop,
        }
    }
}

/// The result of applying a command; retries with the same `(client_id, seq)` get this again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied; `value` is the key's value afterwards for append, nothing otherwise.
    Ok { value: Option<Value> },
    /// cas found another value (or none): nothing changed.
    CasMismatch { current: Option<Value> },
    /// The operation does not fit the stored value (append to a scalar, cas on a list).
    TypeMismatch { current: Value },
}

/// Keys, values and the dedup table.
#[derive(Debug, Default)]
pub struct StateMachine {
    data: BTreeMap<String, Value>,
    dedup: DedupTable,
}

impl StateMachine {
    /// Applies one committed command (at most once per `(client_id, seq)`).
    pub fn apply(&mut self, cmd: &Command) -> Outcome {
        if cmd.op == Op::Noop {
            return Outcome::Ok { value: None };
        }
        if let Some(first) = self.dedup.get(&cmd.client_id, cmd.seq) {
            return first.clone();
        }
        let outcome = self.execute(&cmd.op);
        self.dedup.record(&cmd.client_id, cmd.seq, outcome.clone());
        outcome
    }

    fn execute(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Noop => Outcome::Ok { value: None },
            Op::Put { key, value } => {
                self.data.insert(key.clone(), Value::Scalar(value.clone()));
                Outcome::Ok { value: None }
            }
            Op::Cas { key, from, to } => match self.data.get(key) {
                Some(Value::Scalar(current)) if current == from => {
                    self.data.insert(key.clone(), Value::Scalar(to.clone()));
                    Outcome::Ok { value: None }
                }
                Some(list @ Value::List(_)) => Outcome::TypeMismatch {
                    current: list.clone(),
                },
                other => Outcome::CasMismatch {
                    current: other.cloned(),
                },
            },
            Op::Append { key, value } => match self.data.get_mut(key) {
                None => {
                    let list = Value::List(vec![value.clone()]);
                    self.data.insert(key.clone(), list.clone());
                    Outcome::Ok { value: Some(list) }
                }
                Some(Value::List(items)) => {
                    items.push(value.clone());
                    Outcome::Ok {
                        value: Some(Value::List(items.clone())),
                    }
                }
                Some(scalar @ Value::Scalar(_)) => Outcome::TypeMismatch {
                    current: scalar.clone(),
                },
            },
        }
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// All keys and values.
    pub fn data(&self) -> &BTreeMap<String, Value> {
        &self.data
    }

    /// The first answer for `(client_id, seq)`, if that request was applied.
    pub fn answered(&self, client_id: &str, seq: u64) -> Option<&Outcome> {
        self.dedup.get(client_id, seq)
    }
}

/// Accepts a client id written as a JSON string or integer; integers become their decimal text.
pub fn client_id_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Int(i64),
        Str(String),
    }
    Ok(match Id::deserialize(d)? {
        Id::Int(i) => i.to_string(),
        Id::Str(s) => s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(seq: u64, op: Op) -> Command {
        Command {
            client_id: "c".into(),
            seq,
            op,
        }
    }

    #[test]
    fn operations_and_dedup() {
        let mut sm = StateMachine::default();
        let put = cmd(
            1,
            Op::Put {
                key: "k".into(),
                value: Scalar::Int(1),
            },
        );
        assert_eq!(sm.apply(&put), Outcome::Ok { value: None });
        let cas = cmd(
            2,
            Op::Cas {
                key: "k".into(),
                from: Scalar::Int(2),
                to: Scalar::Int(3),
            },
        );
        assert_eq!(
            sm.apply(&cas),
            Outcome::CasMismatch {
                current: Some(Value::Scalar(Scalar::Int(1)))
            }
        );
        let app = cmd(
            3,
            Op::Append {
                key: "l".into(),
                value: Scalar::Str("x".into()),
            },
        );
        sm.apply(&app);
        sm.apply(&app);
        assert_eq!(
            sm.get("l"),
            Some(&Value::List(vec![Scalar::Str("x".into())]))
        );
        let json = serde_json::to_string(&app).expect("serialises");
        let back: Command = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, app);
    }
}
