//! From a stored history to `results.json`: the checker's verdict (for workloads with a model)
//! and the run's numbers (an interruption the history marks included). `faultline run` ends
//! here and `faultline analyze` starts here.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, check_events};
use faultline_results::{
    ReportInput, RunDir, RunResults, interruption, read_clock_samples, read_run_history,
    render_report, summarise,
};

use super::progress::RunProgress;
use super::spec::RunSpec;

/// What a check of a stored run may spend before it answers "unknown".
const CHECK_BUDGET: Budget = Budget {
    timeout: Some(Duration::from_secs(120)),
    memory_limit: Some(4 << 30),
};

/// A stored run, checked: its spec (typed and as written), history and results.
pub struct CheckedRun {
    pub spec: RunSpec,
    pub spec_json: serde_json::Value,
    pub events: Vec<faultline_checker::history::Event>,
    pub results: RunResults,
}

/// A stored run read back, not yet checked.
struct StoredRun {
    spec: RunSpec,
    spec_json: serde_json::Value,
    events: Vec<Event>,
    torn: bool,
}

impl StoredRun {
    fn read(dir: &Path) -> anyhow::Result<StoredRun> {
        let run = RunDir {
            path: dir.to_owned(),
        };
        let spec_text = std::fs::read_to_string(run.spec())
            .with_context(|| format!("{}: cannot read the run's spec", run.spec().display()))?;
        let spec_json: serde_json::Value = serde_json::from_str(&spec_text)
            .with_context(|| format!("{}: not JSON", run.spec().display()))?;
        let spec: RunSpec = serde_json::from_value(spec_json.clone())
            .with_context(|| format!("{}: not a faultline test spec", run.spec().display()))?;
        let (events, torn) = read_run_history(&run.history())?;
        Ok(StoredRun {
            spec,
            spec_json,
            events,
            torn,
        })
    }

    /// Client operations invoked: what the checker has to place.
    fn operations(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.process, Process::Client(_)) && e.kind == EventType::Invoke)
            .count()
    }

    fn check(self, dir: &Path) -> anyhow::Result<CheckedRun> {
        let check = match self.spec.workload.kind.model() {
            Some(model) => Some(
                check_events(&self.events, model, None, CHECK_BUDGET).with_context(|| {
                    let run = RunDir {
                        path: dir.to_owned(),
                    };
                    format!("{}", run.history().display())
                })?,
            ),
            None => None,
        };
        let mut results = summarise(&self.events, check, self.torn);
        results.interrupted = interruption(&self.events, self.spec.time_limit_s);
        Ok(CheckedRun {
            spec: self.spec,
            spec_json: self.spec_json,
            events: self.events,
            results,
        })
    }
}

/// Checks a run folder's history, writing nothing.
pub fn check_run(dir: &Path) -> anyhow::Result<CheckedRun> {
    StoredRun::read(dir)?.check(dir)
}

/// Checks a run folder's history and writes its `results.json` and `report.html`, saying each
/// phase on `progress`.
pub fn analyze(dir: &Path, progress: &RunProgress) -> anyhow::Result<RunResults> {
    let run = RunDir {
        path: dir.to_owned(),
    };
    let stored = StoredRun::read(dir)?;
    progress.phase(format!("checking {} operations", stored.operations()));
    let checked = stored.check(dir)?;
    progress.phase("writing the report");
    run.write_json(&run.results(), &checked.results)?;
    let clocks = read_clock_samples(&run.clocks());
    let html = render_report(&ReportInput {
        spec: &checked.spec_json,
        results: &checked.results,
        events: &checked.events,
        clocks: &clocks,
    })?;
    run.write_file(&run.report(), html.as_bytes())?;
    Ok(checked.results)
}
