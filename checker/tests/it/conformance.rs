//! Every history of checker/tests/corpora/MANIFEST.tsv gets the verdict Knossos and Porcupine give it.

use faultline_checker::{Budget, Method, check_events, check_events_with};

use crate::support::corpus::manifest;

#[test]
fn every_manifest_row_gets_its_expected_verdict() {
    let rows = manifest();
    assert_eq!(rows.len(), 230, "the manifest lists 230 histories");
    let mut disagreements = Vec::new();
    for row in &rows {
        let (events, model, init) = (row.events(), row.model_kind(), row.init_value());
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

/// Wherever the fast path applies to a manifest row (a partition whose values identify its
/// writes), it gives the manifest's verdict and the search's. Jepsen's and Porcupine's values
/// repeat, so it applies to few rows; those it applies to must agree.
#[test]
fn the_fast_path_agrees_with_the_manifest_and_the_search_where_it_applies() {
    let mut applied = Vec::new();
    for row in &manifest() {
        let (events, model, init) = (row.events(), row.model_kind(), row.init_value());
        let check = |method| {
            check_events_with(&events, model, init.as_ref(), Budget::default(), method)
                .unwrap_or_else(|e| panic!("{}: {e}", row.name))
        };
        let auto = check(Method::Auto);
        if auto.decided.fast == 0 {
            continue;
        }
        let search = check(Method::Search);
        assert_eq!(search.decided.fast, 0, "{}", row.name);
        assert_eq!(auto.verdict.name(), row.expected, "{}", row.name);
        assert_eq!(auto.verdict, search.verdict, "{}", row.name);
        applied.push(format!(
            "{} ({} of {} partitions)",
            row.name, auto.decided.fast, auto.partitions
        ));
    }
    eprintln!(
        "the fast path applied to {} rows: {}",
        applied.len(),
        applied.join(", ")
    );
    // Knossos's immediate-failure history writes unique values: the check above must have run.
    assert!(
        applied
            .iter()
            .any(|r| r.starts_with("knossos/cas-register/bad/immediate-failure.edn")),
        "{applied:?}"
    );
}
