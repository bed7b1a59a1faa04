//! Format detection from the first meaningful bytes.
//!
//! - `{` followed by `"` (or `}`) is JSON Lines; `{` followed by anything else is EDN: one map a
//!   line when each of the first lines is a whole `{...}`, otherwise a bare EDN sequence.
//! - `[`, `(`, `#` or a leading `;` comment is a Jepsen EDN history (unless that first line is
//!   a Jepsen log line behind a bracketed timestamp).
//! - Text holding `jepsen.util - ` early on is a Jepsen log.
//! - Anything else is taken for JSON Lines, whose reader then names the first bad line: better
//!   than a log reader that would skip every line as noise and return an empty history.

use super::Format;

/// How much of the input detection looks at.
const WINDOW: usize = 64 * 1024;
/// How many meaningful lines decide between one-map-a-line and a free-form EDN sequence.
const SAMPLE_LINES: usize = 10;

pub(crate) fn detect(bytes: &[u8]) -> Format {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let window = &bytes[..bytes.len().min(WINDOW)];
    let meaningful = window
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty());
    let Some(first) = meaningful.clone().next() else {
        return Format::Jsonl;
    };
    match first[0] {
        b'{' => {
            let inner = first[1..].trim_ascii_start();
            if matches!(inner.first(), Some(b'"' | b'}') | None) && !looks_like_edn_map(window) {
                Format::Jsonl
            } else if meaningful
                .filter(|line| line[0] != b';')
                .take(SAMPLE_LINES)
                .all(|line| line.starts_with(b"{") && line.ends_with(b"}"))
            {
                Format::JepsenEdnLines
            } else {
                Format::JepsenEdn
            }
        }
        // A log whose lines start with a bracketed timestamp: `[2017-...] INFO  jepsen.util - `.
        b'[' if contains(first, MARKER) => Format::JepsenLog,
        b'[' | b'(' | b'#' | b';' => Format::JepsenEdn,
        _ if contains(window, MARKER) => Format::JepsenLog,
        _ => Format::Jsonl,
    }
}

const MARKER: &[u8] = b"jepsen.util - ";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `{` then a line break then `:`: an EDN map pretty-printed over several lines.
fn looks_like_edn_map(window: &[u8]) -> bool {
    let after = window
        .iter()
        .position(|&b| b == b'{')
        .map_or(&[][..], |i| window[i + 1..].trim_ascii_start());
    after.first() == Some(&b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(b"{\"index\":0}\n"), Format::Jsonl);
        assert_eq!(detect(b""), Format::Jsonl);
        assert_eq!(detect(b"garbage"), Format::Jsonl);
        assert_eq!(
            detect(b"\n{:process 0, :type :ok}\n{:process 1}\n"),
            Format::JepsenEdnLines
        );
        assert_eq!(detect(b"{:process 0,\n :type :ok}\n"), Format::JepsenEdn);
        assert_eq!(detect(b"{\n :process 0}\n"), Format::JepsenEdn);
        assert_eq!(detect(b"; comment\n[{:process 0}]"), Format::JepsenEdn);
        assert_eq!(detect(b"(\n{:process 0})"), Format::JepsenEdn);
        assert_eq!(
            detect(b"INFO  jepsen.core - hi\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n"),
            Format::JepsenLog
        );
        assert_eq!(
            detect(b"[12:00:01] INFO  jepsen.util - 0 :invoke :read nil\n"),
            Format::JepsenLog
        );
    }
}
