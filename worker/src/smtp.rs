//! The SMTP connections: kept open and reused, with TCP_NODELAY.
//!
//! lettre's pooled transport writes a message's body and its closing `\r\n.\r\n` in two writes on
//! a socket with Nagle's algorithm on: the small second write waits for the server to acknowledge
//! the first, and servers delay that ACK (40 ms on Linux) because they have nothing to answer
//! yet. That capped each connection at one message per delayed ACK, whatever the server could
//! take. lettre offers no way to set the option on its own sockets, so for
//! `smtp://` (plain or STARTTLS, with or without AUTH) this module opens the TCP connection
//! itself and hands it to lettre's connection type; `smtps://` (implicit TLS) still goes through
//! lettre's pool. Checking a connection out also skips lettre's NOOP round trip when it was in
//! use within the last second.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::{Error as LettreError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::net::TcpStream;

/// A connection used more recently than this is trusted without a NOOP.
const FRESH: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Smtp(#[from] LettreError),
    #[error("connecting to the SMTP server: {0}")]
    Connect(String),
}

impl SendError {
    /// A 5xx answer: the address or message will never be accepted.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp(e) if e.is_permanent())
    }
}

pub enum Transport {
    Direct(Direct),
    Lettre(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required|opportunistic` (STARTTLS),
    /// `smtps://user:pass@host:465` (implicit TLS); credentials in the URL are used for AUTH.
    /// `pool_size` bounds the connections kept open.
    pub fn from_url(url: &str, pool_size: usize) -> crate::error::Result<Transport> {
        let bad = |e: &dyn std::fmt::Display| {
            crate::error::Error::Config(format!(
                "SMTP_URL {:?} is not usable: {e}",
                birgemiz_schema::db::redact_url(url)
            ))
        };
        // lettre validates the URL either way, so both paths accept the same ones.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| bad(&e))?;
        let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
        if parsed.scheme() != "smtp" {
            return Ok(Transport::Lettre(
                builder
                    .timeout(Some(CONNECT_TIMEOUT))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(pool_size as u32)
                            .idle_timeout(Duration::from_secs(60)),
                    )
                    .build(),
            ));
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let starttls = match tls.as_deref() {
            None => None,
            Some(mode) => Some((
                TlsParameters::new(host.clone()).map_err(|e| bad(&e))?,
                mode == "required",
            )),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|e| bad(&e))
        };
        let credentials = match parsed.password() {
            Some(password) => Some(Credentials::new(
                decode(parsed.username())?,
                decode(password)?,
            )),
            None => None,
        };
        let hello = match parsed.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        Ok(Transport::Direct(Direct {
            port: parsed.port().unwrap_or(25),
            host,
            starttls,
            credentials,
            hello,
            pool_size,
            idle: Mutex::new(Vec::new()),
            eight_bit: AtomicU8::new(UNKNOWN),
        }))
    }

    /// Whether the server takes 8-bit bodies (8BITMIME), so that Kazakh and Russian text can go
    /// as it is instead of base64. Asked of the server once, on the first connection: a message
    /// is built the same way by every process talking to the same server, so a re-send after a
    /// crash stays a byte-identical copy. Unknown while the server is unreachable (false).
    pub async fn eight_bit_mime(&self) -> bool {
        match self {
            Transport::Direct(direct) => direct.eight_bit_mime().await,
            // lettre's own pool hides the server's answer to EHLO.
            Transport::Lettre(_) => false,
        }
    }

    pub async fn send(&self, message: Message) -> Result<Response, SendError> {
        match self {
            Transport::Direct(direct) => direct.send(message).await,
            Transport::Lettre(lettre) => Ok(lettre.send(message).await?),
        }
    }
}

pub struct Direct {
    host: String,
    port: u16,
    /// STARTTLS parameters, and whether the server must offer it.
    starttls: Option<(TlsParameters, bool)>,
    credentials: Option<Credentials>,
    hello: ClientId,
    pool_size: usize,
    /// Open connections not in use, with when each was last used.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// What the last EHLO said of 8BITMIME: [`UNKNOWN`], [`EIGHT_BIT`] or [`SEVEN_BIT`].
    eight_bit: AtomicU8,
}

const UNKNOWN: u8 = 0;
const EIGHT_BIT: u8 = 1;
const SEVEN_BIT: u8 = 2;

impl Direct {
    async fn send(&self, message: Message) -> Result<Response, SendError> {
        let raw = message.formatted();
        let mut conn = self.checkout().await?;
        let sent = conn.send(message.envelope(), &raw).await;
        // lettre closes a connection itself after any error answer; a broken one is dropped.
        if conn.has_broken() {
            conn.abort().await;
        } else {
            self.checkin(conn);
        }
        Ok(sent?)
    }

    async fn eight_bit_mime(&self) -> bool {
        match self.eight_bit.load(Ordering::Relaxed) {
            EIGHT_BIT => true,
            SEVEN_BIT => false,
            _ => match self.checkout().await {
                Ok(conn) => {
                    self.checkin(conn);
                    self.eight_bit.load(Ordering::Relaxed) == EIGHT_BIT
                }
                Err(e) => {
                    tracing::debug!(error = %e, "SMTP server unreachable; building 7-bit");
                    false
                }
            },
        }
    }

    async fn checkout(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let parked = self.idle.lock().map_err(poisoned)?.pop();
            let Some((mut conn, used)) = parked else {
                return self.connect().await;
            };
            if used.elapsed() < FRESH || conn.test_connected().await {
                return Ok(conn);
            }
            tracing::debug!("dropping an SMTP connection the server closed");
            conn.abort().await;
        }
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.pool_size
        {
            idle.push((conn, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| SendError::Connect("timed out".into()))?
        .map_err(|e| SendError::Connect(e.to_string()))?;
        tcp.set_nodelay(true)
            .map_err(|e| SendError::Connect(e.to_string()))?;
        let mut conn =
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?;
        if let Some((tls, required)) = &self.starttls
            && (*required || conn.can_starttls())
        {
            conn.starttls(tls.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        let eight_bit = conn.server_info().supports_feature(Extension::EightBitMime);
        self.eight_bit.store(
            if eight_bit { EIGHT_BIT } else { SEVEN_BIT },
            Ordering::Relaxed,
        );
        Ok(conn)
    }
}

fn poisoned<T>(_: T) -> SendError {
    SendError::Connect("connection list lock poisoned".into())
}
