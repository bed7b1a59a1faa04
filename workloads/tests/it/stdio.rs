//! `StdioClient`: the Python example client (examples/stdio-kvnode-client.py) against a real
//! three-node kvnode cluster, its history checked linearizable; and broken programs (they crash,
//! hang, print garbage, never say ready, cannot start), each ending its operation with the
//! right error, a log line, a notice and a fresh program for the next operation, within the
//! client's own timeouts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, Verdict, check_events};
use faultline_workloads::{
    Client, Generator, Invocation, StdioClient, StdioNode, StdioNotice, StdioProgram, WorkloadKind,
    WorkloadSpec,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::cluster::Cluster;

const LEADER_WITHIN: Duration = Duration::from_secs(5);
/// The broken programs' timeouts: short, so each case ends quickly by the client's own clock.
const SHORT: Duration = Duration::from_millis(300);
/// A guard against a client that never returns: the test fails instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// `python3`, or `None` (the test skips, saying why) where it is missing, unless
/// `FAULTLINE_REQUIRE_PRIVILEGED=1` says the machine must have it.
fn python3() -> Result<Option<&'static str>, String> {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Ok(Some("python3"));
    }
    if std::env::var("FAULTLINE_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        return Err("python3 is missing and FAULTLINE_REQUIRE_PRIVILEGED=1 requires it".into());
    }
    eprintln!("skipped: python3 not found (Debian: apt-get install python3)");
    Ok(None)
}

fn example_client() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/stdio-kvnode-client.py")
}

/// A history recorded as the harness records one: each event numbered and timed under one lock.
struct History {
    start: Instant,
    events: Mutex<Vec<Event>>,
}

impl History {
    fn record(&self, process: u64, kind: EventType, inv: &Invocation, done: Option<&Value>) {
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        let index = events.len() as u64;
        events.push(Event {
            index,
            time: u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            process: Process::Client(process),
            kind,
            f: inv.f.clone(),
            key: inv.key.clone(),
            value: done.cloned().unwrap_or_else(|| inv.value.clone()),
            error: None,
            node: None,
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_against_kvnode_records_a_linearizable_history() -> Result<(), String> {
    let Some(python) = python3()? else {
        return Ok(());
    };
    const CLIENTS: u64 = 5;
    // Each client runs through the faults and until it has done this many operations.
    const OPS_PER_CLIENT: usize = 60;
    const THINK: Duration = Duration::from_millis(10);
    let mut cluster = Cluster::start(3)?;
    let leader = cluster.wait_for_leader(LEADER_WITHIN).await?;
    let nodes: Vec<StdioNode> = cluster.node_addrs().iter().map(StdioNode::from).collect();
    let logs = tempfile::tempdir().map_err(|e| e.to_string())?;
    let generator = Arc::new(Mutex::new(Generator::new(
        WorkloadSpec::defaults(WorkloadKind::Register),
        CLIENTS as usize,
        7,
    )));
    let history = Arc::new(History {
        start: Instant::now(),
        events: Mutex::new(Vec::new()),
    });
    let stop = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for worker in 0..CLIENTS {
        let program = StdioProgram::new(python, [example_client().display().to_string()]);
        let options = BTreeMap::from([("replication".to_owned(), "quorum".to_owned())]);
        let mut client = StdioClient::new(
            program,
            nodes.clone(),
            logs.path().join(format!("clients/{worker}.log")),
            Duration::from_millis(1500),
        )
        .with_process(worker, CLIENTS)
        .with_options(options);
        let generator = Arc::clone(&generator);
        let history = Arc::clone(&history);
        let stop = Arc::clone(&stop);
        workers.push(tokio::spawn(async move {
            let mut kinds = Vec::new();
            while !stop.load(Ordering::Relaxed) || kinds.len() < OPS_PER_CLIENT {
                tokio::time::sleep(THINK).await;
                let invocation = generator
                    .lock()
                    .map_err(|e| e.to_string())?
                    .next_invocation(worker as usize);
                let process = client.process();
                history.record(process, EventType::Invoke, &invocation, None);
                let done = client.invoke(&invocation).await;
                history.record(process, done.kind, &invocation, Some(&done.value));
                if done.kind != EventType::Ok {
                    assert!(done.error.is_some(), "{done:?}");
                }
                if done.kind == EventType::Info {
                    // The next operation goes to a fresh program under the next number.
                    assert_eq!(client.process(), process + CLIENTS);
                }
                kinds.push(done.kind);
            }
            client.close().await;
            Ok::<_, String>(kinds)
        }));
    }
    // Once the clients are under way, pause every node: writes in flight may apply when they
    // resume, so they end `info` and their processes go on in fresh programs (a paused leader
    // alone costs only a retry at its successor under the same seq). Then crash the leader:
    // refused connections, `fail`, an election to follow. What the clients could not finish is
    // never a wrong `ok`.
    let under_way = Instant::now() + HANG_GUARD;
    while history.events.lock().map_err(|e| e.to_string())?.len() < 100 {
        if Instant::now() > under_way {
            return Err("the clients made no progress".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for node in &cluster.nodes {
        node.pause()?;
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    for node in &cluster.nodes {
        node.resume()?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.nodes[leader].kill()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);

    let mut kinds = Vec::new();
    for worker in workers {
        let done = tokio::time::timeout(HANG_GUARD, worker)
            .await
            .map_err(|_| "a client did not finish".to_owned())?
            .map_err(|e| e.to_string())??;
        kinds.extend(done);
    }
    let count = |kind| kinds.iter().filter(|&&k| k == kind).count();
    let oks = count(EventType::Ok);
    eprintln!(
        "{oks} ok, {} fail, {} info",
        count(EventType::Fail),
        count(EventType::Info)
    );
    assert!(kinds.len() >= CLIENTS as usize * OPS_PER_CLIENT);
    assert!(
        kinds
            .iter()
            .all(|k| matches!(k, EventType::Ok | EventType::Fail | EventType::Info)),
        "{kinds:?}"
    );
    // Most operations succeed: the faults cost elections, not the run.
    assert!(oks > kinds.len() / 2, "{oks} of {} ok", kinds.len());
    assert!(
        count(EventType::Info) > 0,
        "the paused cluster left no write in doubt"
    );

    let events = history.events.lock().map_err(|e| e.to_string())?.clone();
    let reads_ok = events
        .iter()
        .filter(|e| e.kind == EventType::Ok && e.f == "read" && !e.value.is_null())
        .count();
    assert!(reads_ok > 0, "no read saw a value");
    let model = WorkloadKind::Register
        .model()
        .ok_or("register has a model")?;
    let result =
        check_events(&events, model, None, Budget::default()).map_err(|e| e.to_string())?;
    assert_eq!(result.verdict, Verdict::Linearizable, "{result:?}");
    Ok(())
}

/// A broken program run against no store: `sh SCRIPT STARTS`. Each start appends the program's
/// pid and its `init` line to STARTS, so a test counts the programs and reads their processes.
struct Broken {
    dir: tempfile::TempDir,
    client: StdioClient,
    notices: mpsc::UnboundedReceiver<StdioNotice>,
}

impl Broken {
    fn new(script: &str) -> Result<Broken, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("client.sh");
        let starts = dir.path().join("starts");
        let prelude = "read -r init\necho \"$$ $init\" >> \"$1\"\n";
        std::fs::write(&path, format!("{prelude}{script}\n")).map_err(|e| e.to_string())?;
        let program = StdioProgram::new(
            "sh",
            [path.display().to_string(), starts.display().to_string()],
        );
        let (tx, notices) = mpsc::unbounded_channel();
        let node = StdioNode {
            name: "n1".into(),
            address: "127.0.0.1:9".into(),
        };
        let client = StdioClient::new(program, vec![node], dir.path().join("client.log"), SHORT)
            .with_process(4, 10)
            .with_ready_timeout(SHORT)
            .with_notices(tx);
        Ok(Broken {
            dir,
            client,
            notices,
        })
    }

    async fn invoke(&mut self, f: &str) -> Result<faultline_workloads::Completion, String> {
        let invocation = Invocation {
            f: f.into(),
            key: Some("r".into()),
            value: if f == "read" { Value::Null } else { json!(5) },
        };
        tokio::time::timeout(HANG_GUARD, self.client.invoke(&invocation))
            .await
            .map_err(|_| "the stdio client hung".to_owned())
    }

    /// Each start's pid and the process its `init` named.
    fn starts(&self) -> Vec<(i32, u64)> {
        let text = std::fs::read_to_string(self.dir.path().join("starts")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let (pid, init) = line.split_once(' ')?;
                let init: Value = serde_json::from_str(init).ok()?;
                Some((pid.parse().ok()?, init["process"].as_u64()?))
            })
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("client.log")).unwrap_or_default()
    }

    fn notices(&mut self) -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(n) = self.notices.try_recv() {
            seen.push(n.message);
        }
        seen
    }
}

/// Whether `pid` is gone (or a zombie about to be reaped by init), within a few seconds.
fn dead(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim().chars().next());
        if matches!(state, None | Some('Z')) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Two operations against a program that misbehaves the same way each time: both end `kind`
/// with `error`, each had a fresh program (the second under the process number an `info`
/// moves to), each wrote a log line and a notice, and no program is left running.
async fn misbehaves(script: &str, f: &str, kind: EventType, error: &str) -> Result<String, String> {
    let mut broken = Broken::new(script)?;
    for _ in 0..2 {
        let done = broken.invoke(f).await?;
        assert_eq!(done.kind, kind, "{done:?}");
        assert_eq!(done.error, Some(json!(error)));
        // Never a value the program did not give: the argument, as for any operation that did
        // not (certainly) happen.
        assert_eq!(done.value, if f == "read" { Value::Null } else { json!(5) });
    }
    let starts = broken.starts();
    let processes: Vec<u64> = starts.iter().map(|&(_, p)| p).collect();
    // `info`: the operation may be in flight, so the process never runs again; `fail` (never
    // sent): the fresh program is the same process.
    let expected = if kind == EventType::Info {
        vec![4, 14]
    } else {
        vec![4, 4]
    };
    assert_eq!(processes, expected, "{starts:?}\n{}", broken.log());
    let next = if kind == EventType::Info { 24 } else { 4 };
    assert_eq!(broken.client.process(), next);
    assert_eq!(broken.client.starts(), 2);
    assert_eq!(broken.notices(), vec![error.to_owned(); 2]);
    let log = broken.log();
    assert_eq!(log.matches(error).count(), 2, "{log}");
    for (pid, _) in starts {
        assert!(dead(pid), "program {pid} still runs");
    }
    Ok(log)
}

const READY: &str = "echo '{\"type\":\"ready\"}'";

#[tokio::test]
async fn a_program_that_crashes_makes_info_with_its_exit_status() -> Result<(), String> {
    let script = format!("{READY}\nread -r op\necho 'going down' >&2\nexit 3");
    let log = misbehaves(
        &script,
        "write",
        EventType::Info,
        "stdio client exited with status 3",
    )
    .await?;
    // The program's stderr is in the same log.
    assert_eq!(log.matches("going down").count(), 2, "{log}");
    Ok(())
}

#[tokio::test]
async fn a_program_that_never_answers_is_timed_out_with_everything_it_started() -> Result<(), String>
{
    // The program waits on a child of its own: killing the process group must take both.
    let script = format!("{READY}\nread -r op\nsleep 30 &\necho $! >> \"$1.children\"\nwait");
    let mut broken = Broken::new(&script)?;
    let started = Instant::now();
    let done = broken.invoke("write").await?;
    assert!(started.elapsed() >= SHORT, "{:?}", started.elapsed());
    assert_eq!(done.kind, EventType::Info);
    assert_eq!(
        done.error,
        Some(json!("stdio client timed out after 300 ms"))
    );
    let children = std::fs::read_to_string(broken.dir.path().join("starts.children"))
        .map_err(|e| e.to_string())?;
    for pid in children.lines().filter_map(|l| l.trim().parse().ok()) {
        assert!(dead(pid), "the program's child {pid} still runs");
    }
    drop(broken);
    misbehaves(
        &script,
        "write",
        EventType::Info,
        "stdio client timed out after 300 ms",
    )
    .await
    .map(drop)
}

#[tokio::test]
async fn a_program_that_prints_garbage_makes_info_quoting_it() -> Result<(), String> {
    let script = format!("{READY}\nread -r op\necho 'hello, not json'\nread -r op");
    misbehaves(
        &script,
        "read",
        EventType::Info,
        "stdio client answered garbage: hello, not json",
    )
    .await
    .map(drop)
}

#[tokio::test]
async fn an_ok_read_without_a_value_is_info() -> Result<(), String> {
    let script = format!("{READY}\nread -r op\necho '{{\"type\":\"ok\"}}'\nread -r op");
    misbehaves(
        &script,
        "read",
        EventType::Info,
        "stdio client answered ok without a value for read",
    )
    .await
    .map(drop)
}

#[tokio::test]
async fn a_program_that_never_says_ready_makes_fail_the_operation_it_never_got()
-> Result<(), String> {
    misbehaves(
        "sleep 30",
        "write",
        EventType::Fail,
        "stdio client did not say ready within 300 ms",
    )
    .await?;
    misbehaves(
        "exit 7",
        "write",
        EventType::Fail,
        "stdio client exited with status 7 before it was ready",
    )
    .await
    .map(drop)
}

#[tokio::test]
async fn a_program_that_cannot_start_fails_without_spinning() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let missing = dir.path().join("no-such-client");
    let program = StdioProgram::new(missing.display().to_string(), Vec::<String>::new());
    let mut client = StdioClient::new(program, Vec::new(), dir.path().join("c.log"), SHORT);
    let read = Invocation {
        f: "read".into(),
        key: Some("r".into()),
        value: Value::Null,
    };
    let first = client.invoke(&read).await;
    assert_eq!(first.kind, EventType::Fail);
    let error = first.error.as_ref().and_then(Value::as_str).unwrap_or("");
    assert!(
        error.starts_with(&format!("stdio client {} cannot start", missing.display())),
        "{error}"
    );
    // The next attempt waits a little first, so a run with a missing program does not spin.
    let started = Instant::now();
    let second = client.invoke(&read).await;
    assert_eq!(second.kind, EventType::Fail);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{started:?}"
    );
    assert_eq!(client.starts(), 0);
    Ok(())
}

#[tokio::test]
async fn answers_are_trusted_and_an_info_answer_starts_a_fresh_program() -> Result<(), String> {
    // Answers by operation: a read reads 7 from n2, a write fails, a cas is indeterminate.
    let script = format!(
        "{READY}\nwhile read -r op; do\ncase \"$op\" in\n\
         *'\"read\"'*) echo '{{\"type\":\"ok\",\"value\":7,\"node\":\"n2\"}}' ;;\n\
         *'\"write\"'*) echo '{{\"type\":\"fail\",\"error\":\"refused\"}}' ;;\n\
         *) echo '{{\"type\":\"info\",\"error\":\"unsure\"}}' ;;\nesac\ndone"
    );
    let mut broken = Broken::new(&script)?;
    let r = broken.invoke("read").await?;
    assert_eq!(
        (r.kind, &r.value, r.node.as_deref()),
        (EventType::Ok, &json!(7), Some("n2"))
    );
    let w = broken.invoke("write").await?;
    assert_eq!((w.kind, w.error), (EventType::Fail, Some(json!("refused"))));
    assert_eq!(broken.client.starts(), 1, "a fail keeps the program");
    let c = broken.invoke("cas").await?;
    assert_eq!((c.kind, c.error), (EventType::Info, Some(json!("unsure"))));
    assert_eq!(broken.client.process(), 14);
    let r = broken.invoke("read").await?;
    assert_eq!(r.kind, EventType::Ok);
    let processes: Vec<u64> = broken.starts().iter().map(|&(_, p)| p).collect();
    assert_eq!(processes, vec![4, 14]);
    // The program's own info is normal under faults: logged, not a notice.
    assert!(broken.notices().is_empty());
    assert!(broken.log().contains("answered info"), "{}", broken.log());
    broken.client.close().await;
    for (pid, _) in broken.starts() {
        assert!(dead(pid), "program {pid} still runs after close");
    }
    Ok(())
}

#[tokio::test]
async fn a_line_nobody_asked_for_is_never_taken_as_the_next_answer() -> Result<(), String> {
    // Two answers to the first operation: the second must not answer the next one.
    let script = format!(
        "{READY}\nread -r op\necho '{{\"type\":\"ok\",\"value\":1}}'\n\
         echo '{{\"type\":\"ok\",\"value\":2}}'\nwhile read -r op; do :; done"
    );
    let mut broken = Broken::new(&script)?;
    let first = broken.invoke("read").await?;
    assert_eq!((first.kind, first.value), (EventType::Ok, json!(1)));
    // Both lines are written at once; give the second time to reach the pipe.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = broken.invoke("read").await?;
    assert_eq!(second.kind, EventType::Info, "{second:?}");
    assert_eq!(
        second.error,
        Some(json!(
            "stdio client wrote a line nobody asked for: {\"type\":\"ok\",\"value\":2}"
        ))
    );
    assert_eq!(broken.client.process(), 14);
    assert_eq!(broken.notices().len(), 1);
    Ok(())
}
