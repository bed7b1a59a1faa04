//! Turning an invocation into a kvnode request: the route and the JSON body (docs/kvnode.md).

use serde_json::{Value, json};

/// What kind of operation a request is, for choosing the `ok` value and the classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpClass {
    /// `/kv/get`: never changes state.
    Read,
    /// `/kv/put` or `/kv/cas`: answers null; the history records the argument.
    Write,
    /// `/kv/append` (`append` and `add`): answers the list after the append, which the client
    /// does not record.
    Append,
}

/// One invocation as kvnode takes it. The body carries the invocation's `(client_id, seq)`, so
/// every retry of it is the same request to kvnode's dedup table.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub route: &'static str,
    pub body: Value,
    pub class: OpClass,
}

/// An invocation kvnode cannot be asked to perform (nothing is sent, so it is a `fail`).
#[derive(Debug, thiserror::Error, PartialEq)]
pub(super) enum RequestError {
    #[error("operation {0:?} has no key")]
    MissingKey(String),
    #[error("cas value must be [from, to], found {0}")]
    BadCasArgument(Value),
    #[error("kvnode has no operation {0:?}")]
    UnknownOperation(String),
}

impl Request {
    pub(super) fn build(
        f: &str,
        key: Option<&str>,
        value: &Value,
        client_id: &str,
        seq: u64,
    ) -> Result<Request, RequestError> {
        let key = key.ok_or_else(|| RequestError::MissingKey(f.to_owned()))?;
        let (route, class, body) = match f {
            "read" => (
                "/kv/get",
                OpClass::Read,
                json!({"client_id": client_id, "seq": seq, "key": key}),
            ),
            "write" => (
                "/kv/put",
                OpClass::Write,
                json!({"client_id": client_id, "seq": seq, "key": key, "value": value}),
            ),
            "cas" => {
                let [from, to] = value
                    .as_array()
                    .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
                    .ok_or_else(|| RequestError::BadCasArgument(value.clone()))?;
                (
                    "/kv/cas",
                    OpClass::Write,
                    json!({"client_id": client_id, "seq": seq, "key": key, "from": from, "to": to}),
                )
            }
            // A set's add is an append of a unique element to the set's one list.
            "append" | "add" => (
                "/kv/append",
                OpClass::Append,
                json!({"client_id": client_id, "seq": seq, "key": key, "value": value}),
            ),
            other => return Err(RequestError::UnknownOperation(other.to_owned())),
        };
        Ok(Request { route, body, class })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_bodies() {
        let r = Request::build("read", Some("r"), &Value::Null, "c1", 4).unwrap();
        assert_eq!((r.route, r.class), ("/kv/get", OpClass::Read));
        assert_eq!(r.body, json!({"client_id": "c1", "seq": 4, "key": "r"}));

        let w = Request::build("write", Some("k"), &json!(3), "c1", 5).unwrap();
        assert_eq!((w.route, w.class), ("/kv/put", OpClass::Write));
        assert_eq!(w.body["value"], json!(3));

        let c = Request::build("cas", Some("k"), &json!([3, 4]), "c1", 6).unwrap();
        assert_eq!(c.route, "/kv/cas");
        assert_eq!((&c.body["from"], &c.body["to"]), (&json!(3), &json!(4)));

        for f in ["append", "add"] {
            let a = Request::build(f, Some("s"), &json!("e1"), "c1", 7).unwrap();
            assert_eq!((a.route, a.class), ("/kv/append", OpClass::Append));
            assert_eq!(a.body["value"], json!("e1"));
        }
    }

    #[test]
    fn bad_invocations_are_refused_before_sending() {
        assert_eq!(
            Request::build("cas", Some("k"), &json!([1]), "c", 1).unwrap_err(),
            RequestError::BadCasArgument(json!([1]))
        );
        assert_eq!(
            Request::build("read", None, &Value::Null, "c", 1).unwrap_err(),
            RequestError::MissingKey("read".into())
        );
        assert_eq!(
            Request::build("txn", Some("k"), &Value::Null, "c", 1).unwrap_err(),
            RequestError::UnknownOperation("txn".into())
        );
    }
}
