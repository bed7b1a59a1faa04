//! One Jepsen op map a line (Porcupine's kv histories). Blank and comment-only lines are
//! skipped; anything after a line's map other than a comment is an error.
//!
//! Read by the flat reader (`flat_edn.rs`) first; if it declines any line, the file is read
//! again with `clojure-reader`, which gives the same events or the error to report.

use super::ParseError;
use super::edn::{check_depth, op_to_event, read_form};
use super::flat_edn::Reader;
use super::text::{decode, skip_edn_blank};
use crate::history::Event;

pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Event>, ParseError> {
    let text = decode(bytes)?;
    match read_flat(text) {
        Some(events) => Ok(events),
        None => read_general(text),
    }
}

/// The file as the flat reader reads it, line by line as `read_general` does, or `None` where
/// it declines.
pub(crate) fn read_flat(text: &str) -> Option<Vec<Event>> {
    let mut events = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let form_start = skip_edn_blank(text, start).min(end);
        if form_start < end {
            let own = text[..end].trim_end_matches(['\n', '\r']);
            let mut reader = Reader::new(own, form_start);
            events.push(reader.op_event(events.len(), 0)?);
            if skip_edn_blank(own, reader.pos) < own.len() {
                return None;
            }
        }
        start = end;
    }
    Some(events)
}

pub(crate) fn read_general(text: &str) -> Result<Vec<Event>, ParseError> {
    let mut events = Vec::new();
    let mut start = 0;
    for (here, line) in (1..).zip(text.split_inclusive('\n')) {
        let end = start + line.len();
        // Forms are read in the whole text so reader errors carry whole-file lines; the line's
        // own end bounds what each form may span.
        let form_start = skip_edn_blank(text, start).min(end);
        if form_start < end {
            check_depth(text, start, end)?;
            let own = text[..end].trim_end_matches(['\n', '\r']);
            let Some((form, after)) = read_form(own, form_start)? else {
                start = end;
                continue;
            };
            let event = op_to_event(&form, events.len())
                .map_err(|message| ParseError::new(here, message))?;
            if skip_edn_blank(own, after) < own.len() {
                return Err(ParseError::new(
                    here,
                    "expected one op map on this line, found more after it",
                ));
            }
            events.push(event);
        }
        start = end;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_map_a_line() {
        let text = "{:process 0, :type :invoke, :f :append, :key \"4\", :value \"x 0 1 y\"}\n\n; note\n{:process 0, :type :ok, :f :append, :key \"4\", :value \"x 0 1 y\"} ; done\r\n";
        let events = parse(text.as_bytes()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].key.as_deref(), Some("4"));
        assert_eq!(events[1].index, 1);
    }

    #[test]
    fn a_map_may_not_span_lines() {
        let err = parse(b"{:process 0, :type :invoke,\n :f :read}\n").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
        let err = parse(b"{:process 0, :type :invoke, :f :read} {:process 1}\n").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
    }
}
