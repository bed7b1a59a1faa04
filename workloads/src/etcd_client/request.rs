//! Turning an invocation into a request to etcd's v3 JSON gateway (the grpc-gateway in front
//! of the KV service, on every member's client URL): the route and the JSON body.
//!
//! The gateway spells protobuf `bytes` fields as base64 and 64-bit integers as decimal strings.
//! A value is stored as its JSON text (an integer as its decimal text, `5` → `"5"`), so a read
//! gives the checker back the same JSON value the generator wrote, and a cas compares the
//! canonical text of its `from` with what is stored.
//!
//! | op | route | body |
//! | --- | --- | --- |
//! | read | `/v3/kv/range` | `{"key": K}`, plus `"serializable": true` for serializable reads |
//! | write | `/v3/kv/put` | `{"key": K, "value": V}` |
//! | cas | `/v3/kv/txn` | `{"compare": [{"key": K, "target": "VALUE", "result": "EQUAL", "value": FROM}], "success": [{"request_put": {"key": K, "value": TO}}]}` |

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::EtcdReads;

/// What kind of operation a request is: how its answer is read and how it is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpClass {
    /// A range: never changes state.
    Read,
    /// A put: answers only a header.
    Write,
    /// A txn whose compare decides: `succeeded` says whether the put in it was applied.
    Cas,
}

/// One invocation as etcd's gateway takes it.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub route: &'static str,
    pub body: Value,
    pub class: OpClass,
}

/// An invocation etcd cannot be asked to perform (nothing is sent, so it is a `fail`).
#[derive(Debug, thiserror::Error, PartialEq)]
pub(super) enum RequestError {
    #[error("operation {0:?} has no key")]
    MissingKey(String),
    #[error("cas value must be [from, to], found {0}")]
    BadCasArgument(Value),
    #[error("the etcd client has no operation {0:?} (it runs the register and kv workloads)")]
    UnknownOperation(String),
}

impl Request {
    pub(super) fn build(
        f: &str,
        key: Option<&str>,
        value: &Value,
        reads: EtcdReads,
    ) -> Result<Request, RequestError> {
        let key = BASE64.encode(key.ok_or_else(|| RequestError::MissingKey(f.to_owned()))?);
        let (route, class, body) = match f {
            "read" => {
                let mut body = json!({"key": key});
                if reads == EtcdReads::Serializable {
                    body["serializable"] = Value::Bool(true);
                }
                ("/v3/kv/range", OpClass::Read, body)
            }
            "write" => (
                "/v3/kv/put",
                OpClass::Write,
                json!({"key": key, "value": encode_value(value)}),
            ),
            "cas" => {
                let [from, to] = value
                    .as_array()
                    .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
                    .ok_or_else(|| RequestError::BadCasArgument(value.clone()))?;
                let body = json!({
                    "compare": [{
                        "key": key,
                        "target": "VALUE",
                        "result": "EQUAL",
                        "value": encode_value(from),
                    }],
                    "success": [{"request_put": {"key": key, "value": encode_value(to)}}],
                });
                ("/v3/kv/txn", OpClass::Cas, body)
            }
            other => return Err(RequestError::UnknownOperation(other.to_owned())),
        };
        Ok(Request { route, body, class })
    }
}

/// A value as etcd stores it: its JSON text, base64 for the gateway.
pub(super) fn encode_value(value: &Value) -> String {
    BASE64.encode(value.to_string())
}

/// A stored value (already base64-decoded) back as the JSON value that was written. Bytes that
/// are not JSON (written by something else) are read as a string, so the checker still sees
/// that the read found something other than any value the run wrote.
pub(super) fn decode_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        BASE64.encode(s)
    }

    #[test]
    fn routes_and_bodies() {
        let r = Request::build("read", Some("r1"), &Value::Null, EtcdReads::Linearizable).unwrap();
        assert_eq!((r.route, r.class), ("/v3/kv/range", OpClass::Read));
        assert_eq!(r.body, json!({"key": b64("r1")}));

        let s = Request::build("read", Some("r1"), &Value::Null, EtcdReads::Serializable).unwrap();
        assert_eq!(s.body, json!({"key": b64("r1"), "serializable": true}));

        let w = Request::build("write", Some("k"), &json!(35), EtcdReads::Linearizable).unwrap();
        assert_eq!((w.route, w.class), ("/v3/kv/put", OpClass::Write));
        // An integer is stored as its decimal text.
        assert_eq!(w.body, json!({"key": b64("k"), "value": b64("35")}));

        let c = Request::build("cas", Some("k"), &json!([3, 4]), EtcdReads::Linearizable).unwrap();
        assert_eq!((c.route, c.class), ("/v3/kv/txn", OpClass::Cas));
        assert_eq!(
            c.body,
            json!({
                "compare": [{"key": b64("k"), "target": "VALUE", "result": "EQUAL",
                             "value": b64("3")}],
                "success": [{"request_put": {"key": b64("k"), "value": b64("4")}}],
            })
        );
    }

    #[test]
    fn values_come_back_as_the_json_they_were() {
        for v in [
            json!(7),
            json!(-3),
            json!("seven"),
            json!([1, 2]),
            Value::Null,
        ] {
            let stored = BASE64.decode(encode_value(&v)).unwrap();
            assert_eq!(decode_value(&stored), v);
        }
        // Bytes someone else wrote are a string, never an error.
        assert_eq!(decode_value(b"not json"), json!("not json"));
        assert_eq!(decode_value(b""), json!(""));
    }

    #[test]
    fn bad_invocations_are_refused_before_sending() {
        let lin = EtcdReads::Linearizable;
        assert_eq!(
            Request::build("cas", Some("k"), &json!([1]), lin).unwrap_err(),
            RequestError::BadCasArgument(json!([1]))
        );
        assert_eq!(
            Request::build("read", None, &Value::Null, lin).unwrap_err(),
            RequestError::MissingKey("read".into())
        );
        assert_eq!(
            Request::build("append", Some("k"), &json!(1), lin).unwrap_err(),
            RequestError::UnknownOperation("append".into())
        );
    }
}
