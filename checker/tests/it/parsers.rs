//! The history readers: every corpus file parses, with its format and with detection; JSON Lines
//! round-trips; no input, however damaged, makes a reader panic or report a line outside the
//! input; hand-written bad inputs get precise messages; the flat EDN reader (the fast path)
//! reads the whole EDN corpus and agrees with `clojure-reader` on every input, good or damaged.

use std::path::PathBuf;
use std::sync::OnceLock;

use faultline_checker::history::{
    Event, EventType, HistoryWriter, Process, read_jsonl, write_jsonl,
};
use faultline_checker::import::{
    Format, ParseError, detect, parse, parse_flat, parse_general, read_history_file,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// `(path, format)` of every row of MANIFEST.tsv.
fn manifest() -> Vec<(PathBuf, Format)> {
    crate::support::corpus::manifest()
        .into_iter()
        .map(|row| (row.path, row.format.parse().expect("manifest format")))
        .collect()
}

/// How many op lines a corpus file has, counted independently of the parsers.
fn op_lines(text: &str, format: Format) -> usize {
    match format {
        Format::JepsenLog => text
            .lines()
            .filter(|l| l.contains("jepsen.util - "))
            .count(),
        Format::JepsenEdnLines => text.lines().filter(|l| !l.trim().is_empty()).count(),
        // No corpus string mentions `:process`, so each occurrence is one op map.
        Format::JepsenEdn => text.matches(":process").count(),
        Format::Jsonl => text.lines().filter(|l| !l.trim().is_empty()).count(),
    }
}

#[test]
fn every_corpus_file_parses_with_its_format_and_with_detection() {
    let rows = manifest();
    assert_eq!(rows.len(), 230, "MANIFEST.tsv rows");
    for (path, format) in rows {
        let bytes = std::fs::read(&path).expect("read corpus file");
        let events = parse(&bytes, format).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(events.len(), op_lines(&text, format), "{}", path.display());
        assert!(!events.is_empty(), "{}", path.display());
        assert_eq!(
            detect(&bytes),
            format,
            "detected format of {}",
            path.display()
        );
        let detected = read_history_file(&path, None).expect("read with detection");
        assert_eq!(detected, events, "{}", path.display());
        // Every event is ordered by position when the file gives no index.
        if !text.contains(":index") {
            assert!(events.iter().enumerate().all(|(i, e)| e.index == i as u64));
        }
    }
}

#[test]
fn the_flat_reader_reads_the_corpus_as_clojure_reader_does() {
    for (path, format) in manifest() {
        let bytes = std::fs::read(&path).expect("read corpus file");
        let general =
            parse_general(&bytes, format).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        assert_eq!(
            parse(&bytes, format).as_ref(),
            Ok(&general),
            "{}",
            path.display()
        );
        if matches!(format, Format::JepsenEdn | Format::JepsenEdnLines) {
            assert_eq!(
                parse_flat(&bytes, format).as_ref(),
                Some(&general),
                "{} takes the fast path",
                path.display()
            );
        }
    }
}

/// The fast path gives what `clojure-reader` gives, events or error; a panic fails on its own.
fn agrees_with_general(bytes: &[u8], format: Format) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        parse(bytes, format),
        parse_general(bytes, format),
        "{}",
        format
    );
    Ok(())
}

fn corpus_events(name: &str, format: Format) -> Vec<Event> {
    let path = crate::support::corpus::corpus_dir().join(name);
    read_history_file(&path, Some(format))
        .unwrap_or_else(|e| panic!("corpus file {} does not read: {e}", path.display()))
}

#[test]
fn etcd_log_facts() {
    let events = corpus_events("porcupine-etcd/etcd_000.log", Format::JepsenLog);
    let first = &events[0];
    assert_eq!(first.process, Process::Client(0));
    assert_eq!(first.kind, EventType::Invoke);
    assert_eq!(first.f, "read");
    assert_eq!(first.value, Value::Null);
    assert_eq!((first.index, first.time), (0, 0));
    assert_eq!(events[2].value, json!(4), "2\t:invoke\t:write\t4");
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventType::Info && e.value == json!("timed-out")),
        ":timed-out becomes the string \"timed-out\""
    );
    assert!(
        events
            .iter()
            .any(|e| e.f == "cas" && e.value.as_array().is_some_and(|v| v.len() == 2))
    );
}

#[test]
fn knossos_multi_register_facts() {
    let events = corpus_events(
        "knossos/multi-register/good/multi-register.edn",
        Format::JepsenEdn,
    );
    let first = &events[0];
    assert_eq!(first.process, Process::Client(3));
    assert_eq!(first.f, "txn");
    assert_eq!(first.value, json!([["read", "x", null]]));
    assert_eq!((first.index, first.time), (0, 7_686_455_705));
    assert_eq!(
        events[1].value,
        json!([["read", "x", null], ["read", "y", null]])
    );
    assert_eq!(events[3].value, json!([["write", "y", 2]]));
}

#[test]
fn knossos_mutex_facts() {
    let events = corpus_events("knossos/mutex/bad/etcd.edn", Format::JepsenEdn);
    let second = &events[1];
    assert_eq!(second.kind, EventType::Fail);
    assert_eq!(second.f, "release");
    assert_eq!(second.error, Some(json!("not-held")));
    assert_eq!((second.index, second.time), (1, 342_667_129));
    let nemesis = events
        .iter()
        .find(|e| e.process == Process::Nemesis)
        .expect("a nemesis event");
    assert_eq!(
        (nemesis.kind, nemesis.f.as_str()),
        (EventType::Info, "start")
    );
}

#[test]
fn porcupine_kv_facts() {
    let events = corpus_events("porcupine-kv/c01-bad.txt", Format::JepsenEdnLines);
    assert_eq!(events[0].key.as_deref(), Some("0"));
    assert_eq!(events[0].f, "append");
    assert_eq!(events[0].value, json!("x 0 0 y"));
    assert_eq!(events[2].f, "get");
    assert_eq!(events[2].value, Value::Null);
}

#[test]
fn knossos_comments_lists_and_nemesis_strings() {
    // A list, `;` comments between ops.
    let minimal = corpus_events(
        "knossos/cas-register/bad/rethink-fail-minimal.edn",
        Format::JepsenEdn,
    );
    assert_eq!(minimal[0].f, "write");
    // A nemesis op whose value is a string holding EDN-looking text.
    let cut = corpus_events(
        "knossos/cas-register/bad/cas-failure.edn",
        Format::JepsenEdn,
    );
    let start = cut
        .iter()
        .find(|e| e.process == Process::Nemesis && !e.value.is_null())
        .expect("a nemesis event with a value");
    assert!(
        start
            .value
            .as_str()
            .is_some_and(|v| v.starts_with("Cut off [:n3 #["))
    );
}

#[test]
fn tagged_records_and_bare_sequences() {
    let text = "; jepsen.history ops\n\
                #jepsen.history.Op{:index 0, :time 10, :type :invoke, :process 0, :f :write, :value 1}\n\
                #jepsen.history.Op{:index 1, :time 20, :type :ok, :process 0, :f :write, :value 1, :node \"n1\"}\n";
    let events = parse(text.as_bytes(), Format::JepsenEdn).expect("records");
    assert_eq!(detect(text.as_bytes()), Format::JepsenEdn);
    assert_eq!(events.len(), 2);
    assert_eq!((events[1].index, events[1].time), (1, 20));
    assert_eq!(events[1].node.as_deref(), Some("n1"));
}

// ---------------------------------------------------------------------------------------------
// Error messages

fn read_temp(contents: &[u8], format: Option<Format>) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.txt");
    std::fs::write(&path, contents).expect("write temp file");
    let err = read_history_file(&path, format).expect_err("bad input");
    let shown = err.to_string();
    let prefix = format!("{}:", path.display());
    shown
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{shown} starts with the path"))
        .to_owned()
}

#[test]
fn errors_display_file_line_and_what_was_expected() {
    let ok = "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n";
    let cases: Vec<(String, Option<Format>, &str)> = vec![
        (
            format!("{ok}\n{{\"process\":0,\"type\":\"okay\",\"f\":\"read\"}}\n"),
            None,
            "3: expected \"type\" to be one of invoke, ok, fail, info, found \"okay\"",
        ),
        (
            format!("{ok}[1, 2]\n"),
            Some(Format::Jsonl),
            "2: expected a JSON object, found an array",
        ),
        (
            format!("{ok}{{\"process\":0,\"f\":\"read\"}}\n"),
            None,
            "2: expected a \"type\" field",
        ),
        (
            "[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :okay, :f :read}]\n"
                .into(),
            None,
            "2: expected :type to be one of :invoke, :ok, :fail, :info, found :okay",
        ),
        (
            "[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read}\n".into(),
            None,
            "2: expected `]` to close the history opened on line 1",
        ),
        (
            "[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read]\n".into(),
            Some(Format::JepsenEdn),
            "2: invalid EDN at column 34: unmatched delimiter `]`",
        ),
        (
            "{:process 0, :type :invoke, :f :read}\n{:process x, :type :ok, :f :read}\n".into(),
            Some(Format::JepsenEdnLines),
            "2: expected :process to be a non-negative integer or :nemesis, found x",
        ),
        (
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:reed\t[1\n"
                .into(),
            Some(Format::JepsenLog),
            "2: expected VALUE to be nil, an integer, [from to] or :timed-out, found \"[1\" (invalid EDN at column 35: unexpected end of input (an unclosed bracket or string?))",
        ),
        (
            format!("[{}]", "[".repeat(10_000)),
            None,
            "1: expected at most 128 levels of nested brackets",
        ),
    ];
    for (input, format, expected) in cases {
        assert_eq!(
            read_temp(input.as_bytes(), format),
            expected,
            "input: {input:.80}"
        );
    }
    assert_eq!(
        read_temp(b"[{:process 0, :type :invoke,\n :f \xff}]", None),
        "2: invalid UTF-8"
    );
}

#[test]
fn format_names() {
    for (name, format) in [
        ("jsonl", Format::Jsonl),
        ("jepsen-edn", Format::JepsenEdn),
        ("jepsen-edn-lines", Format::JepsenEdnLines),
        ("jepsen-log", Format::JepsenLog),
    ] {
        assert_eq!(name.parse::<Format>().ok(), Some(format));
        assert_eq!(format.to_string(), name);
    }
    let err = "edn"
        .parse::<Format>()
        .expect_err("unknown name")
        .to_string();
    assert_eq!(
        err,
        "unknown history format \"edn\"; expected one of jsonl, jepsen-edn, jepsen-edn-lines, jepsen-log"
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("absent.jsonl");
    let err = read_history_file(&path, None).expect_err("no file");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", path.display()))
    );
}

// ---------------------------------------------------------------------------------------------
// JSON Lines round trip

pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Quarters are exact in binary, so the text form reads back to the same float.
        (-1_000_000i32..1_000_000).prop_map(|q| Value::from(f64::from(q) / 4.0)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn event() -> impl Strategy<Value = Event> {
    let process = prop_oneof![
        any::<u64>().prop_map(Process::Client),
        Just(Process::Nemesis)
    ];
    let kind = prop_oneof![
        Just(EventType::Invoke),
        Just(EventType::Ok),
        Just(EventType::Fail),
        Just(EventType::Info),
    ];
    // `"error": null` reads as no error, so a present error is never null.
    let error = prop::option::of(json_value().prop_filter("non-null", |v| !v.is_null()));
    (
        (any::<u64>(), any::<u64>(), process, kind),
        (
            any::<String>(),
            prop::option::of(any::<String>()),
            json_value(),
        ),
        (error, prop::option::of("[a-z0-9]{1,4}")),
    )
        .prop_map(
            |((index, time, process, kind), (f, key, value), (error, node))| Event {
                index,
                time,
                process,
                kind,
                f,
                key,
                value,
                error,
                node,
            },
        )
}

proptest! {
    #[test]
    fn jsonl_round_trips(events in prop::collection::vec(event(), 0..20)) {
        let mut bytes = Vec::new();
        write_jsonl(&mut bytes, &events).expect("write to a Vec");
        prop_assert_eq!(read_jsonl(&bytes).expect("read back"), events.clone());
        prop_assert_eq!(detect(&bytes), Format::Jsonl);

        let mut writer = HistoryWriter::new(Vec::new());
        for event in &events {
            writer.append(event).expect("append to a Vec");
        }
        writer.flush().expect("flush a Vec");
        prop_assert_eq!(writer.into_inner().expect("into_inner"), bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Damaged input: Ok, or an error on a line of the input, never a panic

/// The first `lines` lines of a corpus file, a realistic seed for mutation.
fn seed(name: &str, lines: usize) -> Vec<u8> {
    let text = crate::support::corpus::read(&crate::support::corpus::corpus_dir().join(name));
    let mut out: String = text.split_inclusive('\n').take(lines).collect();
    // Close a vector or list left open by the cut, so the seed itself is valid.
    let body = out
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with(';'));
    match body.and_then(|l| l.chars().next()) {
        Some('[') if !out.trim_end().ends_with(']') => out.push(']'),
        Some('(') if !out.trim_end().ends_with(')') => out.push(')'),
        _ => {}
    }
    out.into_bytes()
}

/// One valid input per reader (several for Jepsen EDN), built once for all cases.
fn seeds() -> &'static [(Format, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(Format, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(build_seeds)
}

fn build_seeds() -> Vec<(Format, Vec<u8>)> {
    let jsonl = {
        let events = corpus_events("knossos/mutex/bad/etcd.edn", Format::JepsenEdn);
        let mut bytes = Vec::new();
        write_jsonl(&mut bytes, &events[..40]).expect("write to a Vec");
        bytes
    };
    vec![
        (Format::Jsonl, jsonl),
        (Format::JepsenLog, seed("porcupine-etcd/etcd_000.log", 30)),
        (Format::JepsenEdnLines, seed("porcupine-kv/c10-ok.txt", 30)),
        (
            Format::JepsenEdn,
            seed("knossos/multi-register/good/multi-register.edn", 61),
        ),
        (
            Format::JepsenEdn,
            seed("knossos/cas-register/bad/rethink-fail-minimal.edn", 30),
        ),
        (
            Format::JepsenEdn,
            seed("knossos/cas-register/bad/cas-failure.edn", 480),
        ),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let position = any::<prop::sample::Index>();
    let snippet = prop_oneof![
        prop::sample::select(vec![
            "[",
            "]",
            "{",
            "}",
            "(",
            ")",
            "\"",
            ";",
            "\\",
            "#",
            "#_",
            "#{",
            ":",
            "\n",
            "\r",
            "\t",
            " ",
            ",",
            "nil",
            ":nemesis",
            "-1",
            "99999999999999999999",
            "\u{feff}",
            "#inst",
            "\"type\":",
            ":type :okay",
            "1/0",
            "\\u",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        (1usize..400, prop::sample::select(vec![b'[', b'(', b'{'])).prop_map(|(n, b)| vec![b; n]),
        (1usize..200).prop_map(|n| "{:a ".repeat(n).into_bytes()),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    let position2 = position.clone();
    prop_oneof![
        position
            .clone()
            .prop_map(|i| Mutation::Truncate(i.index(usize::MAX))),
        (position.clone(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i.index(usize::MAX), b)),
        (position, snippet).prop_map(|(i, s)| Mutation::Insert(i.index(usize::MAX), s)),
        (position2, 1usize..20).prop_map(|(i, n)| Mutation::Delete(i.index(usize::MAX), n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match mutation {
        Mutation::Truncate(i) => bytes.truncate(at(*i, bytes.len())),
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                let i = *i % bytes.len();
                bytes[i] ^= b | 1;
            }
        }
        Mutation::Insert(i, s) => {
            let i = at(*i, bytes.len());
            bytes.splice(i..i, s.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
    }
}

/// 512 cases a run, or `PROPTEST_CASES` when set (for a long fuzzing session).
fn fuzz_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

/// Ok, or an error whose line is within the input; a panic fails the test on its own.
fn check_outcome(bytes: &[u8], format: Format) -> Result<(), TestCaseError> {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    if let Err(ParseError { line, message }) = parse(bytes, format) {
        prop_assert!(
            (1..=lines + 1).contains(&line),
            "{format}: line {line} of {lines}: {message}"
        );
        prop_assert!(!message.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for format in Format::ALL {
            check_outcome(&bytes, format)?;
            agrees_with_general(&bytes, format)?;
        }
        check_outcome(&bytes, detect(&bytes))?;
    }

    #[test]
    fn edn_like_text_never_panics(text in r#"[\[\]{}()"\\;:#,\n a-z0-9\-_.]{0,300}"#) {
        for format in Format::ALL {
            check_outcome(text.as_bytes(), format)?;
            agrees_with_general(text.as_bytes(), format)?;
        }
    }

    #[test]
    fn mutated_inputs_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let seeds = seeds();
        let (format, mut bytes) = seeds[which.index(seeds.len())].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check_outcome(&bytes, format)?;
        check_outcome(&bytes, detect(&bytes))?;
        agrees_with_general(&bytes, format)?;
        agrees_with_general(&bytes, detect(&bytes))?;
    }
}

#[test]
fn seeds_are_valid() {
    for (format, bytes) in seeds() {
        let (format, bytes) = (*format, bytes.as_slice());
        let events = parse(bytes, format).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(!events.is_empty(), "{format}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in ["[", "(", "{", "#{", "{:a "] {
        let deep = open.repeat(200_000);
        for format in [Format::JepsenEdn, Format::JepsenEdnLines] {
            let err = parse(deep.as_bytes(), format).expect_err("too deep");
            assert_eq!(err.line, 1, "{format} {open}: {err}");
        }
        let log = format!("INFO  jepsen.util - 0\t:ok\t:read\t{deep}\n");
        assert!(parse(log.as_bytes(), Format::JepsenLog).is_err());
    }
    let deep_json = format!(
        "{{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":{}}}",
        "[".repeat(200_000)
    );
    assert_eq!(
        parse(deep_json.as_bytes(), Format::Jsonl)
            .expect_err("too deep")
            .line,
        1
    );
}

// ---------------------------------------------------------------------------------------------
// Jepsen EDN: events rendered as op maps read back as the same events

/// An EDN value that maps to JSON one to one: nil, integers, strings, vectors.
fn edn_value() -> impl Strategy<Value = (String, Value)> {
    let leaf = prop_oneof![
        Just(("nil".to_owned(), Value::Null)),
        any::<i64>().prop_map(|i| (i.to_string(), Value::from(i))),
        "[a-zA-Z0-9 \t\n\"\\\\é]{0,12}".prop_map(|s| (edn_string(&s), Value::String(s))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(|items| {
            let text = items
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            (
                format!("[{text}]"),
                Value::Array(items.into_iter().map(|(_, v)| v).collect()),
            )
        })
    })
}

fn edn_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    format!("\"{escaped}\"")
}

/// An op map's text (on one line) and the event it stands for at `position`.
fn edn_op() -> impl Strategy<Value = (String, Event)> {
    let process = prop_oneof![
        (0u64..1000).prop_map(Process::Client),
        Just(Process::Nemesis)
    ];
    let kind = prop::sample::select(vec![
        EventType::Invoke,
        EventType::Ok,
        EventType::Fail,
        EventType::Info,
    ]);
    (
        process,
        kind,
        "[a-z][a-z0-9-]{0,8}",
        prop::option::of(prop_oneof![
            "[a-z0-9]{1,4}".prop_map(|k| (edn_string(&k), k)),
            any::<u32>().prop_map(|k| (k.to_string(), k.to_string())),
        ]),
        edn_value(),
        prop::option::of((0u64..1 << 40, 0u64..1 << 40)),
    )
        .prop_map(|(process, kind, f, key, (value_text, value), stamps)| {
            let mut text = format!(
                "{{:process {}, :type :{}, :f :{f}, :value {value_text}",
                match process {
                    Process::Client(p) => p.to_string(),
                    Process::Nemesis => ":nemesis".to_owned(),
                },
                kind.name()
            );
            if let Some((key_text, _)) = &key {
                text.push_str(&format!(", :key {key_text}"));
            }
            if let Some((index, time)) = stamps {
                text.push_str(&format!(", :index {index}, :time {time}, :extra #{{1 2}}"));
            }
            text.push('}');
            let event = Event {
                index: stamps.map_or(u64::MAX, |(i, _)| i),
                time: stamps.map_or(u64::MAX, |(_, t)| t),
                process,
                kind,
                f,
                key: key.map(|(_, k)| k),
                value,
                error: None,
                node: None,
            };
            (text, event)
        })
}

proptest! {
    #[test]
    fn edn_op_maps_read_back(ops in prop::collection::vec(edn_op(), 0..12)) {
        let expected: Vec<Event> = ops
            .iter()
            .enumerate()
            .map(|(i, (_, e))| {
                let mut e = e.clone();
                // No `:index`/`:time`: both are the position.
                if e.index == u64::MAX {
                    (e.index, e.time) = (i as u64, i as u64);
                }
                e
            })
            .collect();
        let lines: Vec<&str> = ops.iter().map(|(t, _)| t.as_str()).collect();
        let one_a_line = lines.join("\n");
        prop_assert_eq!(&parse(one_a_line.as_bytes(), Format::JepsenEdnLines).expect("lines"), &expected);
        prop_assert_eq!(&parse(one_a_line.as_bytes(), Format::JepsenEdn).expect("bare"), &expected);
        let vector = format!("; a history\n[{}]\n", lines.join("\n ; op\n "));
        prop_assert_eq!(&parse(vector.as_bytes(), Format::JepsenEdn).expect("vector"), &expected);
        prop_assert_eq!(parse_flat(vector.as_bytes(), Format::JepsenEdn), Some(expected.clone()));
        prop_assert_eq!(parse_flat(one_a_line.as_bytes(), Format::JepsenEdnLines), Some(expected.clone()));
        if !expected.is_empty() {
            prop_assert_eq!(detect(vector.as_bytes()), Format::JepsenEdn);
            prop_assert_eq!(detect(one_a_line.as_bytes()), Format::JepsenEdnLines);
        }
    }
}
