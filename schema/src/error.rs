//! The one error type of the domain. The api maps each variant to a GraphQL error code once;
//! the worker logs them.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadInput { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PhaseClosed(String),
    /// The same nominee is already nominated (pending or approved) in the category; the
    /// existing nomination's id and name when the viewer may see it.
    #[error("{}", match existing {
        Some((_, name)) => format!("{name:?} is already nominated in this category"),
        None => "this nominee is already nominated in this category".to_owned(),
    })]
    DuplicateNomination { existing: Option<(i64, String)> },
    #[error("too many requests; try again in {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// A dependency is away (PostgreSQL unreachable, Redis for a limit that refuses without it,
    /// a request past its deadline, a process shutting down): retry after `retry_after`.
    #[error("temporarily unavailable ({what}); try again in {} s", retry_after.as_secs().max(1))]
    Unavailable {
        what: &'static str,
        retry_after: Duration,
    },
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    /// The stable code clients switch on (`extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated => "UNAUTHENTICATED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::BadInput { .. } => "BAD_USER_INPUT",
            Error::Conflict(_) | Error::DuplicateNomination { .. } => "CONFLICT",
            Error::PhaseClosed(_) => "PHASE_CLOSED",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Unavailable { .. } | Error::Pool(_) => "SERVICE_UNAVAILABLE",
            Error::Database(e) if database_away(e) => "SERVICE_UNAVAILABLE",
            Error::Database(_) | Error::Redis(_) | Error::Internal(_) => "INTERNAL",
        }
    }

    /// What a client may read: the message of a public error; for PostgreSQL being away, a
    /// fixed sentence (the cause, with addresses, stays in the log).
    pub fn client_message(&self) -> String {
        match self {
            Error::Pool(_) | Error::Database(_) => format!(
                "temporarily unavailable (database); try again in {} s",
                DATABASE_RETRY_AFTER.as_secs()
            ),
            e => e.to_string(),
        }
    }

    /// How long a client should wait before retrying, for the errors that say so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } | Error::Unavailable { retry_after, .. } => {
                Some(*retry_after)
            }
            Error::Pool(_) => Some(DATABASE_RETRY_AFTER),
            Error::Database(e) if database_away(e) => Some(DATABASE_RETRY_AFTER),
            _ => None,
        }
    }

    /// Whether the message may reach a client; internal ones carry SQL text and addresses.
    pub fn is_internal(&self) -> bool {
        self.code() == "INTERNAL"
    }
}

impl<E: std::error::Error + 'static> From<bb8::RunError<E>> for Error {
    fn from(e: bb8::RunError<E>) -> Self {
        Error::Pool(e.to_string())
    }
}

/// What clients are told to wait when PostgreSQL is away or too slow.
pub const DATABASE_RETRY_AFTER: Duration = Duration::from_secs(2);

/// Whether a database error means "away or too slow, try again" rather than a bug: the
/// connection is gone, the server is stopping or starting, or a bound (statement_timeout, the
/// idle-in-transaction timeout) cut the statement.
pub fn database_away(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as D};
    match e {
        D::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | D::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _) => true,
        D::DatabaseError(_, info) => {
            let m = info.message();
            [
                "canceling statement due to statement timeout",
                "terminating connection",
                "the database system is shutting down",
                "the database system is starting up",
                "the database system is in recovery mode",
                "idle-in-transaction timeout",
            ]
            .iter()
            .any(|p| m.contains(p))
        }
        D::BrokenTransactionManager => true,
        _ => false,
    }
}
