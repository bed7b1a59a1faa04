//! The ssh host kind: remote Linux machines from an inventory (`--hosts ssh --inventory
//! hosts.yaml`), reached with the `openssh` crate over the system `ssh` (the user's config,
//! agent and known hosts; one multiplexed master connection per host, every command a cheap
//! `ssh -S` over it).
//!
//! Everything faultline leaves on a host lives in one directory named with the controller's
//! marker, `/tmp/faultline-<pid>-<n>` (`remote_dir`): pid files, logs, uploaded binaries. It is
//! removed when the run ends, and one of a controller that is no longer running is removed (its
//! processes killed first) at the next start (`remove_stale_on`).
//!
//! Partitions are an nft table of the run's on each host (`firewall.rs`), named with the same
//! marker, `faultline_ssh_<pid>_<n>`, and removed with the directory.
//!
//! Commands run through `sudo -n` when the inventory says `sudo: true`.

mod control;
mod firewall;
mod inventory;
mod remote_process;

use std::net::IpAddr;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder, Stdio};
use tokio::io::AsyncWriteExt;

use super::HostError;

pub use control::SshControl;
pub use inventory::{Inventory, SshTarget};
pub use remote_process::{RemoteHandle, RemoteProcess};

/// Prefix of the remote directory of a run: `faultline-<pid>-<n>`.
const MARKER: &str = "faultline-";
/// Prefix of this machine's directory of ssh control sockets: `faultline-ssh-<pid>`.
const CONTROL_PREFIX: &str = "faultline-ssh-";
/// Where the run directories live on a remote host.
const REMOTE_ROOT: &str = "/tmp";

/// How long a master connection may go without a command before it exits by itself.
const IDLE_LIMIT: std::num::NonZeroUsize = std::num::NonZeroUsize::new(3600).unwrap();

/// How long connecting to a host may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One remote machine, connected.
#[derive(Debug)]
pub struct SshHost {
    /// `user@address:port`.
    name: String,
    target: SshTarget,
    session: Session,
    /// This run's directory on the host, `/tmp/faultline-<pid>-<n>`.
    dir: String,
    /// This run's nft table on the host, `faultline_ssh_<pid>_<n>`.
    table: String,
    /// The local directory of control sockets, `$TMPDIR/faultline-ssh-<pid>`. Declared after
    /// `session`, which closes the master (and removes its socket) when dropped first.
    _control_dir: ControlDir,
}

/// Removes the directory of control sockets when dropped, once no other host's is left in it
/// (the last host dropped or closed removes it).
#[derive(Debug)]
struct ControlDir(std::path::PathBuf);

impl Drop for ControlDir {
    fn drop(&mut self) {
        // Fails while another connection's socket is in it.
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// How to connect, beyond what the inventory says of each host.
#[derive(Debug, Clone, Default)]
pub struct SshOptions {
    /// An ssh_config file (`ssh -F`); None: the user's.
    pub config_file: Option<std::path::PathBuf>,
}

impl SshHost {
    /// Connects to `target` (one master connection), checks that it answers, and creates this
    /// run's directory there. A refusing or unreachable host is an error naming it.
    pub async fn connect(target: SshTarget, options: &SshOptions) -> Result<SshHost, HostError> {
        Self::connect_for_run(target, options, next_run()).await
    }

    /// `connect`, the run directory numbered `run` (`next_run`): the hosts of one run share
    /// their marker, `faultline-<pid>-<run>`.
    pub async fn connect_for_run(
        target: SshTarget,
        options: &SshOptions,
        run: u32,
    ) -> Result<SshHost, HostError> {
        let name = target.label();
        let control_dir = control_directory(&name)?;
        let mut builder = SessionBuilder::default();
        builder
            .user(target.user.clone())
            .port(target.port)
            // accept-new: a host seen before must keep its key (a command-line -o would
            // override the user's config, so this is the one check set here).
            .known_hosts_check(KnownHosts::Add)
            .connect_timeout(CONNECT_TIMEOUT)
            .server_alive_interval(Duration::from_secs(5))
            // The control sockets live in a directory of this controller's (ssh's default,
            // the working directory, may be the user's repository; the crate's own cleaning
            // of old ones would remove those of other controllers too).
            .control_directory(&control_dir)
            // The master is closed when the run ends (`close`, or the session's Drop); one of
            // a controller killed with SIGKILL exits after an hour without a command, rather
            // than never. A run quiet for longer loses its connection (see IDLE_LIMIT).
            .control_persist(ControlPersist::IdleFor(IDLE_LIMIT));
        if let Some(identity) = &target.identity {
            builder.keyfile(identity);
        }
        if let Some(config) = &options.config_file {
            builder.config_file(config);
        }
        let session = builder
            .connect(target.address.to_string())
            .await
            .map_err(|e| HostError::Command {
                host: name.clone(),
                command: "ssh".into(),
                message: error_chain(&e),
            })?;
        let run_dir = format!("{MARKER}{}-{}", std::process::id(), run);
        let table = firewall::table_for(&run_dir).unwrap_or_default();
        let host = SshHost {
            name,
            target,
            session,
            dir: format!("{REMOTE_ROOT}/{run_dir}"),
            table,
            _control_dir: ControlDir(control_dir),
        };
        host.shell_ok(&format!(
            "mkdir -p {0}/pids {0}/logs {0}/bin",
            quote(&host.dir)
        ))
        .await?;
        Ok(host)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn ip(&self) -> IpAddr {
        self.target.address
    }

    /// This run's directory on the host.
    pub fn remote_dir(&self) -> &str {
        &self.dir
    }

    /// Blocking commands over this host's master connection (valid while it is open).
    pub fn control(&self) -> SshControl {
        SshControl {
            host: self.name.clone(),
            socket: self.session.control_socket().to_path_buf(),
            sudo: self.target.sudo,
        }
    }

    /// The script `clean_up` runs, for a blocking caller (`SshControl::shell`).
    pub(crate) fn clean_up_script(&self) -> String {
        format!(
            "{}; {}",
            delete_table_if_nft(&self.table),
            kill_and_remove(&self.dir)
        )
    }

    /// Runs `argv` on the host (through `sudo -n` when the inventory asks) and returns its
    /// output, whatever its exit status.
    pub async fn exec(&self, argv: &[&str]) -> Result<Output, HostError> {
        let script = argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
        self.shell(&script).await
    }

    /// Runs a `sh -c` script on the host and returns its output.
    pub(crate) async fn shell(&self, script: &str) -> Result<Output, HostError> {
        self.shell_with_input(script, None).await
    }

    /// `shell`, failing unless the script exits 0.
    pub(crate) async fn shell_ok(&self, script: &str) -> Result<Output, HostError> {
        let out = self.shell(script).await?;
        self.ok(script, out)
    }

    fn ok(&self, script: &str, out: Output) -> Result<Output, HostError> {
        if out.status.success() {
            Ok(out)
        } else {
            Err(HostError::Command {
                host: self.name.clone(),
                command: script.to_owned(),
                message: one_line(&String::from_utf8_lossy(&out.stderr)),
            })
        }
    }

    async fn shell_with_input(
        &self,
        script: &str,
        input: Option<&[u8]>,
    ) -> Result<Output, HostError> {
        let err = |e: openssh::Error| HostError::Command {
            host: self.name.clone(),
            command: script.to_owned(),
            message: error_chain(&e),
        };
        // `command` quotes each argument for the remote shell.
        let mut command = if self.target.sudo {
            let mut c = self.session.command("sudo");
            c.args(["-n", "sh", "-c", script]);
            c
        } else {
            let mut c = self.session.command("sh");
            c.args(["-c", script]);
            c
        };
        let Some(input) = input else {
            return command.stdin(Stdio::null()).output().await.map_err(err);
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .await
            .map_err(err)?;
        if let Some(mut stdin) = child.stdin().take() {
            stdin
                .write_all(input)
                .await
                .map_err(|e| HostError::io(&self.name, format!("cannot send to {script}"), e))?;
            // Closing stdin ends `cat`.
            drop(stdin);
        }
        child.wait_with_output().await.map_err(err)
    }

    /// Writes `bytes` to `path` on the host (replacing it).
    pub async fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HostError> {
        let script = format!("cat > {}", quote(&path.to_string_lossy()));
        let out = self.shell_with_input(&script, Some(bytes)).await?;
        self.ok(&script, out).map(drop)
    }

    /// Reads `path` on the host.
    pub async fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        let script = format!("cat {}", quote(&path.to_string_lossy()));
        Ok(self.shell_ok(&script).await?.stdout)
    }

    /// Replaces the host's firewall with one that drops every packet it receives from
    /// `sources` (none: heal), with `nft` on the host.
    pub async fn drop_input_from(&self, sources: &[IpAddr]) -> Result<(), HostError> {
        let script = firewall::replace_rules(&self.table, sources);
        self.exec(&["nft", &script]).await.and_then(|out| {
            let command = format!("nft {script}");
            self.ok(&command, out).map(drop)
        })
    }

    /// Removes what this run left on the host: kills every process whose pid its directory
    /// recorded, deletes its nft table, removes the directory.
    pub async fn clean_up(&self) -> Result<(), HostError> {
        self.shell_ok(&self.clean_up_script()).await.map(drop)
    }

    /// Closes the master connection, and the directory of control sockets once no other
    /// host's is left in it.
    pub async fn close(self) -> Result<(), HostError> {
        let name = self.name.clone();
        // The directory goes (if empty) as `_control_dir` drops at the end of this function.
        self.session.close().await.map_err(|e| HostError::Command {
            host: name,
            command: "ssh -O exit".into(),
            message: error_chain(&e),
        })
    }

    /// Removes the run directories (and their processes) left on this host by controllers of
    /// this machine that are no longer running, judged by the pid in the directory's name.
    pub async fn remove_stale(&self) -> Result<(), HostError> {
        let out = self.shell_ok(&format!("ls -1 {REMOTE_ROOT}")).await?;
        let listing = String::from_utf8_lossy(&out.stdout);
        for name in listing.lines() {
            if stale_dir(name, crate::machine::process_alive) {
                let dir = format!("{REMOTE_ROOT}/{name}");
                self.shell_ok(&kill_and_remove(&dir)).await?;
            }
        }
        // Tables outlive their directory if the directory went first: listed on their own.
        let out = self
            .shell("command -v nft > /dev/null && nft list tables inet")
            .await?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some(table) = line.strip_prefix("table inet ") else {
                continue;
            };
            if firewall::owner(table).is_some_and(|pid| !crate::machine::process_alive(pid)) {
                self.shell_ok(&delete_table_if_nft(table)).await?;
            }
        }
        Ok(())
    }
}

impl super::Host for SshHost {
    fn name(&self) -> &str {
        &self.name
    }

    fn ip(&self) -> IpAddr {
        self.target.address
    }

    async fn exec(&self, argv: &[&str]) -> Result<Output, HostError> {
        SshHost::exec(self, argv).await
    }

    /// Starts `spec` detached on the host (`spec.program` a path there: see `upload`); the
    /// handle signals and watches it over the master connection.
    async fn spawn(&self, spec: super::ProcessSpec) -> Result<super::ProcessHandle, HostError> {
        let process = self.spawn_remote(&spec).await?;
        Ok(super::ProcessHandle::Remote(RemoteHandle::new(
            self.control(),
            process,
        )))
    }

    async fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HostError> {
        SshHost::write_file(self, path, bytes).await
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        SshHost::read_file(self, path).await
    }

    async fn drop_input_from(&self, sources: &[IpAddr]) -> Result<(), HostError> {
        SshHost::drop_input_from(self, sources).await
    }
}

/// The next run number of this controller, the `<n>` of `faultline-<pid>-<n>`.
pub fn next_run() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `$TMPDIR/faultline-ssh-<pid>`, this controller's directory of control sockets, created if
/// need be; those of controllers that are no longer running are removed first.
fn control_directory(host: &str) -> Result<std::path::PathBuf, HostError> {
    let root = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let stale = name
                .to_str()
                .and_then(|n| n.strip_prefix(CONTROL_PREFIX))
                .and_then(|pid| pid.parse().ok())
                .is_some_and(|pid| !crate::machine::process_alive(pid));
            if stale {
                close_masters_in(&entry.path());
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = root.join(format!("{CONTROL_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| HostError::io(host, format!("cannot create {}", dir.display()), e))?;
    Ok(dir)
}

/// Asks every master connection whose control socket is under `dir` (a dead controller's
/// `.ssh-connection*/master`) to exit: they would otherwise linger until their idle limit.
fn close_masters_in(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let socket = entry.path().join("master");
        if socket.exists() {
            let _ = std::process::Command::new("ssh")
                .arg("-S")
                .arg(&socket)
                .args(["-o", "BatchMode=yes", "-O", "exit", "none"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// A script that deletes nft table `table` where nft is installed (a host never partitioned
/// may have none).
fn delete_table_if_nft(table: &str) -> String {
    format!(
        "if command -v nft > /dev/null; then nft {}; fi",
        quote(&firewall::delete_table(table))
    )
}

/// A script that SIGKILLs the process group of every pid recorded under `dir/pids`, then
/// removes `dir`.
fn kill_and_remove(dir: &str) -> String {
    let dir = quote(dir);
    format!(
        "for f in {dir}/pids/*.pid; do [ -f \"$f\" ] && kill -KILL -$(cat \"$f\") 2>/dev/null; done; rm -rf {dir}"
    )
}

/// `faultline-<pid>-<n>` of a pid that is not running.
fn stale_dir(name: &str, alive: impl Fn(u32) -> bool) -> bool {
    let Some(rest) = name.strip_prefix(MARKER) else {
        return false;
    };
    let Some((pid, run)) = rest.split_once('-') else {
        return false;
    };
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    numeric(pid) && numeric(run) && pid.parse().is_ok_and(|pid| !alive(pid))
}

/// `s` quoted for a POSIX shell.
pub(crate) fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// An error and its causes (ssh's own words are in the source), on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    one_line(&text)
}

/// Messages of ssh and remote commands on one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_plain_words_and_wraps_the_rest() {
        assert_eq!(quote("/tmp/faultline-1-0"), "/tmp/faultline-1-0");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
    }

    #[test]
    fn only_run_directories_of_dead_controllers_are_stale() {
        let alive = |pid| pid == 7;
        assert!(stale_dir("faultline-12-0", alive));
        assert!(!stale_dir("faultline-7-3", alive));
        assert!(!stale_dir("faultline-faketime-12-0", alive));
        assert!(!stale_dir("faultline-12", alive));
        assert!(!stale_dir("systemd-private-1", alive));
    }
}
