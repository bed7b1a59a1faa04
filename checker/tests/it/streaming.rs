//! The streaming reader (`read_jsonl_operations`, what `faultline check` reads JSON Lines with)
//! against reading events whole and pairing them (`read_jsonl` + `pair_operations`): the same
//! operations for any order of events, and the same errors on the same lines.

use std::io::Cursor;

use faultline_checker::generate::{GenSpec, generate, write_jsonl as write_generated};
use faultline_checker::history::{
    Event, EventType, Process, StreamError, pair_operations, read_jsonl, read_jsonl_operations,
    read_operations_file, write_jsonl,
};
use faultline_checker::import::ParseError;
use faultline_checker::{Budget, ModelKind, Verdict, check_operations};
use proptest::prelude::*;

use crate::parsers::json_value;

/// Events of a few processes (so invocations and completions meet), any types in any order,
/// values of every JSON shape (cas pairs included), a few functions and keys.
fn event() -> impl Strategy<Value = Event> {
    let process = prop_oneof![
        8 => (0u64..4).prop_map(Process::Client),
        1 => Just(Process::Nemesis),
    ];
    let kind = prop_oneof![
        Just(EventType::Invoke),
        Just(EventType::Ok),
        Just(EventType::Fail),
        Just(EventType::Info),
    ];
    let value = prop_oneof![
        (any::<i32>(), any::<i32>()).prop_map(|(a, b)| serde_json::json!([a, b])),
        json_value(),
    ];
    (
        process,
        kind,
        prop::sample::select(vec!["read", "write", "cas", "append"]),
        prop::option::of(prop::sample::select(vec!["a", "b", "7"])),
        value,
        0u64..1_000_000,
    )
        .prop_map(|(process, kind, f, key, value, time)| Event {
            index: 0,
            time,
            process,
            kind,
            f: f.to_owned(),
            key: key.map(str::to_owned),
            value,
            error: None,
            node: None,
        })
}

fn streamed(bytes: &[u8]) -> Result<(Vec<faultline_checker::history::Operation>, u64), String> {
    read_jsonl_operations(Cursor::new(bytes))
        .map(|h| (h.operations, h.events))
        .map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn streaming_pairs_as_pair_operations_does(mut events in prop::collection::vec(event(), 0..60)) {
        for (i, e) in events.iter_mut().enumerate() {
            e.index = i as u64;
        }
        let mut bytes = Vec::new();
        write_jsonl(&mut bytes, &events).expect("write to a Vec");
        let (ops, count) = streamed(&bytes).expect("a valid history");
        prop_assert_eq!(count, events.len() as u64);
        prop_assert_eq!(&ops, &pair_operations(&events));
        prop_assert_eq!(&ops, &pair_operations(&read_jsonl(&bytes).expect("read")));
    }

    #[test]
    fn shuffled_generated_histories_pair_alike(
        seed in any::<u64>(),
        order in Just((0..120usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let spec = GenSpec { clients: 4, ops: 60, keys: 2, info_percent: 10, bad_read: false, seed };
        let mut events = Vec::new();
        generate(&spec, |e| events.push(e.clone()));
        // Any order of the same events, with their indices kept (a history with gaps).
        let shuffled: Vec<Event> =
            order.iter().filter_map(|&i| events.get(i).cloned()).collect();
        let mut bytes = Vec::new();
        write_jsonl(&mut bytes, &shuffled).expect("write to a Vec");
        let (ops, _) = streamed(&bytes).expect("a valid history");
        prop_assert_eq!(ops, pair_operations(&shuffled));
    }
}

#[test]
fn bad_lines_are_reported_with_their_line() {
    let good = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}";
    let cases: [(&str, usize, &str); 3] = [
        (
            "{\"process\":0,\"type\":\"okay\",\"f\":\"read\"}",
            4,
            "expected \"type\" to be one of invoke, ok, fail, info, found \"okay\"",
        ),
        ("[1]", 4, "expected a JSON object, found an array"),
        (
            "{\"process\":1,",
            4,
            "expected a JSON object (invalid JSON at column 13: EOF while parsing a value)",
        ),
    ];
    for (bad, line, message) in cases {
        // A BOM, a blank line and a CRLF line before it: lines count as read_jsonl counts them.
        let text = format!("\u{feff}{good}\n\n{good}\r\n{bad}\n{good}\n");
        let expected = ParseError::new(line, message);
        assert_eq!(read_jsonl(text.as_bytes()), Err(expected.clone()));
        match read_jsonl_operations(Cursor::new(text.as_bytes())) {
            Err(StreamError::Parse(e)) => assert_eq!(e, expected),
            other => panic!("expected a parse error on line {line}, got {other:?}"),
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("history.jsonl");
        std::fs::write(&path, &text).expect("write");
        let error = read_operations_file(&path, None)
            .expect_err("a bad line")
            .to_string();
        assert_eq!(error, format!("{}:{line}: {message}", path.display()));
    }
}

#[test]
fn generated_histories_have_the_verdict_they_were_built_for() {
    for (bad_read, info_percent, verdict) in [
        (false, 0, Verdict::Linearizable),
        (false, 1, Verdict::Linearizable),
        (true, 0, Verdict::NotLinearizable),
        (true, 1, Verdict::NotLinearizable),
        // Half the operations end in `info`: the bad read must still complete `ok`.
        (true, 50, Verdict::NotLinearizable),
    ] {
        // Fifty clients always in flight on one key is beyond the search: the fast path decides
        // every key of these unique-value histories. The budget only bounds the search that
        // explains a failure; the verdict never waits for it.
        for (clients, keys, seed) in [
            (5, 1, 11),
            (5, 3, 11),
            (50, 1, 11),
            (5, 1, 12),
            (5, 1, 13),
            (5, 1, 14),
            (5, 1, 15),
        ] {
            let spec = GenSpec {
                clients,
                ops: 2_000,
                keys,
                info_percent,
                bad_read,
                seed,
            };
            let bytes = write_generated(&spec, Vec::new()).expect("write to a Vec");
            let history = read_jsonl_operations(Cursor::new(&bytes)).expect("valid");
            let budget = Budget {
                timeout: Some(std::time::Duration::from_secs(1)),
                memory_limit: None,
            };
            let result =
                check_operations(&history.operations, ModelKind::CasRegister, None, budget)
                    .expect("fits the model");
            assert_eq!(result.verdict, verdict, "{}", spec.name());
            assert_eq!(result.decided.fast, result.partitions, "{}", spec.name());
        }
    }
}
