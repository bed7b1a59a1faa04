//! The corpus of reference histories and its manifest (checker/tests/corpora/MANIFEST.tsv):
//! public Jepsen, Knossos and Porcupine histories carried in the repository with their licence
//! notices, so a fresh clone's tests need nothing beside it.

use std::path::PathBuf;

use faultline_checker::ModelKind;
use faultline_checker::history::Event;
use faultline_checker::import::{Format, read_history_file};
use serde_json::Value;

/// One manifest row: a history and the verdict Knossos and Porcupine give it.
#[derive(Debug, Clone)]
pub struct Row {
    pub path: PathBuf,
    pub name: String,
    pub format: String,
    pub model: String,
    /// The start value as JSON text; `None` for `-` (absent).
    pub init: Option<String>,
    pub expected: String,
}

/// A row read as the checker takes it. Each panics naming the row when the manifest or the file
/// is malformed: the corpus is the tests' fixture, not user input.
impl Row {
    /// The history, read in the row's format.
    pub fn events(&self) -> Vec<Event> {
        let format: Format = self
            .format
            .parse()
            .unwrap_or_else(|e| panic!("{}: manifest format: {e}", self.name));
        read_history_file(&self.path, Some(format)).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    /// The model the row is checked against.
    pub fn model_kind(&self) -> ModelKind {
        self.model
            .parse()
            .unwrap_or_else(|e| panic!("{}: manifest model: {e}", self.name))
    }

    /// The start value; `None` for absent.
    pub fn init_value(&self) -> Option<Value> {
        self.init.as_deref().map(|text| {
            serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{}: manifest init is not JSON: {e}", self.name))
        })
    }
}

/// `checker/tests/corpora` in this repository, or `FAULTLINE_CORPORA` to check another corpus.
/// Found from this file's own location, so the harness's tests (which include this module by
/// path) read the same folder.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("FAULTLINE_CORPORA").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("checker/tests/corpora")
        },
        PathBuf::from,
    )
}

/// The text of a corpus file; panics naming the path when it cannot be read (the corpus is the
/// tests' fixture: a missing file is a broken checkout, and the message must say which).
pub fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read corpus file {}: {e} (the corpus is carried in checker/tests/corpora; \
             FAULTLINE_CORPORA overrides it)",
            path.display()
        )
    })
}

/// Every row of the manifest. Panics with the line when the manifest is malformed: the corpus is
/// the test's fixture, not user input.
pub fn manifest() -> Vec<Row> {
    let dir = corpus_dir();
    let path = dir.join("MANIFEST.tsv");
    let text = read(&path);
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 5, "MANIFEST.tsv:{}: expected 5 columns", n + 1);
            Row {
                path: dir.join(cols[0]),
                name: cols[0].to_owned(),
                format: cols[1].to_owned(),
                model: cols[2].to_owned(),
                init: (cols[3] != "-").then(|| cols[3].to_owned()),
                expected: cols[4].to_owned(),
            }
        })
        .collect()
}
