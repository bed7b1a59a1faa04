//! SSH hosts against real `sshd`s: each test makes netns hosts, starts an sshd inside each
//! (a throw-away host key and client key pair made with ssh-keygen, a config of the test's own)
//! and reaches it only at the namespace's address. Needs root, ip, nft, /usr/sbin/sshd and
//! ssh-keygen: skipped with a reason otherwise (failed under FAULTLINE_REQUIRE_PRIVILEGED=1).

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use faultline::hosts::ssh::{SshHost, SshOptions, SshTarget};
use faultline::hosts::{Host, HostKind, Hosts, ProcessHandle, ProcessSpec};
use faultline_nemeses::NodeId;

use crate::hosts::in_netns;

const SSHD: &str = "/usr/sbin/sshd";

/// Whether these tests can run here; says why not (or fails, where CI demands them).
fn ssh_or_skip(test: &str) -> bool {
    let keygen = Command::new("ssh-keygen").arg("-?").output().is_ok();
    crate::common::prerequisites(
        test,
        faultline::hosts::netns::available() && Path::new(SSHD).exists() && keygen,
        "it needs root, ip, nft, /usr/sbin/sshd (openssh-server) and ssh-keygen",
    )
}

/// Netns hosts with an sshd in each, the keys and configs in a temp dir. Drop kills the sshds
/// and whatever runs in the namespaces, then the namespaces go.
struct SshdHosts {
    dir: tempfile::TempDir,
    sshds: Vec<ProcessHandle>,
    /// Declared last: dropped after the processes in it are killed.
    hosts: Hosts,
}

impl SshdHosts {
    async fn start(n: u32) -> SshdHosts {
        let ids: Vec<NodeId> = (1..=n).collect();
        let hosts = Hosts::create(HostKind::Netns, &ids).expect("create netns hosts");
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys"))
            .expect("authorized_keys");
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host *\n  UserKnownHostsFile {}\n  IdentitiesOnly yes\n  LogLevel ERROR\n",
                d.join("known_hosts").display()
            ),
        )
        .expect("ssh_config");
        let mut fixture = SshdHosts {
            dir,
            sshds: Vec::new(),
            hosts,
        };
        let hosts: Vec<_> = fixture
            .hosts
            .iter()
            .map(|(id, h)| (id, h.clone()))
            .collect();
        for (id, host) in hosts {
            let d = fixture.dir.path();
            let config = d.join(format!("sshd_config_{id}"));
            std::fs::write(
                &config,
                format!(
                    "ListenAddress {ip}\nPort 22\nHostKey {key}\nAuthorizedKeysFile {auth}\n\
                     PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\n\
                     StrictModes no\nPidFile {pid}\n",
                    ip = host.ip(),
                    key = d.join("host_key").display(),
                    auth = d.join("authorized_keys").display(),
                    pid = d.join(format!("sshd_{id}.pid")).display(),
                ),
            )
            .expect("sshd_config");
            let handle = host
                .spawn(ProcessSpec {
                    program: SSHD.into(),
                    args: vec!["-D".into(), "-e".into(), "-f".into(), path(&config)],
                    env: Vec::new(),
                    dir: None,
                    user: None,
                    log: d.join(format!("sshd_{id}.log")),
                })
                .await
                .expect("start sshd");
            fixture.sshds.push(handle);
            wait_listening(host.ip(), &d.join(format!("sshd_{id}.log")));
        }
        fixture
    }

    /// Node `id`'s inventory entry: root with the test's client key.
    fn target(&self, id: NodeId) -> SshTarget {
        SshTarget {
            address: self.hosts.get(id).expect("host").ip(),
            port: 22,
            user: "root".into(),
            identity: Some(self.dir.path().join("client_key")),
            sudo: false,
        }
    }

    fn options(&self) -> SshOptions {
        SshOptions {
            config_file: Some(self.dir.path().join("ssh_config")),
        }
    }

    async fn connect(&self, id: NodeId) -> SshHost {
        SshHost::connect(self.target(id), &self.options())
            .await
            .expect("connect over ssh")
    }
}

impl Drop for SshdHosts {
    fn drop(&mut self) {
        for ns in self.hosts.namespaces() {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .filter_map(|p| p.parse::<libc::pid_t>().ok())
                {
                    // SAFETY: kill(2) has no memory-safety preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        for sshd in &mut self.sshds {
            let _ = sshd.signal_tree(libc::SIGKILL);
            let _ = sshd.wait_blocking();
        }
    }
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen {}", path.display());
}

/// Waits up to 5 s for sshd to accept connections at `ip`:22.
fn wait_listening(ip: IpAddr, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let addr = SocketAddr::new(ip, 22);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd at {addr} did not listen: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a plain TCP client in node `from`'s namespace (binding nothing) connects to `to`:22
/// within 300 ms. A reset fails the test: a cut must look like lost packets.
fn connects(fixture: &SshdHosts, from: NodeId, to: IpAddr) -> bool {
    let ns = Path::new("/run/netns").join(fixture.hosts.get(from).expect("host").name());
    in_netns(ns, move || {
        match TcpStream::connect_timeout(&SocketAddr::new(to, 22), Duration::from_millis(300)) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => false,
            Err(e) => panic!("connect to {to}:22 failed instead of timing out: {e}"),
        }
    })
}

/// The nft tables (inet) listed on `host`.
async fn tables_on(host: &SshHost) -> String {
    let out = host
        .exec(&["nft", "list", "tables", "inet"])
        .await
        .expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pid_alive(pid: u32) -> bool {
    // A zombie (reaped by nobody yet) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, s)| s.trim_start().starts_with('Z'))
    })
}

fn remote_dirs_of(pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir("/tmp")
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        n.to_string_lossy()
                            .starts_with(&format!("faultline-{pid}-"))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssh_host_runs_commands_and_moves_files() {
    if !ssh_or_skip("an_ssh_host_runs_commands_and_moves_files") {
        return;
    }
    let fixture = SshdHosts::start(1).await;
    let host = fixture.connect(1).await;
    assert_eq!(host.ip(), fixture.target(1).address);
    assert!(host.name().starts_with("root@10.213."), "{}", host.name());

    // The command runs in the namespace (it sees the node's address), arguments arrive whole.
    let out = host
        .exec(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .await
        .expect("exec");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("{}/24", host.ip())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = host
        .exec(&["printf", "%s|", "a b", "it's", "$(echo no)"])
        .await
        .expect("exec");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|it's|$(echo no)|");
    let out = host.exec(&["sh", "-c", "exit 3"]).await.expect("exec");
    assert_eq!(
        out.status.code(),
        Some(3),
        "a failing command's status comes back"
    );

    // Files: bytes of every value round-trip; a missing file is an error naming the host.
    let file = PathBuf::from(host.remote_dir()).join("blob");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    host.write_file(&file, &bytes).await.expect("write");
    assert_eq!(host.read_file(&file).await.expect("read"), bytes);
    let err = host
        .read_file(Path::new("/nonexistent/faultline"))
        .await
        .expect_err("missing file");
    assert!(err.to_string().starts_with(host.name()), "{err}");

    // The run's directory carries the controller's marker and goes with clean_up.
    let me = std::process::id();
    assert!(
        host.remote_dir()
            .starts_with(&format!("/tmp/faultline-{me}-"))
    );
    assert!(Path::new(host.remote_dir()).is_dir());
    host.clean_up().await.expect("clean up");
    assert!(!Path::new(host.remote_dir()).exists());
    host.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_process_is_signalled_paused_logged_and_cleaned_up() {
    if !ssh_or_skip("a_remote_process_is_signalled_paused_logged_and_cleaned_up") {
        return;
    }
    let fixture = SshdHosts::start(1).await;
    let host = fixture.connect(1).await;
    let local_log = fixture.dir.path().join("n1.log");
    let spec = ProcessSpec {
        program: "/bin/sh".into(),
        args: vec![
            "-c".into(),
            "echo started in $(pwd) with $GREETING; exec sleep 300".into(),
        ],
        env: vec![("GREETING".into(), "hello there".into())],
        dir: Some("/".into()),
        user: None,
        log: local_log.clone(),
    };
    let process = host.spawn_remote(&spec).await.expect("spawn");
    assert!(pid_alive(process.pid), "the recorded pid is the process");
    assert!(host.is_running(&process).await.expect("ask"));
    // Its own session: the pid leads its group, so group signals reach it.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", process.pid)).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("comm")
        .1
        .split_whitespace()
        .collect();
    assert_eq!(
        fields[2],
        process.pid.to_string(),
        "process group = pid: {stat}"
    );
    assert_eq!(fields[3], process.pid.to_string(), "session = pid: {stat}");

    host.signal_tree(&process, "STOP").await.expect("stop");
    host.wait_stopped(&process, true).await.expect("wait");
    let states = host
        .thread_states(process.pid)
        .await
        .expect("states")
        .expect("runs");
    assert!(states.all_stopped(), "{states:?}");
    host.signal_tree(&process, "CONT").await.expect("cont");
    host.wait_stopped(&process, false).await.expect("wait");
    let states = host
        .thread_states(process.pid)
        .await
        .expect("states")
        .expect("runs");
    assert!(states.none_stopped(), "{states:?}");

    host.download_log(&process).await.expect("download the log");
    let log = std::fs::read_to_string(&local_log).expect("the log is in the run folder");
    assert!(log.contains("started in / with hello there"), "{log}");

    // clean_up kills what the run started (by its recorded pid) and removes its directory.
    host.clean_up().await.expect("clean up");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(process.pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!pid_alive(process.pid), "clean_up killed the process");
    assert!(!host.is_running(&process).await.expect("ask"));
    host.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_a_dead_controller_are_removed_at_the_next_start() {
    if !ssh_or_skip("leftovers_of_a_dead_controller_are_removed_at_the_next_start") {
        return;
    }
    let fixture = SshdHosts::start(1).await;
    let host = fixture.connect(1).await;
    // A pid that ran and is gone: a controller that died.
    let mut child = Command::new("true").spawn().expect("true");
    let dead = child.id();
    child.wait().expect("reap");
    let stale = format!("/tmp/faultline-{dead}-0");
    let survivor = format!(
        "mkdir -p {stale}/pids && {{ setsid sleep 300 > /dev/null 2>&1 < /dev/null & }} && echo $! > {stale}/pids/n1.pid && echo $!"
    );
    let out = host
        .exec(&["sh", "-c", &survivor])
        .await
        .expect("plant a leftover");
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a pid");
    assert!(pid_alive(pid));

    let stale_table = format!("faultline_ssh_{dead}_0");
    let planted = host
        .exec(&["nft", &format!("add table inet {stale_table}")])
        .await
        .expect("plant a table");
    assert!(planted.status.success());

    host.remove_stale().await.expect("remove stale");
    assert!(
        !tables_on(&host).await.contains(&stale_table),
        "the dead controller's table was deleted"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!pid_alive(pid), "the dead controller's process was killed");
    assert!(remote_dirs_of(dead).is_empty(), "its directory was removed");
    assert!(
        Path::new(host.remote_dir()).is_dir(),
        "a live controller's directory stays"
    );
    host.clean_up().await.expect("clean up");
    host.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_or_unreachable_host_is_an_error_naming_it() {
    if !ssh_or_skip("a_refusing_or_unreachable_host_is_an_error_naming_it") {
        return;
    }
    let fixture = SshdHosts::start(2).await;
    // A key the host does not know: refused.
    let d = fixture.dir.path();
    keygen(&d.join("stranger_key"));
    let mut refused = fixture.target(1);
    refused.identity = Some(d.join("stranger_key"));
    let err = SshHost::connect(refused.clone(), &fixture.options())
        .await
        .expect_err("refused");
    let text = err.to_string();
    eprintln!("refused: {text}");
    assert!(text.starts_with(&refused.label()), "{text}");
    assert!(text.contains("Permission denied"), "ssh says why: {text}");
    assert!(!text.contains('\n'), "one line: {text}");
    // Nothing listens on that port: unreachable.
    let mut closed = fixture.target(2);
    closed.port = 2222;
    let err = SshHost::connect(closed.clone(), &fixture.options())
        .await
        .expect_err("nothing listens");
    let text = err.to_string();
    eprintln!("unreachable: {text}");
    assert!(text.starts_with(&closed.label()), "{text}");
    assert!(text.contains("Connection refused"), "ssh says why: {text}");
    assert!(!text.contains('\n'), "one line: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssh_host_firewall_cuts_a_plain_tcp_client_and_heals() {
    if !ssh_or_skip("an_ssh_host_firewall_cuts_a_plain_tcp_client_and_heals") {
        return;
    }
    let fixture = SshdHosts::start(3).await;
    let host = fixture.connect(1).await;
    let (ip1, ip2) = (fixture.target(1).address, fixture.target(2).address);
    assert!(
        connects(&fixture, 2, ip1) && connects(&fixture, 3, ip1),
        "before the cut"
    );

    host.drop_input_from(&[ip2]).await.expect("partition");
    assert!(!connects(&fixture, 2, ip1), "2 cannot reach 1");
    assert!(connects(&fixture, 3, ip1), "3 still can");
    let out = host
        .exec(&["true"])
        .await
        .expect("the controller still reaches it");
    assert!(out.status.success());
    let table = host
        .remote_dir()
        .strip_prefix("/tmp/faultline-")
        .map(|marker| format!("faultline_ssh_{}", marker.replace('-', "_")))
        .expect("a marked directory");
    assert!(
        tables_on(&host).await.contains(&table),
        "its table carries the marker"
    );

    host.drop_input_from(&[]).await.expect("heal");
    assert!(connects(&fixture, 2, ip1), "healed");

    host.clean_up().await.expect("clean up");
    assert!(
        !tables_on(&host).await.contains(&table),
        "the table went with clean_up"
    );
    host.close().await.expect("close");
}

/// `faultline run` with `args` in a fresh directory: exit status, stderr, and whether the run
/// left anything in its store.
fn run_in_temp(files: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a fixture");
    }
    let out = crate::common::faultline()
        .current_dir(dir.path())
        .args(["run", "--store", "store", "--time-limit", "1"])
        .args(args)
        .output()
        .expect("faultline runs");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    (out.status.code(), stderr, dir.path().join("store").exists())
}

#[test]
fn bad_ssh_flags_and_inventories_are_one_line_errors_before_anything_starts() {
    let missing_user = "hosts:\n  - address: 192.0.2.1\n    port: 22\n";
    let one = "hosts:\n  - {address: 192.0.2.1, user: root}\n";
    let three = "hosts:\n  - {address: 192.0.2.1, user: root}\n  - {address: 192.0.2.2, user: root}\n  - {address: 192.0.2.3, user: root}\n";
    let files = [
        ("missing.yaml", missing_user),
        ("one.yaml", one),
        ("three.yaml", three),
    ];
    let cases: [(&[&str], &str); 5] = [
        (
            &["--hosts", "ssh", "--inventory", "missing.yaml"],
            "faultline: missing.yaml:2:5: hosts[0]: missing field `user`",
        ),
        (
            &["--hosts", "ssh"],
            "faultline: --hosts ssh needs --inventory FILE",
        ),
        (
            &["--hosts", "ssh", "--inventory", "one.yaml"],
            "faultline: --inventory: one.yaml lists 1 host(s); --nodes 3 needs one host per node",
        ),
        (
            &["--inventory", "three.yaml"],
            "faultline: --inventory: only with --hosts ssh",
        ),
        (
            &["--hosts", "ssh", "--inventory", "absent.yaml"],
            "faultline: absent.yaml: cannot read the inventory",
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr, stored) = run_in_temp(&files, args);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(!stored, "{args:?}: nothing written");
    }
}

impl SshdHosts {
    /// An inventory `name` in the test's directory: root at each (address, port, key), with the
    /// test's ssh_config (its own known_hosts).
    fn write_inventory(&self, name: &str, hosts: &[(IpAddr, u16, PathBuf)]) -> PathBuf {
        let d = self.dir.path();
        let mut text = String::from("hosts:\n");
        for (ip, port, key) in hosts {
            text.push_str(&format!(
                "  - {{address: {ip}, port: {port}, user: root, identity: {}}}\n",
                key.display()
            ));
        }
        text.push_str(&format!("ssh_config: {}\n", d.join("ssh_config").display()));
        let path = d.join(name);
        std::fs::write(&path, text).expect("write the inventory");
        path
    }

    /// Every host of the fixture, as they are.
    fn inventory(&self) -> PathBuf {
        let hosts: Vec<_> = self
            .hosts
            .iter()
            .map(|(_, h)| (h.ip(), 22, self.dir.path().join("client_key")))
            .collect();
        self.write_inventory("hosts.yaml", &hosts)
    }

    /// The nft tables of faultline's ssh runs (`faultline_ssh_<pid>_<n>`) of controller `pid`
    /// in any of the fixture's namespaces.
    fn tables_of(&self, pid: u32) -> Vec<String> {
        let mut found = Vec::new();
        for ns in self.hosts.namespaces() {
            let out = Command::new("ip")
                .args(["netns", "exec", &ns, "nft", "list", "tables", "inet"])
                .output()
                .expect("nft in the namespace");
            found.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| l.contains(&format!("faultline_ssh_{pid}_")))
                    .map(str::to_owned),
            );
        }
        found
    }
}

/// Processes of this machine (the ssh hosts are namespaces of it) whose command line names a
/// run directory of controller `pid`: its nodes.
fn node_processes_of(pid: u32) -> Vec<u32> {
    let marker = format!("/tmp/faultline-{pid}-");
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|&p| {
                    std::fs::read(format!("/proc/{p}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&marker))
                        && pid_alive(p)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits up to `limit` for `done`.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// The `faultline run` command against ssh hosts, store in `store`.
fn ssh_run(store: &Path, inventory: &Path, args: &[&str]) -> Command {
    let mut command = crate::common::faultline();
    command
        .args(["run", "--store"])
        .arg(store)
        .args(["--hosts", "ssh", "--inventory"])
        .arg(inventory)
        .args(args);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_ssh_hosts_reaches_a_verdict_with_every_node_log() {
    if !ssh_or_skip("a_run_on_ssh_hosts_reaches_a_verdict_with_every_node_log") {
        return;
    }
    let fixture = SshdHosts::start(3).await;
    let inventory = fixture.inventory();
    let store = fixture.dir.path().join("store");
    eprintln!("phase: a 10 s quorum run with partitions and kills on three ssh hosts");
    let child = ssh_run(
        &store,
        &inventory,
        &[
            "--replication",
            "quorum",
            "--nemesis",
            "partition,kill",
            "--time-limit",
            "10",
            "--recovery",
            "2",
            "--seed",
            "5",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("faultline runs");
    let controller = child.id();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "valid: {stdout}\n{stderr}");
    assert!(stderr.contains("faultline: hosts: ssh"), "{stderr}");

    eprintln!("phase: the run folder has every node's log and names the hosts");
    let run = std::fs::read_dir(store.join("register-quorum-read-index-partition+kill-s5"))
        .expect("the test's folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("test.json").is_file())
        .expect("a run folder");
    for (id, host) in fixture.hosts.iter() {
        let log = std::fs::read_to_string(run.join(format!("nodes/{id}.log"))).expect("a log");
        let target = fixture.target(id);
        assert!(
            log.starts_with(&format!("=== faultline: starting node {id} (start #1)"))
                && log.contains(&format!("on host {}", target.label())),
            "the marker names the host: {log}"
        );
        assert!(
            log.contains(&format!("serving; role follower node={id}")),
            "node {id}'s own output was downloaded after its marker: {log}"
        );
        assert_eq!(target.address, host.ip());
    }
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("test.json")).expect("test.json"))
            .expect("json");
    assert_eq!(spec["hosts"], "ssh");
    for (i, (id, host)) in fixture.hosts.iter().enumerate() {
        let entry = &spec["addresses"][i];
        assert_eq!(entry["node"], format!("n{id}"));
        assert_eq!(entry["host"], fixture.target(id).label());
        assert_eq!(entry["address"], format!("{}:7000", host.ip()));
    }

    eprintln!("phase: nothing of the run is left on the hosts");
    assert!(remote_dirs_of(controller).is_empty(), "remote dirs removed");
    assert!(node_processes_of(controller).is_empty(), "no node runs");
    assert!(fixture.tables_of(controller).is_empty(), "tables deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_controllers_ssh_leftovers_go_at_the_next_start() {
    if !ssh_or_skip("a_killed_controllers_ssh_leftovers_go_at_the_next_start") {
        return;
    }
    let fixture = SshdHosts::start(3).await;
    let inventory = fixture.inventory();
    let store = fixture.dir.path().join("store");

    eprintln!("phase: a run with partitions, SIGKILLed once its nodes run");
    let mut child = ssh_run(
        &store,
        &inventory,
        &[
            "--nemesis",
            "partition",
            "--time-limit",
            "120",
            "--fault-duration",
            "60",
            "--quiet-duration",
            "1",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("faultline runs");
    let controller = child.id();
    let started = tokio::task::spawn_blocking(move || {
        eventually(Duration::from_secs(120), || {
            node_processes_of(controller).len() == 3 && !fixture_tables_empty(controller)
        })
    });
    let running = started.await.expect("join");
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(controller as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
    assert!(running, "three nodes ran and a partition was in force");
    assert_eq!(
        node_processes_of(controller).len(),
        3,
        "the nodes outlive a SIGKILLed controller"
    );
    assert!(!remote_dirs_of(controller).is_empty());
    assert!(!fixture.tables_of(controller).is_empty());

    eprintln!("phase: one more controller start on the same hosts");
    let out = ssh_run(
        &store,
        &inventory,
        &["--time-limit", "1", "--recovery", "0"],
    )
    .output()
    .expect("faultline runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    eprintln!("phase: nothing of the killed controller is left");
    assert!(
        eventually(Duration::from_secs(5), || node_processes_of(controller)
            .is_empty()),
        "its nodes were killed"
    );
    assert!(
        remote_dirs_of(controller).is_empty(),
        "its remote dirs went"
    );
    assert!(fixture.tables_of(controller).is_empty(), "its tables went");
    assert!(
        !std::env::temp_dir()
            .join(format!("faultline-ssh-{controller}"))
            .exists(),
        "its control sockets went"
    );
    assert!(
        list_namespaces()
            .iter()
            .all(|n| !n.starts_with(&format!("fl{controller}x"))),
        "no namespace of the controller's (the fixture's are the test's own)"
    );
    assert!(
        !Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("flb{controller}x")))
            .unwrap_or(false),
        "no bridge of the controller's"
    );
}

/// Whether no namespace of this machine holds a table of controller `pid`'s.
fn fixture_tables_empty(pid: u32) -> bool {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return true;
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .all(|ns| {
            Command::new("ip")
                .args(["netns", "exec", ns, "nft", "list", "tables", "inet"])
                .output()
                .map(|o| {
                    !String::from_utf8_lossy(&o.stdout).contains(&format!("faultline_ssh_{pid}_"))
                })
                .unwrap_or(true)
        })
}

fn list_namespaces() -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|n| n.starts_with("fl"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_refusing_ssh_host_stops_the_run_before_anything_starts() {
    if !ssh_or_skip("an_unreachable_or_refusing_ssh_host_stops_the_run_before_anything_starts") {
        return;
    }
    let fixture = SshdHosts::start(3).await;
    let d = fixture.dir.path();
    keygen(&d.join("stranger_key"));
    let key = d.join("client_key");
    let ip = |id| fixture.hosts.get(id).expect("host").ip();
    // An address of the fixture's own /24 that no namespace has: nothing answers there.
    let nobody = match ip(1) {
        IpAddr::V4(a) => IpAddr::from([a.octets()[0], a.octets()[1], a.octets()[2], 99]),
        other => other,
    };
    let cases = [
        (
            "unreachable.yaml",
            vec![
                (ip(1), 22, key.clone()),
                (nobody, 22, key.clone()),
                (ip(3), 22, key.clone()),
            ],
            format!("root@{nobody}:22: ssh failed"),
        ),
        (
            "closed.yaml",
            vec![
                (ip(1), 22, key.clone()),
                (ip(2), 2222, key.clone()),
                (ip(3), 22, key.clone()),
            ],
            format!("root@{}:2222: ssh failed", ip(2)),
        ),
        (
            "refused.yaml",
            vec![
                (ip(1), 22, key.clone()),
                (ip(2), 22, key.clone()),
                (ip(3), 22, d.join("stranger_key")),
            ],
            format!("root@{}:22: ssh failed", ip(3)),
        ),
    ];
    for (name, hosts, expected) in cases {
        eprintln!("phase: {name}");
        let inventory = fixture.write_inventory(name, &hosts);
        let store = d.join(format!("store-{name}"));
        let child = ssh_run(&store, &inventory, &["--time-limit", "1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("faultline runs");
        let controller = child.id();
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("faultline: {expected}")),
            "{name}: one line naming the host: {stderr}"
        );
        assert!(!store.exists(), "{name}: no run folder");
        assert!(
            remote_dirs_of(controller).is_empty(),
            "{name}: nothing left on the hosts"
        );
        assert!(node_processes_of(controller).is_empty(), "{name}: no node");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_faults_on_ssh_hosts_move_the_remote_libfaketime_files() {
    if !ssh_or_skip("clock_faults_on_ssh_hosts_move_the_remote_libfaketime_files") {
        return;
    }
    if !Path::new(faultline::machine::LIBFAKETIME).is_file() {
        // The hosts are namespaces of this machine: their library is this one.
        assert!(
            std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
            "FAULTLINE_REQUIRE_PRIVILEGED=1 but libfaketime is missing"
        );
        eprintln!("skipping: libfaketime is not installed");
        return;
    }
    let fixture = SshdHosts::start(3).await;
    let inventory = fixture.inventory();
    let store = fixture.dir.path().join("store");
    eprintln!("phase: a run with clock faults on ssh hosts");
    let child = ssh_run(
        &store,
        &inventory,
        &[
            "--nemesis",
            "clock",
            "--time-limit",
            "8",
            "--quiet-duration",
            "1",
            "--recovery",
            "0",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("faultline runs");
    let controller = child.id();
    let watched = tokio::task::spawn_blocking(move || {
        let mut preloaded = false;
        let mut moved = false;
        eventually(Duration::from_secs(120), || {
            // Every node runs under the host's libfaketime, reading its file in the run's
            // remote directory ...
            let nodes = node_processes_of(controller);
            preloaded |= nodes.len() == 3
                && nodes.iter().all(|p| {
                    std::fs::read(format!("/proc/{p}/environ")).is_ok_and(|env| {
                        let env = String::from_utf8_lossy(&env);
                        env.contains(&format!("LD_PRELOAD={}", faultline::machine::LIBFAKETIME))
                            && env.contains(&format!(
                                "FAKETIME_TIMESTAMP_FILE=/tmp/faultline-{controller}-"
                            ))
                    })
                });
            // ... which the nemesis rewrites over ssh.
            moved |= remote_dirs_of(controller).iter().any(|d| {
                std::fs::read_dir(d.join("faketime")).is_ok_and(|files| {
                    files.flatten().any(|f| {
                        std::fs::read_to_string(f.path())
                            .is_ok_and(|t| !t.trim().is_empty() && t.trim() != "+0.000")
                    })
                })
            });
            preloaded && moved
        });
        (preloaded, moved, child.wait_with_output())
    });
    let (preloaded, moved, out) = watched.await.expect("join");
    let out = out.expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("faultline: clock backend: faketime"),
        "{stderr}"
    );
    assert!(preloaded, "the nodes ran under libfaketime: {stderr}");
    assert!(moved, "a timestamp file was moved off real time: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(remote_dirs_of(controller).is_empty(), "files removed");
}
