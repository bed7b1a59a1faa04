//! The store as a user meets it: the folder a test's runs go to, a store that cannot be created,
//! node data kept only where it is worth its space, `prune`, and the page `compare --out` writes.

use std::path::{Path, PathBuf};

use clap::Parser;
use faultline::cli::{Cli, Command as Sub};
use faultline::commands::run::resolve_with;
use faultline::machine::Capabilities;

use crate::common::{faultline, succeeds};

/// `faultline run` flags resolved as the command line resolves them, on a machine without nft or
/// libfaketime.
fn resolved(flags: &[&str]) -> faultline::run::RunSpec {
    let cli = Cli::try_parse_from(["faultline", "run"].iter().chain(flags)).expect("parses");
    let Sub::Run(args) = cli.command else {
        panic!("not a run")
    };
    let caps = Capabilities {
        nft: false,
        faketime: false,
        netns: false,
    };
    resolve_with(&args, caps).expect("resolves")
}

#[test]
fn a_test_folder_names_the_nodes_keys_and_seed_that_differ_from_the_defaults() {
    let name = |flags: &[&str]| resolved(flags).name;
    assert_eq!(name(&[]), "register-quorum-read-index-none");
    assert_eq!(
        name(&["--nemesis", "kill,pause", "--nodes", "5", "--seed", "7"]),
        "register-quorum-read-index-kill+pause-n5-s7"
    );
    assert_eq!(
        name(&["--workload", "kv", "--keys", "20", "--seed", "1"]),
        "kv-quorum-read-index-none-k20-s1"
    );
    // The defaults said out loud change nothing: one test, one folder.
    let default_keys = resolved(&["--workload", "kv"]).workload.keys.to_string();
    assert_eq!(
        name(&["--workload", "kv", "--nodes", "3", "--keys", &default_keys]),
        "kv-quorum-read-index-none"
    );
    assert_eq!(name(&["--seed", "7", "--name", "mine"]), "mine");
    // Clients per key: a hot key is another test than the default groups.
    assert_eq!(
        name(&["--keys", "1", "--threads-per-key", "50"]),
        "register-quorum-read-index-none-t50"
    );
    assert_eq!(
        name(&[
            "--workload",
            "append",
            "--threads-per-key",
            "10",
            "--ops-per-key",
            "0"
        ]),
        "append-quorum-read-index-none"
    );
    // set ignores the groups, and its name does too.
    assert_eq!(
        name(&["--workload", "set", "--threads-per-key", "3"]),
        "set-quorum-read-index-none"
    );
}

#[test]
fn a_store_that_cannot_be_created_is_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let store = file.join("store");
    for command in [
        vec!["run", "--time-limit", "1"],
        vec!["quickstart"],
        vec!["campaign", "CAMPAIGN"],
    ] {
        let campaign = Path::new(env!("CARGO_MANIFEST_DIR")).join("../campaigns/nightly.yaml");
        let out = faultline()
            .args(command.iter().map(|a| {
                if *a == "CAMPAIGN" {
                    campaign.as_os_str()
                } else {
                    std::ffi::OsStr::new(a)
                }
            }))
            .arg("--store")
            .arg(&store)
            .output()
            .expect("starts");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{command:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{command:?}: one line: {err}"
        );
        assert!(
            err.contains(&format!("cannot create store folder {}: ", store.display())),
            "{command:?}: {err}"
        );
        assert_eq!(
            err.matches("os error").count(),
            1,
            "{command:?}: the OS error once: {err}"
        );
    }
}

/// kvnode's definition with every node started without its peers and no leader to wait for:
/// each node is a one-node cluster of its own. Run with `reads=any`, the clients read their
/// own node and write wherever a leader answered first, so hundreds of reads in a 3 s run miss
/// acknowledged writes, whatever the timing (a partitioned leader without check-quorum did
/// not: a 3 s run sometimes read nothing stale).
fn split_brain_kvnode(dir: &Path) -> PathBuf {
    let shipped = include_str!("../../../systems/kvnode.yaml");
    let peers = "      - \"{% if peers %}--peers{% endif %}\"\n";
    let peer_list = "      - \"{% for p in peers %}{{ p.id }}={{ p.dial.http }}{% if not loop.last %},{% endif %}{% endfor %}\"\n";
    assert!(
        shipped.contains(peers)
            && shipped.contains(peer_list)
            && shipped.contains("leader: kvnode")
    );
    let split = shipped
        .replace(peers, "")
        .replace(peer_list, "")
        .replace("name: kvnode", "name: split-brain-kvnode")
        .replace("leader: kvnode", "leader: none");
    let path = dir.join("split-brain-kvnode.yaml");
    std::fs::write(&path, split).expect("write the definition");
    path
}

/// The one run folder of `store/<test>/` (not the `latest` link).
fn only_run(store: &Path, test: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(store.join(test))
        .expect("test folder")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// `faultline run` of a few seconds with `flags` into `store`, named `name`; its exit status.
fn short_run(store: &Path, name: &str, flags: &[&str]) -> Option<i32> {
    let out = faultline()
        .args(["run", "--time-limit", "3", "--recovery", "0.5"])
        .args(["--concurrency", "4", "--name", name])
        .args(flags)
        .arg("--store")
        .arg(store)
        .output()
        .expect("starts");
    eprintln!(
        "{name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code()
}

#[test]
fn node_data_is_kept_for_a_run_that_is_not_valid_or_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let split = split_brain_kvnode(dir.path());
    let flags = [
        "--system",
        split.to_str().expect("utf-8 path"),
        "--opt",
        "reads=any",
    ];
    assert_eq!(short_run(&store, "split", &flags), Some(1), "invalid");
    let data = only_run(&store, "split").join("data");
    for node in 1..=3 {
        assert!(
            data.join(format!("n{node}/wal.log")).is_file(),
            "an invalid run keeps node {node}'s WAL"
        );
    }

    assert_eq!(short_run(&store, "valid", &[]), Some(0));
    let run = only_run(&store, "valid");
    assert!(!run.join("data").exists(), "a valid run leaves no data/");
    assert!(run.join("nodes/1.log").is_file(), "but keeps the node logs");

    assert_eq!(short_run(&store, "kept", &["--keep-data"]), Some(0));
    assert!(
        only_run(&store, "kept").join("data/n1/wal.log").is_file(),
        "--keep-data keeps it"
    );
}

/// A run folder in `store` with a results.json of `verdict` (none: no results.json) and
/// `bytes` bytes of node data.
fn fake_run(store: &Path, test: &str, stamp: &str, verdict: Option<&str>, bytes: usize) {
    let run = store.join(test).join(stamp);
    std::fs::create_dir_all(run.join("data/n1")).expect("mkdir");
    std::fs::write(run.join("data/n1/wal.log"), vec![b'x'; bytes]).expect("write");
    if let Some(verdict) = verdict {
        std::fs::write(
            run.join("results.json"),
            format!("{{\"verdict\":\"{verdict}\"}}"),
        )
        .expect("write");
    }
}

/// Bytes of the files under `path`.
fn bytes_under(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => bytes_under(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

fn stamp(day: u32) -> String {
    format!("202601{day:02}T000000.000Z")
}

#[test]
fn prune_keeps_the_newest_of_each_test_and_campaign_and_the_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    // Test a: five runs, the second invalid, the third never finished.
    for day in 1..=5 {
        let verdict = match day {
            2 => Some("invalid"),
            3 => None,
            _ => Some("valid"),
        };
        fake_run(&store, "a", &stamp(day), verdict, 1000);
    }
    std::os::unix::fs::symlink(stamp(5), store.join("a/latest")).expect("latest");
    // Test b: one old run, the newest of its test.
    fake_run(&store, "b", &stamp(1), Some("valid"), 1000);
    // Campaign nightly: three, the oldest failed; each holds its runs.
    for (day, passed) in [(1, false), (2, true), (3, true)] {
        let campaign = store.join("campaigns/nightly").join(stamp(day));
        fake_run(
            &campaign.join("runs"),
            "c",
            &stamp(day),
            Some("valid"),
            1000,
        );
        std::fs::write(
            campaign.join("summary.json"),
            format!("{{\"passed\":{passed},\"interrupted\":false}}"),
        )
        .expect("write");
    }
    // What prune must never touch: a folder outside the store, linked from inside it as a test
    // and as a run, and a folder of the store that is not a run.
    let outside = dir.path().join("outside");
    fake_run(&outside, "x", &stamp(1), Some("valid"), 1000);
    fake_run(&outside, "x", &stamp(2), Some("valid"), 1000);
    std::os::unix::fs::symlink(outside.join("x"), store.join("linked")).expect("symlink");
    std::os::unix::fs::symlink(
        outside.join("x").join(stamp(1)),
        store.join("a/20250101T000000.000Z"),
    )
    .expect("symlink");
    std::fs::create_dir_all(store.join("a/notes")).expect("mkdir");

    let prune = |extra: &[&str]| {
        succeeds(
            faultline()
                .args(["prune", "--keep-last", "1"])
                .args(extra)
                .arg("--store")
                .arg(&store),
        )
    };
    let exists = |p: &str| store.join(p).exists();
    let a = |day: u32| format!("a/{}", stamp(day));
    let nightly = |day: u32| format!("campaigns/nightly/{}", stamp(day));

    let listed = prune(&["--keep-failures", "--dry-run"]);
    assert!(listed.contains(&a(1)) && listed.contains(&a(4)), "{listed}");
    assert!(listed.contains(&nightly(2)), "{listed}");
    assert!(
        !listed.contains(&a(2)) && !listed.contains(&a(3)),
        "{listed}"
    );
    assert!(
        exists(&a(1)) && exists(&nightly(2)),
        "a dry run removes nothing"
    );

    let freed: u64 = [a(1), a(4), nightly(2)]
        .iter()
        .map(|p| bytes_under(&store.join(p)))
        .sum();
    let removed = prune(&["--keep-failures"]);
    // The newest of each test and campaign, the invalid run, the unfinished one, the failed
    // campaign; the rest removed, with the bytes freed said.
    for kept in [
        a(2),
        a(3),
        a(5),
        format!("b/{}", stamp(1)),
        nightly(1),
        nightly(3),
    ] {
        assert!(exists(&kept), "{kept} kept: {removed}");
    }
    for gone in [a(1), a(4), nightly(2)] {
        assert!(!exists(&gone), "{gone} removed: {removed}");
        assert!(removed.contains(&gone), "{gone} said: {removed}");
    }
    let freed = format!("{:.1} kB", freed as f64 / 1000.0);
    assert!(removed.contains(&freed), "{freed} freed: {removed}");
    assert!(exists("a/latest") && exists("a/notes"));

    let removed = prune(&[]);
    for kept in [a(5), nightly(3)] {
        assert!(exists(&kept), "{kept} kept: {removed}");
    }
    for gone in [a(2), a(3), nightly(1)] {
        assert!(!exists(&gone), "{gone} removed: {removed}");
    }
    // Nothing outside the store was touched, whatever links into it.
    for day in [1, 2] {
        assert!(
            outside
                .join("x")
                .join(stamp(day))
                .join("data/n1/wal.log")
                .is_file()
        );
    }
    assert!(store.join("linked").is_symlink() && store.join("a/20250101T000000.000Z").is_symlink());
}

#[test]
fn prune_needs_at_least_one_run_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = faultline()
        .args(["prune", "--keep-last", "0", "--store"])
        .arg(dir.path())
        .output()
        .expect("starts");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("--keep-last"), "{err}");
}

/// A stored run of a few register operations at `store/<test>/<stamp>`, checked by `analyze`
/// so it has its results.json and report.html.
fn stored_run(store: &Path, test: &str, stamp: &str, seed: &str) -> PathBuf {
    let run = store.join(test).join(stamp);
    std::fs::create_dir_all(&run).expect("mkdir");
    let spec = resolved(&["--seed", seed, "--name", test]);
    std::fs::write(
        run.join("test.json"),
        serde_json::to_vec_pretty(&spec).expect("json"),
    )
    .expect("write");
    let events = [
        r#"{"index":0,"time":1000,"process":0,"type":"invoke","f":"write","key":"r","value":1}"#,
        r#"{"index":1,"time":2000,"process":0,"type":"ok","f":"write","key":"r","value":1}"#,
        r#"{"index":2,"time":3000,"process":1,"type":"invoke","f":"read","key":"r","value":null}"#,
        r#"{"index":3,"time":4000,"process":1,"type":"ok","f":"read","key":"r","value":1}"#,
    ];
    std::fs::write(run.join("history.jsonl"), events.join("\n") + "\n").expect("write");
    let out = faultline()
        .arg("analyze")
        .arg(&run)
        .output()
        .expect("starts");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(run.join("report.html").is_file());
    run
}

/// Every `href="..."` of a page.
fn hrefs(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&#x2f;", "/").replace("&#47;", "/"))
        .collect()
}

/// The file an href of a page in `folder` names: a file:// URL, or a path relative to the page.
fn target(folder: &Path, href: &str) -> PathBuf {
    match href.strip_prefix("file://") {
        Some(path) => PathBuf::from(path),
        None => folder.join(href),
    }
}

#[test]
fn a_compare_page_links_only_files_that_exist_wherever_it_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    stored_run(&store, "one", "20260101T000000.000Z", "1");
    stored_run(&store, "two", "20260102T000000.000Z", "2");
    std::os::unix::fs::symlink("20260102T000000.000Z", store.join("two/latest")).expect("latest");
    std::fs::create_dir_all(dir.path().join("pages")).expect("mkdir");
    // Run folders named relative to the working directory, as a user in the store types them;
    // the page written outside it, and inside it.
    for page in [
        dir.path().join("pages/compare.html"),
        store.join("compare.html"),
    ] {
        let out = faultline()
            .current_dir(&store)
            .args(["compare", "one/20260101T000000.000Z", "two/latest", "--out"])
            .arg(&page)
            .output()
            .expect("starts");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let html = std::fs::read_to_string(&page).expect("page written");
        let folder = page.parent().expect("folder");
        let links = hrefs(&html);
        for href in &links {
            assert!(
                target(folder, href).is_file(),
                "{}: {href} names no file",
                page.display()
            );
        }
        assert_eq!(links.len(), 2, "one report link per run: {links:?}");
        assert!(!html.contains("summary.json") && !html.contains("junit.xml"));
        assert!(!html.contains("every expectation held"), "{html}");
        assert!(
            html.contains("20260101T000000.000Z"),
            "the runs' start said: {html}"
        );
        assert!(!html.contains("started </p>") && !html.contains("started </"));
    }
}
