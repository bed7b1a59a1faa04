//! Partitions with real TCP connections between the nodes' loopback addresses: for every
//! grudge shape, a link inside the grudge carries nothing and every link carries again after
//! heal; connections are stalled, never reset.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline::cluster::ClusterSpec;
use faultline::network::{NftNet, ProxyNet};
use faultline_nemeses::{Grudge, LinkDelay, Network, NodeId, Shape};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// How long a round trip may take on a healthy loopback link before we call it cut.
const QUIET: Duration = Duration::from_millis(300);

/// One echo server per node on 127.0.0.(10+id), standing in for kvnode's peer port.
async fn echo_nodes(n: u32) -> (Vec<(NodeId, SocketAddr)>, JoinSet<()>) {
    let mut servers = JoinSet::new();
    let mut addrs = Vec::new();
    for id in 1..=n {
        let listener = TcpListener::bind((ClusterSpec::node_ip(id), 0))
            .await
            .expect("bind an echo server");
        addrs.push((id, listener.local_addr().expect("local addr")));
        servers.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut s, _)) = listener.accept().await {
                conns.spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
    }
    (addrs, servers)
}

/// A connection from node `from`'s own address (as kvnode makes them) to what it dials for `to`.
async fn dial(proxy: &ProxyNet, from: NodeId, to: NodeId) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((ClusterSpec::node_ip(from), 0)))
        .expect("bind the node's address");
    let target = proxy.link_addr(from, to).expect("a proxy for the link");
    socket.connect(target).await.expect("connect to the proxy")
}

/// Whether a ping on `conn` comes back within QUIET. A reset or EOF is a test failure: a cut
/// link must look like dropped packets.
async fn echoes(conn: &mut TcpStream) -> bool {
    conn.write_all(b"ping").await.expect("write (no reset)");
    let mut buf = [0u8; 4];
    match tokio::time::timeout(QUIET, conn.read_exact(&mut buf)).await {
        Ok(Ok(_)) => {
            assert_eq!(&buf, b"ping");
            true
        }
        Ok(Err(e)) => panic!("the connection failed instead of stalling: {e}"),
        Err(_) => false,
    }
}

/// Every ordered pair: can `from` get an answer from `to` right now, on a new connection?
/// Pairs are tried at once, so a cut link costs one QUIET, not one each.
async fn reachability(proxy: &Arc<ProxyNet>, ids: &[NodeId]) -> Vec<((NodeId, NodeId), bool)> {
    let mut probes = JoinSet::new();
    for &a in ids {
        for &b in ids {
            if a != b {
                let proxy = proxy.clone();
                probes.spawn(async move {
                    let mut conn = dial(&proxy, a, b).await;
                    ((a, b), echoes(&mut conn).await)
                });
            }
        }
    }
    let mut out = probes.join_all().await;
    out.sort_unstable();
    out
}

/// A round trip needs both directions: a request `a → b` is answered only if neither is cut.
pub(crate) fn expected(grudge: &Grudge, ids: &[NodeId]) -> Vec<((NodeId, NodeId), bool)> {
    let mut out = Vec::new();
    for &a in ids {
        for &b in ids {
            if a != b {
                out.push(((a, b), !grudge.drops(a, b) && !grudge.drops(b, a)));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_cuts_exactly_the_grudge_of_every_shape_and_heals() {
    for n in [3u32, 5] {
        let (addrs, _servers) = echo_nodes(n).await;
        let ids: Vec<NodeId> = addrs.iter().map(|(id, _)| *id).collect();
        let proxy = Arc::new(ProxyNet::start(&addrs).await.expect("proxies start"));
        for (from, to) in [(1, 2), (2, 1)] {
            let via = proxy.link_addr(from, to).expect("link");
            assert_eq!(
                via.ip(),
                ClusterSpec::node_ip(to),
                "binds the peer's loopback IP"
            );
        }
        let mut rng = fastrand::Rng::with_seed(u64::from(n));
        for shape in Shape::ALL {
            let grudge = shape.grudge(&ids, Some(2), &mut rng);
            assert!(!grudge.is_empty(), "{shape} on {n} nodes");
            proxy.partition(&grudge).await.expect("partition");
            assert_eq!(
                reachability(&proxy, &ids).await,
                expected(&grudge, &ids),
                "{shape} on {n} nodes: {grudge:?}"
            );
            proxy.heal().await.expect("heal");
            assert!(
                reachability(&proxy, &ids).await.iter().all(|(_, ok)| *ok),
                "{shape} on {n} nodes healed"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_stalls_open_connections_and_resumes_them_after_heal() {
    let (addrs, _servers) = echo_nodes(3).await;
    let proxy = ProxyNet::start(&addrs).await.expect("proxies start");
    let mut conn = dial(&proxy, 1, 2).await;
    assert!(echoes(&mut conn).await);
    proxy
        .partition(&Grudge::isolate(2, &[1, 2, 3]))
        .await
        .expect("partition");
    assert!(!echoes(&mut conn).await, "cut: nothing comes back");
    proxy.heal().await.expect("heal");
    // The ping sent during the cut arrives now, on the same connection, then a new one.
    let mut buf = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(2), conn.read_exact(&mut buf))
        .await
        .expect("the stalled ping arrives after heal")
        .expect("no reset");
    assert_eq!(&buf, b"ping");
    assert!(echoes(&mut conn).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_delays_the_links_of_slowed_nodes_only() {
    let (addrs, _servers) = echo_nodes(3).await;
    let proxy = ProxyNet::start(&addrs).await.expect("proxies start");
    let delay = LinkDelay {
        delay: Duration::from_millis(120),
        jitter: Duration::ZERO,
        loss: 0.0,
    };
    proxy.slow(&[1], delay).await.expect("slow");
    let round_trip = async |from, to| {
        let mut conn = dial(&proxy, from, to).await;
        let started = Instant::now();
        conn.write_all(b"ping").await.expect("write");
        let mut buf = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut buf))
            .await
            .expect("answered")
            .expect("no reset");
        started.elapsed()
    };
    let slow = round_trip(1, 2).await;
    assert!(
        slow >= Duration::from_millis(240),
        "both ways delayed: {slow:?}"
    );
    let fast = round_trip(2, 3).await;
    assert!(
        fast < Duration::from_millis(100),
        "untouched link: {fast:?}"
    );
    proxy.heal().await.expect("heal");
    let healed = round_trip(1, 2).await;
    assert!(healed < Duration::from_millis(100), "healed: {healed:?}");
}

#[test]
fn node_ips_are_loopback() {
    assert!(ClusterSpec::node_ip(1).is_loopback());
    assert_eq!(ClusterSpec::node_ip(1), Ipv4Addr::new(127, 0, 0, 11));
}

/// Whether the nftables tests can run here; says why not (or fails, where CI demands them).
pub(crate) fn nft_or_skip(test: &str) -> bool {
    crate::common::prerequisites(
        test,
        faultline::network::nft::available(),
        "it needs root and the nft command (apt-get install nftables)",
    )
}

/// Straight from `from`'s address to `to`'s listener, as kvnode dials without proxies; None
/// when the handshake does not complete within QUIET (its SYN was dropped).
async fn dial_direct(
    addrs: &[(NodeId, SocketAddr)],
    from: NodeId,
    to: NodeId,
) -> Option<TcpStream> {
    let target = addrs.iter().find(|(id, _)| *id == to).map(|(_, a)| *a)?;
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((ClusterSpec::node_ip(from), 0)))
        .expect("bind the node's address");
    match tokio::time::timeout(QUIET, socket.connect(target)).await {
        Ok(Ok(conn)) => Some(conn),
        Ok(Err(e)) => panic!("{from}->{to}: refused or reset instead of dropped: {e}"),
        Err(_) => None,
    }
}

async fn direct_reachability(
    addrs: &Arc<Vec<(NodeId, SocketAddr)>>,
) -> Vec<((NodeId, NodeId), bool)> {
    let mut probes = JoinSet::new();
    for &(a, _) in addrs.iter() {
        for &(b, _) in addrs.iter() {
            if a != b {
                let addrs = addrs.clone();
                probes.spawn(async move {
                    let ok = match dial_direct(&addrs, a, b).await {
                        Some(mut conn) => echoes(&mut conn).await,
                        None => false,
                    };
                    ((a, b), ok)
                });
            }
        }
    }
    let mut out = probes.join_all().await;
    out.sort_unstable();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nft_cuts_exactly_the_grudge_of_every_shape_and_heals() {
    if !nft_or_skip("nft_cuts_exactly_the_grudge_of_every_shape_and_heals") {
        return;
    }
    for n in [3u32, 5] {
        let (addrs, _servers) = echo_nodes(n).await;
        let ids: Vec<NodeId> = addrs.iter().map(|(id, _)| *id).collect();
        let net = NftNet::create(&addrs).expect("create the table");
        let addrs = Arc::new(addrs);
        let mut rng = fastrand::Rng::with_seed(u64::from(n) + 10);
        for shape in Shape::ALL {
            let grudge = shape.grudge(&ids, Some(2), &mut rng);
            net.partition(&grudge).await.expect("partition");
            assert_eq!(
                direct_reachability(&addrs).await,
                expected(&grudge, &ids),
                "{shape} on {n} nodes: {grudge:?}"
            );
            net.heal().await.expect("heal");
            assert!(
                direct_reachability(&addrs).await.iter().all(|(_, ok)| *ok),
                "{shape} on {n} nodes healed"
            );
        }
        let table = net.table().to_owned();
        drop(net);
        assert!(!nft_tables().contains(&table), "dropping deletes {table}");
    }
}

fn nft_tables() -> String {
    let out = std::process::Command::new("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nft_removes_tables_of_dead_controllers_only() {
    if !nft_or_skip("nft_removes_tables_of_dead_controllers_only") {
        return;
    }
    // A pid that certainly ran and is certainly gone: a child we started and reaped.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead = child.id();
    child.wait().expect("reap");
    let stale = format!("faultline_{dead}_77");
    let status = std::process::Command::new("nft")
        .args(["add", "table", "ip", &stale])
        .status()
        .expect("nft runs");
    assert!(status.success());
    let (addrs, _servers) = echo_nodes(2).await;
    let live = NftNet::create(&addrs).expect("create the table");
    let tables = nft_tables();
    assert!(!tables.contains(&stale), "{tables}");
    assert!(
        tables.contains(live.table()),
        "our own table stays: {tables}"
    );
}
