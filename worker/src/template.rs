//! A deliberately small template language: `worker/templates/{locale}/{kind}.txt` holds a
//! `Subject:` line, a blank line and the body with `{name}` placeholders. The text part is the
//! body as written; the HTML part is the same body with every literal and value HTML-escaped,
//! blank lines turned into paragraphs, links into anchors and lists into `<ul>`. One source per
//! email means the two parts can never say different things, and nothing user-supplied reaches
//! the HTML unescaped.

use std::collections::HashMap;

use birgemiz_schema::html::escape;

use crate::error::{Error, Result};

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

/// Ends the open paragraph where a block (a list) starts: the line break that led into the block
/// goes (the block starts on its own line), and a paragraph with nothing in it is dropped.
fn close_paragraph(html: &mut String) {
    if html.ends_with("<br>\n") {
        html.truncate(html.len() - "<br>\n".len());
    }
    if html.ends_with("<p>") {
        html.truncate(html.len() - "<p>".len());
    } else {
        html.push_str("</p>\n");
    }
}

/// Text in HTML: a blank line ends the paragraph, a single line break is a `<br>`. (Replacing
/// the blank lines first and then every line break also turned the break between `</p>` and
/// `<p>` into a `<br>`.)
fn html_literal(s: &str) -> String {
    escape(s)
        .split("\n\n")
        .map(|paragraph| paragraph.replace('\n', "<br>\n"))
        .collect::<Vec<_>>()
        .join("</p>\n<p>")
}

/// Renders `source` with `values`; a placeholder without a value is an error so a template typo
/// never reaches a recipient as `{name}`.
pub fn render(source: &str, lang: &str, values: &HashMap<&str, Value>) -> Result<Rendered> {
    let bad = |m: String| Error::Message(format!("template: {m}"));
    let source = source.replace("\r\n", "\n");
    let (first, body) = source
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line after the subject".into()))?;
    let subject_src = first
        .strip_prefix("Subject:")
        .ok_or_else(|| bad("it must start with `Subject:`".into()))?
        .trim();
    let mut subject = String::new();
    for piece in pieces(subject_src) {
        match piece {
            Piece::Literal(s) => subject.push_str(s),
            Piece::Placeholder(name) => match values.get(name) {
                Some(Value::Text(s) | Value::Link(s)) => subject.push_str(s),
                Some(Value::Omit) => {}
                _ => {
                    return Err(bad(format!(
                        "subject placeholder {{{name}}} has no text value"
                    )));
                }
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
    // Right after a block a new paragraph is open: the line breaks that ended the block in the
    // text are not lines of that paragraph.
    let mut after_block = false;
    for piece in pieces(body) {
        match piece {
            Piece::Literal(s) => {
                text.push_str(s);
                let s = if after_block {
                    s.trim_start_matches('\n')
                } else {
                    s
                };
                html.push_str(&html_literal(s));
            }
            Piece::Placeholder(name) => match values
                .get(name)
                .ok_or_else(|| bad(format!("no value for {{{name}}}")))?
            {
                Value::Text(s) => {
                    text.push_str(s);
                    html.push_str(&html_literal(s));
                }
                Value::Link(url) => {
                    text.push_str(url);
                    let url = escape(url);
                    html.push_str(&format!("<a href=\"{url}\">{url}</a>"));
                }
                // Its paragraph was left out above.
                Value::Omit => {}
                Value::List { items, empty } if items.is_empty() => {
                    text.push_str(empty);
                    html.push_str(&html_literal(empty));
                }
                Value::List { items, .. } => {
                    close_paragraph(&mut html);
                    html.push_str("<ul>\n");
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
                                    escape(url),
                                    escape(title)
                                ));
                            }
                            None => html.push_str(&format!("<li>{}</li>\n", escape(title))),
                        }
                    }
                    html.push_str("</ul>\n<p>");
                    after_block = true;
                    continue;
                }
            },
        }
        after_block = false;
    }
    close_paragraph(&mut html);
    let html = html.trim_end();
    let subject = header_safe(&subject);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{html}\n</body>\n</html>\n",
        escape(&subject)
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

    /// The text's line breaks around a list are the list's own lines in HTML: no `<br>` before
    /// or after a `<ul>`, and no empty paragraph where the list ends one.
    #[test]
    fn lists_are_blocks_without_line_breaks_around_them() {
        let mut v = HashMap::new();
        let items = vec![
            ("A & B".to_owned(), Some("https://x/a".to_owned())),
            ("C".to_owned(), None),
        ];
        v.insert(
            "news",
            Value::List {
                items,
                empty: "none".into(),
            },
        );
        v.insert(
            "more",
            Value::List {
                items: Vec::new(),
                empty: "nothing".into(),
            },
        );
        let r = render(
            "Subject: Hi\n\nHello,\nreader\n\nNews:\n{news}\n\nMore:\n{more}\n\nLast:\n{news}\n",
            "en",
            &v,
        )
        .unwrap();
        let body = r.html.split("<body>\n").nth(1).unwrap();
        assert_eq!(
            body,
            "<p>Hello,<br>\nreader</p>\n<p>News:</p>\n<ul>\n\
             <li><a href=\"https://x/a\">A &amp; B</a></li>\n<li>C</li>\n</ul>\n\
             <p>More:<br>\nnothing</p>\n<p>Last:</p>\n<ul>\n\
             <li><a href=\"https://x/a\">A &amp; B</a></li>\n<li>C</li>\n</ul>\n</body>\n</html>\n"
        );
        assert!(
            r.text
                .contains("News:\n- A & B\n  https://x/a\n- C\n\nMore:\nnothing\n")
        );
    }

    #[test]
    fn missing_values_are_errors() {
        assert!(render("Subject: x\n\n{nope}", "en", &HashMap::new()).is_err());
    }
}
