//! Text helpers shared by every reader: UTF-8 decoding with the line of the first bad byte, and
//! turning byte offsets into 1-based line and column numbers.
//!
//! Line numbers count `\n` only (a `\r\n` file numbers the same as its `\n` twin), so an error's
//! line is never above the number of `\n` bytes plus one.

use super::ParseError;

const BOM: &str = "\u{feff}";

/// Decodes a whole input as UTF-8, dropping a leading byte-order mark.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix(BOM).unwrap_or(text)),
        Err(e) => Err(ParseError::new(
            line_at(bytes, e.valid_up_to()),
            "invalid UTF-8",
        )),
    }
}

/// The 1-based line holding byte `offset` (offsets past the end count as the last line).
pub(crate) fn line_at(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    1 + bytes[..end].iter().filter(|&&b| b == b'\n').count()
}

/// The 1-based column (in characters) of byte `offset` within its line.
pub(crate) fn column_at(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let start = bytes[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // Count characters by their first bytes so an offset inside a character cannot panic.
    1 + bytes[start..end]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
}

/// Splits input into lines (on `\n`, dropping a trailing `\r`), numbered from 1.
pub(crate) fn numbered_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes.split(|&b| b == b'\n').enumerate().map(|(i, line)| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        (i + 1, line)
    })
}

/// Whether a line holds nothing but whitespace.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Skips what EDN treats as nothing: whitespace, commas and `;` comments. Returns the offset of
/// the next form (or the end of `text`).
pub(crate) fn skip_edn_blank(text: &str, mut offset: usize) -> usize {
    let bytes = text.as_bytes();
    while let Some(c) = text.get(offset..).and_then(|rest| rest.chars().next()) {
        if c == ';' {
            offset = bytes[offset..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| offset + i + 1);
        } else if c == ',' || c.is_whitespace() {
            offset += c.len_utf8();
        } else {
            break;
        }
    }
    offset
}

/// A short, single-line rendering of some input for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_at(text.as_bytes(), 0), 1);
        assert_eq!(line_at(text.as_bytes(), 3), 2);
        assert_eq!(line_at(text.as_bytes(), 100), 3);
        assert_eq!(column_at(text, 5), 3);
        assert_eq!(column_at(text, 7), 4);
    }

    #[test]
    fn bad_utf8_reports_its_line() {
        let err = decode(b"ok\nfine\n\xff\n").unwrap_err();
        assert_eq!(err, ParseError::new(3, "invalid UTF-8"));
    }

    #[test]
    fn blank_skipping() {
        let text = " , ; comment\n  [";
        assert_eq!(&text[skip_edn_blank(text, 0)..], "[");
        assert_eq!(skip_edn_blank("; only", 0), 6);
    }
}
