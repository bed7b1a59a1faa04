//! Rendering a definition's templates with minijinja in strict mode: a variable the context does
//! not have is an error naming it, never an empty string passed to a node.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// What a template sees for one node (see docs/systems.md, "Template variables").
#[derive(Debug, Clone, Serialize)]
pub struct NodeVars {
    /// `n1`.
    pub node: String,
    pub id: u32,
    /// The host's IP as peers and clients see it.
    pub address: String,
    /// This node's ports by name.
    pub ports: BTreeMap<String, u16>,
    pub nodes: Vec<NodeEntry>,
    /// The other nodes, each with `dial`.
    pub peers: Vec<PeerEntry>,
    pub data_dir: String,
    pub run_dir: String,
    pub options: BTreeMap<String, String>,
    /// The controller's own executable (kvnode runs as `faultline kvnode`).
    pub faultline: String,
    pub definition_dir: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeEntry {
    pub node: String,
    pub id: u32,
    pub address: String,
    pub ports: BTreeMap<String, u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerEntry {
    pub node: String,
    pub id: u32,
    pub address: String,
    pub ports: BTreeMap<String, u16>,
    /// By port name, the `ip:port` this node dials to reach the peer (a link proxy's, or the
    /// peer's own).
    pub dial: BTreeMap<String, String>,
}

/// Renders one template. `at` says where it is in the definition; errors read
/// `<at>: <what>`, naming the variable when one is missing.
pub fn render(at: &str, template: &str, vars: &NodeVars) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    match env.render_str(template, vars) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == minijinja::ErrorKind::UndefinedError => {
            let missing = missing_variable(&env, template, vars);
            Err(match missing {
                Some(name) => format!("{at}: undefined template variable \"{name}\""),
                None => format!("{at}: {}", describe(&e)),
            })
        }
        Err(e) => Err(format!("{at}: {}", describe(&e))),
    }
}

/// The first variable (dotted, as written) the template reads that the context lacks.
fn missing_variable(env: &Environment, template: &str, vars: &NodeVars) -> Option<String> {
    let context = serde_json::to_value(vars).ok()?;
    let parsed = env.template_from_str(template).ok()?;
    let mut names: Vec<String> = parsed.undeclared_variables(true).into_iter().collect();
    names.sort();
    names.into_iter().find(|name| {
        let mut value = &context;
        for part in name.split('.') {
            match value.get(part) {
                Some(inner) => value = inner,
                None => return true,
            }
        }
        false
    })
}

/// minijinja's message without its own location suffix noise, one line.
fn describe(e: &minijinja::Error) -> String {
    let mut text = e.kind().to_string();
    if let Some(detail) = e.detail() {
        text = format!("{text}: {detail}");
    }
    if let Some(line) = e.line() {
        text = format!("{text} (template line {line})");
    }
    text
}
