//! SMTP: the transport (see `smtp.rs`) and the MIME message. A message is a pure function of its
//! outbox row (Message-ID, Date and MIME boundary derive from the row), so the rare re-send after a
//! crash between the server's `250` and our commit is a byte-identical copy.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use crate::template::Rendered;

pub use crate::smtp::Transport;

/// The connections to `smtp_url` (see [`Transport::from_url`]), at most `pool_size` kept open.
pub fn transport(smtp_url: &str, pool_size: u32) -> Result<Transport, String> {
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
}

/// The domain of the sender, for Message-IDs.
pub fn message_id_domain(from: &Mailbox) -> String {
    from.email.domain().to_owned()
}

pub fn message_id(outbox_id: i64, domain: &str) -> String {
    format!("<outbox.{outbox_id}@{domain}>")
}

/// A part's body with its transfer encoding chosen up front: Kazakh and Russian text goes as
/// base64 (quoted-printable triples Cyrillic, and lettre's own choice encodes it both ways to
/// compare), plain ASCII as quoted-printable, which stays readable.
fn encoded(text: &str) -> Body {
    let encoding = if text.is_ascii() {
        ContentTransferEncoding::QuotedPrintable
    } else {
        ContentTransferEncoding::Base64
    };
    Body::new_with_encoding(text.to_owned(), encoding)
        .unwrap_or_else(|_| Body::new(text.to_owned()))
}

/// Builds the message; an error means the row can never be sent as is (a bad address).
pub fn build(env: &Envelope<'_>, content: &Rendered) -> Result<Message, String> {
    let to: Mailbox = env
        .to
        .parse()
        .map_err(|e| format!("invalid recipient address: {e}"))?;
    let created: SystemTime = env.created_at.into();
    // `=_` never occurs in quoted-printable or base64 output, so no body can contain the boundary.
    let boundary = format!("=_birgemiz_alt_{}", env.outbox_id);
    let body = MultiPart::alternative()
        .boundary(boundary)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(encoded(&content.text)),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(encoded(&content.html)),
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
        .map_err(|e| format!("building the message: {e}"))?;
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
