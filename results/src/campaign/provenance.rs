//! What a campaign ran against: faultline's version, the system's name and version, the git
//! commit it was run from and a free label (a build id). Recorded in summary.json so that the
//! nightly trends can say what changed on the night a cell began to fail. Every field is
//! optional: summary.json files written before they existed still read.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// faultline's version (`CARGO_PKG_VERSION` of the binary that ran the campaign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faultline_version: Option<String>,
    /// The system under test (`kvnode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// What the system says its version is. kvnode is built into faultline, so today it is
    /// faultline's; a system definition that runs another store fills it from a command
    /// (`etcd --version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_version: Option<String>,
    /// `git rev-parse HEAD` where the campaign file lives (or the working directory), when that
    /// is inside a git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `--label TEXT`: a build id, a ticket, anything the user wants to see beside the night.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Provenance {
    /// What differs between `before` and `self`, in words (`label night-3 → night-4`); empty
    /// when nothing does.
    pub fn changes_since(&self, before: &Provenance) -> Vec<String> {
        let mut changes = Vec::new();
        for (name, old, new) in [
            (
                "faultline",
                &before.faultline_version,
                &self.faultline_version,
            ),
            ("system", &before.system, &self.system),
            (
                "system version",
                &before.system_version,
                &self.system_version,
            ),
            ("commit", &before.commit, &self.commit),
            ("label", &before.label, &self.label),
        ] {
            if old != new {
                let word = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".to_owned());
                changes.push(format!("{name} {} → {}", word(old), word(new)));
            }
        }
        changes
    }

    /// The fields that are set, in one line (`faultline 0.1.0 · kvnode 0.1.0 · label night-3`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.faultline_version {
            parts.push(format!("faultline {v}"));
        }
        match (&self.system, &self.system_version) {
            (Some(s), Some(v)) => parts.push(format!("{s} {v}")),
            (Some(s), None) => parts.push(s.clone()),
            (None, Some(v)) => parts.push(format!("system {v}")),
            (None, None) => {}
        }
        if let Some(c) = &self.commit {
            parts.push(format!("commit {}", c.get(..12).unwrap_or(c)));
        }
        if let Some(l) = &self.label {
            parts.push(format!("label {l}"));
        }
        if parts.is_empty() {
            "not recorded".to_owned()
        } else {
            parts.join(" · ")
        }
    }
}
