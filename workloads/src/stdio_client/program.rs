//! What a stdio client runs, and the nodes as the program is told them.

use std::path::PathBuf;

use crate::kvnode_client::NodeAddr;

/// The program to run, as a system definition gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioProgram {
    /// The executable: a path, or a name looked up in `PATH`.
    pub program: String,
    pub args: Vec<String>,
    /// Added to (or replacing in) faultline's environment.
    pub env: Vec<(String, String)>,
    /// The working directory; faultline's when `None`.
    pub cwd: Option<PathBuf>,
}

impl StdioProgram {
    /// `program` with `args`, faultline's environment and working directory.
    pub fn new(
        program: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        StdioProgram {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// `program args...`, for messages.
    pub(super) fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A node as a program is told it: its name in histories and where its client port is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioNode {
    /// `n1`, `n2`, ...
    pub name: String,
    /// `HOST:PORT`.
    pub address: String,
}

impl From<&NodeAddr> for StdioNode {
    fn from(node: &NodeAddr) -> Self {
        StdioNode {
            name: node.name(),
            address: node.addr.clone(),
        }
    }
}
