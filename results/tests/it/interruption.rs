//! An interruption read back from the controller's markers in a history.

use faultline_checker::history::{Event, EventType, Process};
use faultline_results::{Interruption, interruption};
use serde_json::json;

/// A nemesis `phase` marker at `time_s`.
fn phase(index: u64, time_s: f64, name: &str) -> Event {
    Event {
        index,
        time: (time_s * 1e9) as u64,
        process: Process::Nemesis,
        kind: EventType::Info,
        f: "phase".to_owned(),
        key: None,
        value: json!(name),
        error: None,
        node: None,
    }
}

#[test]
fn the_time_from_the_workload_marker_to_the_interrupted_one_of_the_time_limit() {
    let events = [phase(0, 1.5, "workload"), phase(1, 10.5, "interrupted")];
    let i = interruption(&events, 30.0).expect("interrupted");
    assert_eq!(
        i,
        Interruption {
            after_s: 9.0,
            of_s: 30.0
        }
    );
    assert_eq!(i.to_string(), "interrupted after 9 s of 30 s");
    // A signal during the recovery wait: the whole time limit ran.
    let late = [phase(0, 1.0, "workload"), phase(1, 40.0, "interrupted")];
    assert_eq!(
        interruption(&late, 2.5).map(|i| i.to_string()),
        Some("interrupted after 2.5 s of 2.5 s".to_owned())
    );
    // A run that went to its end has no interruption.
    let whole = [phase(0, 1.0, "workload"), phase(1, 31.0, "final-reads")];
    assert_eq!(interruption(&whole, 30.0), None);
}
