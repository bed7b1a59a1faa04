//! The shared corpus of reference histories and its manifest (../shared/corpora/MANIFEST.tsv).

use std::path::PathBuf;

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

/// `../shared/corpora` beside the workspace, or `FAULTLINE_CORPORA` for a checkout elsewhere.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("FAULTLINE_CORPORA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora"),
        PathBuf::from,
    )
}

/// Every row of the manifest. Panics with the line when the manifest is malformed: the corpus is
/// the test's fixture, not user input.
pub fn manifest() -> Vec<Row> {
    let dir = corpus_dir();
    let path = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (the corpus sits in ../shared beside the checkout; \
                 elsewhere set FAULTLINE_CORPORA)",
            path.display()
        )
    });
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
