//! System definitions: the built-ins parse and render, and every kind of bad definition is one
//! line naming the file (line and column where the YAML says it) or the option.

use std::path::{Path, PathBuf};

use faultline::system::{LeaderKind, NodeVars, Protocol, System, SystemError};

/// A definition file with `text` in a temp dir of its own.
fn definition(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.yaml");
    std::fs::write(&path, text).expect("write definition");
    (dir, path)
}

/// A small valid definition; tests replace a line to break it.
const GOOD: &str = "\
name: mystore
options:
  mode: {values: [fast, safe], default: safe}
ports: {api: 9000}
workloads: [register]
processes:
  - name: server
    argv: [mystore-server, --port, \"{{ ports.api }}\", --mode, \"{{ options.mode }}\"]
ready: {tcp: {port: api}}
client: {protocol: kvnode, port: api}
";

fn resolve(path: &Path, options: &[(&str, &str)]) -> Result<System, String> {
    let given: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    System::resolve(&path.display().to_string(), &given).map_err(|e| e.to_string())
}

fn vars(system: &System, id: u32) -> NodeVars {
    let nodes: Vec<_> = (1..=3u32)
        .map(|n| {
            (
                n,
                std::net::IpAddr::from([127, 0, 0, 10 + n as u8]),
                system.fixed_ports(),
            )
        })
        .collect();
    system.vars(
        id,
        &nodes,
        &|_, _| None,
        Path::new("/run/data/n2"),
        Path::new("/run"),
    )
}

#[test]
fn kvnode_s_definition_renders_the_flags_the_harness_always_passed() {
    let system = System::kvnode(&[("replication", "sync")]).expect("kvnode resolves");
    assert_eq!(system.option("replication"), "sync");
    assert_eq!(system.option("reads"), "read-index", "the CLI's default");
    assert_eq!(system.option_values(), ["sync", "read-index"]);
    let d = &system.definition;
    assert_eq!(d.leader, LeaderKind::Kvnode);
    assert_eq!(d.client.protocol, Protocol::Kvnode);
    assert_eq!(d.workloads, ["register", "kv", "append", "set"]);
    assert!(d.faults.clock.is_none() && d.faults.loopback_partitions.is_none());
    let node = system.render_node(&vars(&system, 2)).expect("renders");
    assert_eq!(node.processes.len(), 1);
    let argv = node.processes[0].argv[1..].join(" ");
    assert_eq!(
        argv,
        "kvnode --id 2 --listen 127.0.0.12:7000 --peers 1=127.0.0.11:7000,3=127.0.0.13:7000 \
         --data-dir /run/data/n2 --replication sync --reads read-index"
    );
}

#[test]
fn a_one_node_kvnode_has_no_peers_flag() {
    let system = System::kvnode(&[]).expect("kvnode resolves");
    let nodes = vec![(
        1,
        std::net::IpAddr::from([127, 0, 0, 11]),
        system.fixed_ports(),
    )];
    let vars = system.vars(1, &nodes, &|_, _| None, Path::new("/d"), Path::new("/r"));
    let argv = &system.render_node(&vars).expect("renders").processes[0].argv;
    assert!(
        !argv.iter().any(|a| a == "--peers" || a.is_empty()),
        "{argv:?}"
    );
}

#[test]
fn etcd_s_definition_names_every_member_in_its_initial_cluster() {
    let system = System::resolve("etcd", &[]).expect("etcd resolves");
    assert_eq!(system.option("reads"), "linearizable");
    assert!(system.definition.faults.clock.is_some());
    assert!(
        system
            .definition
            .faults
            .loopback_partitions
            .as_deref()
            .is_some_and(|r| r.contains("--hosts netns"))
    );
    let node = system.render_node(&vars(&system, 2)).expect("renders");
    let argv = node.processes[0].argv.join(" ");
    assert!(
        argv.starts_with("etcd --name n2 --data-dir /run/data/n2/etcd"),
        "{argv}"
    );
    assert!(
        argv.contains(
            "--initial-cluster n1=http://127.0.0.11:2380,n2=http://127.0.0.12:2380,n3=http://127.0.0.13:2380 "
        ),
        "{argv}"
    );
    assert!(
        argv.contains("--listen-client-urls http://127.0.0.12:2379"),
        "{argv}"
    );
}

#[test]
fn unknown_keys_name_the_file_line_and_column() {
    let (_dir, path) = definition(&GOOD.replace("workloads:", "workload:"));
    let err = resolve(&path, &[]).expect_err("unknown key");
    assert!(
        err.starts_with(&format!("{}:5:1: unknown field `workload`", path.display())),
        "{err}"
    );
    let (_dir, path) = definition(&GOOD.replace("argv:", "args:"));
    let err = resolve(&path, &[]).expect_err("unknown key in a process");
    assert!(
        err.starts_with(&format!("{}:8:5:", path.display())),
        "{err}"
    );
    assert!(err.contains("`args`"), "{err}");
}

#[test]
fn a_missing_template_variable_names_the_process_and_the_variable() {
    let (_dir, path) = definition(&GOOD.replace("{{ ports.api }}", "{{ ports.admin }}"));
    let err = resolve(&path, &[]).expect_err("missing variable");
    assert_eq!(
        err,
        format!(
            "{}: processes[0] (server) argv[2]: undefined template variable \"ports.admin\"",
            path.display()
        )
    );
    let (_dir, path) = definition(&GOOD.replace("{{ options.mode }}", "{{ peer_list }}"));
    let err = resolve(&path, &[]).expect_err("missing variable");
    assert!(
        err.ends_with("argv[4]: undefined template variable \"peer_list\""),
        "{err}"
    );
}

#[test]
fn option_values_are_checked_against_the_definition() {
    let (_dir, path) = definition(GOOD);
    let system = resolve(&path, &[("mode", "fast")]).expect("resolves");
    assert_eq!(system.option("mode"), "fast");
    let err = resolve(&path, &[("mode", "reckless")]).expect_err("bad value");
    assert_eq!(
        err,
        "option mode: unknown value \"reckless\" for system mystore; expected one of fast, safe"
    );
    let err = resolve(&path, &[("replication", "sync")]).expect_err("unknown option");
    assert_eq!(
        err,
        "option replication: system mystore has no option \"replication\" (its options: mode)"
    );
    let (_dir, path) = definition(&GOOD.replace("default: safe", "default: unsafe"));
    let err = resolve(&path, &[]).expect_err("default not a value");
    assert_eq!(
        err,
        format!(
            "{}: options.mode.default: \"unsafe\" is not one of its values (fast, safe)",
            path.display()
        )
    );
}

#[test]
fn option_values_may_be_explained_and_an_explanation_of_no_value_names_its_line() {
    let explained = GOOD.replace(
        "  mode: {values: [fast, safe], default: safe}\n",
        "  mode:\n    values: [fast, safe]\n    default: safe\n    explain:\n      \
         safe: \"Waits for every node.\"\n      fast: \"Waits for none.\"\n",
    );
    let (_dir, path) = definition(&explained);
    let system = resolve(&path, &[("mode", "fast")]).expect("resolves");
    assert_eq!(
        system.option_explanations(),
        [("mode".to_owned(), "Waits for none.".to_owned())].into()
    );
    // Line 8 is `      reckless: ...`, its key at column 7.
    let (_dir, path) = definition(&explained.replace("fast: \"Waits", "reckless: \"Waits"));
    let err = resolve(&path, &[]).expect_err("explains a value the option lacks");
    assert_eq!(
        err,
        format!(
            "{}:8:7: options.mode.explain: \"reckless\" is not one of the option's values (fast, safe)",
            path.display()
        )
    );
    // `explain` before `values`: still refused, at the option.
    let (_dir, path) = definition(&GOOD.replace(
        "  mode: {values: [fast, safe], default: safe}",
        "  mode: {explain: {slow: \"?\"}, values: [fast, safe], default: safe}",
    ));
    let err = resolve(&path, &[]).expect_err("explains a value the option lacks");
    assert!(
        err.starts_with(&format!("{}:3:", path.display()))
            && err.contains("explain: \"slow\" is not one of the option's values (fast, safe)"),
        "{err}"
    );
    // An unknown key beside them is still refused at its line.
    let (_dir, path) = definition(&explained.replace("    default: safe", "    defualt: safe"));
    let err = resolve(&path, &[]).expect_err("unknown key");
    assert!(
        err.starts_with(&format!(
            "{}:5:5: options.mode: unknown field `defualt`",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn every_value_of_every_built_in_s_options_is_explained() {
    for name in faultline::system::builtin::names() {
        let system = System::resolve(name, &[]).expect("resolves");
        for (option, axis) in system.definition.options.iter() {
            for value in &axis.values {
                let text = axis.explain.get(value).map(String::as_str).unwrap_or("");
                let sentences = text.matches(". ").count() + 1;
                assert!(
                    !text.is_empty() && sentences <= 4 && text.ends_with('.'),
                    "{name}: {option}={value}: {text:?}"
                );
            }
        }
    }
}

#[test]
fn a_program_not_installed_says_how_to_install_it() {
    let (_dir, path) = definition(&format!(
        "{GOOD}requires:\n  - program: faultline-no-such-program\n    install: \"Debian: apt-get install nothing\"\n"
    ));
    let system = resolve(&path, &[]).expect("resolves: programs are checked apart");
    let err = system.check_requirements().expect_err("missing program");
    assert_eq!(
        err.to_string(),
        "faultline-no-such-program not found (Debian: apt-get install nothing)"
    );
    let (_dir, path) = definition(&format!("{GOOD}requires:\n  - program: sh\n"));
    resolve(&path, &[])
        .expect("resolves")
        .check_requirements()
        .expect("sh is installed");
}

#[test]
fn references_that_lead_nowhere_are_refused() {
    for (from, to, expected) in [
        (
            "ready: {tcp: {port: api}}",
            "ready: {tcp: {port: web}}",
            "ready.tcp.port: no port named \"web\"",
        ),
        (
            "ready: {tcp: {port: api}}",
            "ready: {timeout-s: 5}",
            "ready: give exactly one of http, tcp, command",
        ),
        (
            "workloads: [register]",
            "workloads: [bank]",
            "workloads: unknown workload \"bank\"",
        ),
        (
            "client: {protocol: kvnode, port: api}",
            "client: {protocol: stdio}",
            "client.command:",
        ),
    ] {
        let (_dir, path) = definition(&GOOD.replace(from, to));
        let err = resolve(&path, &[]).expect_err(to);
        assert!(
            err.starts_with(&format!("{}: {expected}", path.display())),
            "{to}: {err}"
        );
    }
    let (_dir, path) = definition(&GOOD.replace("protocol: kvnode", "protocol: redis"));
    let err = resolve(&path, &[]).expect_err("unknown protocol");
    assert!(err.starts_with(&format!("{}:10:", path.display())), "{err}");
}

#[test]
fn an_unknown_built_in_lists_the_built_ins() {
    let err = System::resolve("postgres", &[]).expect_err("not built in");
    assert!(matches!(err, SystemError::Unknown { .. }));
    assert!(
        err.to_string()
            .contains("built in: kvnode, etcd, postgres-patroni"),
        "{err}"
    );
    let err = System::resolve("./nowhere.yaml", &[]).expect_err("no such file");
    assert!(err.to_string().starts_with("./nowhere.yaml: "), "{err}");
}

/// `faultline run ARGS` with a store in a temp dir: exit code and stderr; the store must not
/// exist afterwards (nothing was created).
fn run_refused(args: &[&str]) -> (Option<i32>, String) {
    let store = tempfile::tempdir().expect("temp dir");
    let out = crate::common::faultline()
        .arg("run")
        .args(args)
        .arg("--store")
        .arg(store.path().join("store"))
        .args(["--time-limit", "1"])
        .output()
        .expect("faultline starts");
    assert!(
        !store.path().join("store").exists(),
        "{args:?} created the store"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_systems_and_options_stop_the_run_before_anything_starts() {
    let (_dir, bad) = definition(&GOOD.replace("workloads:", "workload:"));
    let bad = bad.display().to_string();
    let (_dir2, missing) = definition(&format!(
        "{GOOD}requires:\n  - program: faultline-no-such-program\n    install: \"Debian: apt-get install nothing\"\n"
    ));
    let missing = missing.display().to_string();
    for (args, expected) in [
        (vec!["--system", bad.as_str()], format!("faultline: {bad}:5:1: unknown field `workload`")),
        (
            vec!["--system", missing.as_str()],
            "faultline: faultline-no-such-program not found (Debian: apt-get install nothing)".to_owned(),
        ),
        (
            vec!["--opt", "reads=bogus"],
            "faultline: option reads: unknown value \"bogus\" for system kvnode; expected one of leader, read-index, lease, any".to_owned(),
        ),
        (
            vec!["--opt", "colour=blue"],
            "faultline: option colour: system kvnode has no option \"colour\" (its options: replication, reads)".to_owned(),
        ),
        (vec!["--opt", "reads"], "faultline: --opt: expected NAME=VALUE, found \"reads\"".to_owned()),
        (
            vec!["--replication", "eventual"],
            "faultline: --replication: unknown value \"eventual\" for system kvnode; expected one of async, sync, quorum".to_owned(),
        ),
        (
            vec!["--system", "etcd", "--replication", "sync"],
            "faultline: --replication: system etcd has no option \"replication\" (its options: reads)".to_owned(),
        ),
        (
            vec!["--system", "etcd", "--nemesis", "kill,partition"],
            "faultline: --nemesis partition: system etcd cannot be partitioned on loopback hosts: \
             etcd dials peers from any source address: use --hosts netns or --hosts ssh"
                .to_owned(),
        ),
        (
            vec!["--system", "etcd", "--nemesis", "clock"],
            "faultline: --nemesis clock: clock faults do not apply to system etcd: libfaketime \
             does not reach Go programs (they read the clock through the vDSO)"
                .to_owned(),
        ),
        (
            vec!["--system", "etcd", "--workload", "append"],
            "faultline: --workload append: system etcd supports register, kv".to_owned(),
        ),
        (
            vec!["--system", "postgres"],
            "faultline: --system: no built-in system \"postgres\" (built in: kvnode, etcd, postgres-patroni)".to_owned(),
        ),
    ] {
        let (code, stderr) = run_refused(&args);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(stderr.starts_with(&expected), "{args:?}:\n{stderr}\nexpected:\n{expected}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn options_are_recorded_with_the_system_and_name_the_test() {
    use clap::Parser;
    use faultline::cli::{Cli, Command};
    let resolve = |flags: &[&str]| {
        let cli = Cli::try_parse_from(["faultline", "run"].iter().chain(flags)).expect("parses");
        let Command::Run(args) = cli.command else {
            panic!("not a run")
        };
        faultline::commands::run::resolve(&args).expect("resolves")
    };
    let spec = resolve(&["--opt", "replication=async", "--nemesis", "kill"]);
    assert_eq!(spec.system, "kvnode");
    assert_eq!(
        spec.name, "register-async-read-index-kill",
        "kvnode keeps its names"
    );
    assert_eq!(
        (spec.replication.as_str(), spec.reads.as_str()),
        ("async", "read-index")
    );
    assert_eq!(spec.options["replication"], "async");
    // --reads is --opt reads=...; a later --opt wins.
    let spec = resolve(&["--reads", "lease", "--opt", "reads=any"]);
    assert_eq!(spec.options["reads"], "any");
    let (_dir, path) = definition(GOOD);
    // kvnode's /admin/clock cannot move the clock of a system with another protocol.
    let (_dir2, stdio) = definition(&GOOD.replace(
        "client: {protocol: kvnode, port: api}",
        "client: {protocol: stdio, command: [my-client]}",
    ));
    let stdio = System::resolve(&stdio.display().to_string(), &[]).expect("resolves");
    let err =
        faultline::system::fit::check_clock_backend(&stdio, faultline::clock::ClockBackend::Api)
            .expect_err("api clocks are kvnode's");
    assert!(err.contains("--clock faketime"), "{err}");
    faultline::system::fit::check_clock_backend(&stdio, faultline::clock::ClockBackend::Faketime)
        .expect("libfaketime reaches any libc program");
    let spec = resolve(&[
        "--system",
        &path.display().to_string(),
        "--opt",
        "mode=fast",
    ]);
    assert_eq!(spec.system, "mystore");
    assert_eq!(spec.definition.as_deref(), Some(path.as_path()));
    assert_eq!(spec.name, "mystore-register-fast-none");
    assert_eq!((spec.replication.as_str(), spec.reads.as_str()), ("", ""));
}

/// A cluster of `system` on loopback in `dir`.
fn cluster_spec(dir: &Path, system: System) -> faultline::cluster::ClusterSpec {
    faultline::cluster::ClusterSpec {
        nodes: 3,
        system,
        dir: dir.to_path_buf(),
        program: faultline::cluster::NodeProgram::kvnode(crate::kvnode_bin::kvnode_bin()),
        extra_args: Vec::new(),
        links: faultline::cluster::PeerLinks::Direct,
        faketime: None,
        hosts: faultline::hosts::HostKind::Loopback,
    }
}

/// Every thread of `pid` stopped (true) or none (false), waiting up to 2 s for it.
fn settles(pid: u32, stopped: bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.trim().chars().next());
        if (state == Some('T')) == stopped {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// Two processes per node, a file rendered into its data dir, a command probe: kill, pause
/// and restart act on both processes of the node, and the file is there before they start.
#[tokio::test]
async fn a_node_of_several_processes_is_killed_paused_and_restarted_whole() {
    use faultline_nemeses::Nodes;
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let definition = dir.path().join("pair.yaml");
    std::fs::write(
        &definition,
        "name: pair\nports: {api: 9000}\nworkloads: [register]\n\
         files:\n  - {path: conf, template: \"node={{ node }} peers={{ peers | length }}\"}\n\
         processes:\n\
         \x20 - {name: main, argv: [sh, -c, \"sleep 1000\", \"{{ run_dir }}/main\"]}\n\
         \x20 - {name: side, argv: [sh, -c, \"sleep 1000\", \"{{ run_dir }}/side\"]}\n\
         ready: {command: [test, -f, \"{{ data_dir }}/conf\"], timeout-s: 5}\n\
         leader: none\nclient: {protocol: kvnode, port: api}\n",
    )
    .expect("write definition");
    let system = System::resolve(&definition.display().to_string(), &[]).expect("resolves");
    let cluster = faultline::cluster::Cluster::start(cluster_spec(&run, system))
        .await
        .expect("starts");
    // The node's own processes: the readiness probe (`test -f <run>/data/...`) mentions the
    // run folder too, and may be running at any moment.
    let node_processes = || {
        crate::common::processes_mentioning(&run.join("main").display().to_string()).len()
            + crate::common::processes_mentioning(&run.join("side").display().to_string()).len()
    };
    let needle = run.display().to_string();
    assert_eq!(node_processes(), 6, "two per node");
    assert_eq!(
        std::fs::read_to_string(run.join("data/n2/conf")).expect("the rendered file"),
        "node=n2 peers=2"
    );
    assert!(run.join("nodes/2.log").exists() && run.join("nodes/2-side.log").exists());
    cluster.kill(1).await.expect("kill");
    assert_eq!(node_processes(), 4, "both of n1 died");
    cluster.restart(1).await.expect("restart");
    assert_eq!(node_processes(), 6);
    cluster.pause(2).await.expect("pause");
    let stopped = crate::common::processes_mentioning(&needle)
        .into_iter()
        .filter(|pid| settles(*pid, true))
        .count();
    assert_eq!(stopped, 2, "both processes of n2 and no other");
    cluster.resume(2).await.expect("resume");
    assert!(
        crate::common::processes_mentioning(&needle)
            .into_iter()
            .all(|pid| settles(pid, false))
    );
    let log = std::fs::read_to_string(run.join("nodes/1-side.log")).expect("log");
    assert!(
        log.contains("restarting node 1 process side (start #2)"),
        "{log}"
    );
    drop(cluster);
    crate::common::assert_no_process_mentions(&needle);
}

/// Whether this test runs as root (it changes users); skipped with a reason otherwise, except
/// under FAULTLINE_REQUIRE_PRIVILEGED=1.
fn root_or_skip(test: &str) -> bool {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    crate::common::prerequisites(test, root, "it needs root")
}

/// A process run as another account starts in its node's data folder, not in the
/// controller's working directory, which that account may not enter (a 0700 checkout: Patroni
/// failed there, its Python chdir-ing back to the directory it started in). Needs root.
#[tokio::test]
async fn a_process_run_as_another_account_starts_in_its_data_folder() {
    if !root_or_skip("a_process_run_as_another_account_starts_in_its_data_folder") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let definition = dir.path().join("elsewhere.yaml");
    std::fs::write(
        &definition,
        "name: elsewhere\nports: {api: 9000}\nworkloads: [register]\n\
         processes:\n\
         \x20 - {name: main, user: nobody, argv: [sh, -c, \"pwd; sleep 1000\", \"{{ run_dir }}/main\"]}\n\
         ready: {command: [\"true\"], timeout-s: 5}\n\
         leader: none\nclient: {protocol: kvnode, port: api}\n",
    )
    .expect("write definition");
    let system = System::resolve(&definition.display().to_string(), &[]).expect("resolves");
    let cluster = faultline::cluster::Cluster::start(cluster_spec(&run, system))
        .await
        .expect("starts");
    let log = run.join("nodes/1.log");
    let wanted = run.join("data/n1").display().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().any(|l| l == wanted) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(cluster);
    assert!(text.lines().any(|l| l == wanted), "pwd is {wanted}: {text}");
    crate::common::assert_no_process_mentions(&run.display().to_string());
}

/// etcd from systems/etcd.yaml on loopback: three members ready through /health, a member
/// killed and restarted on its data, one paused and resumed, nothing left after the drop.
#[tokio::test]
async fn etcd_members_start_from_their_definition_and_survive_kill_and_pause() {
    use faultline_nemeses::Nodes;
    if faultline::system::requires::find_program("etcd").is_none() {
        assert!(
            std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
            "FAULTLINE_REQUIRE_PRIVILEGED=1 but etcd is not installed"
        );
        eprintln!("skipped: etcd is not installed (Debian: apt-get install etcd-server)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let system = System::resolve("etcd", &[]).expect("etcd resolves");
    let mut cluster = faultline::cluster::Cluster::start(cluster_spec(dir.path(), system))
        .await
        .expect("three members start and report healthy");
    let needle = dir.path().display().to_string();
    assert_eq!(crate::common::processes_mentioning(&needle).len(), 3);
    let health = |addr: std::net::SocketAddr| async move {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .get(format!("http://{addr}/health"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    let n2 = cluster.addr(2).expect("n2");
    assert_eq!(health(n2).await, 200);
    cluster.kill(1).await.expect("kill");
    assert_eq!(crate::common::processes_mentioning(&needle).len(), 2);
    cluster.restart(1).await.expect("n1 rejoins on its data");
    let log = std::fs::read_to_string(dir.path().join("nodes/1.log")).expect("log");
    assert!(log.contains("restarting node 1 (start #2)"), "{log}");
    cluster.pause(3).await.expect("pause");
    // If n3 led, the other two elect a leader of their own within a few election timeouts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while health(n2).await != 200 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(health(n2).await, 200, "two of three keep a quorum");
    cluster.resume(3).await.expect("resume");
    cluster.stop().await;
    drop(cluster);
    crate::common::assert_no_process_mentions(&needle);
}

/// A node that never passes its probe: the run fails within the definition's timeout, exit 3,
/// naming the node, the probe and its log, and no process of it is left.
#[test]
fn a_probe_that_never_passes_fails_the_run_and_leaves_nothing_running() {
    let (dir, path) = definition(
        "name: deaf\nports: {api: 9000}\nworkloads: [register]\n\
         processes:\n  - {name: deaf, argv: [sh, -c, \"sleep 60\", \"{{ run_dir }}\"]}\n\
         ready: {tcp: {port: api}, timeout-s: 1}\nclient: {protocol: kvnode, port: api}\n",
    );
    let store = dir.path().join("store");
    let started = std::time::Instant::now();
    let out = crate::common::faultline()
        .args([
            "run",
            "--system",
            &path.display().to_string(),
            "--time-limit",
            "1",
        ])
        .arg("--store")
        .arg(&store)
        .output()
        .expect("faultline starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        stderr.contains("n1 was not ready within 1s (waiting for a TCP connection to 127.0.0.11:"),
        "{stderr}"
    );
    assert!(stderr.contains("nodes/1.log"), "{stderr}");
    crate::common::assert_no_process_mentions(&store.display().to_string());
}

/// A user's definition is as good as a built-in: a copy of kvnode's under another name, beside
/// the campaign file, crossed with kvnode and an option axis, gives one campaign with every
/// cell run, each recording its system.
#[test]
fn a_campaign_crosses_a_built_in_with_a_user_s_definition() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kvnode = faultline::system::builtin::find("kvnode")
        .expect("built in")
        .1;
    std::fs::write(
        dir.path().join("mykv.yaml"),
        kvnode.replace("name: kvnode", "name: mykv"),
    )
    .expect("write the definition");
    let file = dir.path().join("cross.yaml");
    std::fs::write(
        &file,
        "name: cross\n\
         defaults: {time_limit: 2, recovery: 0.5, concurrency: 4}\n\
         matrix:\n  system: [kvnode, mykv.yaml]\n  replication: [quorum]\n  reads: [lease]\n\
         expect:\n  - verdict: valid\n",
    )
    .expect("write the campaign");
    let out = crate::common::faultline()
        .arg("campaign")
        .arg(&file)
        .arg("--store")
        .arg(dir.path().join("store"))
        .output()
        .expect("starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let latest = dir.path().join("store/campaigns/cross/latest");
    assert!(latest.join("index.html").exists());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("summary.json")).expect("summary"))
            .expect("json");
    let runs = summary["runs"].as_array().expect("runs");
    let labels: Vec<&str> = runs.iter().filter_map(|r| r["label"].as_str()).collect();
    assert_eq!(
        labels,
        [
            "register-quorum-lease-none-n3-s1",
            "mykv-register-quorum-lease-none-n3-s1"
        ]
    );
    assert_eq!(summary["provenance"]["system"], "kvnode, mykv");
    for run in runs {
        let run_dir = latest.join(run["dir"].as_str().expect("the run's folder"));
        let spec = crate::common::recorded_spec(&run_dir);
        let expected = if run["label"].as_str().is_some_and(|l| l.starts_with("mykv")) {
            "mykv"
        } else {
            "kvnode"
        };
        assert_eq!(spec["system"], expected, "{run_dir:?}");
        assert_eq!(spec["options"]["reads"], "lease");
    }
}

/// etcd in network namespaces: every member on its own address with the definition's fixed
/// ports (2379, 2380), ready, a member killed and restarted. Needs root, ip and nft, and etcd.
#[tokio::test]
async fn etcd_members_run_in_network_namespaces_on_the_definition_s_ports() {
    use faultline_nemeses::Nodes;
    let require = std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1");
    for (missing, what) in [
        (
            faultline::system::requires::find_program("etcd").is_none(),
            "etcd is not installed (Debian: apt-get install etcd-server)",
        ),
        (
            !faultline::hosts::netns::available(),
            "it needs root, ip (iproute2) and nft",
        ),
    ] {
        if missing {
            assert!(!require, "FAULTLINE_REQUIRE_PRIVILEGED=1 but {what}");
            eprintln!("skipped: {what}");
            return;
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let system = System::resolve("etcd", &[]).expect("etcd resolves");
    let spec = faultline::cluster::ClusterSpec {
        hosts: faultline::hosts::HostKind::Netns,
        ..cluster_spec(dir.path(), system)
    };
    let mut cluster = faultline::cluster::Cluster::start(spec)
        .await
        .expect("three members start in their namespaces");
    let addrs = cluster.addrs().to_vec();
    assert!(
        addrs
            .iter()
            .all(|(_, a)| a.port() == 2379 && a.ip().to_string().starts_with("10.213.")),
        "{addrs:?}"
    );
    let distinct: std::collections::BTreeSet<_> = addrs.iter().map(|(_, a)| a.ip()).collect();
    assert_eq!(distinct.len(), 3, "{addrs:?}");
    cluster.kill(2).await.expect("kill");
    cluster
        .restart(2)
        .await
        .expect("n2 rejoins in its namespace");
    cluster.stop().await;
    drop(cluster);
    crate::common::assert_no_process_mentions(&dir.path().display().to_string());
}
