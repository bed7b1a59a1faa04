//! What one HTTP exchange with one etcd member says: its answer, its error (a gRPC status as
//! the gateway writes it), never sent, or unknown. `classify.rs` decides what an error proves.
//!
//! Answers (HTTP 200; the gateway omits fields at their zero value):
//! - range: `{"header": {...}, "kvs": [{"key": B64, "value": B64, ...}], "count": "1"}`, no
//!   `kvs` when the key is absent, no `value` when the stored value is empty;
//! - put: `{"header": {...}}`;
//! - txn: `{"header": {...}, "succeeded": true, "responses": [...]}`, no `succeeded` when the
//!   compare failed.
//!
//! Errors (HTTP 4xx/5xx): `{"error": MSG, "message": MSG, "code": GRPC_CODE}`, e.g.
//! `{"error": "etcdserver: request timed out", "message": "...", "code": 14}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::Value;

use super::request::{OpClass, decode_value};

use crate::no_answer::{NoAnswer, no_answer};

/// The outcome of one attempt (one request to one member).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Attempt {
    /// etcd's answer to the request: it was performed.
    Answered(Answer),
    /// etcd's error: the gRPC status code and its message. Whether the request may still
    /// take effect is `classify::error_effect`'s call.
    Error { code: i64, message: String },
    /// The connection could not be made, so no byte of the request reached a member.
    NotSent(String),
    /// The request may have reached a member and may take effect: no answer in time, the
    /// connection lost after sending, or an answer that is not the gateway's JSON.
    Indefinite(String),
}

/// What a performed request answered.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    /// A range: the value read (null when the key is absent).
    Read(Value),
    /// A put.
    Written,
    /// A cas txn: whether the compare held and the put in it was applied.
    Cas { succeeded: bool },
}

#[derive(Deserialize)]
struct RangeResponse {
    #[serde(default)]
    kvs: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct KeyValue {
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct TxnResponse {
    #[serde(default)]
    succeeded: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    error: String,
}

impl Attempt {
    /// An HTTP answer to a request of `class`: status and body.
    pub(super) fn from_response(class: OpClass, status: u16, body: &[u8]) -> Attempt {
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            // Not the gateway's JSON (a body cut short, something else on the port): nothing
            // says whether the request was applied.
            return Attempt::Indefinite(format!("unparsable answer (HTTP {status})"));
        };
        if status != 200 {
            return match ErrorBody::deserialize(&json) {
                Ok(e) => Attempt::Error {
                    code: e.code,
                    message: if e.message.is_empty() {
                        e.error
                    } else {
                        e.message
                    },
                },
                Err(_) => Attempt::Indefinite(format!("unexpected answer (HTTP {status})")),
            };
        }
        // Every answer of etcd's carries a response header; JSON without one is not an answer.
        if json.get("header").is_none_or(|h| !h.is_object()) {
            return Attempt::Indefinite("answer without a header (HTTP 200)".to_owned());
        }
        let answer = match class {
            OpClass::Read => RangeResponse::deserialize(&json)
                .map_err(|e| e.to_string())
                .and_then(|r| match r.kvs.first() {
                    None => Ok(Value::Null),
                    Some(kv) => BASE64
                        .decode(&kv.value)
                        .map(|bytes| decode_value(&bytes))
                        .map_err(|e| format!("value is not base64: {e}")),
                })
                .map(Answer::Read),
            OpClass::Write => Ok(Answer::Written),
            OpClass::Cas => TxnResponse::deserialize(&json)
                .map(|t| Answer::Cas {
                    succeeded: t.succeeded,
                })
                .map_err(|e| e.to_string()),
        };
        match answer {
            Ok(a) => Attempt::Answered(a),
            Err(why) => Attempt::Indefinite(format!("malformed answer: {why}")),
        }
    }

    /// A request that got no HTTP answer: not sent (a connect error), or sent and unanswered
    /// (a paused member may still apply it when it resumes, and a proposal it forwarded may commit without it).
    pub(super) fn from_error(err: &reqwest::Error) -> Attempt {
        match no_answer(err) {
            NoAnswer::NotSent(why) => Attempt::NotSent(why),
            NoAnswer::MaybeSent(why) => Attempt::Indefinite(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEADER: &str =
        r#""header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"}"#;

    fn answer(class: OpClass, rest: &str) -> Attempt {
        let body = format!("{{{HEADER}{rest}}}");
        Attempt::from_response(class, 200, body.as_bytes())
    }

    #[test]
    fn answers_as_etcd_3_4_writes_them() {
        // Captured from etcd 3.4.23's gateway.
        let found = r#","kvs":[{"key":"aw==","create_revision":"2","mod_revision":"2","version":"1","value":"NQ=="}],"count":"1""#;
        assert_eq!(
            answer(OpClass::Read, found),
            Attempt::Answered(Answer::Read(json!(5)))
        );
        assert_eq!(
            answer(OpClass::Read, ""),
            Attempt::Answered(Answer::Read(Value::Null))
        );
        assert_eq!(
            answer(OpClass::Write, ""),
            Attempt::Answered(Answer::Written)
        );
        let applied =
            r#","succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]"#;
        assert_eq!(
            answer(OpClass::Cas, applied),
            Attempt::Answered(Answer::Cas { succeeded: true })
        );
        // A failed compare: `succeeded` is false, so the gateway leaves it out.
        assert_eq!(
            answer(OpClass::Cas, ""),
            Attempt::Answered(Answer::Cas { succeeded: false })
        );
    }

    #[test]
    fn errors_carry_code_and_message() {
        let body = br#"{"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14}"#;
        assert_eq!(
            Attempt::from_response(OpClass::Write, 503, body),
            Attempt::Error {
                code: 14,
                message: "etcdserver: request timed out".into()
            }
        );
    }

    #[test]
    fn anything_else_is_indefinite() {
        assert_eq!(
            Attempt::from_response(OpClass::Write, 502, b"<html>bad gateway</html>"),
            Attempt::Indefinite("unparsable answer (HTTP 502)".into())
        );
        assert_eq!(
            Attempt::from_response(OpClass::Write, 500, br#"{"oops":1}"#),
            Attempt::Indefinite("unexpected answer (HTTP 500)".into())
        );
        // 200 without etcd's header is not an answer of etcd's.
        assert_eq!(
            Attempt::from_response(OpClass::Write, 200, br#"{"ok":true}"#),
            Attempt::Indefinite("answer without a header (HTTP 200)".into())
        );
        assert!(matches!(
            answer(OpClass::Read, r#","kvs":[{"value":"%%%"}]"#),
            Attempt::Indefinite(_)
        ));
    }
}
