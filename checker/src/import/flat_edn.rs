//! A small EDN reader for the forms Jepsen histories are made of: op maps of keywords, integers,
//! strings, symbols, `nil`, booleans and vectors or lists of those. It reads straight from the
//! text, borrowing, with no tree of `clojure_reader::Edn` values and no pre-scan, which is most
//! of what reading a Knossos history used to cost (profiled: ~70% of `faultline check` over
//! the Knossos corpus was `clojure-reader` building, ordering and dropping maps).
//!
//! It is a fast path, never the authority: whatever it does not handle exactly as
//! `clojure-reader` + [`super::edn::op_to_event`] would — tags, sets, discards, characters,
//! floats, ratios, nested maps, non-ASCII outside strings, anything malformed or unexpected in
//! an op — it declines (`None`), and the caller reads the input again with `clojure-reader`,
//! whose errors (file line, what was expected) are the ones users see. So a history it reads
//! gives exactly the events the general reader gives, and a bad one the same error.
//!
//! Nesting is bounded by [`MAX_DEPTH`] here too (deeper input is declined, and the general
//! path rejects it), so no input can overflow the stack.

use serde_json::Value;

use super::edn::MAX_DEPTH;
use crate::history::{Event, EventType, Process};

/// A value as `clojure-reader` would read it, for the kinds this reader handles.
#[derive(Debug, PartialEq)]
enum Val<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Key(&'a str),
    Symbol(&'a str),
    /// The raw text between the quotes, escapes not yet decoded.
    Str(&'a str),
    Vector(Vec<Val<'a>>),
    List(Vec<Val<'a>>),
    /// Read so that extra fields holding one (`:extra #{1 2}`) do not send a history down the
    /// general path; never converted (JSON would need `clojure-reader`'s ordering of items).
    Set(Vec<Val<'a>>),
}

/// A cursor over the text. Offsets are byte offsets into `text`.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pub pos: usize,
}

/// `clojure-reader`'s token boundaries: whitespace, `,`, `"` and brackets.
fn is_boundary(b: u8) -> bool {
    is_space(b)
        || matches!(
            b,
            b',' | b']' | b'}' | b')' | b';' | b'(' | b'[' | b'{' | b'"'
        )
}

/// ASCII whitespace as `char::is_whitespace` has it (tab, line feed, vertical tab, form feed,
/// carriage return, space).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str, pos: usize) -> Self {
        Reader { text, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Whitespace, commas and `;` comments inside a form, as `clojure-reader` skips them
    /// (a comment ends before `\n` or `\r`). `None` at a byte it does not know (non-ASCII).
    fn skip_blank(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if b == b',' || is_space(b) {
                self.pos += 1;
            } else if b == b';' {
                while bytes
                    .get(self.pos)
                    .is_some_and(|&b| b != b'\n' && b != b'\r')
                {
                    self.pos += 1;
                }
            } else if b >= 0x80 {
                return None;
            } else {
                break;
            }
        }
        Some(())
    }

    /// One value at the cursor (blanks already skipped); `depth` counts enclosing brackets.
    fn value(&mut self, depth: usize) -> Option<Val<'a>> {
        match self.peek()? {
            b'[' => self.sequence(b']', depth).map(Val::Vector),
            b'(' => self.sequence(b')', depth).map(Val::List),
            b'"' => self.string().map(Val::Str),
            b'#' if self.text.as_bytes().get(self.pos + 1) == Some(&b'{') => {
                self.pos += 1;
                let items = self.sequence(b'}', depth)?;
                // `clojure-reader` refuses a duplicate item; compare only items whose text is
                // their value.
                let plain = items.iter().all(Val::is_plain);
                let unique = items
                    .iter()
                    .enumerate()
                    .all(|(i, item)| !items[..i].contains(item));
                (plain && unique).then_some(Val::Set(items))
            }
            // Maps inside values, tags, discards, characters, closers: the general path.
            b'{' | b'#' | b'\\' | b']' | b'}' | b')' | b';' => None,
            _ => self.literal(),
        }
    }

    fn sequence(&mut self, closer: u8, depth: usize) -> Option<Vec<Val<'a>>> {
        if depth + 1 > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.peek()? == closer {
                self.pos += 1;
                return Some(items);
            }
            items.push(self.value(depth + 1)?);
        }
    }

    /// A string's raw text; `None` at an escape `clojure-reader` rejects or an unclosed string.
    fn string(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        loop {
            match *bytes.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some(&self.text[start..i]);
                }
                b'\\' => {
                    if !matches!(bytes.get(i + 1)?, b't' | b'r' | b'n' | b'\\' | b'"') {
                        return None;
                    }
                    i += 2;
                }
                _ => i += 1,
            }
        }
    }

    /// A token up to the next boundary, classified as `clojure-reader`'s `edn_literal` does,
    /// for ASCII tokens that are nil, booleans, keywords, decimal integers or symbols.
    fn literal(&mut self) -> Option<Val<'a>> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            if is_boundary(b) {
                break;
            }
            if b >= 0x80 {
                return None;
            }
            end += 1;
        }
        let token = &self.text[start..end];
        self.pos = end;
        let t = token.as_bytes();
        let digit_at = |i: usize| t.get(i).is_some_and(u8::is_ascii_digit);
        Some(match token {
            "nil" => Val::Nil,
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            _ if t[0] == b':' => {
                if t.len() < 2 {
                    return None;
                }
                Val::Key(&token[1..])
            }
            _ if digit_at(0) || (matches!(t[0], b'-' | b'+') && digit_at(1)) => {
                Val::Int(integer(token)?)
            }
            _ => Val::Symbol(token),
        })
    }

    /// An op map at the cursor, converted to an event at `position`; `depth` counts the
    /// brackets around it. The cursor ends just after the map.
    pub fn op_event(&mut self, position: usize, depth: usize) -> Option<Event> {
        if self.peek()? != b'{' || depth + 1 > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut fields = OpFields::default();
        // Every key, to refuse duplicates as `clojure-reader` does (maps are small).
        let mut keys: Vec<Val<'a>> = Vec::with_capacity(8);
        loop {
            self.skip_blank()?;
            if self.peek()? == b'}' {
                self.pos += 1;
                break;
            }
            let key = self.value(depth + 1)?;
            self.skip_blank()?;
            if self.peek()? == b'}' {
                return None; // a key without a value
            }
            let value = self.value(depth + 1)?;
            if !key.is_plain() || keys.contains(&key) {
                return None;
            }
            if let Val::Key(name) = key {
                fields.set(name, value);
            }
            keys.push(key);
        }
        fields.event(position)
    }

    /// One value at the cursor as JSON (for a Jepsen log line's VALUE), the cursor just after.
    pub fn json_value(&mut self) -> Option<Value> {
        let value = self.value(0)?;
        to_json(&value)
    }
}

impl Val<'_> {
    /// Whether two such values are equal exactly when `clojure-reader`'s are: atoms whose text is
    /// their value (no escaped strings), not collections.
    fn is_plain(&self) -> bool {
        match self {
            Val::Str(raw) => !raw.contains('\\'),
            Val::Vector(_) | Val::List(_) | Val::Set(_) => false,
            _ => true,
        }
    }
}

/// `clojure-reader`'s decimal integers: an optional sign, then digits within `i64`.
fn integer(token: &str) -> Option<i64> {
    let (negative, digits) = match token.as_bytes()[0] {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: u64 = digits.parse().ok()?;
    if negative {
        if magnitude == i64::MAX as u64 + 1 {
            return Some(i64::MIN);
        }
        i64::try_from(magnitude).ok().map(|n| -n)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A string's raw text decoded (the escapes were checked while reading it).
fn decode(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('t') => '\t',
            Some('r') => '\r',
            Some('n') => '\n',
            Some(other) => other, // `\\` and `\"`
            None => break,
        });
    }
    out
}

/// As [`super::edn::to_json`] converts the same value.
fn to_json(value: &Val<'_>) -> Option<Value> {
    Some(match value {
        Val::Nil => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(i) => Value::from(*i),
        Val::Key(s) | Val::Symbol(s) => Value::String((*s).to_owned()),
        Val::Str(raw) => Value::String(decode(raw)),
        Val::Vector(items) | Val::List(items) => {
            Value::Array(items.iter().map(to_json).collect::<Option<Vec<_>>>()?)
        }
        Val::Set(_) => return None,
    })
}

/// The fields of an op map that make an event (`nil` counts as absent, as in `op_to_event`).
#[derive(Default)]
struct OpFields<'a> {
    process: Option<Val<'a>>,
    kind: Option<Val<'a>>,
    f: Option<Val<'a>>,
    key: Option<Val<'a>>,
    index: Option<Val<'a>>,
    time: Option<Val<'a>>,
    value: Option<Val<'a>>,
    error: Option<Val<'a>>,
    node: Option<Val<'a>>,
}

impl<'a> OpFields<'a> {
    fn set(&mut self, name: &str, value: Val<'a>) {
        let slot = match name {
            "process" => &mut self.process,
            "type" => &mut self.kind,
            "f" => &mut self.f,
            "key" => &mut self.key,
            "index" => &mut self.index,
            "time" => &mut self.time,
            "value" => &mut self.value,
            "error" => &mut self.error,
            "node" => &mut self.node,
            _ => return,
        };
        if value != Val::Nil {
            *slot = Some(value);
        }
    }

    /// The event, or `None` wherever `op_to_event` would report an error (it then does).
    fn event(self, position: usize) -> Option<Event> {
        let process = match self.process? {
            Val::Int(p) if p >= 0 => Process::Client(p.unsigned_abs()),
            Val::Key("nemesis") => Process::Nemesis,
            Val::Str(raw) if decode(raw) == "nemesis" => Process::Nemesis,
            _ => return None,
        };
        let kind = match self.kind? {
            Val::Key(t) => EventType::from_name(t)?,
            Val::Str(raw) => EventType::from_name(&decode(raw))?,
            _ => return None,
        };
        let f = match self.f? {
            Val::Key(f) | Val::Symbol(f) => f.to_owned(),
            Val::Str(raw) => decode(raw),
            _ => return None,
        };
        let key = match self.key {
            None => None,
            Some(Val::Key(k)) => Some(k.to_owned()),
            Some(Val::Str(raw)) => Some(decode(raw)),
            Some(Val::Int(k)) => Some(k.to_string()),
            Some(_) => return None,
        };
        let index = counter(self.index)?.unwrap_or(position as u64);
        let time = counter(self.time)?.unwrap_or(index);
        let value = match &self.value {
            None => Value::Null,
            Some(v) => to_json(v)?,
        };
        let error = match &self.error {
            None => None,
            Some(v) => Some(to_json(v)?),
        };
        let node = match self.node {
            Some(Val::Key(n) | Val::Symbol(n)) => Some(n.to_owned()),
            Some(Val::Str(raw)) => Some(decode(raw)),
            _ => None,
        };
        Some(Event {
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
}

/// An optional non-negative integer field; `Some(None)` when absent, `None` when not one.
fn counter(value: Option<Val<'_>>) -> Option<Option<u64>> {
    match value {
        None => Some(None),
        Some(Val::Int(i)) if i >= 0 => Some(Some(i.unsigned_abs())),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::edn::{op_to_event, read_form, to_json as general_json};
    use super::*;

    /// The fast reader's event equals the general reader's whenever it gives one.
    fn agrees(text: &str) -> bool {
        let fast = Reader::new(text, 0).op_event(3, 0);
        let general = read_form(text, 0)
            .ok()
            .flatten()
            .and_then(|(form, _)| op_to_event(&form, 3).ok());
        if let Some(fast) = &fast {
            assert_eq!(Some(fast), general.as_ref(), "{text}");
        }
        fast.is_some()
    }

    #[test]
    fn reads_what_jepsen_writes() {
        assert!(agrees("{:process 4, :type :invoke, :f :write, :value 2}"));
        assert!(agrees(
            "{:process :nemesis :type :info :f :start :value \"Cut off [:n3 #[:n1]]\\n\" :extra [1 (2 sym) true]}"
        ));
        assert!(agrees(
            "{:process 0, :type :ok, :f :txn, :value [[:read :x nil] [:write :y -2]] ; c\n :index 9 :time 12 :node \"n1\" :key 5}"
        ));
        assert!(agrees(
            "{:process 1 :type \"ok\" :f \"read\" :value +7 :error :timed-out :node 3}"
        ));
        assert!(agrees(
            "{:process 1 :type :ok :f :read :extra #{1 :a \"b\" nil}}"
        ));
    }

    #[test]
    fn declines_what_it_does_not_know() {
        for text in [
            "{:process 1 :type :ok :f :read :value #{1 2}}",
            "{:process 1 :type :ok :f :read :extra #{1 1}}",
            "{:process 1 :type :ok :f :read :extra #{[1] [1]}}",
            "{:process 1 :type :ok :f :read :value {:a 1}}",
            "{:process 1 :type :ok :f :read :value 1.5}",
            "{:process 1 :type :ok :f :read :value 0x10}",
            "{:process 1 :type :ok :f :read :value \\a}",
            "{:process 1 :type :ok :f :read :value 99999999999999999999}",
            "{:process 1 :type :ok :f :read :value \"\\u0041\"}",
            "{:process 1 :type :okay :f :read}",
            "{:process 1 :process 2 :type :ok :f :read}",
            "{:process 1 :type :ok :f :read :value}",
            "{:process 1 :type :ok :f :read :value [1 2}",
            "{:process 1 :type :ok :f :read :value \"é\" :x é}",
            "{:process -1 :type :ok :f :read}",
            "#jepsen.history.Op{:process 1 :type :ok :f :read}",
        ] {
            assert!(!agrees(text), "{text}");
        }
    }

    #[test]
    fn log_values_match_the_general_reader() {
        for text in [
            "nil",
            "4",
            "[3 4]",
            ":timed-out",
            "-12\tboom",
            "\"a\\tb\" x",
        ] {
            let mut reader = Reader::new(text, 0);
            let fast = reader.json_value().expect("read");
            let (form, after) = read_form(text, 0).unwrap().unwrap();
            assert_eq!(fast, general_json(&form).unwrap(), "{text}");
            assert_eq!(reader.pos, after, "{text}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!(
            "{{:process 1 :type :ok :f :read :value {}{}}}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(Reader::new(&deep, 0).op_event(0, 0).is_none());
    }
}
