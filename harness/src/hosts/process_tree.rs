//! A node's process tree: its process and every descendant, found by walking the parent links
//! of /proc/*/stat.
//!
//! Why not just the process group: a node's processes may leave it. Every PostgreSQL backend
//! calls setsid(2), so a signal to the postmaster's group reaches the postmaster only, and a
//! "paused" PostgreSQL would go on answering on its open connections. A host crash or pause
//! reaches every process of the node, so the cluster signals the group (which also holds
//! processes whose parent already exited) and the tree.
//!
//! Nor is the tree always enough: a program that starts a daemon the way pg_ctl does (setsid,
//! double fork: Patroni starts the postmaster so) leaves it to init, and no parent link leads
//! to it. `node_processes` adds what a crash of the node's host would take: where the node is
//! a network namespace of its own (netns hosts), every process in that namespace; elsewhere
//! (loopback), every process carrying the node's environment marker (`node_marker.rs`,
//! inherited through the double fork) and its descendants. ssh hosts walk the tree only
//! (`ssh/remote_process.rs`).
//!
//! Standard library only, like `cluster/thread_states.rs`.

use std::collections::{BTreeSet, HashMap};

use super::node_marker;
use crate::cluster::thread_states::{ThreadStates, thread_states};

/// `root` and every process descending from it, root first, then breadth-first. Empty when
/// `root` is gone. A snapshot: the kernel may add or remove processes right after.
pub fn process_tree(root: u32) -> Vec<u32> {
    tree_of(root, &parent_links())
}

/// `root`'s tree and the rest of its node: when `root` lives in a network namespace other than
/// this process's (a netns host), every other process in that namespace; otherwise every
/// process carrying the node's `marker` (`node_marker::ENV`, the one `root` was started with)
/// and their descendants (loopback: a daemon double-forked to init, found even once `root`
/// itself is gone). Root first, then its tree, then the others in pid order.
/// Left out on a netns host: commands this controller runs in the namespace (its own children
/// besides the node, such as the firewall's `nft`): a crash of the node must not fail a
/// partition. They carry no marker, so the marker leaves them out too.
pub fn node_processes(root: u32, marker: Option<&str>) -> Vec<u32> {
    let parents = parent_links();
    let mut pids = tree_of(root, &parents);
    let me = std::process::id();
    let own_namespace = net_namespace(me);
    let namespace = net_namespace(root);
    // Both read: an unreadable namespace of our own must not make every process of the
    // machine "the node's namespace".
    if own_namespace.is_some() && namespace.is_some() && namespace != own_namespace {
        let mut members: Vec<u32> = parents
            .iter()
            .filter(|&(&pid, &ppid)| pid != me && ppid != me && !pids.contains(&pid))
            .map(|(&pid, _)| pid)
            .filter(|&pid| net_namespace(pid) == namespace)
            .collect();
        members.sort_unstable();
        pids.extend(members);
        return pids;
    }
    let Some(marker) = marker else {
        return pids;
    };
    let marked: Vec<u32> = node_marker::marked_processes(|m| m == marker)
        .into_iter()
        .map(|(pid, _)| pid)
        .filter(|&pid| pid != me)
        .collect();
    let seen: BTreeSet<u32> = pids.iter().copied().collect();
    pids.extend(
        trees_of(&marked, &parents)
            .into_iter()
            .filter(|p| !seen.contains(p)),
    );
    pids
}

/// The network namespace of `pid` ("net:[4026532]"), None when it is gone or not ours to read.
fn net_namespace(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()
}

/// The same walk over a given (pid → ppid) table.
pub fn tree_of(root: u32, parents: &HashMap<u32, u32>) -> Vec<u32> {
    if !parents.contains_key(&root) {
        return Vec::new();
    }
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, &ppid) in parents {
        children.entry(ppid).or_default().push(pid);
    }
    let mut tree = vec![root];
    let mut next = 0;
    while let Some(&pid) = tree.get(next) {
        next += 1;
        if let Some(kids) = children.get_mut(&pid) {
            kids.sort_unstable();
            // A pid is its own ancestor only in a table read across a pid's reuse: skip it.
            tree.extend(kids.iter().filter(|&&k| k != root));
        }
    }
    tree
}

/// Every process of the trees of `roots` (each once, roots that are gone left out), in pid
/// order.
pub fn trees_of(roots: &[u32], parents: &HashMap<u32, u32>) -> Vec<u32> {
    let all: BTreeSet<u32> = roots
        .iter()
        .flat_map(|&root| tree_of(root, parents))
        .collect();
    all.into_iter().collect()
}

/// pid → parent pid of every process /proc lists now (its threads are not listed there).
pub fn parent_links() -> HashMap<u32, u32> {
    let mut parents = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return parents;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // A process that exits between listing and reading is simply not there.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(ppid) = parent_of(&stat) {
            parents.insert(pid, ppid);
        }
    }
    parents
}

/// The parent pid of a stat line ("pid (comm) S ppid ..."; comm may hold spaces and
/// parentheses).
pub fn parent_of(stat: &str) -> Option<u32> {
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The states of every thread of every process of `pids`, zombies left out (a dead child its
/// stopped parent has not reaped yet is neither running nor stopped). None when no thread is
/// left.
pub fn tree_thread_states(pids: &[u32]) -> Option<ThreadStates> {
    let states = pids.iter().filter_map(|&pid| thread_states(pid)).fold(
        ThreadStates {
            stopped: 0,
            total: 0,
        },
        |sum, s| ThreadStates {
            stopped: sum.stopped + s.stopped,
            total: sum.total + s.total,
        },
    );
    (states.total > 0).then_some(states)
}

/// How many times `signal_tree` looks again for processes forked while it was stopping the
/// tree. A stopped process forks nothing, so the tree settles within a few rounds.
const SETTLE_ROUNDS: usize = 8;

/// Sends `signal` to the process group `pgid` and to every process of `node_processes(root)`
/// (its tree; on a netns host its namespace, on loopback its marked processes too), the others
/// before the root. SIGSTOP and SIGKILL first stop the tree round by round until no new process
/// appears (a running process could fork one the snapshot does not hold: PostgreSQL's
/// postmaster restarts backends that die), and SIGKILL kills only the stopped tree: walked
/// after the root died, the tree would miss its children, re-parented to init.
/// A process that exits meanwhile is not an error; the group's own error is returned.
/// Returns the processes signalled (root included), for a caller that then watches their
/// states: reading them again would read every process's environment again.
pub fn signal_tree(
    root: u32,
    pgid: u32,
    signal: libc::c_int,
    marker: Option<&str>,
) -> std::io::Result<Vec<u32>> {
    let group = -i64::from(pgid);
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    if matches!(signal, libc::SIGSTOP | libc::SIGKILL) {
        for _ in 0..SETTLE_ROUNDS {
            let _ = send(group, libc::SIGSTOP);
            let new: Vec<u32> = node_processes(root, marker)
                .into_iter()
                .filter(|p| seen.insert(*p))
                .collect();
            if new.is_empty() {
                break;
            }
            for pid in new {
                let _ = send(i64::from(pid), libc::SIGSTOP);
            }
        }
    } else {
        seen.extend(node_processes(root, marker));
    }
    for &pid in seen.iter().filter(|&&p| p != root) {
        let _ = send(i64::from(pid), signal);
    }
    send(group, signal)?;
    Ok(seen.into_iter().collect())
}

/// kill(2) with a pid (negative: a process group).
fn send(target: i64, signal: libc::c_int) -> std::io::Result<()> {
    let target = libc::pid_t::try_from(target)
        .map_err(|_| std::io::Error::other(format!("pid {target} out of range")))?;
    // SAFETY: kill(2) has no memory-safety preconditions. A descendant's pid (not our child, so
    // not held by us) could in principle be reused between the walk and the signal; the
    // window is the few microseconds since the walk, and SIGKILL stops the tree first.
    if unsafe { libc::kill(target, signal) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_follows_the_state_after_the_last_parenthesis() {
        assert_eq!(parent_of("42 (post gres (x)) S 7 42 42"), Some(7));
        assert_eq!(parent_of("42 (postgres) R"), None);
    }

    #[test]
    fn the_tree_holds_every_descendant_and_nothing_else() {
        let parents: HashMap<u32, u32> = [
            (1, 0),
            (10, 1),
            (11, 10),
            (12, 10),
            (13, 12),
            (20, 1),
            (21, 20),
        ]
        .into();
        assert_eq!(tree_of(10, &parents), vec![10, 11, 12, 13]);
        assert_eq!(tree_of(13, &parents), vec![13]);
        assert_eq!(tree_of(99, &parents), Vec::<u32>::new());
    }

    #[test]
    fn this_process_is_in_its_own_tree_and_runs() {
        let me = std::process::id();
        assert_eq!(process_tree(me).first(), Some(&me));
        let states = tree_thread_states(&[me]).expect("our own threads");
        assert!(states.none_stopped(), "{states:?}");
    }
}
