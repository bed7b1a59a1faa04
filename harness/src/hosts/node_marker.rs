//! A node's name on this machine, `fl<pid>x<run>n<id>`, and the environment marker that
//! carries it into every process of the node.
//!
//! The name holds the controller's pid (`<run>` is this process's counter of host sets, `<id>`
//! the node's id), so a leftover of a controller that died is recognised and parallel runs never
//! share one. A netns host's namespace has this name; every local node process (loopback and
//! netns) is started with `FAULTLINE_NODE=<name>` in its environment.
//!
//! Why an environment variable: it is inherited through fork, exec and the double fork of a
//! daemon (Patroni starts the postmaster the way pg_ctl does, setsid and double fork, so init
//! becomes its parent and no parent link leads to it). On a host that is not a namespace of its
//! own (loopback), `process_tree::node_processes` finds such a daemon by the marker, and the
//! next controller start kills the marked processes of a dead controller (`kill_stale`), which
//! PR_SET_PDEATHSIG (not inherited by a double fork's grandchild) does not reach.
//!
//! What the marker does not reach: a process that rewrites its environment block. PostgreSQL's
//! backends clobber it with their ps display, so it is the postmaster that carries the marker,
//! and its backends are found as its descendants.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};

use faultline_nemeses::NodeId;

use super::process_tree::{parent_links, trees_of};

/// The environment variable holding a node process's name.
pub const ENV: &str = "FAULTLINE_NODE";

const PREFIX: &str = "fl";

/// A new run counter for a set of hosts of this process (one per `Hosts::create`).
pub fn next_run() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `fl<pid>x<run>n<id>`: node `id` of run `run` of the controller `pid`.
pub fn node_name(pid: u32, run: u32, id: NodeId) -> String {
    format!("{PREFIX}{pid}x{run}n{id}")
}

/// The controller pid a well-formed node name carries, None for any other name.
pub fn owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, rest) = rest.split_once('x')?;
    let (run, id) = rest.split_once('n')?;
    (is_decimal(pid) && is_decimal(run) && is_decimal(id))
        .then(|| pid.parse().ok())
        .flatten()
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The marker in an environment block (`/proc/<pid>/environ`: NUL-separated `KEY=value`).
pub fn marker_in(environ: &[u8]) -> Option<&str> {
    let key = format!("{ENV}=");
    environ
        .split(|&b| b == 0)
        .find_map(|entry| entry.strip_prefix(key.as_bytes()))
        .and_then(|value| std::str::from_utf8(value).ok())
}

/// The marker of a running process, None when it has none, is gone, or its environment is not
/// ours to read.
pub fn marker_of(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    marker_in(&environ).map(str::to_owned)
}

/// Every process /proc lists now whose marker satisfies `wanted`, with its marker. One read of
/// each process's environment: unreadable ones (gone, another user's without root) are skipped,
/// and so are processes of another pid namespace (a container's faultline numbers its
/// controller's pid in its own namespace: judged from here, it would look dead).
pub fn marked_processes(wanted: impl Fn(&str) -> bool) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let Some(own_pid_namespace) = pid_namespace("self") else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, marker_of(pid)?)))
        .filter(|(_, marker)| wanted(marker))
        .filter(|(pid, _)| pid_namespace(&pid.to_string()).as_ref() == Some(&own_pid_namespace))
        .collect();
    found.sort_unstable();
    found
}

/// The pid namespace of `/proc/<which>` ("pid:[4026531836]"), None when unreadable.
fn pid_namespace(which: &str) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{which}/ns/pid")).ok()
}

/// SIGKILLs every process whose marker names a controller that no longer runs, and every
/// descendant of one (a postmaster's backends, whose environment holds no marker), stopping
/// them all first so that none forks past the kill. Best effort, run at a controller start; the
/// controller itself and its own nodes are never touched.
///
/// Pid reuse: a controller pid taken since by another process makes its leftovers look alive
/// (they stay until that process ends), the same caveat the netns names have.
pub fn kill_stale() {
    kill_stale_with(crate::machine::process_alive);
}

fn kill_stale_with(alive: impl Fn(u32) -> bool) {
    let me = std::process::id();
    kill_marked(|marker| owner(marker).is_some_and(|pid| pid != me && !alive(pid)));
}

/// SIGKILLs every process whose marker satisfies `wanted` and every descendant of one, all
/// stopped first. Never this controller or an ancestor of it (a shell that exported a marker
/// by hand), and never a process whose start time changed since it was found (its pid reused
/// after another controller killed it: two controllers may start at once).
pub fn kill_marked(wanted: impl Fn(&str) -> bool) {
    let me = std::process::id();
    let roots: Vec<u32> = marked_processes(wanted)
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    if roots.is_empty() {
        return;
    }
    let mut spared: BTreeSet<u32> = BTreeSet::new();
    let mut doomed: HashMap<u32, Option<u64>> = HashMap::new();
    // A few rounds: a process running when the first snapshot was taken may have forked.
    for _ in 0..4 {
        let parents: HashMap<u32, u32> = parent_links();
        let mut up = Some(me);
        while let Some(pid) = up.filter(|&p| p > 1 && spared.insert(p)) {
            up = parents.get(&pid).copied();
        }
        let new: Vec<u32> = trees_of(&roots, &parents)
            .into_iter()
            .filter(|p| !spared.contains(p) && !doomed.contains_key(p))
            .collect();
        if new.is_empty() {
            break;
        }
        for pid in new {
            doomed.insert(pid, start_time(pid));
            signal(pid, libc::SIGSTOP);
        }
    }
    for (&pid, &started) in &doomed {
        if started.is_some() && start_time(pid) == started {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// When `pid` started (field 22 of /proc/<pid>/stat, clock ticks since boot), None when gone.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields after its last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn signal(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, signal) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_carries_its_controller_s_pid() {
        let name = node_name(4_194_304, 12, 3);
        assert_eq!(name, "fl4194304x12n3");
        assert_eq!(owner(&name), Some(4_194_304));
        for other in [
            "flannel",
            "fl12x0",
            "fl12x0n",
            "flx0n1",
            "fl1ax0n1",
            "fl12x0n3z",
            "",
        ] {
            assert_eq!(owner(other), None, "{other}");
        }
    }

    #[test]
    fn the_marker_is_one_whole_entry_of_the_environment() {
        let environ = b"PATH=/bin\0XFAULTLINE_NODE=no\0FAULTLINE_NODE=fl7x0n1\0HOME=/\0";
        assert_eq!(marker_in(environ), Some("fl7x0n1"));
        assert_eq!(marker_in(b"FAULTLINE_NODE_X=fl7x0n1\0PATH=/bin"), None);
        assert_eq!(marker_in(b"FAULTLINE_NODE=fl7x0n1"), Some("fl7x0n1"));
        // A block a process overwrote (PostgreSQL's ps display): NULs and text, no marker.
        assert_eq!(marker_in(b"postgres: n1: checkpointer \0\0\0\0"), None);
        assert_eq!(marker_in(b""), None);
    }
}
