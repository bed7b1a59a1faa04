//! Format names as the CLI and the manifest spell them: `jsonl`, `jepsen-edn`,
//! `jepsen-edn-lines`, `jepsen-log`.

use std::fmt;
use std::str::FromStr;

use super::Format;

impl Format {
    /// Every format, in the order error messages list them.
    pub const ALL: [Format; 4] = [
        Format::Jsonl,
        Format::JepsenEdn,
        Format::JepsenEdnLines,
        Format::JepsenLog,
    ];

    /// The format's name, as `FromStr` accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::JepsenEdn => "jepsen-edn",
            Format::JepsenEdnLines => "jepsen-edn-lines",
            Format::JepsenLog => "jepsen-log",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown history format \"{0}\"; expected one of jsonl, jepsen-edn, jepsen-edn-lines, jepsen-log"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        let err = "edn".parse::<Format>().unwrap_err().to_string();
        assert!(err.contains("jepsen-edn-lines"), "{err}");
    }
}
