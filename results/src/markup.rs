//! Text put into hand-written SVG and HTML (labels, titles, verdicts read from files): escaped
//! here, once, for element text and attribute values alike.

/// `text` with `&`, `<`, `>` and `"` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            super::escape("</title><script>\"a&b\""),
            "&lt;/title&gt;&lt;script&gt;&quot;a&amp;b&quot;"
        );
    }
}
