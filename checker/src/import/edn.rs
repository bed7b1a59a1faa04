//! EDN for the Jepsen importers: reading one form at a time with `clojure-reader` (with a nesting
//! bound and errors placed on the right line of the whole file), converting EDN values to JSON
//! values, and converting a Jepsen op map to an [`Event`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use clojure_reader::edn::{self, Edn};
use clojure_reader::error::{Code, Error as EdnError};
use serde_json::{Map, Number, Value};

use super::ParseError;
use super::text::{column_at, line_at};
use crate::history::{Event, EventType, Process};

/// Deepest nesting of `[`, `(`, `{` accepted. Jepsen ops nest three or four levels (a history
/// vector, op maps, `:txn` micro-ops); the bound keeps every recursive walk, ours or a
/// library's, far from the stack's limit.
pub(crate) const MAX_DEPTH: usize = 128;

/// Rejects input nesting deeper than [`MAX_DEPTH`] before any reader sees it.
///
/// `text[start..end]` is scanned; line numbers are those of `text`. The scan knows just enough
/// EDN lexing to not count brackets inside strings, comments and character literals (`\[`).
pub(crate) fn check_depth(text: &str, start: usize, end: usize) -> Result<(), ParseError> {
    let bytes = text.as_bytes();
    let end = end.min(bytes.len());
    let mut depth = 0usize;
    let mut i = start;
    while i < end {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < end && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b';' => {
                while i < end && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            // A character literal: the next byte is data, whatever it is.
            b'\\' => i += 1,
            b'[' | b'(' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::new(
                        line_at(bytes, i),
                        format!("expected at most {MAX_DEPTH} levels of nested brackets"),
                    ));
                }
            }
            b']' | b')' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Reads the EDN form starting at byte `offset` of `text`. Returns the form and the offset just
/// after it, or `None` when only whitespace, commas and comments remain.
///
/// Callers run [`check_depth`] over the input first.
pub(crate) fn read_form(text: &str, offset: usize) -> Result<Option<(Edn<'_>, usize)>, ParseError> {
    let rest = text.get(offset..).unwrap_or("");
    // clojure-reader is fuzzed upstream; catching a panic anyway keeps "never panics, whatever
    // the bytes" true even if some input finds a bug in it.
    let read = catch_unwind(AssertUnwindSafe(|| edn::read(rest)));
    match read {
        Ok(Ok((form, after))) => Ok(Some((form, text.len() - after.len()))),
        // The reader's "nothing to read": no position, as opposed to EOF inside a form.
        Ok(Err(EdnError {
            code: Code::UnexpectedEOF,
            ptr: None,
            ..
        })) => Ok(None),
        Ok(Err(e)) => {
            // An error at the end of input belongs on the last line that holds anything.
            let at = e
                .ptr
                .map_or(offset, |p| offset + p)
                .min(text.trim_end().len());
            Err(ParseError::new(
                line_at(text.as_bytes(), at),
                format!(
                    "invalid EDN at column {}: {}",
                    column_at(text, at),
                    describe(&e.code)
                ),
            ))
        }
        Err(_) => Err(ParseError::new(
            line_at(text.as_bytes(), offset),
            "invalid EDN: the reader could not read this form",
        )),
    }
}

/// What a reader error code means, in words.
fn describe(code: &Code) -> String {
    match code {
        Code::HashMapDuplicateKey => "duplicate key in a map".into(),
        Code::SetDuplicateKey => "duplicate value in a set".into(),
        Code::InvalidChar => "invalid character literal".into(),
        Code::InvalidEscape => "invalid escape in a string".into(),
        Code::InvalidKeyword => "invalid keyword".into(),
        Code::InvalidNumber => "invalid number".into(),
        Code::InvalidRadix(_) => "invalid number radix".into(),
        Code::InvalidTag => "invalid tag".into(),
        Code::UnexpectedEOF => "unexpected end of input (an unclosed bracket or string?)".into(),
        Code::UnmatchedDelimiter(c) => format!("unmatched delimiter `{c}`"),
        other => format!("{other:?}"),
    }
}

/// Converts an EDN value to JSON: keywords and symbols become strings without the colon, nil
/// null, vectors, lists and sets arrays, maps objects (keys rendered as strings), tagged values
/// their inner value. Ratios and characters become strings; non-finite floats their EDN text.
pub(crate) fn to_json(value: &Edn<'_>) -> Result<Value, String> {
    to_json_at(value, 0)
}

fn to_json_at(value: &Edn<'_>, depth: usize) -> Result<Value, String> {
    // `check_depth` already bounds nesting; this guard keeps the recursion safe on its own.
    if depth > MAX_DEPTH {
        return Err(format!(
            "expected at most {MAX_DEPTH} levels of nested values"
        ));
    }
    let items = |items: &mut dyn Iterator<Item = &Edn<'_>>| -> Result<Value, String> {
        items
            .map(|item| to_json_at(item, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    };
    Ok(match value {
        Edn::Nil => Value::Null,
        Edn::Bool(b) => Value::Bool(*b),
        Edn::Int(i) => Value::from(*i),
        Edn::Double(d) => Number::from_f64(d.into_inner())
            .map_or_else(|| Value::String(value.to_string()), Value::Number),
        Edn::Key(s) | Edn::Symbol(s) | Edn::Str(s) => Value::String(s.to_string()),
        Edn::Char(c) => Value::String(c.to_string()),
        Edn::Rational((n, d)) => Value::String(format!("{n}/{d}")),
        Edn::Vector(v) | Edn::List(v) => items(&mut v.iter())?,
        Edn::Set(s) => items(&mut s.iter())?,
        Edn::Map(m) => {
            let mut object = Map::new();
            for (k, v) in m {
                object.insert(key_text(k), to_json_at(v, depth + 1)?);
            }
            Value::Object(object)
        }
        Edn::Tagged(_, inner) => to_json_at(inner, depth + 1)?,
        // `Edn` is non-exhaustive: render anything new as its EDN text.
        other => Value::String(other.to_string()),
    })
}

/// A map key as a JSON object key: keywords without the colon, strings as they are, anything
/// else as its EDN text.
fn key_text(key: &Edn<'_>) -> String {
    match key {
        Edn::Key(s) | Edn::Symbol(s) | Edn::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Converts a Jepsen op map (or a `#jepsen.history.Op{...}` record) to an event. `position` is
/// the op's position in the history, the index when the map has none.
pub(crate) fn op_to_event(op: &Edn<'_>, position: usize) -> Result<Event, String> {
    let map = match op {
        Edn::Map(m) => m,
        Edn::Tagged(_, inner) => match inner.as_ref() {
            Edn::Map(m) => m,
            other => return Err(format!("expected an op map, found {}", kind(other))),
        },
        other => return Err(format!("expected an op map, found {}", kind(other))),
    };
    let get = |name: &'static str| map.get(&Edn::key(name)).filter(|v| !matches!(v, Edn::Nil));

    let process = match get("process") {
        Some(Edn::Int(p)) if *p >= 0 => Process::Client(p.unsigned_abs()),
        Some(Edn::Key(k) | Edn::Str(k)) if k == "nemesis" => Process::Nemesis,
        Some(other) => {
            return Err(format!(
                "expected :process to be a non-negative integer or :nemesis, found {}",
                short(other)
            ));
        }
        None => return Err("expected a :process in the op map".into()),
    };
    let kind = match get("type") {
        Some(Edn::Key(t) | Edn::Str(t)) => EventType::from_name(t),
        _ => None,
    };
    let kind = kind.ok_or_else(|| match get("type") {
        Some(other) => format!(
            "expected :type to be one of :invoke, :ok, :fail, :info, found {}",
            short(other)
        ),
        None => "expected a :type in the op map".into(),
    })?;
    let f = match get("f") {
        Some(Edn::Key(f) | Edn::Str(f) | Edn::Symbol(f)) => f.to_string(),
        Some(other) => {
            return Err(format!(
                "expected :f to be a keyword, found {}",
                short(other)
            ));
        }
        None => return Err("expected an :f in the op map".into()),
    };
    let key = match get("key") {
        None => None,
        Some(Edn::Str(k) | Edn::Key(k)) => Some(k.to_string()),
        Some(Edn::Int(k)) => Some(k.to_string()),
        Some(other) => {
            return Err(format!(
                "expected :key to be a string or an integer, found {}",
                short(other)
            ));
        }
    };
    let index = counter(get("index"), "index")?.unwrap_or(position as u64);
    let time = counter(get("time"), "time")?.unwrap_or(index);
    let value = get("value").map_or(Ok(Value::Null), to_json)?;
    let error = get("error").map(to_json).transpose()?;
    let node = match get("node") {
        Some(Edn::Str(n) | Edn::Key(n) | Edn::Symbol(n)) => Some(n.to_string()),
        _ => None,
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

/// An optional non-negative integer field (`:index`, `:time`).
fn counter(value: Option<&Edn<'_>>, name: &str) -> Result<Option<u64>, String> {
    match value {
        None => Ok(None),
        Some(Edn::Int(i)) if *i >= 0 => Ok(Some(i.unsigned_abs())),
        Some(other) => Err(format!(
            "expected :{name} to be a non-negative integer, found {}",
            short(other)
        )),
    }
}

/// A value's EDN text, cut short for an error message.
fn short(value: &Edn<'_>) -> String {
    super::text::excerpt(&value.to_string())
}

/// What kind of EDN value something is, for error messages.
fn kind(value: &Edn<'_>) -> &'static str {
    match value {
        Edn::Vector(_) => "a vector",
        Edn::List(_) => "a list",
        Edn::Set(_) => "a set",
        Edn::Map(_) => "a map",
        Edn::Tagged(..) => "a tagged value",
        Edn::Key(_) => "a keyword",
        Edn::Symbol(_) => "a symbol",
        Edn::Str(_) => "a string",
        Edn::Nil => "nil",
        Edn::Bool(_) => "a boolean",
        _ => "a number or character",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(text: &str) -> Result<Event, String> {
        let (form, _) = read_form(text, 0).unwrap().unwrap();
        op_to_event(&form, 7)
    }

    #[test]
    fn op_map_fields() {
        let e = event(r#"{:process 3, :type :ok, :f :txn, :value [[:read :x nil] [:write :y 2]], :extra #{1}}"#).unwrap();
        assert_eq!(e.process, Process::Client(3));
        assert_eq!(e.kind, EventType::Ok);
        assert_eq!(e.f, "txn");
        assert_eq!((e.index, e.time), (7, 7));
        assert_eq!(e.value, json!([["read", "x", null], ["write", "y", 2]]));
        let e = event(
            "{:process :nemesis :type :info :f :start :key 12 :index 4 :time 99 :error :boom}",
        )
        .unwrap();
        assert_eq!(e.process, Process::Nemesis);
        assert_eq!(e.key.as_deref(), Some("12"));
        assert_eq!((e.index, e.time), (4, 99));
        assert_eq!(e.error, Some(json!("boom")));
    }

    #[test]
    fn records_read_as_maps() {
        let e = event("#jepsen.history.Op{:index 0, :time 5, :type :invoke, :process 1, :f :read, :value nil}").unwrap();
        assert_eq!((e.index, e.time, e.kind), (0, 5, EventType::Invoke));
    }

    #[test]
    fn bad_ops_say_what_was_expected() {
        assert_eq!(
            event("{:process 0 :type :okay :f :read}").unwrap_err(),
            "expected :type to be one of :invoke, :ok, :fail, :info, found :okay"
        );
        assert_eq!(
            event("{:type :ok :f :read}").unwrap_err(),
            "expected a :process in the op map"
        );
        assert_eq!(
            event("[1]").unwrap_err(),
            "expected an op map, found a vector"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(check_depth(&deep, 0, deep.len()).is_err());
        let fine = format!("\"{}\" \\[ ; [[[", "[".repeat(MAX_DEPTH + 1));
        assert!(check_depth(&fine, 0, fine.len()).is_ok());
    }

    #[test]
    fn reader_errors_carry_whole_file_lines() {
        let text = "[{:a 1}\n {:b 2}\n {:c ]";
        let err = read_form(text, 16).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }
}
