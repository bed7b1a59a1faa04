//! Moving bytes one way through a proxied link, obeying the link's state.

use std::time::Duration;

use faultline_nemeses::NodeId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::LinkState;

/// A lost TCP segment costs about one retransmission timeout; Linux's minimum is 200 ms.
const RETRANSMIT: Duration = Duration::from_millis(200);

/// Waits until `from → to` is not cut; false when the proxy is gone.
pub(super) async fn wait_open(
    state: &mut watch::Receiver<LinkState>,
    from: NodeId,
    to: NodeId,
) -> bool {
    state.wait_for(|s| s.open(from, to)).await.is_ok()
}

/// Copies `src` to `dst` as traffic from `from` to `to`. While the direction is cut, nothing is
/// read (the sender's buffers fill, as with dropped packets) and what was read waits; nothing
/// is dropped from the stream and nothing is reset, so after heal the connection goes on where
/// it stopped — the way TCP recovers once its retransmissions get through.
pub(super) async fn pump(
    mut src: OwnedReadHalf,
    mut dst: OwnedWriteHalf,
    from: NodeId,
    to: NodeId,
    mut state: watch::Receiver<LinkState>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut rng = fastrand::Rng::new();
    loop {
        if !wait_open(&mut state, from, to).await {
            break;
        }
        let n = match src.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let slow = state.borrow().slow(from, to);
        if let Some(d) = slow {
            let jitter = d.jitter.mul_f64(rng.f64());
            let lost = if rng.f64() < d.loss {
                RETRANSMIT
            } else {
                Duration::ZERO
            };
            tokio::time::sleep(d.delay + jitter + lost).await;
        }
        // Cut while these bytes were in flight: they wait for the heal.
        if !wait_open(&mut state, from, to).await {
            break;
        }
        if dst.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    // Passes on the end of the stream (or of the proxy) as a FIN.
    let _ = dst.shutdown().await;
}
