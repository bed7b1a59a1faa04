//! "The clocks I can skew": what the clock nemesis needs from a cluster, and the skews it
//! draws. The harness implements `Clocks` (libfaketime timestamp files, or kvnode's
//! `/admin/clock`); this crate decides by how much and for how long.

use std::future::Future;
use std::time::Duration;

use crate::nodes::NodeId;

#[derive(Debug, thiserror::Error)]
#[error("clock of n{node}: {message}")]
pub struct ClockError {
    pub node: NodeId,
    pub message: String,
}

/// A cluster's wall clocks as the nemesis sees them. Only wall clocks: monotonic time (timers,
/// timeouts) is left alone, as it is on a real machine whose NTP daemon steps the clock.
pub trait Clocks: Send + Sync {
    /// From now on, `node`'s wall clock reads real time + `offset_ms`. 0 resets it.
    fn set_offset(
        &self,
        node: NodeId,
        offset_ms: i64,
    ) -> impl Future<Output = Result<(), ClockError>> + Send;
}

/// Sets `offset_ms` on every node in turn, going on past failures; the failures, joined into
/// one line, if any.
pub async fn set_offsets<C: Clocks>(
    clocks: &C,
    nodes: &[NodeId],
    offset_ms: i64,
) -> Result<(), String> {
    let mut errors = Vec::new();
    for &node in nodes {
        if let Err(e) = clocks.set_offset(node, offset_ms).await {
            errors.push(e.to_string());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// For clusters whose clocks cannot be skewed: every clock fault fails (and is reported in the
/// history), resetting is a no-op.
pub struct NoClocks;

impl Clocks for NoClocks {
    async fn set_offset(&self, node: NodeId, offset_ms: i64) -> Result<(), ClockError> {
        if offset_ms == 0 {
            return Ok(());
        }
        Err(ClockError {
            node,
            message: "no clock backend to skew with".into(),
        })
    }
}

/// How far and how fast clock faults go.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClockSpec {
    /// A bump or strobe moves a clock by up to this much, either way.
    pub max_offset: Duration,
    /// A strobing clock flips between its offset and real time this often.
    pub strobe_period: Duration,
}

impl Default for ClockSpec {
    /// Seconds of skew: well past kvnode's default lease (80 % of 300 ms) and election timeouts,
    /// so a skewed leader's lease outlives the majority's patience.
    fn default() -> Self {
        ClockSpec {
            max_offset: Duration::from_secs(5),
            strobe_period: Duration::from_millis(200),
        }
    }
}

/// What a clock fault does to its targets until it heals (then every target is reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum ClockChange {
    /// Jump by `offset_ms` and stay there.
    Bump { offset_ms: i64 },
    /// Flip between `offset_ms` and real time every `period_ms`.
    Strobe { offset_ms: i64, period_ms: u64 },
}

impl ClockChange {
    /// Draws a change within `spec`: always three draws, so later draws do not depend on
    /// which kind came out.
    pub fn draw(spec: &ClockSpec, rng: &mut fastrand::Rng) -> ClockChange {
        let max = i64::try_from(spec.max_offset.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let strobe = rng.bool();
        let magnitude = rng.i64((max / 10).max(1)..=max);
        let offset_ms = if rng.bool() { magnitude } else { -magnitude };
        if strobe {
            ClockChange::Strobe {
                offset_ms,
                period_ms: u64::try_from(spec.strobe_period.as_millis())
                    .unwrap_or(u64::MAX)
                    .max(1),
            }
        } else {
            ClockChange::Bump { offset_ms }
        }
    }

    /// The same change with its offset pointing back in time.
    pub fn set_back(self) -> ClockChange {
        match self {
            ClockChange::Bump { offset_ms } => ClockChange::Bump {
                offset_ms: -offset_ms.abs(),
            },
            ClockChange::Strobe {
                offset_ms,
                period_ms,
            } => ClockChange::Strobe {
                offset_ms: -offset_ms.abs(),
                period_ms,
            },
        }
    }

    pub fn offset_ms(self) -> i64 {
        match self {
            ClockChange::Bump { offset_ms } | ClockChange::Strobe { offset_ms, .. } => offset_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_within_the_spec_and_cover_both_kinds_and_signs() {
        let spec = ClockSpec::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let changes: Vec<ClockChange> = (0..200)
            .map(|_| ClockChange::draw(&spec, &mut rng))
            .collect();
        for c in &changes {
            let o = c.offset_ms();
            assert!((500..=5000).contains(&o.abs()), "{c:?}");
        }
        assert!(
            changes
                .iter()
                .any(|c| matches!(c, ClockChange::Bump { offset_ms } if *offset_ms < 0))
        );
        assert!(
            changes
                .iter()
                .any(|c| matches!(c, ClockChange::Bump { offset_ms } if *offset_ms > 0))
        );
        assert!(
            changes
                .iter()
                .any(|c| matches!(c, ClockChange::Strobe { period_ms: 200, .. }))
        );
    }

    #[test]
    fn changes_serialise_with_their_mode() {
        let json = serde_json::to_string(&ClockChange::Bump { offset_ms: -300 }).ok();
        assert_eq!(json.as_deref(), Some(r#"{"mode":"bump","offset_ms":-300}"#));
    }
}
