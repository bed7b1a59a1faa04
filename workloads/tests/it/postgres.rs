//! `PostgresClient` against a real PostgreSQL 15 server on loopback (127.0.0.81.. with a free
//! port, data in the test's temp dir). PostgreSQL refuses to run as root, so the server runs as
//! the `postgres` account the Debian package creates, in its own process group,
//! killed when the guard drops (also on panic). Skipped with a reason without root or the
//! packages, except under FAULTLINE_REQUIRE_PRIVILEGED=1, where that fails.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, ModelKind, Verdict, check_events};
use faultline_workloads::{
    Client, Completion, Generator, Invocation, NodeAddr, PostgresClient, PostgresConfig,
    PostgresReads, WorkloadKind, WorkloadSpec, postgres_setup,
};
use serde_json::{Value, json};

const BIN: &str = "/usr/lib/postgresql/15/bin";
const TIMEOUT: Duration = Duration::from_millis(2000);

/// Whether this machine can run a PostgreSQL server for a test; says why not (or fails, where
/// CI demands it).
fn postgres_or_skip(test: &str) -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    let installed = Path::new(BIN).join("postgres").exists() && postgres_ids().is_some();
    if root && installed {
        return true;
    }
    let reason = "needs root and PostgreSQL 15 (Debian: apt-get install postgresql-15)";
    assert!(
        std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
        "{test}: FAULTLINE_REQUIRE_PRIVILEGED=1 but it {reason}"
    );
    eprintln!("skipping {test}: it {reason}");
    false
}

/// A PostgreSQL server of the test's own.
struct Server {
    _dir: tempfile::TempDir,
    data: PathBuf,
    addr: NodeAddr,
    child: Option<Child>,
}

/// The `postgres` account's uid and gid.
fn postgres_ids() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// Runs a PostgreSQL program as the `postgres` account: set in the child before exec (no
/// `runuser` in between, whose session would keep signals to our process group from reaching
/// the server).
fn as_postgres(program: &str) -> Result<Command, String> {
    let (uid, gid) = postgres_ids().ok_or("no postgres account")?;
    let mut command = Command::new(Path::new(BIN).join(program));
    command.uid(uid).gid(gid).env_remove("HOME");
    Ok(command)
}

impl Server {
    /// initdb and start on 127.0.0.`host` with a free port.
    fn start(host: u8, read_only: bool) -> Result<Server, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // The server's account must reach its data folder inside root's temp dir.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let out = as_postgres("initdb")?
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let ip = format!("127.0.0.{host}");
        let port = TcpListener::bind((ip.as_str(), 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let mut server = Server {
            _dir: dir,
            data,
            addr: NodeAddr {
                id: 1,
                addr: format!("{ip}:{port}"),
            },
            child: None,
        };
        server.spawn(read_only)?;
        Ok(server)
    }

    fn spawn(&mut self, read_only: bool) -> Result<(), String> {
        let (ip, port) = self.addr.addr.rsplit_once(':').ok_or("bad address")?;
        let mut command = as_postgres("postgres")?;
        command
            .arg("-D")
            .arg(&self.data)
            .args(["-c", &format!("listen_addresses={ip}"), "-p", port])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.data.display()))
            .args([
                "-c",
                &format!(
                    "default_transaction_read_only={}",
                    if read_only { "on" } else { "off" }
                ),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = command.spawn().map_err(|e| format!("postgres: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        // Accepting TCP is not ready: a starting server answers 57P03. pg_isready says when
        // it takes sessions.
        while Instant::now() < deadline {
            let ready = Command::new(Path::new(BIN).join("pg_isready"))
                .args(["-q", "-h", ip, "-p", port])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("postgres did not accept connections within 30 s".into())
    }

    /// SIGKILL to the server's whole process group (postmaster and backends).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: kill(2) on the process group our own unreaped child leads.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.wait();
        }
    }

    /// `sig` to the postmaster and every process under it. Not to its process group: each
    /// backend calls setsid(2) when it starts (PostgreSQL's InitPostmasterChild), so a signal
    /// to the group reaches the postmaster alone and a "paused" server goes on answering.
    fn signal(&self, sig: i32) {
        let Some(root) = self.child.as_ref().map(Child::id) else {
            return;
        };
        for pid in process_tree(root) {
            if let Ok(pid) = i32::try_from(pid) {
                // SAFETY: kill(2) on a process of our own server's tree.
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        }
    }
}

/// `root` and its descendants, from /proc (parents before children).
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn config(workload: WorkloadKind) -> PostgresConfig {
    PostgresConfig {
        user: "postgres".into(),
        dbname: "postgres".into(),
        reads: PostgresReads::Primary,
        workload,
        timeout: TIMEOUT,
    }
}

fn op(f: &str, key: &str, value: Value) -> Invocation {
    Invocation {
        f: f.into(),
        key: Some(key.into()),
        value,
    }
}

fn assert_kind(c: &Completion, kind: EventType) {
    assert_eq!(c.kind, kind, "{c:?}");
}

#[tokio::test]
async fn every_operation_round_trips_as_one_statement() -> Result<(), String> {
    if !postgres_or_skip("every_operation_round_trips_as_one_statement") {
        return Ok(());
    }
    let server = Server::start(81, false)?;
    let nodes = vec![server.addr.clone()];
    postgres_setup(&nodes, &config(WorkloadKind::Register))
        .await
        .map_err(|e| e.to_string())?;
    let mut c = PostgresClient::new(nodes.clone(), config(WorkloadKind::Register), 0);
    let read = c.invoke(&op("read", "r", Value::Null)).await;
    assert_kind(&read, EventType::Ok);
    assert_eq!(read.value, Value::Null, "never written: nil");
    assert_eq!(read.node.as_deref(), Some("n1"));
    assert_kind(&c.invoke(&op("write", "r", json!(3))).await, EventType::Ok);
    let cas = c.invoke(&op("cas", "r", json!([3, 4]))).await;
    assert_kind(&cas, EventType::Ok);
    assert_eq!(cas.value, json!([3, 4]));
    let mismatch = c.invoke(&op("cas", "r", json!([3, 5]))).await;
    assert_kind(&mismatch, EventType::Fail);
    assert_eq!(
        c.invoke(&op("read", "r", Value::Null)).await.value,
        json!(4)
    );

    let mut lists = PostgresClient::new(nodes.clone(), config(WorkloadKind::Append), 0);
    assert_eq!(
        lists.invoke(&op("read", "l", Value::Null)).await.value,
        Value::Null
    );
    for e in [1, 2, 3] {
        let a = lists.invoke(&op("append", "l", json!(e))).await;
        assert_kind(&a, EventType::Ok);
        assert_eq!(a.value, json!(e), "an append's ok carries its element");
    }
    assert_eq!(
        lists.invoke(&op("read", "l", Value::Null)).await.value,
        json!([1, 2, 3])
    );

    let mut sets = PostgresClient::new(nodes, config(WorkloadKind::Set), 0);
    for e in [5, 2] {
        let a = sets.invoke(&op("add", "s", json!(e))).await;
        assert_kind(&a, EventType::Ok);
        assert_eq!(a.value, Value::Null);
    }
    assert_eq!(
        sets.invoke(&op("read", "s", Value::Null)).await.value,
        json!([2, 5])
    );
    Ok(())
}

#[tokio::test]
async fn a_read_only_server_refuses_writes_definitely() -> Result<(), String> {
    if !postgres_or_skip("a_read_only_server_refuses_writes_definitely") {
        return Ok(());
    }
    // A replica (or a demoted primary) is read-only: no read-write session is found, nothing
    // is sent, the write did not happen. With reads: any, reads still go to it.
    let server = Server::start(82, true)?;
    let nodes = vec![server.addr.clone()];
    let mut c = PostgresClient::new(nodes.clone(), config(WorkloadKind::Register), 0);
    let write = c.invoke(&op("write", "r", json!(1))).await;
    assert_kind(&write, EventType::Fail);
    let mut any = config(WorkloadKind::Register);
    any.reads = PostgresReads::Any;
    let mut reader = PostgresClient::new(nodes, any, 0);
    let read = reader.invoke(&op("read", "r", Value::Null)).await;
    // The table was never created on this server: the read errs, and a read that errs is fail.
    assert_kind(&read, EventType::Fail);
    assert!(
        read.error
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|e| e.starts_with("42P01")),
        "{read:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_write_in_flight_when_the_server_dies_is_info_and_the_client_reconnects()
-> Result<(), String> {
    if !postgres_or_skip("a_write_in_flight_when_the_server_dies_is_info_and_the_client_reconnects")
    {
        return Ok(());
    }
    let mut server = Server::start(83, false)?;
    let nodes = vec![server.addr.clone()];
    postgres_setup(&nodes, &config(WorkloadKind::Register))
        .await
        .map_err(|e| e.to_string())?;
    let mut c = PostgresClient::new(nodes.clone(), config(WorkloadKind::Register), 0);
    assert_kind(&c.invoke(&op("write", "r", json!(1))).await, EventType::Ok);
    // Paused: the statement is sent and never answered within the timeout.
    server.signal(libc::SIGSTOP);
    let write = c.invoke(&op("write", "r", json!(2))).await;
    assert_kind(&write, EventType::Info);
    let read = c.invoke(&op("read", "r", Value::Null)).await;
    assert_kind(&read, EventType::Fail);
    server.signal(libc::SIGCONT);
    // Killed while a connection is open: the next write finds no server (fail: nothing sent).
    server.kill();
    let write = c.invoke(&op("write", "r", json!(3))).await;
    assert_kind(&write, EventType::Fail);
    server.spawn(false)?;
    // The restarted server accepts connections while it recovers ("57P03 the database system
    // is starting up"): each such read is a fail, until it is up.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut read = c.invoke(&op("read", "r", Value::Null)).await;
    while read.kind == EventType::Fail && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        read = c.invoke(&op("read", "r", Value::Null)).await;
    }
    assert_kind(&read, EventType::Ok);
    // The paused write may have committed: 1 or 2, never 3.
    assert!(read.value == json!(1) || read.value == json!(2), "{read:?}");
    Ok(())
}

#[tokio::test]
async fn a_concurrent_register_history_with_a_pause_is_linearizable() -> Result<(), String> {
    if !postgres_or_skip("a_concurrent_register_history_with_a_pause_is_linearizable") {
        return Ok(());
    }
    const WORKERS: usize = 5;
    let server = Server::start(84, false)?;
    let nodes = vec![server.addr.clone()];
    postgres_setup(&nodes, &config(WorkloadKind::Register))
        .await
        .map_err(|e| e.to_string())?;
    let generator = Arc::new(Mutex::new(Generator::new(
        WorkloadSpec::defaults(WorkloadKind::Register),
        WORKERS,
        11,
    )));
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let start = Instant::now();
    let stop_at = start + Duration::from_secs(4);
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let generator = Arc::clone(&generator);
        let events = Arc::clone(&events);
        let mut client = PostgresClient::new(nodes.clone(), config(WorkloadKind::Register), worker);
        workers.spawn(async move {
            let mut process = worker as u64;
            let record = |process: u64, kind, inv: &Invocation, c: Option<&Completion>| {
                if let Ok(mut events) = events.lock() {
                    let index = events.len() as u64;
                    events.push(Event {
                        index,
                        time: u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
                        process: Process::Client(process),
                        kind,
                        f: inv.f.clone(),
                        key: inv.key.clone(),
                        value: c.map_or_else(|| inv.value.clone(), |c| c.value.clone()),
                        error: c.and_then(|c| c.error.clone()),
                        node: c.and_then(|c| c.node.clone()),
                    });
                }
            };
            while Instant::now() < stop_at {
                let Some(inv) = generator.lock().ok().map(|mut g| g.next_invocation(worker)) else {
                    return;
                };
                record(process, EventType::Invoke, &inv, None);
                let c = client.invoke(&inv).await;
                record(process, c.kind, &inv, Some(&c));
                if c.kind == EventType::Info {
                    process += WORKERS as u64;
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.signal(libc::SIGSTOP);
    tokio::time::sleep(TIMEOUT + Duration::from_millis(500)).await;
    server.signal(libc::SIGCONT);
    while let Some(joined) = workers.join_next().await {
        joined.map_err(|e| format!("worker: {e}"))?;
    }
    let events = events.lock().map_err(|e| e.to_string())?.clone();
    let count = |kind| events.iter().filter(|e| e.kind == kind).count();
    eprintln!(
        "history: {} ok, {} fail, {} info",
        count(EventType::Ok),
        count(EventType::Fail),
        count(EventType::Info)
    );
    assert!(
        count(EventType::Ok) >= 50,
        "too few operations went through"
    );
    assert!(
        count(EventType::Info) >= 1,
        "the pause left writes in doubt"
    );
    let budget = Budget {
        timeout: Some(Duration::from_secs(60)),
        memory_limit: None,
    };
    let result =
        check_events(&events, ModelKind::CasRegister, None, budget).map_err(|e| e.to_string())?;
    assert_eq!(result.verdict, Verdict::Linearizable, "{result:?}");
    Ok(())
}
