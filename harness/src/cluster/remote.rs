//! Nodes on ssh hosts: the one place where starting a node differs by host kind. When the
//! system runs the controller's own binary (kvnode: `faultline kvnode ...`), it is uploaded
//! once to each ssh host, into the run's remote directory (`/tmp/faultline-<pid>-<n>/bin`);
//! any other program must be installed there. Each node keeps its data in that directory
//! (`data/n<id>`, the `data_dir` its definition's templates see), removed with it when the run
//! ends. Under libfaketime a node's timestamp file is there too (`faketime/n<id>.faketime`),
//! rewritten over ssh by the clock nemesis; a host without the library is an error naming it,
//! before anything is uploaded. Local hosts (loopback, netns) run as they are.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::ClusterError;
use crate::clock::{FaketimeClocks, REAL_TIME, faketime_env};
use crate::hosts::{AnyHost, HostError, Hosts, SshHost};

/// The name the uploaded program has on a host.
const REMOTE_PROGRAM: &str = "faultline";

/// One node on an ssh host.
struct RemoteNode {
    id: u32,
    host: Arc<AnyHost>,
    /// The uploaded controller binary, when the system runs it.
    program: Option<String>,
    data: String,
    /// Its libfaketime timestamp file on the host, when the run skews clocks so.
    faketime: Option<String>,
}

/// The nodes of a cluster that run on ssh hosts (none on local hosts).
pub(crate) struct RemotePrograms {
    nodes: Vec<RemoteNode>,
    library: Option<PathBuf>,
}

impl RemotePrograms {
    /// Checks libfaketime (when asked) on every ssh host of `hosts`, then uploads `exe` (when
    /// the system runs it) to each and creates each node's data folder (and timestamp file)
    /// there.
    pub async fn upload(
        hosts: &Hosts,
        exe: Option<&Path>,
        faketime: Option<&Path>,
        requires: &[crate::system::definition::Requirement],
    ) -> Result<RemotePrograms, ClusterError> {
        let ssh: Vec<(u32, &Arc<AnyHost>, &SshHost)> = hosts
            .iter()
            .filter_map(|(id, any)| match &**any {
                AnyHost::Ssh(host) => Some((id, any, host)),
                _ => None,
            })
            .collect();
        // The definition's programs run on the hosts: each host has them, or the run stops
        // here naming the host, before anything is uploaded or started.
        for (_, _, host) in &ssh {
            for need in requires {
                let found = host
                    .exec(&["sh", "-c", "command -v \"$0\" >/dev/null", &need.program])
                    .await
                    .map_err(ClusterError::Hosts)?;
                if !found.status.success() {
                    return Err(ClusterError::Hosts(HostError::Unsupported {
                        host: host.name().to_owned(),
                        what: crate::system::requires::missing(need),
                    }));
                }
            }
        }
        if let Some(library) = faketime {
            for (_, _, host) in &ssh {
                let lib = library.display().to_string();
                let found = host
                    .exec(&["test", "-r", &lib])
                    .await
                    .map_err(ClusterError::Hosts)?;
                if !found.status.success() {
                    return Err(ClusterError::Hosts(HostError::Unsupported {
                        host: host.name().to_owned(),
                        what: format!(
                            "libfaketime is missing at {lib} (apt-get install faketime there), \
                             or use --clock api"
                        ),
                    }));
                }
            }
        }
        let mut nodes = Vec::new();
        for (id, any, host) in ssh {
            let program = match exe {
                Some(exe) => Some(
                    host.upload_as(exe, REMOTE_PROGRAM)
                        .await
                        .map_err(ClusterError::Hosts)?,
                ),
                None => None,
            };
            let data = format!("{}/data/n{id}", host.remote_dir());
            ok(host, &["mkdir", "-p", &data]).await?;
            let faketime = match faketime {
                Some(_) => {
                    let dir = format!("{}/faketime", host.remote_dir());
                    ok(host, &["mkdir", "-p", &dir]).await?;
                    let file = format!("{dir}/n{id}.faketime");
                    host.write_file(Path::new(&file), REAL_TIME.as_bytes())
                        .await
                        .map_err(ClusterError::Hosts)?;
                    Some(file)
                }
                None => None,
            };
            nodes.push(RemoteNode {
                id,
                host: any.clone(),
                program,
                data,
                faketime,
            });
        }
        Ok(RemotePrograms {
            nodes,
            library: faketime.map(Path::to_path_buf),
        })
    }

    fn node(&self, id: u32) -> Option<&RemoteNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Node `id`'s data folder on its ssh host; `None` on a local host.
    pub fn data_dir(&self, id: u32) -> Option<PathBuf> {
        self.node(id).map(|n| PathBuf::from(&n.data))
    }

    /// A process's argv on node `id`'s host: on an ssh host the controller's binary (`exe`, as
    /// `argv[0]`) replaced by its uploaded copy; elsewhere as given.
    pub fn program(&self, id: u32, exe: &Path, mut argv: Vec<String>) -> Vec<String> {
        if let Some(RemoteNode {
            program: Some(program),
            ..
        }) = self.node(id)
            && argv.first().is_some_and(|a| Path::new(a) == exe)
        {
            argv[0] = program.clone();
        }
        argv
    }

    /// Node `id`'s environment: on an ssh host under libfaketime, its remote timestamp file;
    /// elsewhere `local`.
    pub fn env(&self, id: u32, local: Vec<(String, String)>) -> Vec<(String, String)> {
        match (self.node(id), &self.library) {
            (
                Some(RemoteNode {
                    faketime: Some(file),
                    ..
                }),
                Some(library),
            ) => faketime_env(library, file),
            _ => local,
        }
    }

    /// `clocks` with the remote nodes' timestamp files in place of local ones.
    pub fn clocks(&self, clocks: FaketimeClocks) -> FaketimeClocks {
        self.nodes
            .iter()
            .fold(clocks, |clocks, node| match &node.faketime {
                Some(file) => clocks.on_host(node.id, node.host.clone(), file.clone()),
                None => clocks,
            })
    }
}

/// Runs `argv` on `host`, failing unless it exits 0.
async fn ok(host: &SshHost, argv: &[&str]) -> Result<(), ClusterError> {
    let out = host.exec(argv).await.map_err(ClusterError::Hosts)?;
    if out.status.success() {
        return Ok(());
    }
    Err(ClusterError::Hosts(HostError::Command {
        host: host.name().to_owned(),
        command: argv.join(" "),
        message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    }))
}
