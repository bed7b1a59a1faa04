//! How an error becomes `fail` or `info`, as Jepsen classifies SQL outcomes.
//!
//! Every operation is one autocommitted statement, so its COMMIT is in flight from the moment
//! the statement is sent until its answer arrives:
//! - a read that errs changed nothing: `fail`;
//! - no connection (nothing was sent): `fail`;
//! - the server answered the statement with an error: it did not commit — `fail` — except for
//!   the errors PostgreSQL sends when it ends a session or the server itself while a statement
//!   may be committing (class 57, operator intervention: admin shutdown, crash shutdown,
//!   cannot connect now; class 08, connection exception; 58 and XX, system and internal
//!   errors): `info`;
//! - the connection broke, or the answer did not come within the timeout: the statement may
//!   have committed (or may still commit): `info`.
//!
//! 40003 (statement completion unknown) is `info` by its name. A serialization failure
//! (40001), a deadlock (40P01) and a write refused by a read-only
//! server (25006, a replica or a demoted primary) are errors the server sends before committing:
//! `fail`, as Jepsen's SQL tests have them.

use faultline_checker::history::EventType;

/// SQLSTATE classes whose error may arrive while the statement's commit was under way.
const INDEFINITE_CLASSES: [&str; 4] = ["57", "08", "58", "XX"];
/// statement_completion_unknown: PostgreSQL itself says it does not know.
const COMPLETION_UNKNOWN: &str = "40003";

/// What an error says about an operation that changes state.
pub fn write_outcome(error: &tokio_postgres::Error) -> EventType {
    match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            if code == COMPLETION_UNKNOWN
                || INDEFINITE_CLASSES
                    .iter()
                    .any(|class| code.starts_with(class))
            {
                EventType::Info
            } else {
                EventType::Fail
            }
        }
        // No answer from the server: an I/O error, a closed connection.
        None => EventType::Info,
    }
}

/// The error in words for the history: SQLSTATE and message when the server sent one.
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}
