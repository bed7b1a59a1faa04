//! The systems faultline ships: definition files of the repository's `systems/`, compiled in so
//! `--system etcd` works from any directory. Each is also the proof that a user's file can say
//! as much.

/// (name, file name as shown in errors, text).
pub const BUILTINS: [(&str, &str, &str); 3] = [
    (
        "kvnode",
        "systems/kvnode.yaml",
        include_str!("../../../systems/kvnode.yaml"),
    ),
    (
        "etcd",
        "systems/etcd.yaml",
        include_str!("../../../systems/etcd.yaml"),
    ),
    (
        "postgres-patroni",
        "systems/postgres-patroni.yaml",
        include_str!("../../../systems/postgres-patroni.yaml"),
    ),
];

/// The built-in definition called `name`: its file name and text.
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    BUILTINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, file, text)| (*file, *text))
}

/// The names of the built-in systems, for messages.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _, _)| *n).collect()
}
