//! `faultline run`: resolve the flags into a `RunSpec` (every check before anything is created),
//! run it, print the summary, exit with the verdict.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use faultline_nemeses::{FaultKind, Shape, Target};
use faultline_results::{RunResults, Verdict, headline};
use faultline_workloads::{KeyDistribution, WorkloadKind, WorkloadSpec};

use crate::cli::{DEFAULT_NODES, RunArgs};
use crate::clock::{self, RequestedClock};
use crate::cluster::NodeProgram;
use crate::hosts::HostKind;
use crate::hosts::ssh::Inventory;
use crate::machine::{self, Capabilities};
use crate::network::{self, Requested};
use crate::run::{INTERRUPTED_EXIT, Interrupt, RunSpec, execute};
use crate::system::{self, System};

/// `--system` with its options: `--replication X` and `--reads X` are `--opt replication=X`
/// and `--opt reads=X` (for a system without that option, an error naming the flag), then each
/// `--opt` in order. Its requirements are checked once the flags are known to fit it.
fn resolve_system(args: &RunArgs) -> anyhow::Result<System> {
    let (definition, _) = system::load(&args.system).map_err(|e| anyhow!(e))?;
    let mut given: Vec<(String, String)> = Vec::new();
    for (flag, name, value) in [
        ("--replication", "replication", &args.replication),
        ("--reads", "reads", &args.reads),
    ] {
        if let Some(value) = value {
            // The flag's own name in the message: that is what the user typed.
            system::options::resolve(&definition, &[(name.to_owned(), value.clone())]).map_err(
                |e| {
                    anyhow!(
                        "{flag}: {}",
                        e.trim_start_matches(&format!("option {name}: "))
                    )
                },
            )?;
            given.push((name.to_owned(), value.clone()));
        }
    }
    for opt in &args.opts {
        given.push(system::options::parse_assignment(opt).map_err(|e| anyhow!(e))?);
    }
    System::resolve(&args.system, &given).map_err(|e| anyhow!(e))
}

fn seconds(flag: &str, value: f64, allow_zero: bool) -> anyhow::Result<f64> {
    if value.is_finite() && (value > 0.0 || (allow_zero && value == 0.0)) {
        Ok(value)
    } else {
        bail!("{flag}: expected a positive number of seconds, found {value}")
    }
}

/// Every flag checked and resolved against what this machine offers; nothing on disk yet.
pub fn resolve(args: &RunArgs) -> anyhow::Result<RunSpec> {
    resolve_with(args, machine::probe())
}

/// `resolve` with the machine's capabilities given (tests pretend either way).
pub fn resolve_with(args: &RunArgs, caps: Capabilities) -> anyhow::Result<RunSpec> {
    if args.nodes == 0 {
        bail!("--nodes: expected at least 1 node, found 0");
    }
    if args.nodes > 244 {
        bail!(
            "--nodes: at most 244 nodes (one loopback address each), found {}",
            args.nodes
        );
    }
    if args.concurrency == 0 {
        bail!("--concurrency: expected at least 1 client, found 0");
    }
    let system = resolve_system(args)?;
    let kind: WorkloadKind = args
        .workload
        .parse()
        .map_err(|e: String| anyhow!("--workload: {e}"))?;
    let nemesis = args
        .nemesis
        .iter()
        .filter(|n| !n.is_empty() && *n != "none")
        .map(|n| {
            n.parse::<FaultKind>()
                .map_err(|e| anyhow!("--nemesis: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let targets = args
        .targets
        .iter()
        .map(|t| t.parse::<Target>().map_err(|e| anyhow!("--targets: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let shapes = args
        .shapes
        .iter()
        .map(|s| s.parse::<Shape>().map_err(|e| anyhow!("--shapes: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let hosts: HostKind = args
        .hosts
        .parse()
        .map_err(|e: String| anyhow!("--hosts: {e}"))?;
    if hosts == HostKind::Netns && !caps.netns {
        bail!(
            "--hosts netns needs root, ip (iproute2) and nft (network namespaces, a bridge, \
             nft rules inside each); run as root or use --hosts loopback"
        );
    }
    system::fit::check(&system, kind, &nemesis, hosts).map_err(|e| anyhow!(e))?;
    // A missing program stops the run before anything is written. On ssh hosts the programs
    // run there, not here: each host is asked once connected (`cluster/remote.rs`).
    if hosts != HostKind::Ssh {
        system.check_requirements().map_err(|e| anyhow!(e))?;
    }
    let inventory = inventory(hosts, args)?;
    // On ssh hosts libfaketime is looked for on each host once connected (a host without it is
    // an error naming it, before any node starts), not on this machine.
    let caps = if hosts == HostKind::Ssh {
        Capabilities {
            faketime: true,
            ..caps
        }
    } else {
        caps
    };
    let requested: Requested = args
        .network
        .parse()
        .map_err(|e: String| anyhow!("--network: {e}"))?;
    let network = network::choose(
        requested,
        nemesis.contains(&FaultKind::Partition),
        nemesis.contains(&FaultKind::Delay),
        caps,
        hosts,
    )
    .map_err(|e| anyhow!(e))?;
    let requested_clock: RequestedClock = args
        .clock
        .parse()
        .map_err(|e: String| anyhow!("--clock: {e}"))?;
    let clock = clock::choose(requested_clock, nemesis.contains(&FaultKind::Clock), caps)
        .map_err(|e| anyhow!(e))?;
    system::fit::check_clock_backend(&system, clock).map_err(|e| anyhow!(e))?;
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        bail!("--rate: expected a positive number of operations per second, found {rate}");
    }
    let mut workload = WorkloadSpec::defaults(kind);
    if let Some(keys) = args.keys {
        if keys == 0 {
            bail!("--keys: expected at least 1 key, found 0");
        }
        workload.keys = keys;
    }
    if args.max_writes_per_key == 0 {
        bail!("--max-writes-per-key: expected at least 1 append per key, found 0");
    }
    // Only lists grow: register and kv record no bound (null in their test.json).
    workload.max_writes_per_key = kind.grows_lists().then_some(args.max_writes_per_key);
    if args.threads_per_key == 0 {
        bail!("--threads-per-key: expected at least 1 client per key, found 0");
    }
    // set does not group its clients: both are null in its test.json.
    workload.threads_per_key = kind.groups_clients().then_some(args.threads_per_key);
    workload.ops_per_key = kind.groups_clients().then_some(args.ops_per_key);
    if let Some(exponent) = args.zipfian {
        if !(exponent.is_finite() && exponent > 0.0) {
            bail!("--zipfian: expected a positive exponent, found {exponent}");
        }
        workload.key_distribution = KeyDistribution::Zipfian { exponent };
    }
    if !args.mix.is_empty() {
        let weight = |i: usize| args.mix.get(i).copied().unwrap_or(0);
        if args.mix.iter().all(|w| *w == 0) {
            bail!("--mix: expected at least one positive weight");
        }
        (
            workload.read_weight,
            workload.write_weight,
            workload.cas_weight,
        ) = (weight(0), weight(1), weight(2));
    }
    let nemesis_name = if nemesis.is_empty() {
        "none".to_owned()
    } else {
        nemesis
            .iter()
            .map(|n| n.name())
            .collect::<Vec<_>>()
            .join("+")
    };
    let name = match &args.name {
        Some(name) if name.is_empty() || name.contains('/') || name.starts_with('.') => {
            bail!("--name: expected a folder name (no '/', not starting with '.'), found {name:?}")
        }
        Some(name) => name.clone(),
        None => {
            // kvnode's runs keep the names they always had; another system's lead with it.
            let mut base = if system.name() == system::DEFAULT_SYSTEM {
                String::new()
            } else {
                format!("{}-", system.name())
            };
            base += kind.name();
            for value in system.option_values() {
                base += &format!("-{value}");
            }
            base += &format!("-{nemesis_name}");
            test_name(&base, args, &workload)
        }
    };
    let timing = &system.definition.faults;
    Ok(RunSpec {
        name,
        nodes: args.nodes,
        system: system.name().to_owned(),
        definition: system::is_path(&args.system).then(|| std::path::PathBuf::from(&args.system)),
        replication: system.option("replication").to_owned(),
        reads: system.option("reads").to_owned(),
        options: system.options.clone(),
        option_explanations: system.option_explanations(),
        workload,
        nemesis,
        targets,
        shapes,
        hosts,
        inventory,
        addresses: Vec::new(),
        network,
        clock,
        seed: args.seed.unwrap_or_else(|| fastrand::u64(..)),
        concurrency: args.concurrency,
        rate: args.rate,
        time_limit_s: seconds("--time-limit", args.time_limit, false)?,
        // The run's own, else the system's (a lease-based failover needs longer faults), else
        // faultline's.
        recovery_s: seconds(
            "--recovery",
            args.recovery.or(timing.recovery_s).unwrap_or(3.0),
            true,
        )?,
        fault_duration_s: seconds(
            "--fault-duration",
            args.fault_duration
                .or(timing.fault_duration_s)
                .unwrap_or(4.0),
            false,
        )?,
        quiet_duration_s: seconds(
            "--quiet-duration",
            args.quiet_duration
                .or(timing.quiet_duration_s)
                .unwrap_or(3.0),
            false,
        )?,
        request_timeout_ms: args.request_timeout.max(1),
        node_args: Vec::new(),
        keep_data: args.keep_data,
    })
}

/// `--inventory`, read and checked where `--hosts ssh` needs it (one host per node), refused
/// elsewhere. Errors are one line naming the flag or the file and line.
fn inventory(hosts: HostKind, args: &RunArgs) -> anyhow::Result<Option<std::path::PathBuf>> {
    let Some(path) = &args.inventory else {
        if hosts == HostKind::Ssh {
            bail!("--hosts ssh needs --inventory FILE (the machines to run the nodes on)");
        }
        return Ok(None);
    };
    if hosts != HostKind::Ssh {
        bail!("--inventory: only with --hosts ssh (this run's hosts: {hosts})");
    }
    let inventory = Inventory::load(path).map_err(|e| anyhow!(e))?;
    if inventory.hosts.len() < args.nodes {
        bail!(
            "--inventory: {} lists {} host(s); --nodes {} needs one host per node",
            path.display(),
            inventory.hosts.len(),
            args.nodes
        );
    }
    Ok(Some(path.clone()))
}

/// The test's folder name: workload, modes and faults, then the nodes, keys, clients per key and
/// seed where they differ from the defaults (`register-quorum-read-index-kill+pause-n5-t50-s7`). A random seed is
/// the default and is left out, so repeated runs of one test share its folder and `latest`.
fn test_name(base: &str, args: &RunArgs, workload: &WorkloadSpec) -> String {
    let mut name = base.to_owned();
    if args.nodes != DEFAULT_NODES {
        name += &format!("-n{}", args.nodes);
    }
    if workload.keys != WorkloadSpec::defaults(workload.kind).keys {
        name += &format!("-k{}", workload.keys);
    }
    if workload.threads_per_key != WorkloadSpec::defaults(workload.kind).threads_per_key
        && let Some(threads) = workload.threads_per_key
    {
        name += &format!("-t{threads}");
    }
    if let Some(seed) = args.seed {
        name += &format!("-s{seed}");
    }
    name
}

/// The verdict's exit status (130 for a run cut short is `run`'s, not `analyze`'s, to give).
pub fn exit_code(results: &RunResults) -> ExitCode {
    ExitCode::from(match results.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        Verdict::Unknown => 2,
    })
}

/// The final summary: verdict (after the interruption, for a run cut short), the run's headline
/// (outcomes, availability during faults first, throughput, faults), anomalies, where the files
/// are.
pub fn print_summary(dir: &Path, r: &RunResults) {
    let verdict = match r.interrupted {
        Some(i) => format!("{i}; until then {}", r.verdict.name()),
        None => r.verdict.name().to_owned(),
    };
    let anomalies: Vec<String> = r
        .anomaly_counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    println!(
        "{verdict}: {}{}  ({})",
        headline(r),
        if anomalies.is_empty() {
            String::new()
        } else {
            format!("; anomalies: {}", anomalies.join(", "))
        },
        dir.display()
    );
    if let Some(e) = r
        .linearizability
        .as_ref()
        .and_then(|c| c.explanation.as_ref())
    {
        println!("  cannot linearize {}", e.op);
    }
    if let Some(first) = r.anomalies.first() {
        println!("  first anomaly: {first}");
    }
    let reason = r.linearizability.as_ref().and_then(|c| c.reason.as_ref());
    if let Some(reason) = reason.or(r.unknown_reason.as_ref()) {
        println!("  unknown: {reason}");
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let spec = resolve(&args)?;
    // Said before the run, so a user who asked for auto knows what enforced the faults.
    if spec.hosts != HostKind::Loopback {
        eprintln!("faultline: hosts: {}", spec.hosts);
    }
    if spec.network != network::Backend::None {
        eprintln!("faultline: network backend: {}", spec.network);
    }
    if spec.clock != clock::ClockBackend::None {
        eprintln!("faultline: clock backend: {}", spec.clock);
    }
    let program = match &args.kvnode {
        Some(path) => NodeProgram::kvnode(path),
        None => NodeProgram::current_faultline().context("cannot find the faultline binary")?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = indicatif::MultiProgress::new();
    let outcome = runtime.block_on(async {
        let interrupt = Interrupt::listen().context("cannot catch SIGINT and SIGTERM")?;
        execute(spec, &args.store, program, &progress, &interrupt).await
    })?;
    print_summary(&outcome.dir.path, &outcome.results);
    Ok(if outcome.results.interrupted.is_some() {
        ExitCode::from(INTERRUPTED_EXIT)
    } else {
        exit_code(&outcome.results)
    })
}
