//! What a reqwest error says about an HTTP request that got no answer: certainly not sent (a
//! connect error: reqwest writes a request only on an established connection), or sent and
//! perhaps applied (a timeout, a connection lost after sending). The kvnode and etcd clients
//! both classify their attempts by it.

use std::error::Error as _;
use std::io;

/// Why a request got no answer, in words for the history.
pub(crate) enum NoAnswer {
    /// Nothing was sent: refused, unreachable, the connect timeout.
    NotSent(String),
    /// Sent (or possibly sent) and unanswered: a paused node may still apply it when it
    /// resumes.
    MaybeSent(String),
}

pub(crate) fn no_answer(err: &reqwest::Error) -> NoAnswer {
    if err.is_connect() {
        let why = if err.is_timeout() {
            "connect timeout".to_owned()
        } else {
            io_kind(err).map_or_else(|| "connect failed".to_owned(), describe_io_kind)
        };
        return NoAnswer::NotSent(why);
    }
    if err.is_timeout() {
        return NoAnswer::MaybeSent("no answer in time".to_owned());
    }
    NoAnswer::MaybeSent(io_kind(err).map_or_else(
        || "connection lost after sending".to_owned(),
        describe_io_kind,
    ))
}

/// The kind of the I/O error under a reqwest error, if there is one.
fn io_kind(err: &reqwest::Error) -> Option<io::ErrorKind> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}

fn describe_io_kind(kind: io::ErrorKind) -> String {
    match kind {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        io::ErrorKind::BrokenPipe => "broken pipe".to_owned(),
        io::ErrorKind::UnexpectedEof => "connection closed".to_owned(),
        other => format!("connection error: {other}"),
    }
}
