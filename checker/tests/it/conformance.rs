//! Every history of checker/tests/corpora/MANIFEST.tsv gets the verdict Knossos and Porcupine give it.

use faultline_checker::import::{Format, read_history_file};
use faultline_checker::{Budget, ModelKind, check_events};

use crate::support::corpus::manifest;

#[test]
fn every_manifest_row_gets_its_expected_verdict() {
    let rows = manifest();
    assert_eq!(rows.len(), 230, "the manifest lists 230 histories");
    let mut disagreements = Vec::new();
    for row in &rows {
        let format: Format = row.format.parse().expect("manifest format");
        let model: ModelKind = row.model.parse().expect("manifest model");
        let init = row
            .init
            .as_deref()
            .map(|t| serde_json::from_str(t).expect("manifest init is JSON"));
        let events = read_history_file(&row.path, Some(format))
            .unwrap_or_else(|e| panic!("{}: {e}", row.name));
        let result = check_events(&events, model, init.as_ref(), Budget::default())
            .unwrap_or_else(|e| panic!("{}: {e}", row.name));
        if result.verdict.name() != row.expected {
            disagreements.push(format!(
                "{}: expected {}, got {} {:?}",
                row.name,
                row.expected,
                result.verdict.name(),
                result.reason
            ));
        }
        if row.expected == "not-linearizable" {
            let explanation = result
                .explanation
                .as_ref()
                .unwrap_or_else(|| panic!("{}: no explanation", row.name));
            // The failing op is a completed op and the prefix holds only other ops.
            assert!(explanation.op.complete_index.is_some(), "{}", row.name);
            assert!(
                explanation
                    .prefix
                    .iter()
                    .all(|op| op.invoke_index != explanation.op.invoke_index),
                "{}",
                row.name
            );
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} rows disagree:\n{}",
        disagreements.len(),
        rows.len(),
        disagreements.join("\n")
    );
}
