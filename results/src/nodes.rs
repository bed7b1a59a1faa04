//! One way to name nodes for people: kvnode's id N is `nN` (as its data folder `data/nN`), in
//! results.json, the report and the terminal.
//!
//! Histories name nodes in two places: nemesis events carry kvnode's numeric ids (targets,
//! leader, grudge), and a completion's `node` is the node that answered, recorded as `nN` — or,
//! in histories written before that, as the address the client used. faultline's clusters put
//! node N on 127.0.0.(10+N), so such an address reads as `nN` too.

use serde_json::Value;

/// The name of the node with kvnode id `id`.
pub fn node_name(id: u64) -> String {
    format!("n{id}")
}

/// A node id from a nemesis event (a number, or a numeric string as in a grudge's keys), named;
/// any other string is taken as a name already.
pub fn name_of_id(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => n.as_u64().map(node_name),
        Value::String(s) => Some(s.parse().map_or_else(|_| s.clone(), node_name)),
        _ => None,
    }
}

/// The name of the node a history's `node` field records.
pub fn name_recorded(node: &str) -> String {
    let id = node
        .strip_prefix("127.0.0.")
        .and_then(|rest| rest.split(':').next())
        .and_then(|last| last.parse::<u64>().ok())
        .and_then(|octet| octet.checked_sub(10))
        .filter(|&id| id > 0);
    id.map_or_else(|| node.to_owned(), node_name)
}

/// Names joined by spaces (`n1 n2`), for a list of nodes in a sentence.
pub fn joined(names: &[String]) -> String {
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_recorded_nodes_read_as_n_and_the_id() {
        assert_eq!(node_name(3), "n3");
        assert_eq!(name_of_id(&json!(2)), Some("n2".to_owned()));
        assert_eq!(name_of_id(&json!("12")), Some("n12".to_owned()));
        assert_eq!(name_of_id(&json!("db-1")), Some("db-1".to_owned()));
        assert_eq!(name_of_id(&json!(null)), None);
        assert_eq!(name_recorded("n1"), "n1");
        assert_eq!(name_recorded("127.0.0.13:41234"), "n3");
        // Not one of faultline's node addresses: shown as recorded.
        assert_eq!(name_recorded("127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(name_recorded("10.0.0.11:80"), "10.0.0.11:80");
        assert_eq!(name_recorded("db-1"), "db-1");
    }
}
