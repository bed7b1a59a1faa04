//! Nemesis events into the history: `start` when a fault is injected and `stop` when it heals,
//! each as an `invoke` then an `info` (docs/history-format.md), with the fault and its targets.

use faultline_checker::history::{EventType, Process};
use faultline_nemeses::{NemesisEvent, NemesisEventKind};
use serde_json::json;

use super::recorder::{Record, Recorder};

pub fn record(recorder: &Recorder, event: &NemesisEvent) {
    let (f, kind) = match event.kind {
        NemesisEventKind::Starting => ("start", EventType::Invoke),
        NemesisEventKind::Started => ("start", EventType::Info),
        NemesisEventKind::Healing => ("stop", EventType::Invoke),
        NemesisEventKind::Healed => ("stop", EventType::Info),
    };
    recorder.record(Record {
        process: Process::Nemesis,
        kind,
        f: f.to_owned(),
        key: None,
        value: json!({
            "fault": event.fault.name(),
            "targets": event.targets,
            "grudge": event.grudge,
            "shape": event.shape,
            "clock": event.clock,
            "leader": event.leader,
        }),
        error: event.error.clone().map(Into::into),
        node: None,
    });
}

/// A controller marker in the history (e.g. the start of the final reads).
pub fn phase(recorder: &Recorder, name: &str) {
    recorder.record(Record {
        process: Process::Nemesis,
        kind: EventType::Info,
        f: "phase".to_owned(),
        key: None,
        value: json!(name),
        error: None,
        node: None,
    });
}
