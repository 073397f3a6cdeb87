//! SMTP: the transport (see `smtp.rs`) and the MIME message. A message is a pure function of its
//! outbox row (Message-ID, Date and MIME boundary derive from the row), so the rare re-send after a
//! crash between the server's `250` and our commit is a byte-identical copy.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use crate::error::{Error, Result};
use crate::template::Rendered;

pub use crate::smtp::Transport;

/// The connections to `smtp_url` (see [`Transport::from_url`]), at most `pool_size` kept open.
pub fn transport(smtp_url: &str, pool_size: u32) -> Result<Transport> {
    let url = smtp_url.replace("tls=starttls", "tls=required");
    Transport::from_url(&url, pool_size as usize)
}

/// Everything about one message that is not its rendered content.
pub struct Envelope<'a> {
    pub outbox_id: i64,
    pub created_at: DateTime<Utc>,
    pub from: &'a Mailbox,
    pub to: &'a str,
    /// Set for bulk mail: the RFC 8058 one-click target.
    pub unsubscribe_url: Option<String>,
    /// The server takes 8-bit bodies (see [`Transport::eight_bit_mime`]).
    pub eight_bit: bool,
}

/// The domain of the sender, for Message-IDs.
pub fn message_id_domain(from: &Mailbox) -> String {
    from.email.domain().to_owned()
}

pub fn message_id(outbox_id: i64, domain: &str) -> String {
    format!("<outbox.{outbox_id}@{domain}>")
}

/// A part's body with its transfer encoding chosen up front. Where the server takes 8-bit
/// bodies, text goes as it is (no encoding work, and Cyrillic a third smaller than base64); see
/// [`as_is`]. Otherwise Kazakh and Russian text goes as base64 (quoted-printable triples
/// Cyrillic, and lettre's own choice encodes it both ways to compare), plain ASCII as
/// quoted-printable, which stays readable.
fn encoded(text: &str, eight_bit: bool, boundary: &str) -> Body {
    if eight_bit && let Some(body) = as_is(text, boundary) {
        return body;
    }
    let encoding = if text.is_ascii() {
        ContentTransferEncoding::QuotedPrintable
    } else {
        ContentTransferEncoding::Base64
    };
    Body::new_with_encoding(text.to_owned(), encoding)
        .unwrap_or_else(|_| Body::new(text.to_owned()))
}

/// The longest line SMTP carries (RFC 5321 4.5.3.1.6: 1,000 octets with the CRLF).
const MAX_LINE: usize = 998;

/// `text` with CRLF line endings as an 8bit (or, if ASCII, 7bit) body, unless a line is longer
/// than SMTP allows, it holds a NUL, or it holds the boundary (user text could: ids are
/// sequential). lettre's own check refuses lines over 76 octets, i.e. most Cyrillic lines.
fn as_is(text: &str, boundary: &str) -> Option<Body> {
    if text.contains(boundary) || text.contains('\0') {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() + text.len() / 32);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // A lone CR is no line ending to a reader and a bare one to SMTP: a line break.
        for (i, piece) in line.split('\r').enumerate() {
            if piece.len() > MAX_LINE {
                return None;
            }
            if i > 0 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(piece.as_bytes());
        }
        if lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    let encoding = if out.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    Some(Body::dangerous_pre_encoded(out, encoding))
}

/// Builds the message; an error means the row can never be sent as is (a bad address).
pub fn build(env: &Envelope<'_>, content: &Rendered) -> Result<Message> {
    let to: Mailbox = env
        .to
        .parse()
        .map_err(|e| Error::Message(format!("invalid recipient address: {e}")))?;
    let created: SystemTime = env.created_at.into();
    // `=_` never occurs in quoted-printable or base64 output; 8-bit text is checked for it.
    let boundary = format!("=_birgemiz_alt_{}", env.outbox_id);
    let body = MultiPart::alternative()
        .boundary(boundary.clone())
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(encoded(&content.text, env.eight_bit, &boundary)),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(encoded(&content.html, env.eight_bit, &boundary)),
        );
    let mut message = Message::builder()
        .from(env.from.clone())
        .to(to)
        .subject(content.subject.clone())
        .date(created)
        .message_id(Some(message_id(
            env.outbox_id,
            &message_id_domain(env.from),
        )))
        .multipart(body)
        .map_err(|e| Error::Message(format!("building the message: {e}")))?;
    if let Some(url) = &env.unsubscribe_url {
        // The URL is ours (PUBLIC_URL + a base64url token): plain ASCII without spaces or CR/LF.
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{url}>"),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(body: Option<Body>) -> Option<(Vec<u8>, ContentTransferEncoding)> {
        body.map(|b| {
            let encoding = b.encoding();
            (b.into_vec(), encoding)
        })
    }

    #[test]
    fn text_goes_as_is_with_crlf_line_endings() {
        let (bytes, encoding) = raw(as_is("Сәлем\nмир\r\nend\rx", "=_b_1")).unwrap();
        assert_eq!(bytes, "Сәлем\r\nмир\r\nend\r\nx".as_bytes());
        assert_eq!(encoding, ContentTransferEncoding::EightBit);
        let (_, encoding) = raw(as_is("plain\n", "=_b_1")).unwrap();
        assert_eq!(encoding, ContentTransferEncoding::SevenBit);
    }

    #[test]
    fn long_lines_nul_or_the_boundary_are_encoded_instead() {
        let line = "ж".repeat(MAX_LINE / 2);
        assert!(as_is(&line, "=_b_1").is_some());
        assert!(as_is(&format!("{line}ж"), "=_b_1").is_none());
        assert!(as_is("a\0b", "=_b_1").is_none());
        assert!(as_is("x\n--=_b_1--\n", "=_b_1").is_none());
        let body = encoded(&format!("{line}ж"), true, "=_b_1");
        assert_eq!(body.encoding(), ContentTransferEncoding::Base64);
    }
}
