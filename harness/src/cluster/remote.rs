//! Nodes on ssh hosts: the one place where starting a node differs by host kind. The program
//! the nodes run (the controller's own binary for kvnode, `faultline kvnode ...`) is uploaded
//! once to each ssh host, into the run's remote directory (`/tmp/faultline-<pid>-<n>/bin`),
//! and each node keeps its data in that directory (`data/n<id>`), removed with it when the run
//! ends. Local hosts (loopback, netns) run the program and data folders as they are.

use std::path::{Path, PathBuf};

use super::error::ClusterError;
use crate::hosts::{AnyHost, Hosts};

/// The name the uploaded program has on a host.
const REMOTE_PROGRAM: &str = "faultline";

/// Per node on an ssh host: the uploaded program and the remote data folder.
pub(crate) struct RemotePrograms {
    nodes: Vec<(u32, String, String)>,
}

impl RemotePrograms {
    /// Uploads `exe` to every ssh host of `hosts` and creates each node's data folder there;
    /// nothing for local hosts.
    pub async fn upload(hosts: &Hosts, exe: &Path) -> Result<RemotePrograms, ClusterError> {
        let mut nodes = Vec::new();
        for (id, host) in hosts.iter() {
            let AnyHost::Ssh(host) = &**host else {
                continue;
            };
            let program = host
                .upload_as(exe, REMOTE_PROGRAM)
                .await
                .map_err(ClusterError::Hosts)?;
            let data = format!("{}/data/n{id}", host.remote_dir());
            host.exec(&["mkdir", "-p", &data])
                .await
                .and_then(|out| {
                    if out.status.success() {
                        Ok(())
                    } else {
                        Err(crate::hosts::HostError::Command {
                            host: host.name().to_owned(),
                            command: format!("mkdir -p {data}"),
                            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                        })
                    }
                })
                .map_err(ClusterError::Hosts)?;
            nodes.push((id, program, data));
        }
        Ok(RemotePrograms { nodes })
    }

    /// Node `id`'s program and arguments on its host: on an ssh host the uploaded program and
    /// `--data-dir` in the remote directory; elsewhere as given.
    pub fn command(&self, id: u32, exe: PathBuf, mut args: Vec<String>) -> (PathBuf, Vec<String>) {
        let Some((_, program, data)) = self.nodes.iter().find(|(i, _, _)| *i == id) else {
            return (exe, args);
        };
        if let Some(i) = args.iter().position(|a| a == "--data-dir")
            && let Some(value) = args.get_mut(i + 1)
        {
            *value = data.clone();
        }
        (PathBuf::from(program), args)
    }
}
