//! What one HTTP exchange with one node says about the request: done, certainly not done, never
//! sent, or unknown. `classify.rs` turns the attempts of an invocation into its completion.

use serde_json::Value;

use crate::no_answer::{NoAnswer, no_answer};

/// The outcome of one attempt (one request to one node).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Attempt {
    /// HTTP 200 `{"ok": true, "value": V}`: the request took effect; `V` (null if absent).
    Ok(Value),
    /// A JSON error with `"definite": true`: kvnode says this request did not change state.
    Definite {
        code: String,
        /// `not_leader` only: the address of the leader the node believes in.
        leader_hint: Option<String>,
    },
    /// The connection could not be made, so no byte of the request reached a node.
    NotSent(String),
    /// The request may have reached a node and may take effect: `"definite": false`, no answer
    /// in time, the connection lost after sending, or an answer that is not kvnode's JSON.
    Indefinite(String),
}

/// Error codes that are the replicated state machine's own answer to a `(client_id, seq)`: the
/// node applied the request (in log order, after every earlier attempt of the same seq) and
/// the dedup table will repeat this answer to any retry. Unlike `not_leader` or `read_timeout`,
/// which only say "not through this node, this time", these settle the request for good.
pub(super) const STATE_MACHINE_CODES: [&str; 2] = ["cas_mismatch", "type_mismatch"];

impl Attempt {
    /// An HTTP answer: status and body.
    pub(super) fn from_response(status: u16, body: &[u8]) -> Attempt {
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            // Not kvnode's JSON (a proxy's error page, a body cut short): nothing says whether
            // the request was applied.
            return Attempt::Indefinite(format!("unparsable answer (HTTP {status})"));
        };
        let code = json
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown error")
            .to_owned();
        match (status, json.get("ok"), json.get("definite")) {
            (200, Some(Value::Bool(true)), _) => {
                Attempt::Ok(json.get("value").cloned().unwrap_or(Value::Null))
            }
            (_, Some(Value::Bool(false)), Some(Value::Bool(true))) => {
                let leader_hint = json
                    .get("leader")
                    .and_then(|l| l.get("addr"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Attempt::Definite { code, leader_hint }
            }
            (_, Some(Value::Bool(false)), Some(Value::Bool(false))) => Attempt::Indefinite(code),
            // JSON of another shape (no `definite`, `ok: true` with an error status): only an
            // explicit `definite: true` may make a write a `fail`.
            _ => Attempt::Indefinite(format!("unexpected answer (HTTP {status})")),
        }
    }

    /// A request that got no HTTP answer: not sent (a connect error), or sent and unanswered
    /// (a paused node may still apply it when it resumes).
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

    #[test]
    fn ok_answers_carry_their_value() {
        assert_eq!(
            Attempt::from_response(200, br#"{"ok":true,"value":5}"#),
            Attempt::Ok(5.into())
        );
        assert_eq!(
            Attempt::from_response(200, br#"{"ok":true,"value":null}"#),
            Attempt::Ok(Value::Null)
        );
        assert_eq!(
            Attempt::from_response(200, br#"{"ok":true,"value":["e1","e2"]}"#),
            Attempt::Ok(serde_json::json!(["e1", "e2"]))
        );
    }

    #[test]
    fn definite_errors_and_leader_hints() {
        let body = br#"{"definite":true,"error":"not_leader","leader":{"addr":"127.0.0.1:7001","id":1},"message":"m","ok":false}"#;
        assert_eq!(
            Attempt::from_response(503, body),
            Attempt::Definite {
                code: "not_leader".into(),
                leader_hint: Some("127.0.0.1:7001".into())
            }
        );
        let no_leader = br#"{"definite":true,"error":"not_leader","leader":null,"ok":false}"#;
        assert_eq!(
            Attempt::from_response(503, no_leader),
            Attempt::Definite {
                code: "not_leader".into(),
                leader_hint: None
            }
        );
        let mismatch = br#"{"definite":true,"error":"cas_mismatch","ok":false,"value":5}"#;
        assert_eq!(
            Attempt::from_response(409, mismatch),
            Attempt::Definite {
                code: "cas_mismatch".into(),
                leader_hint: None
            }
        );
    }

    #[test]
    fn indefinite_and_unexpected_answers() {
        let timeout = br#"{"definite":false,"error":"timeout","ok":false}"#;
        assert_eq!(
            Attempt::from_response(504, timeout),
            Attempt::Indefinite("timeout".into())
        );
        assert_eq!(
            Attempt::from_response(502, b"<html>bad gateway</html>"),
            Attempt::Indefinite("unparsable answer (HTTP 502)".into())
        );
        // No `definite` field: not enough to call a write failed.
        assert_eq!(
            Attempt::from_response(500, br#"{"ok":false,"error":"boom"}"#),
            Attempt::Indefinite("unexpected answer (HTTP 500)".into())
        );
        // ok:true with an error status is not an ok.
        assert_eq!(
            Attempt::from_response(503, br#"{"ok":true,"value":1}"#),
            Attempt::Indefinite("unexpected answer (HTTP 503)".into())
        );
    }
}
