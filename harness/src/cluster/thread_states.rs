//! Whether a process's threads are stopped, as /proc reports them. SIGSTOP is delivered
//! asynchronously and thread by thread: kill(2) returns once the signal is queued, and a thread
//! that is running keeps running until it next enters the kernel. On a loaded two-core machine
//! that can be long enough for a "paused" node to answer a request, so "paused" means every
//! thread reports stopped, not just the main one.
//!
//! Standard library only: the kvnode and workloads test clusters include this file by path.

/// How many of a process's threads are stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadStates {
    pub stopped: usize,
    pub total: usize,
}

impl ThreadStates {
    /// Every thread is stopped (job-control stop or ptrace stop).
    pub fn all_stopped(&self) -> bool {
        self.total > 0 && self.stopped == self.total
    }

    /// No thread is stopped (and there is at least one).
    pub fn none_stopped(&self) -> bool {
        self.total > 0 && self.stopped == 0
    }
}

/// The states of every thread of `pid`, from /proc/<pid>/task/*/stat. `None` when the process
/// is gone (a zombie, not reaped yet, counts as gone: none of its threads runs or is stopped)
/// or /proc is not there.
pub fn thread_states(pid: u32) -> Option<ThreadStates> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut states = ThreadStates {
        stopped: 0,
        total: 0,
    };
    for task in tasks.flatten() {
        // A thread that exits between listing and reading is simply not counted.
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some(state) = state_letter(&stat) else {
            continue;
        };
        if matches!(state, 'Z' | 'X') {
            continue;
        }
        states.total += 1;
        if matches!(state, 'T' | 't') {
            states.stopped += 1;
        }
    }
    (states.total > 0).then_some(states)
}

/// The state letter of a stat line ("pid (comm) S ..."; comm may hold spaces and parentheses).
pub fn state_letter(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_follows_the_last_parenthesis() {
        assert_eq!(state_letter("42 (kv node (x)) T 1 2 3"), Some('T'));
        assert_eq!(state_letter("42 (kvnode) S 1"), Some('S'));
        assert_eq!(state_letter("no parenthesis"), None);
    }

    #[test]
    fn this_running_process_has_no_stopped_thread() {
        let states = thread_states(std::process::id()).expect("/proc of ourselves");
        assert!(states.total >= 1);
        assert!(states.none_stopped(), "{states:?}");
        assert!(!states.all_stopped());
    }
}
