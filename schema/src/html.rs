//! Text put into HTML: the api's email-link pages and the worker's HTML email parts escape with
//! this one function, so a character one of them lets through raw can't exist.

/// `s` with the five characters that are markup in text or in a quoted attribute escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes_only() {
        assert_eq!(
            escape(r#"<a href="x">Ann & 'Bo'</a> Сәлем"#),
            "&lt;a href=&quot;x&quot;&gt;Ann &amp; &#39;Bo&#39;&lt;/a&gt; Сәлем"
        );
    }
}
