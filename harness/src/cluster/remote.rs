//! Nodes on ssh hosts: the one place where starting a node differs by host kind. The program
//! the nodes run (the controller's own binary for kvnode, `faultline kvnode ...`) is uploaded
//! once to each ssh host, into the run's remote directory (`/tmp/faultline-<pid>-<n>/bin`),
//! and each node keeps its data in that directory (`data/n<id>`), removed with it when the run
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
    program: String,
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
    /// Checks libfaketime (when asked) on every ssh host of `hosts`, then uploads `exe` to
    /// each and creates each node's data folder (and timestamp file) there.
    pub async fn upload(
        hosts: &Hosts,
        exe: &Path,
        faketime: Option<&Path>,
    ) -> Result<RemotePrograms, ClusterError> {
        let ssh: Vec<(u32, &Arc<AnyHost>, &SshHost)> = hosts
            .iter()
            .filter_map(|(id, any)| match &**any {
                AnyHost::Ssh(host) => Some((id, any, host)),
                _ => None,
            })
            .collect();
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
            let program = host
                .upload_as(exe, REMOTE_PROGRAM)
                .await
                .map_err(ClusterError::Hosts)?;
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

    /// Node `id`'s program and arguments on its host: on an ssh host the uploaded program and
    /// `--data-dir` in the remote directory; elsewhere as given.
    pub fn command(&self, id: u32, exe: PathBuf, mut args: Vec<String>) -> (PathBuf, Vec<String>) {
        let Some(node) = self.node(id) else {
            return (exe, args);
        };
        if let Some(i) = args.iter().position(|a| a == "--data-dir")
            && let Some(value) = args.get_mut(i + 1)
        {
            *value = node.data.clone();
        }
        (PathBuf::from(&node.program), args)
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
