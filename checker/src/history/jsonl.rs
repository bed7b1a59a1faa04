//! faultline's JSON Lines history format: reader and writer (docs/history-format.md).
//!
//! The reader checks each field by hand rather than deserializing `Event` directly, so that a bad
//! line says which field was wrong and what it should have been. Decisions (documented in
//! docs/history-format.md): a missing `index` is the event's position among the events read; a
//! missing `time` is the index; an integer `key` is its decimal string; `null` is the same as an
//! absent optional field; unknown fields are ignored.

use std::io::{self, BufWriter, Write};

use serde_json::Value;

use super::{Event, EventType, Process};
use crate::import::ParseError;
use crate::import::text::{excerpt, is_blank, numbered_lines};

/// Reads a JSON Lines history. Blank lines are skipped; the first bad line is the error.
pub fn read_jsonl(bytes: &[u8]) -> Result<Vec<Event>, ParseError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut events = Vec::new();
    for (number, line) in numbered_lines(bytes) {
        if is_blank(line) {
            continue;
        }
        let event = read_line(line, events.len()).map_err(|m| ParseError::new(number, m))?;
        events.push(event);
    }
    Ok(events)
}

/// Reads one event; `position` is its place among the events, the index when it has none.
pub(super) fn read_line(line: &[u8], position: usize) -> Result<Event, String> {
    let text = std::str::from_utf8(line).map_err(|_| "invalid UTF-8".to_owned())?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json appends "at line 1 column N"; the line is ours, the column is kept.
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| &message[..i]);
        format!(
            "expected a JSON object (invalid JSON at column {}: {message})",
            e.column()
        )
    })?;
    let Value::Object(mut object) = value else {
        return Err(format!("expected a JSON object, found {}", kind(&value)));
    };
    let mut take = |name: &str| object.remove(name).filter(|v| !v.is_null());

    let process = match take("process") {
        Some(Value::String(s)) if s == "nemesis" => Process::Nemesis,
        Some(other) => match other.as_u64() {
            Some(p) => Process::Client(p),
            None => {
                return Err(format!(
                    "expected \"process\" to be a non-negative integer or \"nemesis\", found {}",
                    show(&other)
                ));
            }
        },
        None => return Err("expected a \"process\" field".into()),
    };
    let kind = match take("type") {
        Some(Value::String(t)) if EventType::from_name(&t).is_some() => EventType::from_name(&t),
        Some(other) => {
            return Err(format!(
                "expected \"type\" to be one of invoke, ok, fail, info, found {}",
                show(&other)
            ));
        }
        None => None,
    }
    .ok_or_else(|| "expected a \"type\" field".to_owned())?;
    let f = match take("f") {
        Some(Value::String(f)) => f,
        Some(other) => {
            return Err(format!(
                "expected \"f\" to be a string, found {}",
                show(&other)
            ));
        }
        None => return Err("expected an \"f\" field".into()),
    };
    let key = match take("key") {
        None => None,
        Some(Value::String(k)) => Some(k),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        Some(other) => {
            return Err(format!(
                "expected \"key\" to be a string or an integer, found {}",
                show(&other)
            ));
        }
    };
    let index = counter(take("index"), "index")?.unwrap_or(position as u64);
    let time = counter(take("time"), "time")?.unwrap_or(index);
    let value = take("value").unwrap_or(Value::Null);
    let error = take("error");
    let node = match take("node") {
        None => None,
        Some(Value::String(n)) => Some(n),
        Some(other) => {
            return Err(format!(
                "expected \"node\" to be a string, found {}",
                show(&other)
            ));
        }
    };
    Ok(Event {
        index,
        time,
        process,
        kind,
        f,
        key,
        value,
        error,
        node,
    })
}

/// An optional non-negative integer field (`index`, `time`).
fn counter(value: Option<Value>, name: &str) -> Result<Option<u64>, String> {
    match value {
        None => Ok(None),
        Some(other) => other.as_u64().map(Some).ok_or_else(|| {
            format!(
                "expected \"{name}\" to be a non-negative integer, found {}",
                show(&other)
            )
        }),
    }
}

/// A value's JSON text, cut short for an error message.
fn show(value: &Value) -> String {
    excerpt(&value.to_string())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Writes events as JSON Lines, one event a line.
pub fn write_jsonl<W: Write>(out: W, events: &[Event]) -> io::Result<()> {
    let mut writer = HistoryWriter::new(out);
    for event in events {
        writer.append(event)?;
    }
    writer.into_inner().map(drop)
}

/// Appends events to a history as they happen (the harness's recorder uses it).
///
/// Writes are buffered; each event reaches the buffer as one whole line, so a history cut short
/// by a crash loses whole events except possibly the last line. Call [`HistoryWriter::flush`]
/// regularly (the harness does, at least every second) and [`HistoryWriter::into_inner`] at the
/// end; dropping the writer flushes too but cannot report an error.
pub struct HistoryWriter<W: Write> {
    out: BufWriter<W>,
    /// One serialized event, reused between appends.
    line: Vec<u8>,
    /// Events written so far: the position the next one takes.
    written: u64,
}

/// An event as a line: what the reader would fill in by default is left out. An `index` equal to
/// the event's position and a `null` value are a sixth of a history's bytes, and the reader
/// restores both (docs/history-format.md), so the file stays linear in operations and small.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
    time: u64,
    process: Process,
    #[serde(rename = "type")]
    kind: EventType,
    f: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Value::is_null")]
    value: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
}

impl<W: Write> HistoryWriter<W> {
    pub fn new(out: W) -> Self {
        HistoryWriter {
            out: BufWriter::new(out),
            line: Vec::with_capacity(256),
            written: 0,
        }
    }

    /// Appends one event as one line.
    pub fn append(&mut self, event: &Event) -> io::Result<()> {
        self.line.clear();
        let line = Line {
            index: (event.index != self.written).then_some(event.index),
            time: event.time,
            process: event.process,
            kind: event.kind,
            f: &event.f,
            key: event.key.as_deref(),
            value: &event.value,
            error: event.error.as_ref(),
            node: event.node.as_deref(),
        };
        serde_json::to_writer(&mut self.line, &line)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.written += 1;
        Ok(())
    }

    /// Writes buffered events through to the underlying writer and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_nemesis() {
        let text = b"\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":7}\n\r\n{\"index\":9,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start\",\"value\":[1],\"error\":null}\n";
        let events = read_jsonl(text).unwrap();
        assert_eq!((events[0].index, events[0].time), (0, 0));
        assert_eq!(events[0].key.as_deref(), Some("7"));
        assert_eq!(events[0].value, Value::Null);
        assert_eq!((events[1].index, events[1].time), (9, 9));
        assert_eq!(events[1].process, Process::Nemesis);
        assert_eq!(events[1].value, json!([1]));
        assert_eq!(events[1].error, None);
    }

    #[test]
    fn errors_say_what_was_expected() {
        let cases: [(&[u8], &str); 5] = [
            (
                b"{\"process\":0,\"type\":\"okay\",\"f\":\"read\"}",
                "expected \"type\" to be one of invoke, ok, fail, info, found \"okay\"",
            ),
            (b"[1]", "expected a JSON object, found an array"),
            (b"\xff", "invalid UTF-8"),
            (
                b"{\"process\":-1,\"type\":\"ok\",\"f\":\"read\"}",
                "expected \"process\" to be a non-negative integer or \"nemesis\", found -1",
            ),
            (
                b"{\"process\":1,",
                "expected a JSON object (invalid JSON at column 13: EOF while parsing a value)",
            ),
        ];
        for (input, message) in cases {
            let mut text = b"{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n\n".to_vec();
            text.extend_from_slice(input);
            assert_eq!(read_jsonl(&text), Err(ParseError::new(3, message)));
        }
    }

    #[test]
    fn writer_appends_lines() {
        let event = Event {
            index: 0,
            time: 5,
            process: Process::Client(1),
            kind: EventType::Ok,
            f: "read".into(),
            key: None,
            value: json!(3),
            error: None,
            node: None,
        };
        let mut writer = HistoryWriter::new(Vec::new());
        writer.append(&event).unwrap();
        writer.flush().unwrap();
        let bytes = writer.into_inner().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "{\"time\":5,\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":3}\n"
        );
        assert_eq!(read_jsonl(&bytes).unwrap(), vec![event]);
    }

    #[test]
    fn the_writer_leaves_out_only_what_the_reader_restores() {
        let event = |index: u64, value: Value| Event {
            index,
            time: index * 10,
            process: Process::Client(1),
            kind: EventType::Invoke,
            f: "read".into(),
            key: Some("k".into()),
            value,
            error: None,
            node: None,
        };
        // Positions 0 and 1 match their indices; the third does not (a history with a gap).
        let events = vec![
            event(0, Value::Null),
            event(1, json!(7)),
            event(5, Value::Null),
        ];
        let mut bytes = Vec::new();
        write_jsonl(&mut bytes, &events).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            !lines[0].contains("index") && !lines[0].contains("value"),
            "{text}"
        );
        assert!(
            !lines[1].contains("index") && lines[1].contains("\"value\":7"),
            "{text}"
        );
        assert!(lines[2].starts_with("{\"index\":5,"), "{text}");
        assert_eq!(read_jsonl(&bytes).unwrap(), events);
    }
}
