//! The controller's estimate of each node's wall-clock offset, sampled every second by a round
//! trip (Cristian's method) and appended to `clocks.jsonl` in the run folder, so a report can
//! plot the clocks next to the faults that moved them. kvnode says its clock in `/status`
//! (which includes the offset `/admin/clock` sets); any other system's clock is read by `date`
//! on the node's host under the node's own environment (`Cluster::environment_clock_ms`), so
//! a clock libfaketime moves shows moved.
//!
//! One line per node and sample: `{"time":ns since the run started,"node":1,
//! "offset_ms":-2999.5,"rtt_ms":1.2}`; a node that does not answer gets no line.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::sync::watch;

use crate::cluster::Cluster;

/// Between two rounds of samples.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Cristian's estimate from one round trip: the node read `server_ms` somewhere between our
/// `sent_ms` and `received_ms`; assuming the middle, its offset from our clock is
/// `server - (sent + received) / 2`, uncertain by half the round trip.
pub fn cristian(sent_ms: f64, server_ms: f64, received_ms: f64) -> (f64, f64) {
    let rtt = received_ms - sent_ms;
    (server_ms - (sent_ms + rtt / 2.0), rtt)
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

/// Samples every node each `INTERVAL` until `stop` turns true (or its sender goes away).
/// Errors writing the file end the sampling, not the run: the offsets are for the report.
pub async fn sample(
    cluster: Arc<Cluster>,
    mut out: std::fs::File,
    started: Instant,
    mut stop: watch::Receiver<bool>,
) {
    let kvnode =
        cluster.spec().system.definition.client.protocol == crate::system::Protocol::Kvnode;
    let mut tick = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let mut probes = tokio::task::JoinSet::new();
        for (id, _) in cluster.nodes() {
            let cluster = cluster.clone();
            probes.spawn(async move {
                let sent = wall_ms();
                let server = if kvnode {
                    cluster.status(id).await?.get("wall_clock_ms")?.as_f64()?
                } else {
                    cluster.environment_clock_ms(id).await?
                };
                let received = wall_ms();
                let time = started.elapsed().as_nanos() as u64;
                let (offset, rtt) = cristian(sent, server, received);
                Some(json!({"time": time, "node": id, "offset_ms": offset, "rtt_ms": rtt}))
            });
        }
        let mut lines: Vec<serde_json::Value> =
            probes.join_all().await.into_iter().flatten().collect();
        lines.sort_by_key(|l| l["node"].as_u64());
        for line in lines {
            if writeln!(out, "{line}").is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cristian_assumes_the_middle_of_the_round_trip() {
        // Sent at 1000, answered 1010; the node said 4005: it was 4005 at our 1005.
        let (offset, rtt) = cristian(1000.0, 4005.0, 1010.0);
        assert_eq!(rtt, 10.0);
        assert_eq!(offset, 3000.0);
        let (offset, _) = cristian(1000.0, -1995.0, 1010.0);
        assert_eq!(offset, -3000.0);
    }
}
