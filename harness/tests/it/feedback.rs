//! What a user sees while a run or campaign works: on a terminal, bars that move and leave
//! nothing behind; without one (CI, a pipe), one plain line per phase on stderr.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use crate::common::faultline;

/// Runs `command` with stdout and stderr on one pseudo-terminal of `rows` × `cols` (what a
/// user's terminal is) and returns every byte it wrote there, and its exit code.
fn on_a_terminal(mut command: Command, rows: u16, cols: u16) -> (Vec<u8>, Option<i32>) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two new descriptors into `master` and `slave`; a null name and
    // termios are allowed, `size` outlives the call.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    command
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().expect("dup the pty")))
        .stderr(Stdio::from(slave));
    let mut child = command.spawn().expect("starts");
    // The child holds the only copies of the terminal's slave side now: when it exits, reading
    // the master ends (EIO on Linux).
    drop(command);
    let mut master = std::fs::File::from(master);
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().expect("waits");
    (bytes, status.code())
}

/// Every line a terminal of that size shows after `bytes`, its scrollback first.
fn terminal_lines(bytes: &[u8], rows: u16, cols: u16) -> Vec<String> {
    let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal is not empty");
    let mut parser = vt100::Parser::new(size(rows), size(cols), 10_000);
    parser.process(bytes);
    let screen = parser.screen_mut();
    screen.set_scrollback(usize::MAX);
    let back = screen.scrollback();
    let mut lines = Vec::new();
    for offset in (1..=back).rev() {
        screen.set_scrollback(offset);
        lines.extend(screen.rows(0, cols).take(1));
    }
    screen.set_scrollback(0);
    lines.extend(screen.rows(0, cols));
    lines
}

#[test]
fn on_a_terminal_the_campaign_bar_counts_runs_and_leaves_no_copies_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("two.yaml");
    std::fs::write(
        &file,
        "name: two\n\
         defaults: { time_limit: 2, recovery: 0.5, concurrency: 2 }\n\
         matrix:\n  replication: [quorum, sync]\n\
         expect:\n  - verdict: valid\n",
    )
    .expect("write the campaign file");
    let mut command = faultline();
    command
        .arg("campaign")
        .arg(&file)
        .arg("--store")
        .arg(dir.path().join("store"));
    let (rows, cols) = (30, 140);
    let (bytes, code) = on_a_terminal(command, rows, cols);
    let raw = String::from_utf8_lossy(&bytes);
    let lines = terminal_lines(&bytes, rows, cols);
    let shown = lines.join("\n");
    assert_eq!(code, Some(0), "{shown}");
    // The campaign's bar moved on after the first run (it stayed at 0/2 before).
    assert!(
        raw.contains("1/2 runs"),
        "the bar never reached 1/2:\n{raw}"
    );
    // While a run is checked its line says so.
    assert!(
        raw.contains("checking ") && raw.contains(" operations"),
        "no \"checking N operations\" line:\n{raw}"
    );
    // What is left on the terminal, scrollback included, is the campaign's lines: no bar (the
    // campaign's or a run's) survived as a stale copy.
    for line in &lines {
        assert!(
            !line.contains("campaign [") && !line.contains("ops/s"),
            "a progress bar was left behind: {line:?} in\n{shown}"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.trim() == "valid (expected valid)")
            .count(),
        2,
        "{shown}"
    );
}

/// The position of each of `needles` in `text`, each found after the one before.
fn in_order(text: &str, needles: &[&str]) -> Result<(), String> {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => return Err(format!("{needle:?} missing after byte {from} of\n{text}")),
        }
    }
    Ok(())
}

#[test]
fn without_a_terminal_each_phase_of_a_run_is_one_line_on_stderr() {
    let store = tempfile::tempdir().expect("tempdir");
    let out = faultline()
        .args(["run", "--time-limit", "2", "--recovery", "0.5"])
        .args(["--concurrency", "2", "--name", "phases"])
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    if let Err(e) = in_order(
        &stderr,
        &[
            "phases: starting the cluster",
            "phases: running the workload for 2 s",
            "phases: healing",
            "phases: final reads",
            "phases: checking ",
            " operations",
            "phases: writing the report",
        ],
    ) {
        panic!("{e}");
    }
    // One line per phase, not a line per progress tick.
    assert!(stderr.lines().count() < 15, "{stderr}");
}
