//! An operation's value, held compactly: the values faultline's workloads and Jepsen's register
//! tests write (integers, nil, `[from to]` pairs of a compare-and-set) fit in 16 bytes with no
//! allocation; anything else keeps its JSON tree behind a shared pointer.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

/// A JSON value as an [`Operation`](super::Operation) holds it.
///
/// Each JSON value has exactly one representation (an integer is always `Int`, a two-element
/// array of integers within `i32` always `IntPair`), so two `OpValue`s are equal exactly when
/// their JSON values are.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum OpValue {
    Null,
    Bool(bool),
    Int(i64),
    /// `[a, b]`, both integers within `i32` (a cas's `[from to]`).
    IntPair(i32, i32),
    /// Any other value: strings, floats, lists, maps, integers beyond `i64`.
    Json(Arc<Value>),
}

impl OpValue {
    pub fn is_null(&self) -> bool {
        matches!(self, OpValue::Null)
    }

    pub fn is_array(&self) -> bool {
        match self {
            OpValue::IntPair(..) => true,
            OpValue::Json(v) => v.is_array(),
            _ => false,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            OpValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            OpValue::Int(i) => u64::try_from(*i).ok(),
            OpValue::Json(v) => v.as_u64(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            OpValue::Json(v) => v.as_str(),
            _ => None,
        }
    }

    /// The two elements of a two-element array (a cas's `[from to]`).
    pub fn as_pair(&self) -> Option<(OpValue, OpValue)> {
        match self {
            OpValue::IntPair(a, b) => Some((OpValue::Int((*a).into()), OpValue::Int((*b).into()))),
            OpValue::Json(v) => match v.as_array().map(Vec::as_slice) {
                Some([a, b]) => Some((OpValue::from(a), OpValue::from(b))),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value as a JSON tree (allocates for lists and maps; for explanations and models that
    /// read structure).
    pub fn to_json(&self) -> Value {
        match self {
            OpValue::Null => Value::Null,
            OpValue::Bool(b) => Value::Bool(*b),
            OpValue::Int(i) => Value::from(*i),
            OpValue::IntPair(a, b) => Value::Array(vec![Value::from(*a), Value::from(*b)]),
            OpValue::Json(v) => (**v).clone(),
        }
    }
}

/// Integers that fit `i64` (serde_json's own representation of them), else `None`.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
        _ => None,
    }
}

fn pair(value: &Value) -> Option<(i32, i32)> {
    match value.as_array().map(Vec::as_slice) {
        Some([a, b]) => Some((
            i32::try_from(integer(a)?).ok()?,
            i32::try_from(integer(b)?).ok()?,
        )),
        _ => None,
    }
}

impl From<Value> for OpValue {
    fn from(value: Value) -> Self {
        match &value {
            Value::Null => OpValue::Null,
            Value::Bool(b) => OpValue::Bool(*b),
            _ => {
                if let Some(i) = integer(&value) {
                    OpValue::Int(i)
                } else if let Some((a, b)) = pair(&value) {
                    OpValue::IntPair(a, b)
                } else {
                    OpValue::Json(Arc::new(value))
                }
            }
        }
    }
}

impl From<&Value> for OpValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => OpValue::Null,
            Value::Bool(b) => OpValue::Bool(*b),
            _ => {
                if let Some(i) = integer(value) {
                    OpValue::Int(i)
                } else if let Some((a, b)) = pair(value) {
                    OpValue::IntPair(a, b)
                } else {
                    OpValue::Json(Arc::new(value.clone()))
                }
            }
        }
    }
}

impl From<&OpValue> for Value {
    fn from(value: &OpValue) -> Self {
        value.to_json()
    }
}

impl From<i64> for OpValue {
    fn from(i: i64) -> Self {
        OpValue::Int(i)
    }
}

impl PartialEq<Value> for OpValue {
    fn eq(&self, other: &Value) -> bool {
        // Each JSON value has one representation, so comparing like with like is enough.
        match self {
            OpValue::Null => other.is_null(),
            OpValue::Bool(b) => other.as_bool() == Some(*b),
            OpValue::Int(i) => integer(other) == Some(*i),
            OpValue::IntPair(a, b) => pair(other) == Some((*a, *b)),
            OpValue::Json(v) => **v == *other,
        }
    }
}

impl fmt::Display for OpValue {
    /// The value's JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpValue::Null => f.write_str("null"),
            OpValue::Bool(b) => write!(f, "{b}"),
            OpValue::Int(i) => write!(f, "{i}"),
            OpValue::IntPair(a, b) => write!(f, "[{a},{b}]"),
            OpValue::Json(v) => write!(f, "{v}"),
        }
    }
}

impl fmt::Debug for OpValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for OpValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OpValue::Null => s.serialize_unit(),
            OpValue::Bool(b) => s.serialize_bool(*b),
            OpValue::Int(i) => s.serialize_i64(*i),
            OpValue::IntPair(a, b) => (a, b).serialize(s),
            OpValue::Json(v) => v.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_representation_per_json_value() {
        for v in [
            json!(null),
            json!(true),
            json!(-3),
            json!(u64::MAX),
            json!(2.5),
            json!("x"),
            json!([1, 2]),
            json!([1, 2, 3]),
            json!([1, "a"]),
            json!([1, 4_000_000_000u64]),
            json!({"a": 1}),
        ] {
            let op = OpValue::from(&v);
            assert_eq!(op, OpValue::from(v.clone()), "{v}");
            assert_eq!(op.to_json(), v, "{v}");
            assert_eq!(op.to_string(), v.to_string(), "{v}");
            assert_eq!(serde_json::to_value(&op).unwrap(), v, "{v}");
        }
        assert_eq!(OpValue::from(&json!([1, 2])), OpValue::IntPair(1, 2));
        assert_eq!(std::mem::size_of::<OpValue>(), 16);
        assert_eq!(std::mem::size_of::<Option<OpValue>>(), 16);
    }

    #[test]
    fn pairs() {
        assert_eq!(
            OpValue::from(&json!([3, [4]])).as_pair(),
            Some((OpValue::Int(3), OpValue::from(&json!([4]))))
        );
        assert_eq!(OpValue::Int(1).as_pair(), None);
    }
}
