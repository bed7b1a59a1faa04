//! The command line, defined once (clap derive). Commands resolve these raw arguments into what
//! they run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const RUN_EXIT_CODES: &str = "\
Exit status:
  0  the history is valid (linearizable; for set, no acknowledged element lost)
  1  the history is invalid
  2  the checker could not decide within its budget (unknown)
  3  the run itself failed: bad flag, a node that never started, an unwritable store
130  `run` only: interrupted (Ctrl-C or SIGTERM); what was recorded is checked all the same";

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
    /// Run one test: start a cluster of the system under test (kvnode unless --system says
    /// otherwise), drive a workload against it while a nemesis injects faults, record the
    /// history, check it.
    #[command(after_help = RUN_EXIT_CODES)]
    Run(Box<RunArgs>),
    /// Re-check a stored run's history and rewrite its results.json, running nothing.
    #[command(after_help = RUN_EXIT_CODES)]
    Analyze(AnalyzeArgs),
    /// Browse the store over HTTP, read-only: runs newest first with their verdicts, every
    /// report and file. Listens on loopback unless told otherwise.
    Serve(ServeArgs),
    /// Run a campaign file: a matrix of runs, then an index.html comparing them, summary.json
    /// and junit.xml in store/campaigns/<name>/<timestamp>/.
    #[command(after_help = CAMPAIGN_EXIT_CODES)]
    Campaign(CampaignArgs),
    /// About 75 seconds on two cores, nothing to install: sync, quorum and async replication under
    /// partitions and crashes, compared on one page.
    #[command(after_help = CAMPAIGN_EXIT_CODES)]
    Quickstart(QuickstartArgs),
    /// Compare stored runs side by side: a summary per replication mode, then a row per run.
    Compare(CompareArgs),
    /// Nightly trends of a campaign folder (store/campaigns/<name>) or of every campaign of a
    /// store: trends.html and trends.json beside the runs; new failures, flaky and fixed cells.
    #[command(after_help = TRENDS_EXIT_CODES)]
    Trends(TrendsArgs),
    /// Remove old runs and campaigns from the store: each test and campaign keeps its newest
    /// N (and, with --keep-failures, every one that is not valid or did not pass).
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The store to prune.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Runs kept per test, and campaigns per campaign name: the newest N (at least 1).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub keep_last: std::num::NonZeroUsize,
    /// Also keep every run that is not valid (or never finished) and every campaign that did
    /// not pass.
    #[arg(long)]
    pub keep_failures: bool,
    /// List what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn at_least_one(value: &str) -> Result<std::num::NonZeroUsize, String> {
    let n: usize = value
        .parse()
        .map_err(|_| format!("expected a whole number, found {value:?}"))?;
    std::num::NonZeroUsize::new(n).ok_or_else(|| {
        "expected at least 1: the newest run of each test is always kept (it may still be running)"
            .to_owned()
    })
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run folders (`store/<test>/<timestamp>` or `store/<test>/latest`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Also write the comparison as an HTML page here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub const CAMPAIGN_EXIT_CODES: &str = "\
Exit status:
  0  every run met its expectation (expect: valid | invalid | any)
  1  some expectation failed
  3  the campaign itself failed: unreadable or invalid file, a run that could not start
130  interrupted (Ctrl-C or SIGTERM): the cells never run are listed as skipped";

#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// The campaign (YAML), e.g. campaigns/nightly.yaml.
    pub file: PathBuf,
    /// Where runs and the campaign's pages are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Run this kvnode binary instead of the one built into faultline.
    #[arg(long, value_name = "PATH")]
    pub kvnode: Option<PathBuf>,
    /// Recorded with the campaign (summary.json, its page, the trends): a build id, a ticket.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// After the campaign, write the trends of its campaign folder (trends.html, trends.json)
    /// and exit 1 on a new failure, named on one line.
    #[arg(long)]
    pub trends: bool,
    /// With --trends: nights a cell must have passed before a failure counts as new.
    #[arg(long, value_name = "K", requires = "trends", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub passed_nights: u32,
}

pub const TRENDS_EXIT_CODES: &str = "\
Exit status:
  0  the pages were written (with --check: and no cell failed anew)
  1  --check: a cell failed anew (each named on one line); a run folder that cannot be read is
     named on the page and on stderr, and changes nothing here
  3  DIR is not a folder, or the pages could not be written";

#[derive(Debug, Args)]
pub struct TrendsArgs {
    /// A campaign folder (store/campaigns/<name>) or a store (every campaign in it).
    pub dir: PathBuf,
    /// Nights a cell must have passed before a failure counts as new.
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub passed_nights: u32,
    /// Exit 1 when a cell failed anew, naming it on one line.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Where runs and the comparison page are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The store to serve.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
}

// Numeric flags allow a leading '-' (`allow_negative_numbers`), so `--time-limit -1` reaches the
// range check and its "expected a positive number" rather than clap's "unexpected argument".
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Nodes in the cluster.
    #[arg(long, default_value_t = DEFAULT_NODES, allow_negative_numbers = true)]
    pub nodes: usize,
    /// The system under test: a built-in (kvnode, etcd) or a definition file (a path with a
    /// '/' or ending in .yaml; see docs/systems.md).
    #[arg(long, value_name = "NAME|PATH", default_value = crate::system::DEFAULT_SYSTEM)]
    pub system: String,
    /// An option of the system, NAME=VALUE (repeatable): each system's definition lists its
    /// options, their values and defaults (kvnode: replication, reads; etcd: reads).
    #[arg(long = "opt", value_name = "NAME=VALUE")]
    pub opts: Vec<String>,
    /// kvnode's replication mode, async, sync or quorum (default): `--opt replication=...`.
    #[arg(long)]
    pub replication: Option<String>,
    /// kvnode's read mode, leader, read-index (default), lease or any: `--opt reads=...`.
    #[arg(long)]
    pub reads: Option<String>,
    /// Workload: register, kv, append or set.
    #[arg(long, default_value = "register")]
    pub workload: String,
    /// Faults, comma-separated: kill, pause, partition, delay, clock. None by default.
    #[arg(long, value_delimiter = ',')]
    pub nemesis: Vec<String>,
    /// What the nodes run on: loopback (processes on 127.0.0.x, the default), netns (root:
    /// a network namespace per node on a bridge of the run's; partitions are nft rules inside
    /// each namespace, for any program) or ssh (the machines of --inventory, over the system
    /// ssh; partitions are an nft table on each host).
    #[arg(long, default_value = "loopback")]
    pub hosts: String,
    /// The machines of --hosts ssh: a YAML file listing each host's address, port, user,
    /// identity file and sudo (see hosts.example.yaml); node N runs on the N-th.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<std::path::PathBuf>,
    /// What enforces partitions: auto (nft when root and nft exist, else proxy), nft or proxy.
    #[arg(long, default_value = "auto")]
    pub network: String,
    /// What skews clocks: auto (faketime when libfaketime is installed, else api), faketime or
    /// api (kvnode's /admin/clock).
    #[arg(long, default_value = "auto")]
    pub clock: String,
    /// Partition shapes, comma-separated: halves, isolate-one, isolate-leader,
    /// majorities-ring, bridge. All by default.
    #[arg(long, value_delimiter = ',')]
    pub shapes: Vec<String>,
    /// Whom faults target, comma-separated: one, leader, minority.
    #[arg(long, value_delimiter = ',', default_value = "one,leader,minority")]
    pub targets: Vec<String>,
    /// Seconds of workload (with faults).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30.0,
        allow_negative_numbers = true
    )]
    pub time_limit: f64,
    /// Seconds of quiet after healing, before the final reads (3, or the system's own).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub recovery: Option<f64>,
    /// Clients running at once.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
    pub concurrency: usize,
    /// Invocations per second across all clients (unlimited by default).
    #[arg(long, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Keys each group of clients (see --threads-per-key) spreads over at a time: register 1,
    /// kv and append 10 by default; set always one.
    #[arg(long, allow_negative_numbers = true)]
    pub keys: Option<usize>,
    /// register, kv and append: clients per group, as jepsen.independent's thread groups. Clients
    /// 0..T share keys of their own, T..2T theirs, and so on, so no key sees more than T
    /// clients whatever --concurrency says (a hot key: --keys 1 --threads-per-key 50). Ignored
    /// by set (recorded as null).
    #[arg(
        long,
        value_name = "T",
        default_value_t = faultline_workloads::DEFAULT_THREADS_PER_KEY,
        allow_negative_numbers = true
    )]
    pub threads_per_key: usize,
    /// register, kv and append: operations invoked on a key, reads included, before its slot
    /// moves on to a fresh key (0: one key per slot for the whole run), so a key's history stays
    /// short enough to check. Ignored by set (recorded as null).
    #[arg(
        long,
        value_name = "N",
        default_value_t = faultline_workloads::DEFAULT_OPS_PER_KEY,
        allow_negative_numbers = true
    )]
    pub ops_per_key: u64,
    /// append and set: appends (adds) to a key before the workload moves on to a fresh key, as
    /// Elle's list-append does, so no list (and no read) outgrows it. Ignored by register and kv.
    #[arg(long, value_name = "N", default_value_t = faultline_workloads::DEFAULT_MAX_WRITES_PER_KEY)]
    pub max_writes_per_key: u64,
    /// Choose keys with a Zipfian distribution of this exponent (uniform by default).
    #[arg(long, value_name = "EXPONENT", allow_negative_numbers = true)]
    pub zipfian: Option<f64>,
    /// Relative weights of read, write and cas (append: read and append), e.g. `2,1,1`.
    #[arg(long, value_name = "R,W,C", value_delimiter = ',', num_args = 1..=3)]
    pub mix: Vec<u32>,
    /// Seed for the workload and the fault schedule (random by default; recorded in test.json).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seconds a fault lasts before it heals (4, or the system's own: postgres-patroni's
    /// outlast Patroni's ttl).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub fault_duration: Option<f64>,
    /// Seconds of quiet between faults (3, or the system's own).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub quiet_duration: Option<f64>,
    /// A client request's timeout, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub request_timeout: u64,
    /// The test's name (its folder in the store); derived from the options by default.
    #[arg(long)]
    pub name: Option<String>,
    /// Where runs are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Keep every node's data (data/n<id>, its WAL) after a valid run too; a run that is not
    /// valid always keeps it.
    #[arg(long)]
    pub keep_data: bool,
    /// Run this kvnode binary instead of the one built into faultline.
    #[arg(long, value_name = "PATH")]
    pub kvnode: Option<PathBuf>,
}

/// `--nodes` when not given; a test's folder name says the nodes only when they differ.
pub const DEFAULT_NODES: usize = 3;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A run folder (`store/<test>/<timestamp>` or `store/<test>/latest`).
    pub dir: PathBuf,
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
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub timeout: Option<f64>,

    /// Memory the search of one history may hold, in MB; past it the verdict is unknown.
    #[arg(long, value_name = "MB", default_value_t = 4096)]
    pub memory_limit: u64,

    /// How to check: auto (a polynomial check for each key whose written values are all
    /// distinct, as faultline's own workloads write them; the search for the rest) or search
    /// (the Wing-Gong-Lowe search for every key).
    #[arg(long, value_name = "METHOD", default_value = "auto")]
    pub method: String,

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
