//! The one place that knows the YAML library, shared by campaign files and SSH inventories
//! (serde_yaml is archived upstream: a swap touches only this file).

use std::path::Path;

use serde::de::DeserializeOwned;

/// Parses `text` (the contents of `path`) into `T`; errors read `FILE:LINE:COLUMN: what`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, String> {
    serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(at) => {
            // The library ends its message with the position too; say it once, up front.
            let text = e.to_string();
            let suffix = format!(" at line {} column {}", at.line(), at.column());
            let what = text.strip_suffix(&suffix).unwrap_or(&text);
            format!("{}:{}:{}: {what}", path.display(), at.line(), at.column())
        }
        None => format!("{}: {e}", path.display()),
    })
}
