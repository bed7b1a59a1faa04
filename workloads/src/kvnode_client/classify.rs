//! The completion of an invocation, from its last attempt and what the earlier attempts left
//! open. This is what decides `fail` (certainly did not happen) against `info` (may have):
//! calling a write `fail` that did happen makes the checker reject a correct store, so every
//! doubt goes to `info`.
//!
//! | last attempt | read | write, cas, append, add |
//! | --- | --- | --- |
//! | HTTP 200 `ok: true` | `ok` | `ok` |
//! | `cas_mismatch`, `type_mismatch` (definite) | `fail` | `fail` |
//! | other `definite: true` (`not_leader` after the hops, `read_timeout`, 4xx) | `fail` | `fail`, or `info` if an earlier attempt was indeterminate |
//! | connect error (refused, connect timeout): nothing sent | `fail` | `fail`, or `info` if an earlier attempt was indeterminate |
//! | `definite: false` (`timeout`, `leadership_lost`), no answer in time, connection lost after sending, unparsable answer | `fail` | `info` |
//!
//! Reads never change state, so a read that did not return a value certainly had no effect on
//! the history: `fail`, as Jepsen treats reads.
//!
//! An earlier indeterminate attempt taints later definite answers that are about routing
//! (`not_leader`, a refused connection): they say the retry did not go through, not that the
//! first attempt, which a node may have logged, will never commit. `cas_mismatch` and
//! `type_mismatch` are different: they are the state machine's answer to the `(client_id, seq)`,
//! applied in log order, so an earlier attempt that was applied first would have been answered
//! from the dedup table instead. (In `async` mode the node answering may later lose its log
//! suffix, but then nothing it ever answered is durable; that is the anomaly under test.)

use faultline_checker::history::EventType;
use serde_json::Value;

use super::attempt::{Attempt, STATE_MACHINE_CODES};
use super::request::OpClass;

/// The history type and `error` field of an invocation that ended with `last`. The `ok` value
/// is chosen by the caller (it depends on the op).
pub(super) fn classify(
    class: OpClass,
    last: &Attempt,
    earlier_indefinite: bool,
) -> (EventType, Option<Value>) {
    let error = |s: &str| Some(Value::from(s));
    match last {
        Attempt::Ok(_) => (EventType::Ok, None),
        _ if class == OpClass::Read => (EventType::Fail, error(describe(last))),
        Attempt::Definite { code, .. } if STATE_MACHINE_CODES.contains(&code.as_str()) => {
            (EventType::Fail, error(code))
        }
        Attempt::Definite { .. } | Attempt::NotSent(_) if !earlier_indefinite => {
            (EventType::Fail, error(describe(last)))
        }
        Attempt::Definite { .. } | Attempt::NotSent(_) | Attempt::Indefinite(_) => {
            (EventType::Info, error(describe(last)))
        }
    }
}

fn describe(attempt: &Attempt) -> &str {
    match attempt {
        Attempt::Ok(_) => "ok",
        Attempt::Definite { code, .. } => code,
        Attempt::NotSent(why) | Attempt::Indefinite(why) => why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definite(code: &str) -> Attempt {
        Attempt::Definite {
            code: code.into(),
            leader_hint: None,
        }
    }

    fn kind(class: OpClass, last: &Attempt, earlier: bool) -> EventType {
        classify(class, last, earlier).0
    }

    #[test]
    fn the_classification_table() {
        use EventType::{Fail, Info, Ok};
        use OpClass::{Append, Read, Write};
        let ok = Attempt::Ok(Value::Null);
        let refused = Attempt::NotSent("connection refused".into());
        let lost = Attempt::Indefinite("connection reset".into());
        let timeout = Attempt::Indefinite("timeout".into());
        for earlier in [false, true] {
            for class in [Read, Write, Append] {
                assert_eq!(kind(class, &ok, earlier), Ok);
                assert_eq!(kind(class, &definite("cas_mismatch"), earlier), Fail);
                assert_eq!(kind(class, &definite("type_mismatch"), earlier), Fail);
            }
            assert_eq!(kind(Read, &definite("not_leader"), earlier), Fail);
            assert_eq!(kind(Read, &definite("read_timeout"), earlier), Fail);
            assert_eq!(kind(Read, &refused, earlier), Fail);
            assert_eq!(kind(Read, &lost, earlier), Fail);
            assert_eq!(kind(Read, &timeout, earlier), Fail);
            for class in [Write, Append] {
                assert_eq!(kind(class, &lost, earlier), Info);
                assert_eq!(kind(class, &timeout, earlier), Info);
            }
        }
        for class in [Write, Append] {
            assert_eq!(kind(class, &definite("not_leader"), false), Fail);
            assert_eq!(kind(class, &refused, false), Fail);
            // A retry that did not get through says nothing about the attempt before it.
            assert_eq!(kind(class, &definite("not_leader"), true), Info);
            assert_eq!(kind(class, &refused, true), Info);
        }
    }

    #[test]
    fn errors_name_the_code_or_the_cause() {
        let (_, e) = classify(OpClass::Write, &definite("cas_mismatch"), false);
        assert_eq!(e, Some(Value::from("cas_mismatch")));
        let (_, e) = classify(
            OpClass::Write,
            &Attempt::Indefinite("no answer in time".into()),
            false,
        );
        assert_eq!(e, Some(Value::from("no answer in time")));
        let (_, e) = classify(OpClass::Read, &Attempt::Ok(1.into()), false);
        assert_eq!(e, None);
    }
}
