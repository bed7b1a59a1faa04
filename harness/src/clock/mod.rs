//! The cluster's wall clocks as the clock nemesis acts on them: which backend skews them, and
//! the one `Clocks` a run hands to the schedule.
//!
//! - `faketime`: kvnode runs under libfaketime (`LD_PRELOAD`), reading its offset from a
//!   timestamp file per node that the nemesis rewrites. The skew reaches every wall-clock call
//!   the process makes, as a stepped system clock would.
//! - `api`: kvnode's own `POST /admin/clock` offset, which always works but skews only the clock
//!   object kvnode reads through.

mod api;
mod faketime;

use std::fmt;

use faultline_nemeses::{ClockError, Clocks, NodeId};

use crate::machine::{Capabilities, LIBFAKETIME};

pub use api::ApiClocks;
pub use faketime::{FaketimeClocks, FaketimeFiles, REAL_TIME, faketime_env, remove_stale_files};

/// The clock backend a run uses (recorded in test.json).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockBackend {
    /// No clock faults in this run.
    #[default]
    None,
    Api,
    Faketime,
}

impl ClockBackend {
    pub fn name(self) -> &'static str {
        match self {
            ClockBackend::None => "none",
            ClockBackend::Api => "api",
            ClockBackend::Faketime => "faketime",
        }
    }
}

impl fmt::Display for ClockBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What `--clock` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedClock {
    Auto,
    Faketime,
    Api,
}

impl std::str::FromStr for RequestedClock {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(RequestedClock::Auto),
            "faketime" => Ok(RequestedClock::Faketime),
            "api" => Ok(RequestedClock::Api),
            other => Err(format!(
                "unknown clock backend \"{other}\"; expected one of auto, faketime, api"
            )),
        }
    }
}

/// The backend for a run. Auto picks libfaketime when it is installed: it skews the whole
/// process's wall clock, not only the calls kvnode routes through its clock object. Asking
/// for faketime without the library is an error even when no clock fault is scheduled, so a
/// typo in a campaign is found at once.
pub fn choose(
    requested: RequestedClock,
    clock_faults: bool,
    caps: Capabilities,
) -> Result<ClockBackend, String> {
    if requested == RequestedClock::Faketime && !caps.faketime {
        return Err(format!(
            "--clock faketime needs libfaketime at {LIBFAKETIME} (apt-get install faketime); use --clock api"
        ));
    }
    if !clock_faults {
        return Ok(ClockBackend::None);
    }
    Ok(match requested {
        RequestedClock::Api => ClockBackend::Api,
        RequestedClock::Faketime => ClockBackend::Faketime,
        RequestedClock::Auto if caps.faketime => ClockBackend::Faketime,
        RequestedClock::Auto => ClockBackend::Api,
    })
}

/// The clocks a run's nemesis acts on.
pub enum RunClocks {
    Api(ApiClocks),
    Faketime(FaketimeClocks),
    /// Clock faults fail (and say so in the history).
    Unmanaged,
}

impl RunClocks {
    /// Every node back to real time: the explicit heal at the end of a run, whatever the
    /// schedule left. Errors are collected into one line.
    pub async fn reset_all(&self, nodes: &[NodeId]) -> Result<(), String> {
        faultline_nemeses::set_offsets(self, nodes, 0).await
    }
}

impl Clocks for RunClocks {
    async fn set_offset(&self, node: NodeId, offset_ms: i64) -> Result<(), ClockError> {
        match self {
            RunClocks::Api(c) => c.set_offset(node, offset_ms).await,
            RunClocks::Faketime(c) => c.set_offset(node, offset_ms).await,
            RunClocks::Unmanaged => {
                faultline_nemeses::NoClocks
                    .set_offset(node, offset_ms)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(faketime: bool) -> Capabilities {
        Capabilities {
            nft: false,
            faketime,
            netns: false,
        }
    }

    #[test]
    fn auto_prefers_faketime_and_faketime_needs_the_library() {
        use RequestedClock::*;
        assert_eq!(choose(Auto, true, caps(true)), Ok(ClockBackend::Faketime));
        assert_eq!(choose(Auto, true, caps(false)), Ok(ClockBackend::Api));
        assert_eq!(choose(Api, true, caps(true)), Ok(ClockBackend::Api));
        assert_eq!(choose(Auto, false, caps(true)), Ok(ClockBackend::None));
        assert!(choose(Faketime, true, caps(false)).is_err_and(|e| e.contains("libfaketime")));
        assert!(choose(Faketime, false, caps(false)).is_err());
    }
}
