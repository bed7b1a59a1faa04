//! Jepsen EDN histories: a vector or list of op maps, or a bare sequence of op maps, over any
//! number of lines, with `;` comments. Extra keys in the maps are ignored; `#jepsen.history.Op`
//! records read as maps.
//!
//! The outer vector is walked here rather than handed to the reader whole, so each op is read
//! on its own and an op's error names the line where that op starts.
//!
//! The whole history is first read by the flat reader (`flat_edn.rs`); if it declines any part,
//! the history is read again here with `clojure-reader`, which gives the same events or the
//! error to report.

use super::ParseError;
use super::edn::{check_depth, op_to_event, read_form};
use super::flat_edn::Reader;
use super::text::{decode, line_at, skip_edn_blank};
use crate::history::Event;

pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Event>, ParseError> {
    let text = decode(bytes)?;
    match read_flat(text) {
        Some(events) => Ok(events),
        None => read_general(text),
    }
}

/// The history as the flat reader reads it, or `None` where it declines (the general reader
/// then decides). Walks the history exactly as `read_general` does.
pub(crate) fn read_flat(text: &str) -> Option<Vec<Event>> {
    let start = skip_edn_blank(text, 0);
    let closer = match text.as_bytes().get(start) {
        Some(b'[') => Some(b']'),
        Some(b'(') => Some(b')'),
        _ => None,
    };
    let mut offset = if closer.is_some() { start + 1 } else { start };
    let mut events = Vec::new();
    loop {
        offset = skip_edn_blank(text, offset);
        match (closer, text.as_bytes().get(offset)) {
            (Some(closer), Some(&next)) if next == closer => {
                return (skip_edn_blank(text, offset + 1) == text.len()).then_some(events);
            }
            (_, None) => return closer.is_none().then_some(events),
            _ => {}
        }
        let mut reader = Reader::new(text, offset);
        events.push(reader.op_event(events.len(), usize::from(closer.is_some()))?);
        offset = reader.pos;
    }
}

pub(crate) fn read_general(text: &str) -> Result<Vec<Event>, ParseError> {
    check_depth(text, 0, text.len())?;
    let line = |offset: usize| line_at(text.as_bytes(), offset);

    let start = skip_edn_blank(text, 0);
    // The closing bracket we expect, when the history is a vector or a list.
    let closer = match text.as_bytes().get(start) {
        Some(b'[') => Some(']'),
        Some(b'(') => Some(')'),
        _ => None,
    };
    let mut offset = if closer.is_some() { start + 1 } else { start };
    let mut events = Vec::new();
    loop {
        offset = skip_edn_blank(text, offset);
        let next = text[offset..].chars().next();
        if let Some(closer) = closer {
            match next {
                Some(c) if c == closer => {
                    let after = skip_edn_blank(text, offset + 1);
                    if after < text.len() {
                        return Err(ParseError::new(
                            line(after),
                            format!("expected nothing after the history's closing `{closer}`"),
                        ));
                    }
                    break;
                }
                None => {
                    return Err(ParseError::new(
                        line(text.trim_end().len()),
                        format!(
                            "expected `{closer}` to close the history opened on line {}",
                            line(start)
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let Some((form, after)) = read_form(text, offset)? else {
            if closer.is_none() {
                break;
            }
            // Only a `#_` discard was left before the end.
            return Err(ParseError::new(line(offset), "expected an op map"));
        };
        let event = op_to_event(&form, events.len())
            .map_err(|message| ParseError::new(line(offset), message))?;
        events.push(event);
        offset = after;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_list_and_bare_sequence() {
        let ops = "{:process 0 :type :invoke :f :read}\n; a comment\n{:process 0 :type :ok :f :read :value 3}";
        for text in [
            format!("[{ops}]"),
            format!("({ops})\n"),
            ops.to_owned(),
            format!("; hi\n{ops}\n"),
        ] {
            let events = parse(text.as_bytes()).unwrap();
            assert_eq!(events.len(), 2, "{text}");
            assert_eq!(events[1].index, 1);
        }
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"[]").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line_of_the_bad_op() {
        let text = "[{:process 0 :type :invoke :f :read}\n {:process 0\n  :type :okay :f :read}]";
        let err = parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err =
            parse(b"{:process 0 :type :invoke :f :read}\n\n{:process 0 :type :ok").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        let err = parse(b"[{:process 0 :type :invoke :f :read}\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::new(1, "expected `]` to close the history opened on line 1")
        );
        let err = parse(b"[]\n[]").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
