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
            Error::Database(_) | Error::Pool(_) | Error::Redis(_) | Error::Internal(_) => {
                "INTERNAL"
            }
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
