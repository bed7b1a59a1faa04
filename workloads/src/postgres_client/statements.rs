//! The SQL of each operation, one statement each (autocommit: the statement is the commit, so
//! "was COMMIT in flight" is "was the statement in flight"), and the tables they use.

/// Created once per cluster, on the primary, before the workload (`postgres_setup`).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS registers (key text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE IF NOT EXISTS lists (key text PRIMARY KEY, elements bigint[] NOT NULL);
CREATE TABLE IF NOT EXISTS sets (key text NOT NULL, element bigint NOT NULL, PRIMARY KEY (key, element));
";

/// register and kv.
pub const READ: &str = "SELECT value FROM registers WHERE key = $1";
pub const WRITE: &str = "INSERT INTO registers (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";
/// Zero rows updated: the register did not hold `from`, the cas did not apply.
pub const CAS: &str = "UPDATE registers SET value = $3 WHERE key = $1 AND value = $2";

/// append (Elle's list-append): the element at the end of the key's list, in one statement.
pub const APPEND: &str = "INSERT INTO lists (key, elements) VALUES ($1, ARRAY[$2::bigint]) \
     ON CONFLICT (key) DO UPDATE SET elements = lists.elements || EXCLUDED.elements";
pub const READ_LIST: &str = "SELECT elements FROM lists WHERE key = $1";

/// set: one row per element; the read lists them in order.
pub const ADD: &str = "INSERT INTO sets (key, element) VALUES ($1, $2)";
pub const READ_SET: &str = "SELECT element FROM sets WHERE key = $1 ORDER BY element";

/// Which server a connection reached (its address names the node).
pub const SERVER_ADDRESS: &str = "SELECT host(inet_server_addr()), inet_server_port()";
