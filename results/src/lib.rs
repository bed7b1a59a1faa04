//! faultline-results owns what a run leaves behind: the result store on disk, HTML reports,
//! comparisons between runs and replication modes, JUnit XML, and the read-only `serve` web view.
//!
//! Not built yet: see issue 6. It will depend on `faultline-checker` for the history types only.
