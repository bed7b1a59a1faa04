//! Systems under test as definitions (Jepsen's DB + Client, as data): a YAML file says what a
//! node runs (files, processes, ports), when it is ready, who leads, which options the system
//! takes, what must be installed, which workloads and faults apply, and which client protocol
//! reaches it. `--system NAME|PATH` picks one; the shipped ones are files in `systems/`.
//!
//! Everything here is checked when a run is resolved — parse (file:line:column), options,
//! requirements, every template rendered once for node 1 — so a bad definition fails before
//! any node starts.

pub mod builtin;
pub mod definition;
pub mod fit;
pub mod leader;
mod option_axis;
pub mod options;
pub mod probe;
pub mod requires;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use definition::{Definition, LeaderKind, Protocol};
pub use options::Options;
pub use template::{NodeEntry, NodeVars, PeerEntry};

/// One node's (id, IP, port name → number): what templates and probes are rendered from.
pub type NodePorts = (u32, std::net::IpAddr, BTreeMap<String, u16>);

/// The system every run tests unless told otherwise.
pub const DEFAULT_SYSTEM: &str = "kvnode";

/// A definition that cannot be used, each message one line naming the file (and where in it)
/// or the option.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error(
        "--system: no built-in system \"{name}\" (built in: {known}); a definition file is a path with a '/' or ending in .yaml"
    )]
    Unknown { name: String, known: String },
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Already `FILE:LINE:COLUMN: what`.
    #[error("{0}")]
    Parse(String),
    #[error("{file}: {what}")]
    Invalid { file: String, what: String },
    #[error("{0}")]
    Option(String),
    #[error("{0}")]
    Missing(String),
}

/// Where a definition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Compiled in; the file name as in the repository.
    Builtin(&'static str),
    File(PathBuf),
}

impl Source {
    /// As errors name it.
    pub fn label(&self) -> String {
        match self {
            Source::Builtin(file) => format!("{file} (built in)"),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// `definition_dir` for templates: the file's folder (the current one for a built-in).
    pub fn dir(&self) -> PathBuf {
        match self {
            Source::Builtin(_) => PathBuf::from("."),
            Source::File(path) => match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }
}

/// A system with its options chosen: what a cluster starts and a run records.
#[derive(Debug, Clone)]
pub struct System {
    pub definition: Arc<Definition>,
    pub source: Source,
    pub options: Options,
}

/// `--system`'s value names a file when it has a '/' or ends in .yaml/.yml, else a built-in.
pub fn is_path(name_or_path: &str) -> bool {
    name_or_path.contains('/') || name_or_path.ends_with(".yaml") || name_or_path.ends_with(".yml")
}

/// Reads and checks a definition (no options, no templates yet).
pub fn load(name_or_path: &str) -> Result<(Definition, Source), SystemError> {
    let (source, text) = if is_path(name_or_path) {
        let path = PathBuf::from(name_or_path);
        let text = std::fs::read_to_string(&path).map_err(|source| SystemError::Read {
            path: path.clone(),
            source,
        })?;
        (Source::File(path), text)
    } else {
        let (file, text) = builtin::find(name_or_path).ok_or_else(|| SystemError::Unknown {
            name: name_or_path.to_owned(),
            known: builtin::names().join(", "),
        })?;
        (Source::Builtin(file), text.to_owned())
    };
    let shown = match &source {
        Source::Builtin(file) => PathBuf::from(file),
        Source::File(path) => path.clone(),
    };
    let definition: Definition = crate::yaml::parse(&shown, &text).map_err(SystemError::Parse)?;
    definition.check().map_err(|what| SystemError::Invalid {
        file: source.label(),
        what,
    })?;
    Ok((definition, source))
}

impl System {
    /// Loads `name_or_path`, applies the options `given` (in order), and renders every template
    /// once for node 1 of a three-node cluster, so that a missing variable is found now.
    /// Programs (`requires`) are checked apart (`check_requirements`): tests and `--help`
    /// paths resolve systems whose programs this machine lacks.
    pub fn resolve(name_or_path: &str, given: &[(String, String)]) -> Result<System, SystemError> {
        let (definition, source) = load(name_or_path)?;
        let options = options::resolve(&definition, given).map_err(SystemError::Option)?;
        let system = System {
            definition: Arc::new(definition),
            source,
            options,
        };
        system.render_sample()?;
        Ok(system)
    }

    /// kvnode with the given option values (`replication`, `reads`), for tests and tools.
    pub fn kvnode(given: &[(&str, &str)]) -> Result<System, SystemError> {
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        System::resolve(DEFAULT_SYSTEM, &given)
    }

    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// Every `requires` program on PATH, or the first missing one in a line.
    pub fn check_requirements(&self) -> Result<(), SystemError> {
        requires::check(&self.definition.requires).map_err(SystemError::Missing)
    }

    /// An option's value ("" when the system has no such option).
    pub fn option(&self, name: &str) -> &str {
        self.options
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// What the run's option values promise (option → the definition's `explain` text of its
    /// value), for the values the definition explains.
    pub fn option_explanations(&self) -> BTreeMap<String, String> {
        self.options
            .iter()
            .filter_map(|(name, value)| {
                let text = self.definition.options.get(name)?.explain.get(value)?;
                Some((name.clone(), text.clone()))
            })
            .collect()
    }

    /// The option values in the definition's order (`quorum`, `read-index`).
    pub fn option_values(&self) -> Vec<&str> {
        options::in_order(&self.definition, &self.options)
    }

    /// `name=value ...` in the definition's order, for logs.
    pub fn describe_options(&self) -> String {
        self.definition
            .options
            .keys()
            .filter_map(|k| self.options.get(k).map(|v| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The ports every node uses on a host of its own (netns, ssh), by name.
    pub fn fixed_ports(&self) -> BTreeMap<String, u16> {
        self.definition
            .ports
            .iter()
            .map(|(k, v)| (k.to_owned(), *v))
            .collect()
    }

    /// What node `vars.id` writes and runs, every template rendered.
    pub fn render_node(&self, vars: &NodeVars) -> Result<RenderedNode, SystemError> {
        let invalid = |what: String| SystemError::Invalid {
            file: self.source.label(),
            what,
        };
        let d = &self.definition;
        let mut files = Vec::with_capacity(d.files.len());
        for (i, file) in d.files.iter().enumerate() {
            let at = format!("files[{i}] ({})", file.path);
            let path =
                template::render(&format!("{at} path"), &file.path, vars).map_err(invalid)?;
            let relative = Path::new(&path);
            if relative.is_absolute()
                || relative
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(invalid(format!(
                    "{at} path: expected a path inside the node's data dir, found \"{path}\""
                )));
            }
            let text = template::render(&format!("{at} template"), &file.template, vars)
                .map_err(invalid)?;
            files.push((PathBuf::from(path), text));
        }
        let mut processes = Vec::with_capacity(d.processes.len());
        for (i, p) in d.processes.iter().enumerate() {
            let at = format!("processes[{i}] ({})", p.name);
            let mut argv = Vec::with_capacity(p.argv.len());
            for (j, arg) in p.argv.iter().enumerate() {
                let item =
                    template::render(&format!("{at} argv[{j}]"), arg, vars).map_err(invalid)?;
                // An item that renders to nothing is left out (an optional flag).
                if !item.is_empty() {
                    argv.push(item);
                }
            }
            if argv.is_empty() {
                return Err(invalid(format!("{at} argv: renders to nothing")));
            }
            let mut env = Vec::with_capacity(p.env.0.len());
            for (name, value) in p.env.iter() {
                let value =
                    template::render(&format!("{at} env.{name}"), value, vars).map_err(invalid)?;
                env.push((name.to_owned(), value));
            }
            processes.push(RenderedProcess {
                name: p.name.clone(),
                argv,
                env,
                user: p.user.clone(),
            });
        }
        Ok(RenderedNode { files, processes })
    }

    /// `ready.command`, rendered for one node.
    pub fn render_ready_command(
        &self,
        vars: &NodeVars,
    ) -> Result<Option<Vec<String>>, SystemError> {
        let Some(command) = &self.definition.ready.command else {
            return Ok(None);
        };
        command
            .iter()
            .enumerate()
            .map(|(j, arg)| {
                template::render(&format!("ready.command[{j}]"), arg, vars).map_err(|what| {
                    SystemError::Invalid {
                        file: self.source.label(),
                        what,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Every template rendered for node 1 of three on loopback, results thrown away: the check
    /// that runs before anything starts.
    fn render_sample(&self) -> Result<(), SystemError> {
        let ids = [1u32, 2, 3];
        let ports = self.fixed_ports();
        let addresses: Vec<(u32, std::net::IpAddr)> = ids
            .iter()
            .map(|&id| (id, std::net::IpAddr::V4(crate::hosts::loopback_ip(id))))
            .collect();
        let nodes: Vec<NodePorts> = addresses
            .iter()
            .map(|&(id, ip)| (id, ip, ports.clone()))
            .collect();
        let vars = self.vars(
            1,
            &nodes,
            &|_, _| None,
            Path::new("/tmp/faultline-check/data/n1"),
            Path::new("/tmp/faultline-check"),
        );
        self.render_node(&vars)?;
        self.render_ready_command(&vars)?;
        if let Some(command) = &self.definition.client.command {
            self.render_client_command(command, &vars)?;
        }
        Ok(())
    }

    /// The stdio client's argv, each item rendered.
    pub fn render_client_command(
        &self,
        command: &[String],
        vars: &NodeVars,
    ) -> Result<Vec<String>, SystemError> {
        command
            .iter()
            .enumerate()
            .map(|(j, arg)| {
                template::render(&format!("client.command[{j}]"), arg, vars).map_err(|what| {
                    SystemError::Invalid {
                        file: self.source.label(),
                        what,
                    }
                })
            })
            .collect()
    }

    /// The template variables of node `id`, given every node's (id, ip, ports) and what it
    /// dials for a peer's port (`via(peer, port name)`: a link proxy's address, None for the
    /// peer's own).
    pub fn vars(
        &self,
        id: u32,
        nodes: &[NodePorts],
        via: &dyn Fn(u32, &str) -> Option<std::net::SocketAddr>,
        data_dir: &Path,
        run_dir: &Path,
    ) -> NodeVars {
        let entry =
            |&(id, ip, ref ports): &(u32, std::net::IpAddr, BTreeMap<String, u16>)| NodeEntry {
                node: format!("n{id}"),
                id,
                address: ip.to_string(),
                ports: ports.clone(),
            };
        let me = nodes.iter().find(|n| n.0 == id);
        let peers = nodes
            .iter()
            .filter(|n| n.0 != id)
            .map(|n| {
                let e = entry(n);
                let dial =
                    n.2.iter()
                        .map(|(name, port)| {
                            let addr = via(n.0, name)
                                .unwrap_or_else(|| std::net::SocketAddr::new(n.1, *port));
                            (name.clone(), addr.to_string())
                        })
                        .collect();
                PeerEntry {
                    node: e.node,
                    id: e.id,
                    address: e.address,
                    ports: e.ports,
                    dial,
                }
            })
            .collect();
        NodeVars {
            node: format!("n{id}"),
            id,
            address: me.map(|n| n.1.to_string()).unwrap_or_default(),
            ports: me.map(|n| n.2.clone()).unwrap_or_default(),
            nodes: nodes.iter().map(entry).collect(),
            peers,
            data_dir: data_dir.display().to_string(),
            run_dir: run_dir.display().to_string(),
            options: self.options.clone(),
            faultline: controller_exe().display().to_string(),
            definition_dir: self.source.dir().display().to_string(),
        }
    }
}

/// What one node writes and runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedNode {
    /// Relative to the node's data dir.
    pub files: Vec<(PathBuf, String)>,
    pub processes: Vec<RenderedProcess>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderedProcess {
    pub name: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub user: Option<String>,
}

/// The controller's own executable, `{{ faultline }}`. On Linux `/proc/self/exe`: in a forked
/// child it still names the running build even after the file was replaced on disk (a rebuild
/// while a run goes on), so a node restarted mid-run runs the same code as the others.
pub fn controller_exe() -> PathBuf {
    let proc_exe = Path::new("/proc/self/exe");
    if proc_exe.exists() {
        proc_exe.to_owned()
    } else {
        std::env::current_exe().unwrap_or_else(|_| PathBuf::from("faultline"))
    }
}
