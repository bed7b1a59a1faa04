//! A client's log file: the programs' stderr, appended, with faultline's own lines between them
//! (a program started, why one was stopped), and the notices a harness surfaces.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tokio::sync::mpsc::UnboundedSender;

/// One line faultline wrote to a client's log because a program misbehaved (timed out, crashed,
/// answered garbage, never said ready), for the harness to show: the run must say why its
/// clients were restarted without anyone reading every log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioNotice {
    /// The Jepsen process the program was.
    pub process: u64,
    /// What happened, as in the operation's `error`.
    pub message: String,
    /// The log file with the program's stderr.
    pub log: PathBuf,
}

/// `stdio client process 3: stdio client timed out after 2000 ms (log: run/clients/3.log)`.
impl std::fmt::Display for StdioNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stdio client process {}: {} (log: {})",
            self.process,
            self.message,
            self.log.display()
        )
    }
}

pub(super) struct ClientLog {
    path: PathBuf,
    notices: Option<UnboundedSender<StdioNotice>>,
}

impl ClientLog {
    pub(super) fn new(path: PathBuf) -> ClientLog {
        ClientLog {
            path,
            notices: None,
        }
    }

    pub(super) fn notify(&mut self, notices: UnboundedSender<StdioNotice>) {
        self.notices = Some(notices);
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The file opened for appending (its folder created), for a program's stderr or a line.
    pub(super) fn open(&self) -> io::Result<File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
    }

    /// Appends `faultline <time>: <text>`. One write of a whole line on an append-mode file,
    /// so it never lands inside a line of the program's stderr written at the same time. A log
    /// that cannot be written loses the line, never the operation.
    pub(super) fn line(&self, text: &str) {
        let line = format!("faultline {}: {text}\n", jiff::Timestamp::now());
        if let Ok(mut file) = self.open() {
            let _ = file.write_all(line.as_bytes());
        }
    }

    /// A misbehaving program: the log line, and the notice for the harness (a receiver that
    /// is gone only means nobody listens).
    pub(super) fn trouble(&self, process: u64, message: &str) {
        self.line(&format!("process {process}: {message}"));
        if let Some(notices) = &self.notices {
            let _ = notices.send(StdioNotice {
                process,
                message: message.to_owned(),
                log: self.path.clone(),
            });
        }
    }
}
