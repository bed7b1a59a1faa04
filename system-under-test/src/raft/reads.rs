//! Reads per read mode: `leader`, `read-index`, `lease` and `any`.

use std::sync::Arc;

use tokio::time::Instant;

use super::{Core, Node, ReadError, Role};
use crate::config::ReadMode;
use crate::state_machine::Value;

impl Node {
    /// Reads `key` as the configured read mode allows.
    pub async fn read(self: &Arc<Self>, key: &str) -> Result<Option<Value>, ReadError> {
        let deadline = Instant::now() + self.cfg.request_timeout();
        match self.cfg.reads {
            ReadMode::Any => Ok(self.core().sm.get(key).cloned()),
            ReadMode::Leader => {
                // Local state, once the leader applied an entry of its own term (so it is not
                // missing committed writes of earlier terms); no check that it is still leader.
                self.wait_until(deadline, |c| {
                    leader_or_err(c)?;
                    Ok(c.log.term_at(c.last_applied) == Some(c.term))
                })
                .await?;
                Ok(self.core().sm.get(key).cloned())
            }
            ReadMode::Lease => {
                {
                    let core = self.core();
                    leader_or_err(&core)?;
                    if self.lease_holds(&core, self.clock.now_ms())
                        && core.log.term_at(core.last_applied) == Some(core.term)
                    {
                        return Ok(core.sm.get(key).cloned());
                    }
                }
                // No valid lease: fall back to a read-index round.
                self.read_index(key, deadline).await
            }
            ReadMode::ReadIndex => self.read_index(key, deadline).await,
        }
    }

    /// Raft's ReadIndex: note the commit index, confirm leadership with a majority heartbeat
    /// round started after the read arrived, wait until applied up to the noted index.
    async fn read_index(
        self: &Arc<Self>,
        key: &str,
        deadline: Instant,
    ) -> Result<Option<Value>, ReadError> {
        self.wait_until(deadline, |c| {
            leader_or_err(c)?;
            Ok(c.log.term_at(c.commit_index) == Some(c.term))
        })
        .await?;
        let (read_index, round, term) = {
            let mut core = self.core();
            leader_or_err(&core)?;
            core.round += 1;
            (core.commit_index, core.round, core.term)
        };
        self.wake_replicators();
        let majority = self.cfg.majority();
        self.wait_until(deadline, |c| {
            if c.role != Role::Leader || c.term != term {
                return Err(ReadError::NotLeader {
                    leader: c.leader_id,
                });
            }
            let acks = 1 + c
                .progress
                .values()
                .filter(|p| p.acked_round >= round)
                .count();
            Ok(acks >= majority)
        })
        .await?;
        self.wait_until(deadline, |c| Ok(c.last_applied >= read_index))
            .await?;
        Ok(self.core().sm.get(key).cloned())
    }

    /// Waits until `cond` holds on the core, re-checking after every progress event.
    async fn wait_until(
        &self,
        deadline: Instant,
        cond: impl Fn(&Core) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError> {
        loop {
            let mut events = self.progress.subscribe();
            if cond(&self.core())? {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, events.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return Err(ReadError::Timeout),
            }
        }
    }
}

fn leader_or_err(core: &Core) -> Result<(), ReadError> {
    if core.role == Role::Leader {
        Ok(())
    } else {
        Err(ReadError::NotLeader {
            leader: core.leader_id,
        })
    }
}
