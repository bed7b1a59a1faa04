//! Readiness: when a node started from a definition counts as up. One probe per definition,
//! asked again and again until it passes or the start's budget runs out.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::definition::Ready;

/// One probe attempt's budget: a paused or half-started node must not stall the wait.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
/// A command probe's budget (it may start a client program).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A definition's probe, aimed at one node.
#[derive(Debug, Clone)]
pub enum Probe {
    /// `GET http://<ip>:<port><path>` answers with this status.
    Http { url: String, status: u16 },
    /// A TCP connection to `ip:port` is accepted.
    Tcp { addr: SocketAddr },
    /// The command (already rendered for the node) exits 0.
    Command { argv: Vec<String> },
}

impl Probe {
    /// The probe of `ready` for a node at `ip` with `ports`; `command` is `ready.command`
    /// rendered for it.
    pub fn for_node(
        ready: &Ready,
        ip: IpAddr,
        ports: &BTreeMap<String, u16>,
        command: Option<Vec<String>>,
    ) -> Probe {
        let port = |name: &str| ports.get(name).copied().unwrap_or_default();
        if let Some(http) = &ready.http {
            Probe::Http {
                url: format!(
                    "http://{}{}",
                    SocketAddr::new(ip, port(&http.port)),
                    http.path
                ),
                status: http.status,
            }
        } else if let Some(tcp) = &ready.tcp {
            Probe::Tcp {
                addr: SocketAddr::new(ip, port(&tcp.port)),
            }
        } else {
            Probe::Command {
                argv: command.unwrap_or_default(),
            }
        }
    }

    /// What the probe asks, for an error message: `GET http://127.0.0.11:7001/status (200)`.
    pub fn describe(&self) -> String {
        match self {
            Probe::Http { url, status } => format!("GET {url} with status {status}"),
            Probe::Tcp { addr } => format!("a TCP connection to {addr}"),
            Probe::Command { argv } => format!("`{}` exiting 0", argv.join(" ")),
        }
    }

    /// One attempt: passed or not (never an error: a node still starting fails it).
    pub async fn passes(&self, http: &reqwest::Client) -> bool {
        match self {
            Probe::Http { url, status } => {
                let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, http.get(url).send()).await;
                matches!(answer, Ok(Ok(r)) if r.status().as_u16() == *status)
            }
            Probe::Tcp { addr } => matches!(
                tokio::time::timeout(ATTEMPT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await,
                Ok(Ok(_))
            ),
            Probe::Command { argv } => {
                let Some((program, args)) = argv.split_first() else {
                    return false;
                };
                let child = tokio::process::Command::new(program)
                    .args(args)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .status();
                matches!(
                    tokio::time::timeout(COMMAND_TIMEOUT, child).await,
                    Ok(Ok(status)) if status.success()
                )
            }
        }
    }
}
