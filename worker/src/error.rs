//! The worker's error: what went wrong, so that the caller can tell a setting that stops the
//! process at start from a database that is away (the row waits for the relay) and from an email
//! that can never be built (the row is FAILED).

use std::sync::Arc;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// PostgreSQL, Redis, or a rule of the domain.
    #[error(transparent)]
    Schema(#[from] birgemiz_schema::Error),
    /// A setting that can't be used; the process stops at start with this reason.
    #[error("{0}")]
    Config(String),
    /// A template that can't be filled or a message that can't be built from it.
    #[error("{0}")]
    Message(String),
    /// The task that records sent rows is gone (the process is stopping).
    #[error("the finisher stopped")]
    FinisherStopped,
    /// The sending slots were closed (the process is stopping).
    #[error("sending slots: {0}")]
    Slots(#[from] tokio::sync::AcquireError),
    /// The queue consumer ended with an error.
    #[error("queue consumer: {0}")]
    Queue(String),
    #[error("{0} timed out")]
    TimedOut(&'static str),
    /// One failure shared by every row of a job (its claim or its preparation failed).
    #[error("{0}")]
    Job(Arc<Error>),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Schema(e.into())
    }
}

impl<E: std::error::Error + 'static> From<bb8::RunError<E>> for Error {
    fn from(e: bb8::RunError<E>) -> Self {
        Error::Schema(e.into())
    }
}
