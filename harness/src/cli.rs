//! The command line, defined once (clap derive). Commands resolve these raw arguments into what
//! they run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit status:
  0  every history is linearizable
  1  some history is not linearizable
  2  some history could not be decided within the budget (unknown), none is not linearizable
  3  usage or input error (bad flag, unreadable or malformed file, history that does not fit the model)";

#[derive(Debug, Parser)]
#[command(
    name = "faultline",
    version,
    about = "Jepsen-style chaos testing: run faults against a replicated store, check the history for linearizability"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check histories for linearizability against a model.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The model: register, cas-register, kv, kv-append, multi-register or mutex.
    #[arg(long, short = 'm')]
    pub model: String,

    /// The model's start value as JSON (for multi-register, an object of key to value).
    /// Absent by default: the register holds nothing and a read of nil observes that.
    #[arg(long, value_name = "JSON")]
    pub init: Option<String>,

    /// Input format: jsonl, jepsen-edn, jepsen-edn-lines or jepsen-log. Detected when not given.
    #[arg(long, short = 'f', value_name = "FORMAT")]
    pub format: Option<String>,

    /// Give up on a history after this many seconds (verdict unknown). Unlimited by default.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,

    /// Memory the search of one history may hold, in MB; past it the verdict is unknown.
    #[arg(long, value_name = "MB", default_value_t = 4096)]
    pub memory_limit: u64,

    /// Print the full results as JSON on stdout instead of one line per file.
    #[arg(long)]
    pub json: bool,

    /// For each history that is not linearizable, print why: the operation that cannot be
    /// linearized, the operations concurrent with it and the longest linearization found.
    #[arg(long)]
    pub explain: bool,

    /// History files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}
