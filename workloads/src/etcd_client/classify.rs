//! The completion of an invocation, from its last attempt. This decides `fail` (certainly did
//! not happen) against `info` (may have happened): a write called `fail` that did happen makes
//! the checker reject a correct store, so every doubt goes to `info`.
//!
//! | last attempt | read | write | cas |
//! | --- | --- | --- | --- |
//! | answered | `ok` (the value read) | `ok` | `ok` if `succeeded`, else `fail` (`cas_mismatch`) |
//! | an etcd error that proves it was not applied (`error_effect`) | `fail` | `fail` | `fail` |
//! | connect error (refused, connect timeout): nothing sent | `fail` | `fail` | `fail` |
//! | any other etcd error, no answer in time, connection lost after sending, unparsable answer | `fail` | `info` | `info` |
//!
//! A read never changes state, so a read that returned no value is `fail`, as Jepsen treats
//! reads. A write is sent again (to another member) only after an attempt that certainly did
//! not apply it (`EtcdClient::perform`), so the last attempt speaks for the whole invocation:
//! no earlier attempt can be pending.

use faultline_checker::history::EventType;
use serde_json::Value;

use super::request::OpClass;
use super::response::{Answer, Attempt};

/// gRPC status codes (google.golang.org/grpc/codes) as the gateway's `code` field carries them.
mod code {
    pub const UNKNOWN: i64 = 2;
    pub const INVALID_ARGUMENT: i64 = 3;
    pub const PERMISSION_DENIED: i64 = 7;
    pub const RESOURCE_EXHAUSTED: i64 = 8;
    pub const UNAVAILABLE: i64 = 14;
    pub const UNAUTHENTICATED: i64 = 16;
}

/// What an etcd error proves about the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// Not applied, for a reason of this member at this moment (it knows no leader): another
    /// member may take the request.
    NotAppliedHere,
    /// Not applied, and would not be anywhere (the request itself was refused).
    NotApplied,
    /// May have been applied, or may still be.
    Unknown,
}

/// What an etcd error (gRPC code and message) proves about a write. Sources are etcd 3.4's
/// `etcdserver/api/v3rpc/rpctypes/error.go` (codes and messages), `v3rpc/util.go`
/// (`togRPCError`: any error without a mapping is `Unknown` with its text),
/// `v3rpc/interceptor.go`, `etcdserver/v3_server.go` (`processInternalRaftRequestOnce`) and
/// `raft/raft.go`. Only a row that names where etcd refuses before proposing may say
/// "not applied"; everything else is `Unknown`.
pub(super) fn error_effect(grpc_code: i64, message: &str) -> Effect {
    match (grpc_code, message) {
        // The unary interceptor refuses requests carrying `hasleader` metadata (the client
        // sends it) while the member knows no leader, before the handler runs.
        (code::UNAVAILABLE, "etcdserver: no leader") => Effect::NotAppliedHere,
        // Also refused in the interceptor, before the handler: a learner member, or a member
        // whose cluster version does not yet enable the v3 API.
        (code::UNAVAILABLE, "etcdserver: rpc not supported for learner")
        | (code::UNAVAILABLE, "etcdserver: not capable") => Effect::NotAppliedHere,
        // raft's `ErrProposalDropped`, returned by `node.Propose` (which waits for the step's
        // result) when a follower or candidate knows no leader or the leader is transferring
        // leadership: the entry was appended to no log. It reaches the gateway through
        // togRPCError's fallback, `Unknown` with the error's text.
        (code::UNKNOWN, "raft proposal dropped") => Effect::NotAppliedHere,
        // Validation before proposing (empty key, too many ops, request too large, the
        // gateway's own JSON decoding), or an apply that failed as a whole (a txn is atomic).
        (code::INVALID_ARGUMENT, _) => Effect::NotApplied,
        // "too many requests" (apply lagging commit, checked before proposing) and "database
        // space exceeded" (the quota check before proposing).
        (code::RESOURCE_EXHAUSTED, _) => Effect::NotApplied,
        // Authentication and permission checks refuse the request; none is configured here,
        // but a definition may turn auth on.
        (code::PERMISSION_DENIED | code::UNAUTHENTICATED, _) => Effect::NotApplied,
        // Everything else may have been proposed: "request timed out" (and its variants
        // "possibly due to previous leader failure", "... connection lost"), "leader
        // changed", "server stopped", "unhealthy cluster" (all Unavailable, after or while
        // proposing), DeadlineExceeded and Canceled (the gateway's context ended; the
        // proposal is not withdrawn), other Unknown errors, and codes this table has not met.
        _ => Effect::Unknown,
    }
}

/// The history type and `error` field of an invocation of `class` that ended with `last`.
/// The `ok` value is chosen by the caller.
pub(super) fn classify(class: OpClass, last: &Attempt) -> (EventType, Option<Value>) {
    let error = |s: &str| Some(Value::from(s));
    match last {
        Attempt::Answered(Answer::Cas { succeeded: false }) => {
            (EventType::Fail, error("cas_mismatch"))
        }
        Attempt::Answered(_) => (EventType::Ok, None),
        _ if class == OpClass::Read => (EventType::Fail, error(describe(last))),
        Attempt::NotSent(why) => (EventType::Fail, error(why)),
        Attempt::Error { code, message } => match error_effect(*code, message) {
            Effect::NotApplied | Effect::NotAppliedHere => (EventType::Fail, error(message)),
            Effect::Unknown => (EventType::Info, error(message)),
        },
        Attempt::Indefinite(why) => (EventType::Info, error(why)),
    }
}

fn describe(attempt: &Attempt) -> &str {
    match attempt {
        Attempt::Answered(_) => "ok",
        Attempt::Error { message, .. } => message,
        Attempt::NotSent(why) | Attempt::Indefinite(why) => why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType::{Fail, Info, Ok};
    use OpClass::{Cas, Read, Write};

    fn etcd_error(code: i64, message: &str) -> Attempt {
        Attempt::Error {
            code,
            message: message.into(),
        }
    }

    fn kind(class: OpClass, last: &Attempt) -> EventType {
        classify(class, last).0
    }

    /// Every error etcd 3.4 answers a put or txn with under faults, by its exact message.
    #[test]
    fn etcd_errors_by_what_they_prove() {
        let cases = [
            (14, "etcdserver: no leader", Effect::NotAppliedHere),
            (14, "etcdserver: not capable", Effect::NotAppliedHere),
            (2, "raft proposal dropped", Effect::NotAppliedHere),
            (3, "etcdserver: key is not provided", Effect::NotApplied),
            (3, "etcdserver: request is too large", Effect::NotApplied),
            (8, "etcdserver: too many requests", Effect::NotApplied),
            (
                8,
                "etcdserver: mvcc: database space exceeded",
                Effect::NotApplied,
            ),
            (14, "etcdserver: request timed out", Effect::Unknown),
            (
                14,
                "etcdserver: request timed out, possibly due to previous leader failure",
                Effect::Unknown,
            ),
            (
                14,
                "etcdserver: request timed out, possibly due to connection lost",
                Effect::Unknown,
            ),
            (14, "etcdserver: leader changed", Effect::Unknown),
            (14, "etcdserver: server stopped", Effect::Unknown),
            (14, "etcdserver: unhealthy cluster", Effect::Unknown),
            (4, "context deadline exceeded", Effect::Unknown),
            (1, "context canceled", Effect::Unknown),
            (2, "some error etcd has no code for", Effect::Unknown),
            // A message we know under a code we do not expect: not enough to say "not applied".
            (2, "etcdserver: no leader", Effect::Unknown),
            (13, "internal", Effect::Unknown),
        ];
        for (code, message, effect) in cases {
            assert_eq!(error_effect(code, message), effect, "{code} {message}");
        }
    }

    #[test]
    fn the_classification_table() {
        let read = Attempt::Answered(Answer::Read(5.into()));
        let written = Attempt::Answered(Answer::Written);
        let swapped = Attempt::Answered(Answer::Cas { succeeded: true });
        let mismatch = Attempt::Answered(Answer::Cas { succeeded: false });
        let refused = Attempt::NotSent("connection refused".into());
        let lost = Attempt::Indefinite("connection reset".into());
        let timeout = Attempt::Indefinite("no answer in time".into());
        let no_leader = etcd_error(14, "etcdserver: no leader");
        let invalid = etcd_error(3, "etcdserver: key is not provided");
        let timed_out = etcd_error(14, "etcdserver: request timed out");
        let leader_changed = etcd_error(14, "etcdserver: leader changed");

        assert_eq!(kind(Read, &read), Ok);
        assert_eq!(kind(Write, &written), Ok);
        assert_eq!(kind(Cas, &swapped), Ok);
        assert_eq!(
            classify(Cas, &mismatch),
            (Fail, Some("cas_mismatch".into()))
        );
        // Reads: whatever went wrong, nothing changed.
        for last in [
            &refused,
            &lost,
            &timeout,
            &no_leader,
            &timed_out,
            &leader_changed,
        ] {
            assert_eq!(kind(Read, last), Fail, "{last:?}");
        }
        for class in [Write, Cas] {
            assert_eq!(kind(class, &refused), Fail);
            assert_eq!(kind(class, &no_leader), Fail);
            assert_eq!(kind(class, &invalid), Fail);
            assert_eq!(kind(class, &lost), Info);
            assert_eq!(kind(class, &timeout), Info);
            assert_eq!(kind(class, &timed_out), Info);
            assert_eq!(kind(class, &leader_changed), Info);
        }
    }

    #[test]
    fn errors_name_the_cause() {
        let (_, e) = classify(Write, &etcd_error(14, "etcdserver: request timed out"));
        assert_eq!(e, Some(Value::from("etcdserver: request timed out")));
        let (_, e) = classify(Write, &Attempt::NotSent("connection refused".into()));
        assert_eq!(e, Some(Value::from("connection refused")));
        let (_, e) = classify(Read, &Attempt::Answered(Answer::Read(Value::Null)));
        assert_eq!(e, None);
    }
}
