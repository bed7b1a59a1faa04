//! Reading one option of a definition (`values`, `default`, `explain`) by hand rather than
//! derived: an `explain` key that is not one of the option's values is refused while the key
//! itself is read, so the YAML library puts that key's line and column on the error (a check
//! after parsing only knows the option's name). `values` is written before `explain` in every
//! definition faultline ships; where a file gives `explain` first, its keys are checked once
//! the option is read and the error points at the option instead.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::definition::{OptionAxis, Ordered};

const FIELDS: &[&str] = &["values", "default", "explain"];

impl<'de> Deserialize<'de> for OptionAxis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("OptionAxis", FIELDS, AxisVisitor)
    }
}

struct AxisVisitor;

impl<'de> Visitor<'de> for AxisVisitor {
    type Value = OptionAxis;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an option: values, default and optionally explain")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OptionAxis, A::Error> {
        let mut values: Option<Vec<String>> = None;
        let mut default: Option<String> = None;
        let mut explain: Option<Ordered<String>> = None;
        while let Some(key) = map.next_key_seed(FieldName)? {
            match key {
                Field::Values if values.is_some() => {
                    return Err(de::Error::duplicate_field("values"));
                }
                Field::Values => values = Some(map.next_value()?),
                Field::Default if default.is_some() => {
                    return Err(de::Error::duplicate_field("default"));
                }
                Field::Default => default = Some(map.next_value()?),
                Field::Explain if explain.is_some() => {
                    return Err(de::Error::duplicate_field("explain"));
                }
                Field::Explain => {
                    explain = Some(map.next_value_seed(ExplainSeed {
                        values: values.as_deref(),
                    })?);
                }
            }
        }
        let values = values.ok_or_else(|| de::Error::missing_field("values"))?;
        let default = default.ok_or_else(|| de::Error::missing_field("default"))?;
        let explain = explain.unwrap_or_default();
        // `explain` written before `values`: its keys could not be checked as they were read.
        if let Some(key) = explain.keys().find(|k| !values.iter().any(|v| v == k)) {
            return Err(de::Error::custom(format!(
                "explain: {}",
                not_a_value(key, &values)
            )));
        }
        Ok(OptionAxis {
            values,
            default,
            explain,
        })
    }
}

/// The YAML library puts the path in front (`options.mode.explain: `).
fn not_a_value(key: &str, values: &[String]) -> String {
    format!(
        "\"{key}\" is not one of the option's values ({})",
        values.join(", ")
    )
}

/// A key of the option's mapping, refused as it is read (so at its own line) when unknown.
struct FieldName;

enum Field {
    Values,
    Default,
    Explain,
}

impl<'de> DeserializeSeed<'de> for FieldName {
    type Value = Field;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for FieldName {
    type Value = Field;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("values, default or explain")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
        match key {
            "values" => Ok(Field::Values),
            "default" => Ok(Field::Default),
            "explain" => Ok(Field::Explain),
            other => Err(E::unknown_field(other, FIELDS)),
        }
    }
}

/// `explain`'s mapping, each key checked against `values` when they are known already.
struct ExplainSeed<'a> {
    values: Option<&'a [String]>,
}

impl<'de> DeserializeSeed<'de> for ExplainSeed<'_> {
    type Value = Ordered<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ExplainSeed<'_> {
    type Value = Ordered<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping of the option's values to what each promises")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, String)> = Vec::new();
        while let Some(key) = map.next_key_seed(ValueName {
            values: self.values,
        })? {
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate key \"{key}\"")));
            }
            let text: String = map.next_value()?;
            entries.push((key, text));
        }
        Ok(Ordered(entries))
    }
}

/// A key of `explain`: refused as it is read (so at its own line) when it names no value.
struct ValueName<'a> {
    values: Option<&'a [String]>,
}

impl<'de> DeserializeSeed<'de> for ValueName<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for ValueName<'_> {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("one of the option's values")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        match self.values {
            Some(values) if !values.iter().any(|v| v == key) => {
                Err(E::custom(not_a_value(key, values)))
            }
            _ => Ok(key.to_owned()),
        }
    }

    // YAML reads `on`, `true`, `1` as other types when a value list has them quoted; a key
    // is a value's name whatever it looks like.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }
}
