//! The lines of the stdio protocol (docs/stdio-protocol.md): what faultline writes (`init`,
//! `invoke`) and what it accepts back (`ready`, `ok`, `fail`, `info`). Pure: no I/O here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::StdioNode;
use crate::generator::Invocation;

/// How much of a garbage line an error quotes.
const QUOTED_CHARS: usize = 80;

/// The `init` line: who the program is, where the nodes are, the run's options, and how long
/// faultline waits for each answer.
pub(super) fn init_line(
    process: u64,
    nodes: &[StdioNode],
    options: &BTreeMap<String, String>,
    timeout: Duration,
) -> String {
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|n| json!({"name": n.name, "address": n.address}))
        .collect();
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    json!({
        "type": "init",
        "process": process,
        "nodes": nodes,
        "options": options,
        "timeout_ms": timeout_ms,
    })
    .to_string()
}

/// The `invoke` line of one operation: its argument exactly as the generator made it.
pub(super) fn invoke_line(invocation: &Invocation) -> String {
    json!({
        "type": "invoke",
        "f": invocation.f,
        "key": invocation.key,
        "value": invocation.value,
    })
    .to_string()
}

/// An answer line, read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    Ready,
    /// `value` is `None` when the field is absent, `Some(Null)` when it is `null`: a read of an
    /// absent key answers `null`, an answer without the field read nothing.
    Ok {
        value: Option<Value>,
        node: Option<String>,
    },
    Fail {
        error: Value,
        node: Option<String>,
    },
    Info {
        error: Value,
        node: Option<String>,
    },
}

/// A line that is not an answer: the error text quotes its beginning.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("stdio client answered garbage: {0}")]
pub(super) struct Garbage(pub String);

impl Garbage {
    pub(super) fn quoting(bytes: &[u8]) -> Garbage {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\r', '\n']);
        let mut quoted: String = text.chars().take(QUOTED_CHARS).collect();
        if text.chars().nth(QUOTED_CHARS).is_some() {
            quoted.push('…');
        }
        Garbage(quoted)
    }
}

/// Reads one line (without its `\n`; a `\r` before it is accepted).
pub(super) fn parse_answer(line: &[u8]) -> Result<Answer, Garbage> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(line) else {
        return Err(Garbage::quoting(line));
    };
    let node = fields
        .get("node")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match fields.get("type").and_then(Value::as_str) {
        Some("ready") => Ok(Answer::Ready),
        Some("ok") => Ok(Answer::Ok {
            value: fields.get("value").cloned(),
            node,
        }),
        Some("fail") => Ok(Answer::Fail {
            error: error_of(&fields),
            node,
        }),
        Some("info") => Ok(Answer::Info {
            error: error_of(&fields),
            node,
        }),
        _ => Err(Garbage::quoting(line)),
    }
}

/// The answer's `error`, or a placeholder that says none was given (the history's `error` is
/// for people; a `fail` or `info` without one is still a `fail` or `info`).
fn error_of(fields: &Map<String, Value>) -> Value {
    match fields.get("error") {
        Some(Value::Null) | None => Value::from("no error given"),
        Some(e) => e.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_and_invoke_lines() {
        let nodes = [StdioNode {
            name: "n1".into(),
            address: "127.0.0.11:7000".into(),
        }];
        let options = BTreeMap::from([("reads".to_owned(), "lease".to_owned())]);
        let init: Value =
            serde_json::from_str(&init_line(7, &nodes, &options, Duration::from_secs(2))).unwrap();
        assert_eq!(
            init,
            json!({"type": "init", "process": 7, "timeout_ms": 2000,
                   "nodes": [{"name": "n1", "address": "127.0.0.11:7000"}],
                   "options": {"reads": "lease"}})
        );
        let cas = Invocation {
            f: "cas".into(),
            key: Some("r3".into()),
            value: json!([4, 5]),
        };
        let line = invoke_line(&cas);
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(
            serde_json::from_str::<Value>(&line).unwrap(),
            json!({"type": "invoke", "f": "cas", "key": "r3", "value": [4, 5]})
        );
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(br#"{"type":"ready"}"#), Ok(Answer::Ready));
        assert_eq!(
            parse_answer(br#"{"type":"ok","value":null,"node":"n2"}"#),
            Ok(Answer::Ok {
                value: Some(Value::Null),
                node: Some("n2".into())
            })
        );
        assert_eq!(
            parse_answer(br#"{"type":"ok"}"#),
            Ok(Answer::Ok {
                value: None,
                node: None
            })
        );
        assert_eq!(
            parse_answer(b"{\"type\":\"fail\",\"error\":\"cas_mismatch\"}\r"),
            Ok(Answer::Fail {
                error: json!("cas_mismatch"),
                node: None
            })
        );
        assert_eq!(
            parse_answer(br#"{"type":"info","extra":1}"#),
            Ok(Answer::Info {
                error: json!("no error given"),
                node: None
            })
        );
    }

    #[test]
    fn garbage_is_quoted_briefly() {
        assert_eq!(
            parse_answer(b"hello"),
            Err(Garbage("hello".into())),
            "not JSON"
        );
        assert_eq!(
            parse_answer(br#"{"type":"maybe"}"#),
            Err(Garbage(r#"{"type":"maybe"}"#.into()))
        );
        assert_eq!(parse_answer(b"[1]"), Err(Garbage("[1]".into())));
        let long = "x".repeat(200);
        let Err(Garbage(quoted)) = parse_answer(long.as_bytes()) else {
            panic!("accepted");
        };
        assert_eq!(quoted, format!("{}…", "x".repeat(80)));
        assert_eq!(
            Garbage::quoting(b"\xff\xfe ok").to_string(),
            "stdio client answered garbage: \u{fffd}\u{fffd} ok"
        );
    }
}
