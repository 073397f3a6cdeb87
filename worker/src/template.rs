//! A deliberately small template language: `worker/templates/{locale}/{kind}.txt` holds a
//! `Subject:` line, a blank line and the body with `{name}` placeholders. The text part is the
//! body as written; the HTML part is the same body with every literal and value HTML-escaped,
//! blank lines turned into paragraphs, links into anchors and lists into `<ul>`. One source per
//! email means the two parts can never say different things, and nothing user-supplied reaches
//! the HTML unescaped.

use std::collections::HashMap;

/// A value put into a placeholder.
#[derive(Clone, Debug)]
pub enum Value {
    Text(String),
    Link(String),
    /// Nothing to say here (no link to a page that doesn't exist, no note): the paragraph that
    /// holds the placeholder, its introduction included, is left out.
    Omit,
    /// Items with an optional link; an empty list renders as `empty`.
    List {
        items: Vec<(String, Option<String>)>,
        empty: String,
    },
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn escape_html(s: &str) -> String {
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

/// A subject is a header: no control characters (CR/LF would start a new header), bounded length.
pub fn header_safe(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(200).collect()
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

fn pieces(body: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(Piece::Literal(&rest[..open + 1]));
            rest = &rest[open + 1..];
            continue;
        }
        out.push(Piece::Literal(&rest[..open]));
        out.push(Piece::Placeholder(name));
        rest = &rest[open + close + 1..];
    }
    out.push(Piece::Literal(rest));
    out
}

fn html_literal(s: &str) -> String {
    escape_html(s)
        .replace("\n\n", "</p>\n<p>")
        .replace('\n', "<br>\n")
}

/// Renders `source` with `values`; a placeholder without a value is an error so a template typo
/// never reaches a recipient as `{name}`.
pub fn render(source: &str, lang: &str, values: &HashMap<&str, Value>) -> Result<Rendered, String> {
    let source = source.replace("\r\n", "\n");
    let (first, body) = source
        .split_once("\n\n")
        .ok_or("template has no blank line after the subject")?;
    let subject_src = first
        .strip_prefix("Subject:")
        .ok_or("template must start with `Subject:`")?
        .trim();
    let mut subject = String::new();
    for piece in pieces(subject_src) {
        match piece {
            Piece::Literal(s) => subject.push_str(s),
            Piece::Placeholder(name) => match values.get(name) {
                Some(Value::Text(s) | Value::Link(s)) => subject.push_str(s),
                Some(Value::Omit) => {}
                _ => return Err(format!("subject placeholder {{{name}}} has no text value")),
            },
        }
    }
    let omitted = |paragraph: &&str| {
        pieces(paragraph).iter().any(
            |p| matches!(p, Piece::Placeholder(name) if matches!(values.get(name), Some(Value::Omit))),
        )
    };
    let kept: Vec<&str> = body
        .trim_end()
        .split("\n\n")
        .filter(|p| !omitted(p))
        .collect();
    let body = kept.join("\n\n");
    let body = body.as_str();
    let mut text = String::new();
    let mut html = String::from("<p>");
    for piece in pieces(body) {
        match piece {
            Piece::Literal(s) => {
                text.push_str(s);
                html.push_str(&html_literal(s));
            }
            Piece::Placeholder(name) => match values
                .get(name)
                .ok_or_else(|| format!("no value for {{{name}}}"))?
            {
                Value::Text(s) => {
                    text.push_str(s);
                    html.push_str(&html_literal(s));
                }
                Value::Link(url) => {
                    text.push_str(url);
                    let url = escape_html(url);
                    html.push_str(&format!("<a href=\"{url}\">{url}</a>"));
                }
                // Its paragraph was left out above.
                Value::Omit => {}
                Value::List { items, empty } if items.is_empty() => {
                    text.push_str(empty);
                    html.push_str(&html_literal(empty));
                }
                Value::List { items, .. } => {
                    html.push_str("</p>\n<ul>\n");
                    for (i, (title, url)) in items.iter().enumerate() {
                        if i > 0 {
                            text.push('\n');
                        }
                        text.push_str("- ");
                        text.push_str(title);
                        match url {
                            Some(url) => {
                                text.push_str("\n  ");
                                text.push_str(url);
                                html.push_str(&format!(
                                    "<li><a href=\"{}\">{}</a></li>\n",
                                    escape_html(url),
                                    escape_html(title)
                                ));
                            }
                            None => html.push_str(&format!("<li>{}</li>\n", escape_html(title))),
                        }
                    }
                    html.push_str("</ul>\n<p>");
                }
            },
        }
    }
    html.push_str("</p>");
    let subject = header_safe(&subject);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{html}\n</body>\n</html>\n",
        escape_html(&subject)
    );
    text.push('\n');
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_user_text_in_html_and_keeps_it_in_text() {
        let mut v = HashMap::new();
        v.insert("name", Value::Text("<b>Ann</b>\r\nBcc: x@y.z".into()));
        v.insert("link", Value::Link("https://x/a?t=1&u=2".into()));
        let r = render("Subject: Hi {name}\n\nHello {name}\n\n{link}\n", "en", &v).unwrap();
        assert_eq!(r.subject, "Hi <b>Ann</b> Bcc: x@y.z");
        assert!(r.text.contains("Hello <b>Ann</b>"));
        assert!(r.html.contains("&lt;b&gt;Ann&lt;/b&gt;"));
        assert!(!r.html.contains("<b>"));
        assert!(r.html.contains("<a href=\"https://x/a?t=1&amp;u=2\">"));
    }

    #[test]
    fn an_omitted_value_leaves_its_paragraph_out() {
        let mut v = HashMap::new();
        v.insert("link", Value::Omit);
        v.insert("name", Value::Text("Ann".into()));
        let r = render(
            "Subject: Hi\n\nHello {name}\n\nThe page:\n{link}\n\nBye\n",
            "en",
            &v,
        )
        .unwrap();
        assert_eq!(r.text, "Hello Ann\n\nBye\n");
        assert!(!r.html.contains("page"));
    }

    #[test]
    fn missing_values_are_errors() {
        assert!(render("Subject: x\n\n{nope}", "en", &HashMap::new()).is_err());
    }
}
