//! Outgoing peer connections leave from the node's own listen IP, so a firewall rule on
//! (source, destination) can cut exactly one link.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use kvnode::peer_client::PeerClient;
use kvnode::raft::rpc::VoteRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_connections_bind_the_listen_ip() {
    let listener = tokio::net::TcpListener::bind("127.0.0.9:0")
        .await
        .expect("bind 127.0.0.9");
    let target = listener.local_addr().expect("addr");
    let own_ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 8));
    let client = PeerClient::new(own_ip, Duration::from_secs(2)).expect("client");
    let req = VoteRequest {
        term: 1,
        candidate_id: 8,
        last_log_index: 0,
        last_log_term: 0,
    };
    let server = tokio::spawn(async move {
        let (mut socket, from) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let body = r#"{"term":1,"granted":true,"leader_term":null}"#;
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(resp.as_bytes()).await;
        from
    });
    let resp = client.vote(target, &req).await.expect("vote answered");
    assert!(resp.granted);
    let from = server.await.expect("server task");
    assert_eq!(
        from.ip(),
        own_ip,
        "the connection came from the node's own IP"
    );
}
