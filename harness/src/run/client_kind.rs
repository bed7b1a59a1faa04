//! The client a definition's `client.protocol` names, made per worker (and for the final
//! reads): kvnode's HTTP client, etcd's JSON-gateway client, a stdio client program, or
//! PostgreSQL's (whose tables `prepare` creates once the cluster is up). One enum, so the
//! client loop and the final reads stay one generic path whatever the store.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use faultline_workloads::{
    Client, Completion, EtcdClient, EtcdReads, Invocation, KvnodeClient, NodeAddr, PostgresClient,
    PostgresConfig, PostgresReads, StdioClient, StdioNode, StdioNotice, StdioProgram, WorkloadKind,
    postgres_setup,
};
use tokio::sync::mpsc;

use crate::cluster::Cluster;
use crate::system::Protocol;

/// A client of any protocol faultline speaks.
pub enum AnyClient {
    Kvnode(KvnodeClient),
    Etcd(EtcdClient),
    /// Boxed: a stdio client carries its program, nodes and pipes, several times the others.
    Stdio(Box<StdioClient>),
    Postgres(Box<PostgresClient>),
}

impl Client for AnyClient {
    async fn invoke(&mut self, invocation: &Invocation) -> Completion {
        match self {
            AnyClient::Kvnode(c) => c.invoke(invocation).await,
            AnyClient::Etcd(c) => c.invoke(invocation).await,
            AnyClient::Stdio(c) => c.invoke(invocation).await,
            AnyClient::Postgres(c) => c.invoke(invocation).await,
        }
    }
}

/// What every client of a run is made from.
pub struct ClientFactory {
    protocol: Protocol,
    nodes: Vec<NodeAddr>,
    timeout: Duration,
    concurrency: u64,
    /// etcd: linearizable or serializable ranges, as the `reads` option says.
    etcd_reads: EtcdReads,
    /// stdio: the program, its options and where its logs go (`<run>/clients/`).
    stdio: Option<StdioSetup>,
    /// postgres: the role, database, read routing and workload (which table reads read).
    postgres: PostgresConfig,
}

struct StdioSetup {
    program: StdioProgram,
    options: std::collections::BTreeMap<String, String>,
    logs: PathBuf,
    notices: mpsc::UnboundedSender<StdioNotice>,
}

impl ClientFactory {
    /// The factory for `cluster`'s system; a stdio client's misbehaviour is appended to
    /// `controller_log` (faultline.log) as one line each.
    pub fn new(
        cluster: &Cluster,
        nodes: Vec<NodeAddr>,
        timeout: Duration,
        concurrency: usize,
        workload: WorkloadKind,
        run_dir: &std::path::Path,
        controller_log: PathBuf,
    ) -> anyhow::Result<ClientFactory> {
        let system = &cluster.spec().system;
        let protocol = system.definition.client.protocol;
        // Checked at resolve (`fit.rs`): a `reads` option of the etcd protocol parses.
        let etcd_reads = system
            .option("reads")
            .parse()
            .unwrap_or(EtcdReads::Linearizable);
        let stdio = match protocol {
            Protocol::Stdio => {
                let argv = cluster
                    .client_command()
                    .context("rendering client.command")?
                    .unwrap_or_default();
                let (program, args) = argv
                    .split_first()
                    .context("client.command is empty: the stdio protocol needs a program")?;
                Some(StdioSetup {
                    program: StdioProgram::new(program.clone(), args.to_vec()),
                    options: system.options.clone(),
                    logs: run_dir.join("clients"),
                    notices: notices_to(controller_log),
                })
            }
            _ => None,
        };
        let client = &system.definition.client;
        let postgres = PostgresConfig {
            user: client.user.clone().unwrap_or_else(|| "postgres".to_owned()),
            dbname: client
                .database
                .clone()
                .unwrap_or_else(|| "postgres".to_owned()),
            reads: match system.option("reads") {
                "any" => PostgresReads::Any,
                _ => PostgresReads::Primary,
            },
            workload,
            timeout,
        };
        Ok(ClientFactory {
            protocol,
            nodes,
            timeout,
            concurrency: concurrency as u64,
            etcd_reads,
            stdio,
            postgres,
        })
    }

    /// What the protocol needs once before any client: PostgreSQL's tables, created on the
    /// primary (`CREATE TABLE IF NOT EXISTS`, so a restart finds them).
    pub async fn prepare(&self) -> anyhow::Result<()> {
        if self.protocol == Protocol::Postgres {
            postgres_setup(&self.nodes, &self.postgres).await?;
        }
        Ok(())
    }

    /// Worker `worker`'s client: bound to a node for reads, as Jepsen binds each client to one.
    pub fn worker(&self, worker: usize) -> anyhow::Result<AnyClient> {
        self.make(
            &format!("c{worker}"),
            worker,
            worker as u64,
            self.concurrency,
        )
    }

    /// The client of the final reads, as process `process` (one no worker uses). PostgreSQL's
    /// reads the primary whatever `reads` says: a final read is what the store kept, not what
    /// a replica has replayed so far.
    pub fn final_reader(&self, process: u64) -> anyhow::Result<AnyClient> {
        if self.protocol == Protocol::Postgres {
            let mut config = self.postgres.clone();
            config.reads = PostgresReads::Primary;
            return Ok(AnyClient::Postgres(Box::new(PostgresClient::new(
                self.nodes.clone(),
                config,
                0,
            ))));
        }
        self.make("final", 0, process, 1)
    }

    fn make(&self, id: &str, home: usize, process: u64, stride: u64) -> anyhow::Result<AnyClient> {
        Ok(match self.protocol {
            Protocol::Kvnode => AnyClient::Kvnode(
                KvnodeClient::try_new(id.to_owned(), self.nodes.clone(), self.timeout)?
                    .with_home(home),
            ),
            Protocol::Etcd => AnyClient::Etcd(
                EtcdClient::try_new(self.nodes.clone(), self.etcd_reads, self.timeout)?
                    .with_home(home),
            ),
            Protocol::Postgres => AnyClient::Postgres(Box::new(PostgresClient::new(
                self.nodes.clone(),
                self.postgres.clone(),
                home,
            ))),
            Protocol::Stdio => {
                let setup = self
                    .stdio
                    .as_ref()
                    .context("the stdio protocol without its program")?;
                let nodes: Vec<StdioNode> = self.nodes.iter().map(StdioNode::from).collect();
                AnyClient::Stdio(Box::new(
                    StdioClient::new(
                        setup.program.clone(),
                        nodes,
                        setup.logs.join(format!("{id}.log")),
                        self.timeout,
                    )
                    .with_process(process, stride)
                    .with_options(setup.options.clone())
                    .with_notices(setup.notices.clone()),
                ))
            }
        })
    }
}

/// A channel whose notices are appended to the controller's log, one line each, until every
/// sender is gone.
fn notices_to(controller_log: PathBuf) -> mpsc::UnboundedSender<StdioNotice> {
    let (tx, mut rx) = mpsc::unbounded_channel::<StdioNotice>();
    tokio::spawn(async move {
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&controller_log);
        let Ok(file) = file else { return };
        let file = Arc::new(std::sync::Mutex::new(file));
        while let Some(notice) = rx.recv().await {
            let line = format!(
                "stdio client of process {}: {} (its log: {})\n",
                notice.process,
                notice.message.replace(char::is_control, " "),
                notice.log.display()
            );
            if let Ok(mut f) = file.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    });
    tx
}
