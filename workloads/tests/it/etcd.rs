//! `EtcdClient` and `etcd_leader` against a real three-member etcd 3.4 cluster on loopback
//! (127.0.0.71, .72, .73 with free ports; never 127.0.0.1:2379/2380, where a packaged etcd may
//! run). Each test starts its own cluster; every member runs in its own process group, killed
//! with it when the guard drops (also on panic) and when the test thread dies (PDEATHSIG).
//! Skipped with a reason when `etcd` or `etcdctl` is missing, except under
//! FAULTLINE_REQUIRE_PRIVILEGED=1, where that fails.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, ModelKind, Verdict, check_events};
use faultline_workloads::{
    Client, Completion, EtcdClient, EtcdReads, Generator, Invocation, NodeAddr, WorkloadKind,
    WorkloadSpec, etcd_leader,
};
use serde_json::{Value, json};

/// The first member's address is 127.0.0.FIRST_HOST (kvnode's test clusters use .30 to .3x).
const FIRST_HOST: u8 = 71;
/// Raft timings: fast elections, yet slow enough that a loaded two-core CI machine does not
/// hold one every second.
const HEARTBEAT_MS: u32 = 100;
const ELECTION_MS: u32 = 1000;
const TIMEOUT: Duration = Duration::from_millis(1000);
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Whether etcd and etcdctl are installed; says why not (or fails, where CI demands them).
fn etcd_or_skip(test: &str) -> bool {
    let runs = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("etcd", "--version") && runs("etcdctl", "version") {
        return true;
    }
    let reason = "needs etcd and etcdctl (Debian: apt-get install etcd-server etcd-client)";
    assert!(
        std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
        "{test}: FAULTLINE_REQUIRE_PRIVILEGED=1 but it {reason}"
    );
    eprintln!("skipping {test}: it {reason}");
    false
}

struct Member {
    name: String,
    client: SocketAddr,
    log_path: PathBuf,
    child: Child,
}

impl Member {
    /// `sig` to the member's whole process group.
    fn signal(&self, sig: i32) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on the process group our own unreaped child leads.
            unsafe {
                libc::kill(-pid, sig);
            }
        }
    }

    /// SIGKILL to the member's whole process group (stopped or not), then reaps it.
    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

struct EtcdCluster {
    members: Vec<Member>,
    http: reqwest::Client,
    /// Data dirs and logs; removed after the members are killed (fields drop after `drop`).
    _dir: tempfile::TempDir,
}

/// Free `(client, peer)` ports per host, found by binding port 0 (all held at once).
fn free_addrs(n: usize) -> Result<Vec<(SocketAddr, SocketAddr)>, String> {
    let mut listeners = Vec::new();
    for i in 0..n {
        let host = FIRST_HOST + u8::try_from(i).map_err(|e| e.to_string())?;
        for _ in 0..2 {
            let l = TcpListener::bind(SocketAddr::from(([127, 0, 0, host], 0)))
                .map_err(|e| format!("bind 127.0.0.{host}:0: {e}"))?;
            listeners.push(l);
        }
    }
    let addrs = listeners
        .iter()
        .map(|l| l.local_addr().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(addrs.chunks(2).map(|p| (p[0], p[1])).collect())
}

impl EtcdCluster {
    /// Starts `n` members and waits until each is healthy and all agree on a leader.
    async fn start(n: usize) -> Result<EtcdCluster, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let addrs = free_addrs(n)?;
        let initial_cluster = addrs
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("n{}=http://{peer}", i + 1))
            .collect::<Vec<_>>()
            .join(",");
        // Unique per cluster, so a member can never join another test's cluster.
        let token = dir.path().file_name().map_or_else(
            || "faultline".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut cluster = EtcdCluster {
            members: Vec::new(),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_millis(500))
                .build()
                .map_err(|e| e.to_string())?,
            _dir: dir,
        };
        for (i, (client, peer)) in addrs.iter().enumerate() {
            let name = format!("n{}", i + 1);
            let log_path = cluster._dir.path().join(format!("{name}.log"));
            let log = File::create(&log_path).map_err(|e| format!("member log: {e}"))?;
            let mut cmd = Command::new("etcd");
            cmd.args(member_args(
                &name,
                &cluster._dir.path().join(&name).to_string_lossy(),
                *client,
                *peer,
                &initial_cluster,
                &token,
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
            // SAFETY: prctl is async-signal-safe; it asks the kernel to SIGKILL the member
            // when the thread that spawned it exits.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = cmd.spawn().map_err(|e| format!("spawn etcd: {e}"))?;
            cluster.members.push(Member {
                name,
                client: *client,
                log_path,
                child,
            });
        }
        cluster.wait_until_ready().await?;
        Ok(cluster)
    }

    /// The members as a client takes them (`nN` ↔ member name `nN`).
    fn node_addrs(&self) -> Vec<NodeAddr> {
        (1..)
            .zip(&self.members)
            .map(|(id, m)| NodeAddr {
                id,
                addr: m.client.to_string(),
            })
            .collect()
    }

    fn index_of(&self, name: &str) -> Result<usize, String> {
        self.members
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| format!("no member named {name}"))
    }

    async fn healthy(&self, member: &Member) -> bool {
        let url = format!("http://{}/health", member.client);
        let Ok(response) = self.http.get(url).send().await else {
            return false;
        };
        response
            .json::<Value>()
            .await
            .is_ok_and(|v| v["health"] == "true")
    }

    async fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            let mut all = true;
            for m in &self.members {
                all &= self.healthy(m).await;
            }
            if all && etcd_leader(&self.http, &self.node_addrs()).await.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "etcd not healthy with a leader within {READY_WITHIN:?}"
        ))
    }

    /// The leader as `etcd_leader` names it, waiting out an election.
    async fn leader(&self) -> Result<String, String> {
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(name) = etcd_leader(&self.http, &self.node_addrs()).await {
                return Ok(name);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("no agreed leader".to_owned())
    }
}

/// One member's etcd argv (without the program): the definition in `systems/etcd.yaml` is
/// meant to say the same.
fn member_args(
    name: &str,
    data_dir: &str,
    client: SocketAddr,
    peer: SocketAddr,
    initial_cluster: &str,
    token: &str,
) -> Vec<String> {
    [
        ("--name", name.to_owned()),
        ("--data-dir", data_dir.to_owned()),
        ("--listen-client-urls", format!("http://{client}")),
        ("--advertise-client-urls", format!("http://{client}")),
        ("--listen-peer-urls", format!("http://{peer}")),
        ("--initial-advertise-peer-urls", format!("http://{peer}")),
        ("--initial-cluster", initial_cluster.to_owned()),
        ("--initial-cluster-state", "new".to_owned()),
        ("--initial-cluster-token", token.to_owned()),
        ("--heartbeat-interval", HEARTBEAT_MS.to_string()),
        ("--election-timeout", ELECTION_MS.to_string()),
        ("--logger", "zap".to_owned()),
        ("--log-outputs", "stderr".to_owned()),
    ]
    .into_iter()
    .map(|(flag, value)| format!("{flag}={value}"))
    .collect()
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for member in &mut self.members {
            member.kill();
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&member.log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!(
                    "---- etcd {} log (last lines, newest first) ----",
                    member.name
                );
                for line in tail {
                    eprintln!("{line}");
                }
            }
        }
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
async fn register_round_trips_through_the_json_gateway() -> Result<(), String> {
    if !etcd_or_skip("register_round_trips_through_the_json_gateway") {
        return Ok(());
    }
    let cluster = EtcdCluster::start(3).await?;
    let nodes = cluster.node_addrs();
    let mut client = EtcdClient::new(nodes.clone(), EtcdReads::Linearizable, TIMEOUT).with_home(1);

    let absent = client.invoke(&op("read", "r", Value::Null)).await;
    assert_eq!((absent.kind, &absent.value), (EventType::Ok, &Value::Null));
    assert_eq!(
        absent.node.as_deref(),
        Some("n2"),
        "the home member answers"
    );

    let w = client.invoke(&op("write", "r", json!(1))).await;
    assert_eq!(
        (w.kind, &w.value, &w.error),
        (EventType::Ok, &json!(1), &None)
    );
    // The number written comes back a number, not its text.
    let r = client.invoke(&op("read", "r", Value::Null)).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!(1)));

    let cas = client.invoke(&op("cas", "r", json!([1, 2]))).await;
    assert_eq!((cas.kind, cas.value), (EventType::Ok, json!([1, 2])));
    let mismatch = client.invoke(&op("cas", "r", json!([1, 3]))).await;
    assert_kind(&mismatch, EventType::Fail);
    assert_eq!(mismatch.value, json!([1, 3]));
    assert_eq!(mismatch.error, Some(json!("cas_mismatch")));
    // A cas on a key never written: the compare fails, nothing is created.
    let on_absent = client.invoke(&op("cas", "nothing", json!([1, 2]))).await;
    assert_kind(&on_absent, EventType::Fail);
    let r = client.invoke(&op("read", "r", Value::Null)).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, json!(2)));
    let r = client.invoke(&op("read", "nothing", Value::Null)).await;
    assert_eq!((r.kind, r.value), (EventType::Ok, Value::Null));

    // Serializable reads, from each member's own state: the write was acknowledged by the
    // member it was sent to only once applied there, so that member serves it at once.
    for home in 0..nodes.len() {
        let mut writer =
            EtcdClient::new(nodes.clone(), EtcdReads::Linearizable, TIMEOUT).with_home(home);
        let mut reader =
            EtcdClient::new(nodes.clone(), EtcdReads::Serializable, TIMEOUT).with_home(home);
        let key = format!("s{home}");
        let value = json!(10 + home);
        assert_kind(
            &writer.invoke(&op("write", &key, value.clone())).await,
            EventType::Ok,
        );
        let r = reader.invoke(&op("read", &key, Value::Null)).await;
        assert_eq!((r.kind, r.value), (EventType::Ok, value));
        assert_eq!(r.node, Some(format!("n{}", home + 1)));
    }

    // Operations the etcd client does not speak are refused before anything is sent.
    let append = client.invoke(&op("append", "l", json!(1))).await;
    assert_eq!((append.kind, append.node), (EventType::Fail, None));
    Ok(())
}

#[tokio::test]
async fn etcd_leader_names_the_member_etcdctl_calls_leader() -> Result<(), String> {
    if !etcd_or_skip("etcd_leader_names_the_member_etcdctl_calls_leader") {
        return Ok(());
    }
    let cluster = EtcdCluster::start(3).await?;
    let endpoints = cluster
        .members
        .iter()
        .map(|m| format!("http://{}", m.client))
        .collect::<Vec<_>>()
        .join(",");
    let etcdctl = |args: &[&str]| -> Result<Value, String> {
        let out = Command::new("etcdctl")
            .arg(format!("--endpoints={endpoints}"))
            .args(args)
            .args(["-w", "json"])
            .output()
            .map_err(|e| format!("etcdctl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "etcdctl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("etcdctl {args:?} JSON: {e}"))
    };
    // An election between the two looks would make them disagree: retry a few times.
    let mut last = String::new();
    for _ in 0..5 {
        let ours = cluster.leader().await?;
        let status = etcdctl(&["endpoint", "status"])?;
        let leaders: Vec<&Value> = status
            .as_array()
            .ok_or("endpoint status is not a list")?
            .iter()
            .map(|s| &s["Status"]["leader"])
            .collect();
        let members = etcdctl(&["member", "list"])?;
        let theirs = members["members"]
            .as_array()
            .ok_or("member list has no members")?
            .iter()
            .find(|m| leaders.iter().all(|l| **l == m["ID"]))
            .and_then(|m| m["name"].as_str())
            .map(str::to_owned);
        if theirs.as_deref() == Some(ours.as_str()) {
            return Ok(());
        }
        last = format!("etcd_leader: {ours}, etcdctl: {theirs:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last)
}

#[tokio::test]
async fn a_killed_leader_refuses_and_the_client_moves_on() -> Result<(), String> {
    if !etcd_or_skip("a_killed_leader_refuses_and_the_client_moves_on") {
        return Ok(());
    }
    let mut cluster = EtcdCluster::start(3).await?;
    let nodes = cluster.node_addrs();
    let leader = cluster.index_of(&cluster.leader().await?)?;
    let mut client =
        EtcdClient::new(nodes.clone(), EtcdReads::Linearizable, TIMEOUT).with_home(leader);
    assert_kind(
        &client.invoke(&op("write", "k", json!(1))).await,
        EventType::Ok,
    );

    eprintln!("phase: SIGKILL the leader n{}", leader + 1);
    cluster.members[leader].kill();

    // A client that knows only the dead member: refused, nothing sent, certainly not applied.
    let mut alone = EtcdClient::new(
        vec![nodes[leader].clone()],
        EtcdReads::Linearizable,
        TIMEOUT,
    );
    let refused = alone.invoke(&op("write", "k", json!(99))).await;
    assert_kind(&refused, EventType::Fail);
    assert_eq!(refused.error, Some(json!("connection refused")));

    // The client bound to it moves on: no write is `ok` from the dead member, and once a new
    // leader is elected writes are `ok` again from another.
    let mut last_ok = 1;
    let mut maybe = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut value = 1;
    while Instant::now() < deadline {
        value += 1;
        let c = client.invoke(&op("write", "k", json!(value))).await;
        eprintln!("write {value}: {:?} {:?} {:?}", c.kind, c.error, c.node);
        match c.kind {
            EventType::Ok => {
                assert_ne!(c.node, Some(format!("n{}", leader + 1)), "{c:?}");
                last_ok = value;
                if value > 4 {
                    break;
                }
            }
            EventType::Info => maybe.push(value),
            EventType::Fail | EventType::Invoke => {}
        }
    }
    assert!(last_ok > 1, "no write acknowledged after the leader died");
    // Never `ok` without effect: the register holds the last acknowledged write (or a later
    // one that ended in doubt).
    let r = client.invoke(&op("read", "k", Value::Null)).await;
    assert_kind(&r, EventType::Ok);
    let read = r.value.as_i64().ok_or(format!("read {r:?}"))?;
    assert!(
        read == last_ok || maybe.iter().any(|&m| m == read && m > last_ok),
        "read {read}, last acknowledged {last_ok}, in doubt {maybe:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_member_without_a_leader_refuses_writes_definitely() -> Result<(), String> {
    if !etcd_or_skip("a_member_without_a_leader_refuses_writes_definitely") {
        return Ok(());
    }
    let mut cluster = EtcdCluster::start(3).await?;
    let nodes = cluster.node_addrs();
    let survivor = (cluster.index_of(&cluster.leader().await?)? + 1) % 3;
    eprintln!("phase: kill every member but n{}", survivor + 1);
    for i in (0..3).filter(|&i| i != survivor) {
        cluster.members[i].kill();
    }
    // Past an election timeout the survivor campaigns and knows no leader; etcd refuses a
    // request carrying `hasleader` before proposing it.
    tokio::time::sleep(Duration::from_millis(u64::from(ELECTION_MS) * 3)).await;
    let mut client = EtcdClient::new(
        vec![nodes[survivor].clone()],
        EtcdReads::Linearizable,
        TIMEOUT,
    );
    let w = client.invoke(&op("write", "k", json!(1))).await;
    assert_kind(&w, EventType::Fail);
    assert_eq!(w.error, Some(json!("etcdserver: no leader")), "{w:?}");
    let r = client.invoke(&op("read", "k", Value::Null)).await;
    assert_kind(&r, EventType::Fail);
    Ok(())
}

/// What happens to the leader one second into a concurrent history.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// SIGKILL; it stays down.
    Kill,
    /// SIGSTOP for two election timeouts, then SIGCONT.
    Pause,
}

/// A short concurrent register history with the leader killed mid-way checks linearizable.
#[tokio::test]
async fn a_register_history_with_the_leader_killed_is_linearizable() -> Result<(), String> {
    if !etcd_or_skip("a_register_history_with_the_leader_killed_is_linearizable") {
        return Ok(());
    }
    concurrent_history(WorkloadKind::Register, ModelKind::CasRegister, Fault::Kill).await
}

/// The same for the kv workload with the leader paused and resumed mid-way.
#[tokio::test]
async fn a_kv_history_with_the_leader_paused_is_linearizable() -> Result<(), String> {
    if !etcd_or_skip("a_kv_history_with_the_leader_paused_is_linearizable") {
        return Ok(());
    }
    concurrent_history(WorkloadKind::Kv, ModelKind::Kv, Fault::Pause).await
}

/// Five clients for three seconds on `kind`'s generator, one `fault` on the leader after one
/// second, the history checked with `model`.
async fn concurrent_history(
    kind: WorkloadKind,
    model: ModelKind,
    fault: Fault,
) -> Result<(), String> {
    const WORKERS: usize = 5;
    let mut cluster = EtcdCluster::start(3).await?;
    let nodes = cluster.node_addrs();
    let generator = Arc::new(Mutex::new(Generator::new(
        WorkloadSpec::defaults(kind),
        WORKERS,
        7,
    )));
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let start = Instant::now();
    let stop_at = start + Duration::from_secs(3);
    let record = {
        let events = Arc::clone(&events);
        move |process: u64, kind: EventType, inv: &Invocation, c: Option<&Completion>| {
            let Ok(mut events) = events.lock() else {
                return;
            };
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
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let generator = Arc::clone(&generator);
        let record = record.clone();
        let mut client =
            EtcdClient::new(nodes.clone(), EtcdReads::Linearizable, TIMEOUT).with_home(worker);
        workers.spawn(async move {
            let mut process = worker as u64;
            while Instant::now() < stop_at {
                let Some(inv) = generator.lock().ok().map(|mut g| g.next_invocation(worker)) else {
                    return;
                };
                record(process, EventType::Invoke, &inv, None);
                let c = client.invoke(&inv).await;
                record(process, c.kind, &inv, Some(&c));
                // As Jepsen: a process whose operation is in doubt never invokes again.
                if c.kind == EventType::Info {
                    process += WORKERS as u64;
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let leader = cluster.index_of(&cluster.leader().await?)?;
    eprintln!("phase: {fault:?} the leader n{}", leader + 1);
    match fault {
        Fault::Kill => cluster.members[leader].kill(),
        Fault::Pause => {
            cluster.members[leader].signal(libc::SIGSTOP);
            tokio::time::sleep(Duration::from_millis(2 * u64::from(ELECTION_MS))).await;
            cluster.members[leader].signal(libc::SIGCONT);
        }
    }
    while let Some(joined) = workers.join_next().await {
        joined.map_err(|e| format!("worker: {e}"))?;
    }

    let events = events.lock().map_err(|e| e.to_string())?.clone();
    let count = |kind| events.iter().filter(|e| e.kind == kind).count();
    let after_fault_ok = events
        .iter()
        .filter(|e| e.kind == EventType::Ok && e.time > 1_000_000_000 && e.f != "read")
        .count();
    eprintln!(
        "history: {} ok, {} fail, {} info; {after_fault_ok} writes ok after the fault",
        count(EventType::Ok),
        count(EventType::Fail),
        count(EventType::Info)
    );
    assert!(
        count(EventType::Ok) >= 20,
        "too few operations went through"
    );
    let budget = Budget {
        timeout: Some(Duration::from_secs(60)),
        memory_limit: None,
    };
    let result = check_events(&events, model, None, budget).map_err(|e| e.to_string())?;
    assert_eq!(result.verdict, Verdict::Linearizable, "{result:?}");
    Ok(())
}
