//! One test run, phase by phase: setup → workload with faults until the time limit (or a
//! signal) → heal → recovery → final reads of every key → teardown → check. The run's folder
//! receives the spec first, then the history as it happens, then the results. Each phase is
//! said on the run's progress line (or as a plain line on stderr without a terminal).

mod analysis;
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
use faultline_workloads::{Generator, KvnodeClient, NodeAddr};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::clock::{ApiClocks, ClockBackend, RunClocks};
use crate::cluster::{Cluster, ClusterSpec, NodeProgram, PeerLinks};
use crate::hosts::{Host, HostKind};
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
    mut spec: RunSpec,
    store: &std::path::Path,
    program: NodeProgram,
    multi: &indicatif::MultiProgress,
    interrupt: &Interrupt,
) -> anyhow::Result<RunOutcome> {
    // Tables, namespaces, bridges and timestamp files of earlier controllers that were killed
    // before they could delete them: whatever backends and hosts this run uses, a controller
    // start clears them. Without root, nft or ip the listing fails and nothing is removed.
    crate::network::nft::remove_stale_tables();
    crate::hosts::remove_stale();
    crate::clock::remove_stale_files();
    // test.json names the system and every option: what `resolve` checked is what runs.
    let system = System::resolve(&spec.system_source(), &spec.option_pairs())
        .context("resolving the system under test")?;
    let dir = RunDir::create(store, &spec.name)?;
    let keep_data = spec.keep_data;
    dir.write_json(&dir.spec(), &spec)?;
    let history = std::fs::File::create(dir.history())
        .with_context(|| format!("{}", dir.history().display()))?;
    let started = std::time::Instant::now();
    let recorder = Arc::new(Recorder::new(history, started));
    let mut log = Log::open(&dir)?;
    let progress = RunProgress::new(multi, &spec.name);

    progress.phase(format!("starting the cluster ({} nodes)", spec.nodes));
    log.line(&format!(
        "starting {} {} nodes on {} hosts ({}; network backend {})",
        spec.nodes,
        system.name(),
        spec.hosts,
        system.describe_options(),
        spec.network
    ));
    let cluster = Cluster::start(ClusterSpec {
        nodes: spec.nodes,
        system,
        dir: dir.path.clone(),
        program,
        extra_args: spec.node_args.clone(),
        links: match spec.network {
            Backend::Proxy => PeerLinks::Proxied,
            Backend::None | Backend::Nft => PeerLinks::Direct,
        },
        faketime: (spec.clock == ClockBackend::Faketime).then(|| LIBFAKETIME.into()),
        hosts: spec.hosts,
    })
    .await
    .with_context(|| {
        format!(
            "starting the cluster (node logs in {})",
            dir.path.join("nodes").display()
        )
    })?;
    let cluster = Arc::new(cluster);
    let nodes: Vec<NodeAddr> = cluster
        .nodes()
        .into_iter()
        .map(|(id, addr)| NodeAddr { id, addr })
        .collect();
    log.line(&format!(
        "cluster up: {}",
        nodes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Where each node ran, in test.json beside the choices that led there.
    let hosts = cluster.hosts();
    spec.addresses = cluster
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
    dir.write_json(&dir.spec(), &spec)?;
    if let Some(bridge) = hosts.bridge() {
        log.line(&format!(
            "netns hosts on bridge {bridge}: {}",
            spec.addresses
                .iter()
                .map(|a| format!("{} in {}", a.node, a.host))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    drop(hosts);
    // Held until the end of this function: dropping it (also on an error or a panic) deletes
    // the run's nftables table. On netns hosts the tables are inside the namespaces instead.
    let nft = match spec.network {
        Backend::Nft if spec.hosts == HostKind::Loopback => {
            let net = NftNet::create(cluster.addrs()).context("setting up the nftables table")?;
            log.line(&format!("nftables table {}", net.table()));
            Some(Arc::new(net))
        }
        Backend::Nft | Backend::None | Backend::Proxy => None,
    };

    // Flush the history at least every second.
    let flusher = {
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                recorder.flush();
            }
        })
    };

    let time_limit = Duration::from_secs_f64(spec.time_limit_s);
    // Marks where the workload's time starts, for an interruption's "after N s".
    nemesis::phase(&recorder, "workload");
    let deadline = Instant::now() + time_limit;
    let (stop_tx, stop_rx) = watch::channel(false);
    let active_fault = Arc::new(Mutex::new(String::from("none")));

    // Every node's clock as the controller sees it, once a second (clocks.jsonl).
    let clock_file = dir.clocks();
    let clock_sampler = tokio::spawn(clock_offsets::sample(
        cluster.clone(),
        std::fs::File::create(&clock_file).with_context(|| format!("{}", clock_file.display()))?,
        started,
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

    // Nemesis: the schedule acts on the cluster; its events go to the history.
    let nemesis = if spec.nemesis.is_empty() {
        None
    } else {
        let (events_tx, mut events_rx) = mpsc::unbounded_channel();
        let network = Arc::new(match (cluster.proxy(), &nft) {
            (Some(proxy), _) => RunNetwork::Proxy(proxy),
            (None, Some(nft)) => RunNetwork::Nft(nft.clone()),
            (None, None) if spec.network == Backend::Nft && spec.hosts == HostKind::Netns => {
                RunNetwork::Hosts(HostsNet::new(cluster.hosts()))
            }
            (None, None) => RunNetwork::Unmanaged,
        });
        // One schedule per lane (process, network, clock faults), so faults of different
        // families overlap; each lane's seed is derived from the run's, the first lane's
        // being the one a single-lane run always had.
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
            let recorder = recorder.clone();
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
        Some((runners, forwarder))
    };

    // Clients.
    let generator = Arc::new(Mutex::new(Generator::new(
        spec.workload.clone(),
        spec.concurrency,
        spec.seed,
    )));
    let timeout = Duration::from_millis(spec.request_timeout_ms);
    let interval = spec
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(spec.concurrency as f64 / r));
    let shared = clients::Workers {
        recorder: recorder.clone(),
        generator: generator.clone(),
        process_stride: spec.concurrency as u64,
        deadline,
        interval,
        stop: stop_rx.clone(),
    };
    let mut workers = Vec::with_capacity(spec.concurrency);
    for worker in 0..spec.concurrency {
        // Bound to a node for reads, as Jepsen binds each client to one node.
        let client =
            KvnodeClient::try_new(format!("c{worker}"), nodes.clone(), timeout)?.with_home(worker);
        workers.push(tokio::spawn(
            shared.clone().client_loop(client, worker as u64),
        ));
    }

    // Wait for the time limit (or a signal), showing progress.
    let faults: Vec<&str> = spec.nemesis.iter().map(|n| n.name()).collect();
    progress.workload(
        time_limit,
        &format!(
            "{} clients, nemesis {}",
            spec.concurrency,
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(",")
            }
        ),
    );
    let workload_started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut interrupted = loop {
        tokio::select! {
            _ = tick.tick() => {
                let fault = active_fault.lock().map(|a| a.clone()).unwrap_or_default();
                progress.update(&recorder.counters, workload_started.elapsed(), &fault);
                if Instant::now() >= deadline { break false; }
            }
            signal = interrupt.wait() => {
                mark_interrupted(&recorder, &mut log, &progress, signal, "stopping the clients");
                break true;
            }
        }
    };
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    let _ = clock_sampler.await;
    progress.phase("healing");
    if let Some((runners, forwarder)) = nemesis {
        for runner in runners {
            let _ = runner.await;
        }
        let _ = forwarder.await;
    }
    // The schedule healed what it started; reset every clock once more all the same, so no
    // offset survives into the recovery and final reads whatever went wrong in between.
    if spec.clock != ClockBackend::None
        && let Err(e) = clocks.reset_all(&cluster.ids()).await
    {
        log.line(&format!("resetting clocks: {e}"));
    }
    log.line("healed");

    if !interrupted {
        progress.phase(format!("recovery ({} s)", spec.recovery_s));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(spec.recovery_s)) => {}
            signal = interrupt.wait() => {
                mark_interrupted(&recorder, &mut log, &progress, signal, "skipping the final reads");
                interrupted = true;
            }
        }
    }
    if !interrupted {
        nemesis::phase(&recorder, "final-reads");
        progress.phase("final reads");
        tokio::select! {
            stopped = final_reads(&recorder, &generator, &nodes, timeout) => {
                if let Some(key) = stopped {
                    log.line(&format!(
                        "final reads stopped at key {key}: the cluster answered none of the last \
                         {GIVE_UP_AFTER_KEYS} keys' reads"
                    ));
                }
            }
            signal = interrupt.wait() => {
                mark_interrupted(&recorder, &mut log, &progress, signal, "skipping the rest of the final reads");
            }
        }
    }

    progress.phase("stopping the cluster");
    flusher.abort();
    if let Some(c) = Arc::into_inner(cluster) {
        let mut c = c;
        c.stop().await;
    }
    log.line("cluster down");
    recorder
        .finish()
        .with_context(|| format!("{}", dir.history().display()))?;

    let results = analyze(&dir.path, &progress)?;
    progress.finish();
    dir.mark_latest()?;
    log.line(&format!("verdict: {}", results.verdict.name()));
    // Every node's WAL is most of a run's size (~190 MB for 30 s), worth its space only to look
    // into a run that went wrong: kept when the run is not valid or when asked. A run that
    // failed returned above with its data.
    if results.verdict == Verdict::Valid && !keep_data {
        match dir.remove_node_data() {
            Ok(()) => log.line("node data removed: the run is valid (--keep-data keeps it)"),
            Err(e) => log.line(&format!("keeping node data: {e}")),
        }
    }
    Ok(RunOutcome { dir, results })
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
    nodes: &[NodeAddr],
    timeout: Duration,
) -> Option<String> {
    let reads = match generator.lock() {
        Ok(g) => g.final_reads(),
        Err(_) => return None,
    };
    let Ok(mut client) = KvnodeClient::try_new("final".to_owned(), nodes.to_vec(), timeout) else {
        return None;
    };
    let mut process = recorder.unused_process();
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
