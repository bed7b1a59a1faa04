//! A run's option values, checked against the axes its definition declares: every option has
//! a value (the default unless given), and only declared options with allowed values exist.

use std::collections::BTreeMap;

use super::definition::Definition;

/// Option name → value, every declared option present.
pub type Options = BTreeMap<String, String>;

/// `NAME=VALUE` (`--opt`), split at the first `=`.
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() && !value.is_empty() => {
            Ok((name.to_owned(), value.to_owned()))
        }
        _ => Err(format!("--opt: expected NAME=VALUE, found \"{text}\"")),
    }
}

/// The definition's defaults with `given` (in order, a later one winning) applied. An unknown
/// option or value is one line naming the option, the system and what it allows.
pub fn resolve(definition: &Definition, given: &[(String, String)]) -> Result<Options, String> {
    let mut options = definition.default_options();
    for (name, value) in given {
        let Some(axis) = definition.options.get(name) else {
            let known: Vec<&str> = definition.options.keys().collect();
            return Err(format!(
                "option {name}: system {} has no option \"{name}\" ({})",
                definition.name,
                if known.is_empty() {
                    "it has none".to_owned()
                } else {
                    format!("its options: {}", known.join(", "))
                }
            ));
        };
        if !axis.values.contains(value) {
            return Err(format!(
                "option {name}: unknown value \"{value}\" for system {}; expected one of {}",
                definition.name,
                axis.values.join(", ")
            ));
        }
        options.insert(name.clone(), value.clone());
    }
    Ok(options)
}

/// The option values in the definition's order, for test names (`quorum-read-index`).
pub fn in_order<'a>(definition: &'a Definition, options: &'a Options) -> Vec<&'a str> {
    definition
        .options
        .keys()
        .filter_map(|name| options.get(name).map(String::as_str))
        .collect()
}
