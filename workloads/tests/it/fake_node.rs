//! A fake kvnode that answers from a script, one step per request, and records every request
//! body: the answers kvnode gives rarely or only under faults (`timeout`, a dropped connection,
//! garbage) on demand, and a view of the (client_id, seq) of every retry.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake node does with one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer with this status and body.
    Answer(u16, String),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Read the request and never answer.
    Hang,
}

impl Step {
    pub fn json(status: u16, body: Value) -> Step {
        Step::Answer(status, body.to_string())
    }

    pub fn ok(value: Value) -> Step {
        Step::json(200, json!({"ok": true, "value": value}))
    }

    pub fn error(status: u16, code: &str, definite: bool) -> Step {
        Step::json(
            status,
            json!({"ok": false, "error": code, "definite": definite, "message": "scripted"}),
        )
    }

    pub fn not_leader(hint: Option<&str>) -> Step {
        let leader = hint.map(|addr| json!({"id": 2, "addr": addr}));
        Step::json(
            503,
            json!({"ok": false, "error": "not_leader", "definite": true, "leader": leader}),
        )
    }
}

#[derive(Default)]
struct Shared {
    script: VecDeque<Step>,
    bodies: Vec<Value>,
}

/// A fake node listening on loopback; it stops when the test's runtime does.
#[derive(Clone)]
pub struct FakeNode {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl FakeNode {
    /// Serves `script`, then answers `not_leader` without a hint to anything more.
    pub async fn start(host: u8, script: Vec<Step>) -> Result<FakeNode, String> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, host], 0)))
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let node = FakeNode {
            addr,
            shared: Arc::new(Mutex::new(Shared {
                script: script.into(),
                bodies: Vec::new(),
            })),
        };
        let serving = node.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().serve(stream));
            }
        });
        Ok(node)
    }

    /// The bodies of the requests received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared
            .lock()
            .map(|s| s.bodies.clone())
            .unwrap_or_default()
    }

    async fn serve(self, mut stream: TcpStream) {
        // One request per connection at a time; reqwest may reuse the connection for the next.
        loop {
            let Some(body) = read_request(&mut stream).await else {
                return;
            };
            let step = match self.shared.lock() {
                Ok(mut s) => {
                    s.bodies.push(body);
                    s.script.pop_front().unwrap_or(Step::not_leader(None))
                }
                Err(_) => return,
            };
            match step {
                Step::Answer(status, body) => {
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\n\r\n",
                        body.len()
                    );
                    let answer = [head.as_bytes(), body.as_bytes()].concat();
                    if stream.write_all(&answer).await.is_err() {
                        return;
                    }
                }
                Step::Drop => return,
                Step::Hang => {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

/// Reads one HTTP/1.1 request with a content-length body; `None` at EOF or on garbage.
async fn read_request(stream: &mut TcpStream) -> Option<Value> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())?;
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    serde_json::from_slice(&buf[head_end..head_end + len]).ok()
}
