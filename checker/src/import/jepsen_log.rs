//! Jepsen log lines (Porcupine's etcd histories):
//! `INFO  jepsen.util - PROCESS<TAB>:TYPE<TAB>:F<TAB>VALUE`, fields separated by tabs or spaces.
//!
//! A line is an op when it holds `jepsen.util - ` followed by a process (an integer or
//! `:nemesis`) and a keyword; every other line is noise and skipped. Once a line is an op, a bad
//! type, function or value is an error rather than noise, so a damaged history is not silently
//! shortened. VALUE is read as EDN (`nil`, an integer, `[from to]`, `:timed-out` → the string
//! `"timed-out"`); text after it is Jepsen's error message, kept as a string in `error`. A
//! nemesis value that is not exactly one EDN form is kept whole as its text.

use serde_json::Value;

use super::ParseError;
use super::edn::{check_depth, read_form, to_json};
use super::flat_edn::Reader;
use super::text::decode;
use crate::history::{Event, EventType, Process};

const MARKER: &str = "jepsen.util - ";
const MISSING_VALUE: &str = "expected a VALUE after F (nil, an integer, [from to] or :timed-out)";

pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Event>, ParseError> {
    parse_with(bytes, true)
}

/// `flat`: try the flat reader on each VALUE before `clojure-reader` (false only to compare the
/// two in tests).
pub(crate) fn parse_with(bytes: &[u8], flat: bool) -> Result<Vec<Event>, ParseError> {
    let text = decode(bytes)?;
    let mut events = Vec::new();
    let mut start = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let end = start + line.trim_end_matches(['\n', '\r']).len();
        if let Some(event) = parse_line(text, start, end, number + 1, events.len(), flat)? {
            events.push(event);
        }
        start += line.len();
    }
    Ok(events)
}

/// Parses `text[start..end]`, line `number`; `Ok(None)` for noise.
fn parse_line(
    text: &str,
    start: usize,
    end: usize,
    number: usize,
    position: usize,
    flat: bool,
) -> Result<Option<Event>, ParseError> {
    let own = &text[..end];
    let line = &own[start..];
    let Some(at) = line.find(MARKER) else {
        return Ok(None);
    };
    let mut fields = Fields {
        text: own,
        offset: start + at + MARKER.len(),
        flat,
    };
    let process = match fields.next_token() {
        ":nemesis" => Process::Nemesis,
        token => match token.parse::<u64>() {
            Ok(p) => Process::Client(p),
            Err(_) => return Ok(None),
        },
    };
    let type_token = fields.next_token();
    let Some(type_name) = type_token.strip_prefix(':') else {
        return Ok(None);
    };
    let err = |message: String| ParseError::new(number, message);
    let kind = EventType::from_name(type_name).ok_or_else(|| {
        err(format!(
            "expected TYPE to be one of :invoke, :ok, :fail, :info, found {type_token}"
        ))
    })?;
    let f_token = fields.next_token();
    let f = match f_token.strip_prefix(':') {
        Some(f) if !f.is_empty() => f.to_owned(),
        _ => {
            return Err(err(format!(
                "expected F to be a keyword such as :read, found \"{f_token}\""
            )));
        }
    };
    let (value, error) = fields.value(process).map_err(err)?;
    Ok(Some(Event {
        index: position as u64,
        time: position as u64,
        process,
        kind,
        f,
        key: None,
        value,
        error,
        node: None,
    }))
}

/// The fields of one op line, read left to right.
struct Fields<'a> {
    /// The input up to the end of this line (reader offsets stay whole-file offsets).
    text: &'a str,
    offset: usize,
    /// Whether to try the flat reader first.
    flat: bool,
}

impl<'a> Fields<'a> {
    /// The next whitespace-separated token, empty at the end of the line.
    fn next_token(&mut self) -> &'a str {
        let rest = &self.text[self.offset..];
        let trimmed = rest.trim_start();
        let token = trimmed.split(char::is_whitespace).next().unwrap_or("");
        self.offset += rest.len() - trimmed.len() + token.len();
        token
    }

    /// VALUE and the optional error text after it.
    fn value(&mut self, process: Process) -> Result<(Value, Option<Value>), String> {
        let start = self.text.len() - self.text[self.offset..].trim_start().len();
        if start >= self.text.len() {
            return Err(MISSING_VALUE.into());
        }
        let raw = self.text[start..].trim_end();
        // The flat reader first (nil, integers, [from to], keywords); `clojure-reader` for
        // anything it declines, which also words the errors.
        // The general path bounds the nesting of the whole rest of the line, error text included:
        // so does this one.
        let mut reader = Reader::new(self.text, start);
        let fast = (self.flat)
            .then(|| reader.json_value().map(|v| (v, reader.pos)))
            .flatten()
            .filter(|&(_, after)| check_depth(self.text, after, self.text.len()).is_ok());
        let (value, after) = match fast {
            Some((_, after))
                if process == Process::Nemesis && !self.text[after..].trim().is_empty() =>
            {
                (Value::String(raw.to_owned()), self.text.len())
            }
            Some(read) => read,
            None => self.general_value(start, raw, process)?,
        };
        // Jepsen prints an op's error after its value; keep it as text.
        let rest = self.text[after.min(self.text.len())..].trim();
        let error = (!rest.is_empty()).then(|| Value::String(rest.to_owned()));
        Ok((value, error))
    }

    /// VALUE read by `clojure-reader`, and the offset just after it.
    fn general_value(
        &self,
        start: usize,
        raw: &str,
        process: Process,
    ) -> Result<(Value, usize), String> {
        let read = check_depth(self.text, start, self.text.len())
            .and_then(|()| read_form(self.text, start));
        let (value, after) = match read {
            // A nemesis logs free text ("Cut off {...}"): keep it whole unless it is one form.
            Ok(Some((_, after)))
                if process == Process::Nemesis && !self.text[after..].trim().is_empty() =>
            {
                (Value::String(raw.to_owned()), self.text.len())
            }
            Ok(Some((form, after))) => (to_json(&form)?, after),
            Ok(None) => return Err(MISSING_VALUE.into()),
            Err(_) if process == Process::Nemesis => {
                (Value::String(raw.to_owned()), self.text.len())
            }
            Err(e) => {
                return Err(format!(
                    "expected VALUE to be nil, an integer, [from to] or :timed-out, found \"{}\" ({})",
                    super::text::excerpt(raw),
                    e.message
                ));
            }
        };
        Ok((value, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn op_lines_and_noise() {
        let text = "INFO  jepsen.core - Running test\n\
                    INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 3 :invoke :cas [1 2]\r\n\
                    INFO  jepsen.util - 3\t:info\t:cas\t:timed-out\n\
                    INFO  jepsen.util - :nemesis\t:info\t:start\tCut off {:n1 #{:n2}\n\
                    INFO  jepsen.util - 2\t:fail\t:write\t4\tindeterminate: boom\n";
        let events = parse(text.as_bytes()).unwrap();
        assert_eq!(events.len(), 5);
        assert_eq!(
            (events[0].process, events[0].kind),
            (Process::Client(0), EventType::Invoke)
        );
        assert_eq!(events[0].value, Value::Null);
        assert_eq!(events[1].value, json!([1, 2]));
        assert_eq!(events[2].value, json!("timed-out"));
        assert_eq!(events[3].process, Process::Nemesis);
        assert_eq!(events[3].value, json!("Cut off {:n1 #{:n2}"));
        assert_eq!(events[4].error, Some(json!("indeterminate: boom")));
        assert_eq!(events[4].index, 4);
    }

    #[test]
    fn damaged_op_lines_are_errors() {
        let err = parse(b"noise\nINFO  jepsen.util - 0\t:okay\t:read\tnil\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("found :okay"), "{err}");
        let err = parse(b"INFO  jepsen.util - 0\t:ok\t:read\t[1 2\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = parse(b"INFO  jepsen.util - 0\t:ok\t:read\n").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
