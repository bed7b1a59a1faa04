//! A client for PostgreSQL (`tokio-postgres`, its own wire protocol; no ORM): every operation
//! one autocommitted statement (`statements.rs`) on a connection to the current primary, found
//! as `target_session_attrs=read-write` finds it, but on every node at once (the first
//! read-write session wins) — and found again after any error, so the client follows
//! a failover. With `reads: any`, reads go to the worker's own node, whatever its role (a
//! replica may answer stale: that is what the option shows). How errors become `fail` or `info`
//! is in `classify.rs`.

mod classify;
mod statements;

use std::time::Duration;

use faultline_checker::history::EventType;
use serde_json::Value;
use tokio_postgres::config::TargetSessionAttrs;
use tokio_postgres::{Client as Connection, Config, NoTls};

use crate::client::{Client, Completion};
use crate::generator::Invocation;
use crate::kvnode_client::NodeAddr;
use crate::workload::WorkloadKind;
use classify::{describe, write_outcome};

/// A node that does not accept a connection within this is down or cut off.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Where reads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostgresReads {
    /// To the primary, as writes.
    Primary,
    /// To the worker's own node, primary or replica.
    Any,
}

/// What every client of a run shares.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    pub user: String,
    pub dbname: String,
    pub reads: PostgresReads,
    /// Which table reads read: registers (register, kv), lists (append) or sets (set).
    pub workload: WorkloadKind,
    /// A statement without an answer after this is `info` (its connection is dropped).
    pub timeout: Duration,
}

/// The setup failed: the schema could not be created on the primary.
#[derive(Debug, thiserror::Error)]
#[error("PostgreSQL setup on the primary: {0}")]
pub struct SetupError(String);

/// A connection and the node it reached.
struct Session {
    connection: Connection,
    node: Option<String>,
}

pub struct PostgresClient {
    nodes: Vec<NodeAddr>,
    config: PostgresConfig,
    /// The worker's own node (index in `nodes`), for `reads: any`.
    home: usize,
    primary: Option<Session>,
    local: Option<Session>,
}

impl PostgresClient {
    /// A client for worker `worker` (which picks its own node for `reads: any`).
    pub fn new(nodes: Vec<NodeAddr>, config: PostgresConfig, worker: usize) -> Self {
        let home = if nodes.is_empty() {
            0
        } else {
            worker % nodes.len()
        };
        PostgresClient {
            nodes,
            config,
            home,
            primary: None,
            local: None,
        }
    }

    fn connection_config(&self, nodes: &[&NodeAddr], attrs: TargetSessionAttrs) -> Config {
        let mut config = Config::new();
        config
            .user(&self.config.user)
            .dbname(&self.config.dbname)
            .connect_timeout(CONNECT_TIMEOUT)
            .target_session_attrs(attrs);
        for node in nodes {
            let (host, port) = split_address(&node.addr);
            config.host(host).port(port);
        }
        config
    }

    /// Connects (to the primary, or to the worker's own node) and asks which node it reached.
    ///
    /// The primary is looked for on every node at once, each a read-write session of its own,
    /// the first to open winning: tried in order, a paused node ahead of the primary (whose
    /// kernel completes the TCP handshake while the server never answers the startup) would
    /// use up the whole timeout, and every reconnecting client would fail for as long as it
    /// stays paused.
    async fn connect(&self, to_primary: bool) -> Result<Session, String> {
        let candidates: Vec<Config> = if to_primary {
            self.nodes
                .iter()
                .map(|n| self.connection_config(&[n], TargetSessionAttrs::ReadWrite))
                .collect()
        } else {
            let home: Vec<&NodeAddr> = self.nodes.get(self.home).into_iter().collect();
            vec![self.connection_config(&home, TargetSessionAttrs::Any)]
        };
        let mut attempts = tokio::task::JoinSet::new();
        for config in candidates {
            attempts.spawn(async move { config.connect(NoTls).await });
        }
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let mut last_error = "no node to connect to".to_owned();
        let (connection, driver) = loop {
            // The connect timeout covers the TCP handshake only: the whole connect, startup
            // and authentication included, is bounded here.
            match tokio::time::timeout_at(deadline, attempts.join_next()).await {
                Err(_) => {
                    return Err(format!(
                        "no session within {} ms ({last_error})",
                        self.config.timeout.as_millis()
                    ));
                }
                Ok(None) => return Err(last_error),
                Ok(Some(Ok(Ok(pair)))) => break pair,
                Ok(Some(Ok(Err(e)))) => last_error = describe(&e),
                Ok(Some(Err(e))) => last_error = e.to_string(),
            }
        };
        // The other attempts are aborted with the set.
        drop(attempts);
        // The connection's I/O runs on its own task; it ends when `connection` is dropped.
        tokio::spawn(driver);
        let node = match tokio::time::timeout(
            self.config.timeout,
            connection.query_one(statements::SERVER_ADDRESS, &[]),
        )
        .await
        {
            Ok(Ok(row)) => {
                let host: Option<String> = row.try_get(0).ok();
                let port: Option<i32> = row.try_get(1).ok();
                self.node_named(host.as_deref(), port)
            }
            _ => None,
        };
        Ok(Session { connection, node })
    }

    fn node_named(&self, host: Option<&str>, port: Option<i32>) -> Option<String> {
        let (host, port) = (host?, port?);
        self.nodes
            .iter()
            .find(|n| split_address(&n.addr) == (host, port as u16))
            .or_else(|| self.nodes.iter().find(|n| split_address(&n.addr).0 == host))
            .map(NodeAddr::name)
    }

    async fn perform(&mut self, invocation: &Invocation) -> Completion {
        let Some(key) = invocation.key.clone() else {
            return Completion::of(invocation, EventType::Fail, Some("no key".into()), None);
        };
        let read = matches!(invocation.f.as_str(), "read");
        let to_primary = !read || self.config.reads == PostgresReads::Primary;
        let slot = if to_primary {
            &self.primary
        } else {
            &self.local
        };
        if slot.is_none() {
            match self.connect(to_primary).await {
                Ok(session) => {
                    if to_primary {
                        self.primary = Some(session);
                    } else {
                        self.local = Some(session);
                    }
                }
                // Nothing was sent: whatever it was, it did not happen.
                Err(e) => {
                    return Completion::of(
                        invocation,
                        EventType::Fail,
                        Some(format!("cannot connect: {e}")),
                        None,
                    );
                }
            }
        }
        let session = if to_primary {
            self.primary.as_ref()
        } else {
            self.local.as_ref()
        };
        let Some(session) = session else {
            return Completion::of(
                invocation,
                EventType::Fail,
                Some("no connection".into()),
                None,
            );
        };
        let node = session.node.clone();
        // A connection the server closed while idle (a restart, a killed backend) would fail
        // the statement before sending it: nothing happened, so `fail`, and connect again.
        if session.connection.is_closed() {
            if to_primary {
                self.primary = None;
            } else {
                self.local = None;
            }
            return Completion::of(
                invocation,
                EventType::Fail,
                Some("connection closed before sending".into()),
                node,
            );
        }
        let outcome = tokio::time::timeout(
            self.config.timeout,
            run(
                &session.connection,
                self.config.workload,
                &invocation.f,
                &key,
                &invocation.value,
            ),
        )
        .await;
        let completion = match outcome {
            Ok(Ok(Answer::Value(value))) => Completion {
                kind: EventType::Ok,
                value,
                error: None,
                node: node.clone(),
            },
            Ok(Ok(Answer::Applied)) => Completion {
                kind: EventType::Ok,
                value: if invocation.f == "add" {
                    Value::Null
                } else {
                    invocation.value.clone()
                },
                error: None,
                node: node.clone(),
            },
            Ok(Ok(Answer::NotApplied)) => Completion::of(
                invocation,
                EventType::Fail,
                Some(CAS_MISMATCH.into()),
                node.clone(),
            ),
            Ok(Err(Failure::BadInvocation(why))) => {
                Completion::of(invocation, EventType::Fail, Some(why.into()), node.clone())
            }
            Ok(Err(Failure::Sql(error))) => {
                let kind = if read {
                    EventType::Fail
                } else {
                    write_outcome(&error)
                };
                Completion::of(invocation, kind, Some(describe(&error)), node.clone())
            }
            Err(_) => Completion::of(
                invocation,
                if read {
                    EventType::Fail
                } else {
                    EventType::Info
                },
                Some(format!(
                    "timeout after {} ms",
                    self.config.timeout.as_millis()
                )),
                node.clone(),
            ),
        };
        // After any error the connection may be to a demoted primary, broken, or still busy
        // with a statement that timed out: the next operation connects afresh.
        let mismatch = completion.error.as_ref().and_then(Value::as_str) == Some(CAS_MISMATCH);
        if completion.kind != EventType::Ok && !mismatch {
            if to_primary {
                self.primary = None;
            } else {
                self.local = None;
            }
        }
        completion
    }
}

/// As kvnode and etcd say it, so the results count it as a cas rejected on its merits.
const CAS_MISMATCH: &str = "cas_mismatch";

impl Client for PostgresClient {
    async fn invoke(&mut self, invocation: &Invocation) -> Completion {
        self.perform(invocation).await
    }
}

/// Creates the workload's tables on the primary, once per cluster before any client starts.
pub async fn postgres_setup(nodes: &[NodeAddr], config: &PostgresConfig) -> Result<(), SetupError> {
    let client = PostgresClient::new(nodes.to_vec(), config.clone(), 0);
    let session = client.connect(true).await.map_err(SetupError)?;
    tokio::time::timeout(
        config.timeout.max(Duration::from_secs(10)),
        session.connection.batch_execute(statements::SCHEMA),
    )
    .await
    .map_err(|_| SetupError("timed out".into()))?
    .map_err(|e| SetupError(describe(&e)))
}

enum Answer {
    /// A read's value.
    Value(Value),
    /// A write, cas, append or add that applied.
    Applied,
    /// A cas whose `from` was not the register's value.
    NotApplied,
}

enum Failure {
    BadInvocation(&'static str),
    Sql(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Sql(e)
    }
}

/// One operation as one statement.
async fn run(
    connection: &Connection,
    workload: WorkloadKind,
    f: &str,
    key: &str,
    value: &Value,
) -> Result<Answer, Failure> {
    let int = |v: &Value| {
        v.as_i64()
            .ok_or(Failure::BadInvocation("value is not an integer"))
    };
    match f {
        // A key never written reads as nil, as kvnode's do.
        "read" => match workload {
            WorkloadKind::Register | WorkloadKind::Kv => {
                let row = connection.query_opt(statements::READ, &[&key]).await?;
                Ok(Answer::Value(match row {
                    Some(row) => Value::from(row.try_get::<_, i64>(0)?),
                    None => Value::Null,
                }))
            }
            WorkloadKind::Append => {
                let row = connection.query_opt(statements::READ_LIST, &[&key]).await?;
                Ok(Answer::Value(match row {
                    Some(row) => Value::from(row.try_get::<_, Vec<i64>>(0)?),
                    None => Value::Null,
                }))
            }
            WorkloadKind::Set => {
                let rows = connection.query(statements::READ_SET, &[&key]).await?;
                if rows.is_empty() {
                    return Ok(Answer::Value(Value::Null));
                }
                let mut elements = Vec::with_capacity(rows.len());
                for row in rows {
                    elements.push(row.try_get::<_, i64>(0)?);
                }
                Ok(Answer::Value(Value::from(elements)))
            }
        },
        "write" => {
            connection
                .execute(statements::WRITE, &[&key, &int(value)?])
                .await?;
            Ok(Answer::Applied)
        }
        "cas" => {
            let pair = value
                .as_array()
                .filter(|p| p.len() == 2)
                .ok_or(Failure::BadInvocation("cas value is not [from, to]"))?;
            let (from, to) = (int(&pair[0])?, int(&pair[1])?);
            let rows = connection
                .execute(statements::CAS, &[&key, &from, &to])
                .await?;
            Ok(if rows == 0 {
                Answer::NotApplied
            } else {
                Answer::Applied
            })
        }
        "append" => {
            connection
                .execute(statements::APPEND, &[&key, &int(value)?])
                .await?;
            Ok(Answer::Applied)
        }
        "add" => {
            connection
                .execute(statements::ADD, &[&key, &int(value)?])
                .await?;
            Ok(Answer::Applied)
        }
        _ => Err(Failure::BadInvocation("unknown operation")),
    }
}

/// `10.0.0.1:5432` → ("10.0.0.1", 5432); a bad port reads as PostgreSQL's default.
fn split_address(addr: &str) -> (&str, u16) {
    match addr.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().unwrap_or(5432)),
        None => (addr, 5432),
    }
}
