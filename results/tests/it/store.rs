//! The run folder on disk.

use faultline_results::{RunDir, read_run_history};

const LINE: &str =
    "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n";

#[test]
fn run_folders_and_the_latest_link() {
    let store = tempfile::tempdir().expect("tempdir");
    let first = RunDir::create(store.path(), "t").expect("create");
    first.mark_latest().expect("latest");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = RunDir::create(store.path(), "t").expect("create");
    second.mark_latest().expect("latest");
    assert_ne!(first.path, second.path);
    assert!(second.path.join("nodes").is_dir());
    let link = std::fs::read_link(store.path().join("t/latest")).expect("link");
    assert_eq!(Some(link.as_os_str()), second.path.file_name());
}

#[test]
fn a_torn_last_line_is_dropped_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("history.jsonl");
    std::fs::write(&path, format!("{LINE}{}", &LINE[..30])).expect("write");
    let (events, torn) = read_run_history(&path).expect("reads");
    assert_eq!((events.len(), torn), (1, true));
    std::fs::write(&path, LINE).expect("write");
    let (events, torn) = read_run_history(&path).expect("reads");
    assert_eq!((events.len(), torn), (1, false));
    // A bad line that is not the last is an error with its line number.
    std::fs::write(&path, format!("{}\n{LINE}", &LINE[..30])).expect("write");
    let err = read_run_history(&path).expect_err("malformed");
    assert!(err.to_string().contains("history.jsonl:1:"), "{err}");
}

#[test]
fn a_link_planted_at_the_temporary_file_is_not_followed() {
    let store = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "untouched").expect("write");
    let dir = RunDir::create(store.path(), "t").expect("create");
    let target = dir.path.join("results.json");
    std::os::unix::fs::symlink(&victim, dir.path.join("results.json.tmp")).expect("symlink");
    dir.write_file(&target, b"{}").expect("writes");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "untouched");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "{}");
    assert!(!dir.path.join("results.json.tmp").exists());
}
