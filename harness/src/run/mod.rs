//! One test run, phase by phase, each a function below `execute` in the order it runs:
//! prepare (folder, test.json) → start the cluster → start the workload (clients, nemesis
//! lanes, clock sampler) → wait for the time limit (or a signal) → heal → recovery and final
//! reads of every key → finish (teardown, check). The run's folder
//! receives the spec first, then the history as it happens, then the results. Each phase is
//! said on the run's progress line (or as a plain line on stderr without a terminal).

mod analysis;
mod client_kind;
mod clients;
mod clock_offsets;
mod interrupt;
mod nemesis;
mod progress;
mod recorder;
mod spec;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use faultline_nemeses::{ClockSpec, LinkDelay, Nodes, Schedule, ScheduleSpec, lanes, run_schedule};
use faultline_results::{RunDir, RunResults, Verdict, node_name};
use faultline_workloads::{Generator, NodeAddr};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::clock::{ApiClocks, ClockBackend, RunClocks};
use crate::cluster::{Cluster, ClusterSpec, NodeProgram, PeerLinks};
use crate::hosts::ssh::Inventory;
use crate::hosts::{Host, HostKind, Hosts};
use crate::machine::LIBFAKETIME;
use crate::network::{Backend, HostsNet, NftNet, RunNetwork};
use crate::system::System;

pub use analysis::{CheckedRun, analyze, check_run};
pub use interrupt::{INTERRUPTED_EXIT, Interrupt, Signal};
pub use progress::RunProgress;
pub use spec::{NodeAddress, READ_MODES, REPLICATION_MODES, RunSpec};

use recorder::Recorder;

/// How many times a final read is tried before it is left as it ended.
const FINAL_READ_ATTEMPTS: usize = 20;
/// Keys in a row whose final read got no answer before the final reads stop.
const GIVE_UP_AFTER_KEYS: usize = 3;

/// A finished run: where it is and what it concluded.
pub struct RunOutcome {
    pub dir: RunDir,
    pub results: RunResults,
}

/// Runs one test, its progress on a line of `multi`. Errors mean the run itself failed (a node
/// never started, the store is not writable); a history that is not linearizable is a result,
/// not an error. A signal (`interrupt`) before the final reads cuts the workload or recovery
/// short: the run heals, marks the history and checks what it recorded
/// (`RunResults::interrupted`).
pub async fn execute(
    spec: RunSpec,
    store: &std::path::Path,
    program: NodeProgram,
    multi: &indicatif::MultiProgress,
    interrupt: &Interrupt,
) -> anyhow::Result<RunOutcome> {
    let (mut run, system, ssh_hosts) = prepare(spec, store, multi).await?;
    let started = start_cluster(&mut run, system, ssh_hosts, program).await?;
    let workload = start_workload(&run, &started)?;
    let interrupted = wait_for_the_time_limit(&mut run, &workload, interrupt).await;
    let generator = heal(&mut run, &started, workload).await;
    if !interrupted {
        recover_and_read(&mut run, &started, &generator, interrupt).await;
    }
    finish(run, started).await
}

/// What every phase of a run shares.
struct Run {
    spec: RunSpec,
    dir: RunDir,
    recorder: Arc<Recorder>,
    log: Log,
    progress: RunProgress,
    /// When the run started: the history's times count from here.
    started: std::time::Instant,
}

/// The cluster and what acts on it: its nftables table, the history's flusher.
struct Started {
    cluster: Arc<Cluster>,
    /// Held until the run ends: dropping it (also on an error or a panic) deletes the run's
    /// nftables table. On netns hosts the tables are inside the namespaces instead.
    nft: Option<Arc<NftNet>>,
    flusher: tokio::task::JoinHandle<()>,
    /// Makes the clients of the system's protocol.
    clients: client_kind::ClientFactory,
}

/// The workload under way: its clients, nemesis lanes, clock sampler and generator.
struct Workload {
    generator: Arc<Mutex<Generator>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    nemesis: Option<NemesisLanes>,
    clock_sampler: tokio::task::JoinHandle<()>,
    clocks: Arc<RunClocks>,
    stop: watch::Sender<bool>,
    active_fault: Arc<Mutex<String>>,
    deadline: Instant,
    time_limit: Duration,
}

/// One schedule per lane and the task that records their events.
struct NemesisLanes {
    runners: Vec<tokio::task::JoinHandle<()>>,
    forwarder: tokio::task::JoinHandle<()>,
}

/// Clears what killed controllers left, resolves the system again from the spec (what test.json
/// records is what runs), creates the run's folder with test.json, the history and the log.
async fn prepare(
    spec: RunSpec,
    store: &std::path::Path,
    multi: &indicatif::MultiProgress,
) -> anyhow::Result<(Run, System, Option<Hosts>)> {
    // Tables, namespaces, bridges and timestamp files of earlier controllers that were killed
    // before they could delete them: whatever backends and hosts this run uses, a controller
    // start clears them. Without root, nft or ip the listing fails and nothing is removed.
    crate::network::nft::remove_stale_tables();
    crate::hosts::remove_stale();
    crate::clock::remove_stale_files();
    let system = System::resolve(&spec.system_source(), &spec.option_pairs())
        .context("resolving the system under test")?;
    // Ssh hosts are connected (and their leftovers of dead controllers removed) before the run
    // folder is made: an unreachable or refusing host is an error naming it, with nothing
    // written and nothing left on the hosts connected before it.
    let ssh_hosts = match (&spec.inventory, spec.hosts) {
        (Some(path), HostKind::Ssh) => {
            let inventory = Inventory::load(path).map_err(|e| anyhow::anyhow!(e))?;
            let ids: Vec<u32> = (1..=spec.nodes as u32).collect();
            Some(Hosts::connect_ssh(&inventory, &ids).await?)
        }
        _ => None,
    };
    let dir = RunDir::create(store, &spec.name)?;
    dir.write_json(&dir.spec(), &spec)?;
    let history = std::fs::File::create(dir.history())
        .with_context(|| format!("{}", dir.history().display()))?;
    let started = std::time::Instant::now();
    let recorder = Arc::new(Recorder::new(history, started));
    let log = Log::open(&dir)?;
    let progress = RunProgress::new(multi, &spec.name);
    Ok((
        Run {
            spec,
            dir,
            recorder,
            log,
            progress,
            started,
        },
        system,
        ssh_hosts,
    ))
}

/// Starts the nodes, records where each runs (test.json again), sets up the run's nftables
/// table where partitions need one, and starts flushing the history every second.
async fn start_cluster(
    run: &mut Run,
    system: System,
    ssh_hosts: Option<Hosts>,
    program: NodeProgram,
) -> anyhow::Result<Started> {
    let spec = &run.spec;
    run.progress
        .phase(format!("starting the cluster ({} nodes)", spec.nodes));
    run.log.line(&format!(
        "starting {} {} nodes on {} hosts ({}; network backend {})",
        spec.nodes,
        system.name(),
        spec.hosts,
        system.describe_options(),
        spec.network
    ));
    let cluster_spec = ClusterSpec {
        nodes: spec.nodes,
        system,
        dir: run.dir.path.clone(),
        program,
        extra_args: spec.node_args.clone(),
        links: match spec.network {
            Backend::Proxy => PeerLinks::Proxied,
            Backend::None | Backend::Nft => PeerLinks::Direct,
        },
        faketime: (spec.clock == ClockBackend::Faketime).then(|| LIBFAKETIME.into()),
        hosts: spec.hosts,
    };
    let started_cluster = match ssh_hosts {
        Some(hosts) => {
            let timeout = cluster_spec.ready_timeout();
            Cluster::start_on(cluster_spec, hosts, timeout).await
        }
        None => Cluster::start(cluster_spec).await,
    };
    let cluster = started_cluster.with_context(|| {
        format!(
            "starting the cluster (node logs in {})",
            run.dir.path.join("nodes").display()
        )
    })?;
    let cluster = Arc::new(cluster);
    let nodes: Vec<NodeAddr> = cluster
        .nodes()
        .into_iter()
        .map(|(id, addr)| NodeAddr { id, addr })
        .collect();
    run.log.line(&format!(
        "cluster up: {}",
        nodes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Where each node ran, in test.json beside the choices that led there.
    let hosts = cluster.hosts();
    run.spec.addresses = cluster
        .addrs()
        .iter()
        .map(|&(id, addr)| NodeAddress {
            node: node_name(id.into()),
            host: hosts
                .get(id)
                .map(|h| h.name().to_owned())
                .unwrap_or_default(),
            address: addr.to_string(),
        })
        .collect();
    run.dir.write_json(&run.dir.spec(), &run.spec)?;
    if let Some(bridge) = hosts.bridge() {
        run.log.line(&format!(
            "netns hosts on bridge {bridge}: {}",
            run.spec
                .addresses
                .iter()
                .map(|a| format!("{} in {}", a.node, a.host))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    drop(hosts);
    let nft = match run.spec.network {
        Backend::Nft if run.spec.hosts == HostKind::Loopback => {
            let net = NftNet::create(cluster.addrs()).context("setting up the nftables table")?;
            run.log.line(&format!("nftables table {}", net.table()));
            Some(Arc::new(net))
        }
        Backend::Nft | Backend::None | Backend::Proxy => None,
    };
    // Flush the history at least every second.
    let flusher = {
        let recorder = run.recorder.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                recorder.flush();
            }
        })
    };
    let timeout = Duration::from_millis(run.spec.request_timeout_ms);
    let clients = client_kind::ClientFactory::new(
        &cluster,
        nodes,
        timeout,
        run.spec.concurrency,
        run.spec.workload.kind,
        &run.dir.path,
        run.dir.controller_log(),
    )?;
    clients
        .prepare()
        .await
        .context("preparing the store for the clients")?;
    Ok(Started {
        cluster,
        nft,
        flusher,
        clients,
    })
}

/// Marks the workload's start and starts everything that runs until the time limit: the clock
/// sampler (clocks.jsonl), the nemesis lanes and the clients.
fn start_workload(run: &Run, started: &Started) -> anyhow::Result<Workload> {
    let spec = &run.spec;
    let cluster = &started.cluster;
    let time_limit = Duration::from_secs_f64(spec.time_limit_s);
    // Marks where the workload's time starts, for an interruption's "after N s".
    nemesis::phase(&run.recorder, "workload");
    let deadline = Instant::now() + time_limit;
    let (stop_tx, stop_rx) = watch::channel(false);
    let active_fault = Arc::new(Mutex::new(String::from("none")));

    // Every node's clock as the controller sees it, once a second (clocks.jsonl).
    let clock_file = run.dir.clocks();
    let clock_sampler = tokio::spawn(clock_offsets::sample(
        cluster.clone(),
        std::fs::File::create(&clock_file).with_context(|| format!("{}", clock_file.display()))?,
        run.started,
        stop_rx.clone(),
    ));

    let clocks = Arc::new(match spec.clock {
        ClockBackend::Faketime => cluster
            .faketime_clocks()
            .map_or(RunClocks::Unmanaged, RunClocks::Faketime),
        ClockBackend::Api => RunClocks::Api(
            ApiClocks::new(cluster.addrs()).context("building the /admin/clock client")?,
        ),
        ClockBackend::None => RunClocks::Unmanaged,
    });
    let nemesis = start_nemesis(run, started, &clocks, &stop_rx, &active_fault);

    let generator = Arc::new(Mutex::new(Generator::new(
        spec.workload.clone(),
        spec.concurrency,
        spec.seed,
    )));
    let interval = spec
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(spec.concurrency as f64 / r));
    let shared = clients::Workers {
        recorder: run.recorder.clone(),
        generator: generator.clone(),
        process_stride: spec.concurrency as u64,
        deadline,
        interval,
        stop: stop_rx.clone(),
    };
    let mut workers = Vec::with_capacity(spec.concurrency);
    for worker in 0..spec.concurrency {
        let client = started.clients.worker(worker)?;
        workers.push(tokio::spawn(
            shared.clone().client_loop(client, worker as u64),
        ));
    }
    Ok(Workload {
        generator,
        workers,
        nemesis,
        clock_sampler,
        clocks,
        stop: stop_tx,
        active_fault,
        deadline,
        time_limit,
    })
}

/// One schedule per lane (process, network, clock faults), so faults of different families
/// overlap; each lane's seed is derived from the run's, the first lane's being the one a
/// single-lane run always had. Their events go to the history and to `active_fault`.
fn start_nemesis(
    run: &Run,
    started: &Started,
    clocks: &Arc<RunClocks>,
    stop_rx: &watch::Receiver<bool>,
    active_fault: &Arc<Mutex<String>>,
) -> Option<NemesisLanes> {
    let spec = &run.spec;
    if spec.nemesis.is_empty() {
        return None;
    }
    let cluster = &started.cluster;
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let network = Arc::new(match (cluster.proxy(), &started.nft) {
        (Some(proxy), _) => RunNetwork::Proxy(proxy),
        (None, Some(nft)) => RunNetwork::Nft(nft.clone()),
        (None, None)
            if spec.network == Backend::Nft
                && matches!(spec.hosts, HostKind::Netns | HostKind::Ssh) =>
        {
            RunNetwork::Hosts(HostsNet::new(cluster.hosts()))
        }
        (None, None) => RunNetwork::Unmanaged,
    });
    let runners: Vec<_> = lanes(&spec.nemesis)
        .into_iter()
        .enumerate()
        .map(|(lane, faults)| {
            let schedule = Schedule::new(
                ScheduleSpec {
                    faults,
                    targets: spec.targets.clone(),
                    shapes: spec.shapes.clone(),
                    delay: LinkDelay::default(),
                    clock: ClockSpec::default(),
                    fault_duration: Duration::from_secs_f64(spec.fault_duration_s),
                    quiet_duration: Duration::from_secs_f64(spec.quiet_duration_s),
                },
                spec.seed
                    ^ 0x6E65_6D65_7369_7300
                    ^ (lane as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let cluster = cluster.clone();
            let network = network.clone();
            let clocks = clocks.clone();
            let events = events_tx.clone();
            let stop = stop_rx.clone();
            tokio::spawn(async move {
                run_schedule(&*cluster, &*network, &*clocks, schedule, events, stop).await
            })
        })
        .collect();
    // The forwarder ends when the last lane drops its sender.
    drop(events_tx);
    let forwarder = {
        let recorder = run.recorder.clone();
        let active = active_fault.clone();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                nemesis::record(&recorder, &event);
                if let Ok(mut a) = active.lock() {
                    *a = match event.kind {
                        faultline_nemeses::NemesisEventKind::Started => {
                            let targets: Vec<String> = event
                                .targets
                                .iter()
                                .map(|&id| node_name(id.into()))
                                .collect();
                            format!("{} {}", event.fault.name(), targets.join(" "))
                        }
                        faultline_nemeses::NemesisEventKind::Healed => "none".to_owned(),
                        _ => a.clone(),
                    };
                }
            }
        })
    };
    Some(NemesisLanes { runners, forwarder })
}

/// Shows progress until the time limit or a signal; true when a signal cut it short.
async fn wait_for_the_time_limit(
    run: &mut Run,
    workload: &Workload,
    interrupt: &Interrupt,
) -> bool {
    let faults: Vec<&str> = run.spec.nemesis.iter().map(|n| n.name()).collect();
    run.progress.workload(
        workload.time_limit,
        &format!(
            "{} clients, nemesis {}",
            run.spec.concurrency,
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(",")
            }
        ),
    );
    let workload_started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let fault = workload.active_fault.lock().map(|a| a.clone()).unwrap_or_default();
                run.progress.update(&run.recorder.counters, workload_started.elapsed(), &fault);
                if Instant::now() >= workload.deadline { return false; }
            }
            signal = interrupt.wait() => {
                mark_interrupted(&run.recorder, &mut run.log, &run.progress, signal, "stopping the clients");
                return true;
            }
        }
    }
}

/// Stops the clients, lets every nemesis lane heal what it started, and resets every clock once
/// more, so no offset survives into the recovery and final reads whatever went wrong in between.
async fn heal(run: &mut Run, started: &Started, workload: Workload) -> Arc<Mutex<Generator>> {
    let _ = workload.stop.send(true);
    for w in workload.workers {
        let _ = w.await;
    }
    let _ = workload.clock_sampler.await;
    run.progress.phase("healing");
    if let Some(lanes) = workload.nemesis {
        for runner in lanes.runners {
            let _ = runner.await;
        }
        let _ = lanes.forwarder.await;
    }
    if run.spec.clock != ClockBackend::None
        && let Err(e) = workload.clocks.reset_all(&started.cluster.ids()).await
    {
        run.log.line(&format!("resetting clocks: {e}"));
    }
    run.log.line("healed");
    workload.generator
}
/// The recovery's quiet, then a final read of every key the workload may have touched (either
/// cut short by a signal).
async fn recover_and_read(
    run: &mut Run,
    started: &Started,
    generator: &Mutex<Generator>,
    interrupt: &Interrupt,
) {
    run.progress
        .phase(format!("recovery ({} s)", run.spec.recovery_s));
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs_f64(run.spec.recovery_s)) => {}
        signal = interrupt.wait() => {
            mark_interrupted(&run.recorder, &mut run.log, &run.progress, signal, "skipping the final reads");
            return;
        }
    }
    nemesis::phase(&run.recorder, "final-reads");
    run.progress.phase("final reads");
    tokio::select! {
        stopped = final_reads(&run.recorder, generator, &started.clients) => {
            if let Some(key) = stopped {
                run.log.line(&format!(
                    "final reads stopped at key {key}: the cluster answered none of the last \
                     {GIVE_UP_AFTER_KEYS} keys' reads"
                ));
            }
        }
        signal = interrupt.wait() => {
            mark_interrupted(&run.recorder, &mut run.log, &run.progress, signal, "skipping the rest of the final reads");
        }
    }
}

/// Stops the cluster, closes the history, checks it (results.json), points `latest` at the run
/// and removes a valid run's node data.
async fn finish(mut run: Run, started: Started) -> anyhow::Result<RunOutcome> {
    run.progress.phase("stopping the cluster");
    started.flusher.abort();
    if let Some(mut cluster) = Arc::into_inner(started.cluster) {
        cluster.stop().await;
    }
    // The table goes once no node needs it.
    drop(started.nft);
    run.log.line("cluster down");
    run.recorder
        .finish()
        .with_context(|| format!("{}", run.dir.history().display()))?;

    let results = analyze(&run.dir.path, &run.progress)?;
    run.progress.finish();
    run.dir.mark_latest()?;
    run.log
        .line(&format!("verdict: {}", results.verdict.name()));
    // Every node's WAL is most of a run's size (~190 MB for 30 s), worth its space only to look
    // into a run that went wrong: kept when the run is not valid or when asked. A run that
    // failed returned above with its data.
    if results.verdict == Verdict::Valid && !run.spec.keep_data {
        match run.dir.remove_node_data() {
            Ok(()) => run
                .log
                .line("node data removed: the run is valid (--keep-data keeps it)"),
            Err(e) => run.log.line(&format!("keeping node data: {e}")),
        }
    }
    Ok(RunOutcome {
        dir: run.dir,
        results,
    })
}

/// A signal arrived before the final reads: marked in the history (where `analyze` finds it),
/// said in the log and on the progress line, then the run does `next`.
fn mark_interrupted(
    recorder: &Recorder,
    log: &mut Log,
    progress: &RunProgress,
    signal: Signal,
    next: &str,
) {
    nemesis::phase(recorder, "interrupted");
    log.line(&format!("interrupted by {}: {next}", signal.name));
    progress.phase(format!("{}: {next}", signal.name));
}

/// Reads every key the workload may have touched, retrying each until it succeeds. A cluster
/// that answers none of `GIVE_UP_AFTER_KEYS` keys in a row is not coming back: the reads stop
/// there (an append run has a key per 32 appends, thousands, and each would otherwise wait
/// `FINAL_READ_ATTEMPTS` timeouts), and the key they stopped at is returned.
async fn final_reads(
    recorder: &Recorder,
    generator: &Mutex<Generator>,
    clients: &client_kind::ClientFactory,
) -> Option<String> {
    let reads = match generator.lock() {
        Ok(g) => g.final_reads(),
        Err(_) => return None,
    };
    let mut process = recorder.unused_process();
    let Ok(mut client) = clients.final_reader(process) else {
        return None;
    };
    let mut unanswered_keys = 0;
    for read in &reads {
        let mut answered = false;
        for _ in 0..FINAL_READ_ATTEMPTS {
            let done = clients::perform(recorder, &mut client, process, read).await;
            process += 1;
            if done.kind == faultline_checker::history::EventType::Ok {
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        unanswered_keys = if answered { 0 } else { unanswered_keys + 1 };
        if unanswered_keys == GIVE_UP_AFTER_KEYS {
            return Some(read.key.clone().unwrap_or_default());
        }
    }
    None
}

/// The controller's own log, `faultline.log` in the run folder.
struct Log {
    file: std::fs::File,
    started: std::time::Instant,
}

impl Log {
    fn open(dir: &RunDir) -> anyhow::Result<Log> {
        let file = std::fs::File::create(dir.controller_log())
            .with_context(|| format!("{}", dir.controller_log().display()))?;
        Ok(Log {
            file,
            started: std::time::Instant::now(),
        })
    }

    fn line(&mut self, text: &str) {
        use std::io::Write;
        let _ = writeln!(
            self.file,
            "{:>9.3}s {text}",
            self.started.elapsed().as_secs_f64()
        );
    }
}
