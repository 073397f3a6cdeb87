//! The PostgreSQL pool and the embedded migrations.

use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel_async::pooled_connection::bb8::{Pool as Bb8Pool, PooledConnection};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

pub type Pool = Bb8Pool<AsyncPgConnection>;
pub type Conn<'a> = PooledConnection<'a, AsyncPgConnection>;
/// A pooled connection that does not borrow the pool (it can be kept in shared request data).
pub type OwnedConn = PooledConnection<'static, AsyncPgConnection>;

pub async fn checkout_owned(pool: &Pool) -> Result<OwnedConn> {
    Ok(pool.get_owned().await?)
}

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Two processes migrating at once collide in the catalog; this lock makes them take turns.
const MIGRATION_LOCK: i64 = 0x6269_7267_656d_697a; // "birgemiz"

/// Whether PostgreSQL answers a checkout and a `SELECT 1` within `timeout` (for readiness),
/// with the failure as text, like `redis_conn::ping`.
pub async fn ping(pool: &Pool, timeout: Duration) -> std::result::Result<(), String> {
    let check = async {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(timeout, check)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// A one-line reason a person can act on, for the binaries to print before exiting.
pub fn unreachable_hint(url: &str, e: &dyn std::fmt::Display) -> String {
    format!(
        "PostgreSQL at {} is not reachable ({e}); start it (see README: `./dev up`) or set DATABASE_URL",
        redact_url(url)
    )
}

/// Hides a password in a URL before it reaches a log line.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The bounds every pooled connection lives under (`DATABASE_*` settings, see docs/faults.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolOptions {
    /// How long a checkout waits for a connection before the request fails as
    /// SERVICE_UNAVAILABLE (`DATABASE_ACQUIRE_TIMEOUT_MS`).
    pub acquire_timeout: Duration,
    /// `statement_timeout` of every pooled session (`DATABASE_STATEMENT_TIMEOUT_MS`; 0: none).
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout` (`DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`; 0: none).
    pub idle_in_transaction_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            acquire_timeout: Duration::from_millis(1500),
            statement_timeout: Duration::from_secs(10),
            idle_in_transaction_timeout: Duration::from_secs(10),
        }
    }
}

/// Builds the pool and checks one connection, so a wrong URL fails at start, not at first use.
pub async fn connect(url: &str, max_size: u32) -> Result<Pool> {
    connect_with(url, max_size, PoolOptions::default()).await
}

/// [`connect`] with explicit bounds.
pub async fn connect_with(url: &str, max_size: u32, options: PoolOptions) -> Result<Pool> {
    // The default check on checkout is a `SELECT 1` round trip, once per checkout, which added
    // up to many of a page's statements. This one asks only whether the connection's socket is still open, so a
    // connection the server closed (a restart, a terminated backend) is replaced at checkout
    // instead of failing the request that drew it.
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.recycling_method = RecyclingMethod::CustomFunction(Box::new(|conn| {
        Box::pin(async move {
            if conn.is_broken() {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    Box::new("connection closed by the server".to_owned()),
                ))
            } else {
                Ok(())
            }
        })
    }));
    // Set once per session, so a statement stuck on a lock or a transaction left open by a
    // cancelled request can't hold a connection (and a request) forever; and search's threshold.
    let setup = format!(
        "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {}; {}",
        options.statement_timeout.as_millis(),
        options.idle_in_transaction_timeout.as_millis(),
        crate::search::session_setup()
    );
    config.custom_setup = Box::new(move |url| {
        let setup = setup.clone();
        let url = url.to_owned();
        Box::pin(async move {
            use diesel_async::SimpleAsyncConnection;
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&setup)
                .await
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    let pool = Bb8Pool::builder()
        .max_size(max_size)
        .connection_timeout(options.acquire_timeout)
        .test_on_check_out(true)
        .build(manager)
        .await
        .map_err(|e| Error::Internal(unreachable_hint(url, &e)))?;
    pool.get()
        .await
        .map_err(|e| Error::Internal(unreachable_hint(url, &e)))?;
    Ok(pool)
}

/// Runs pending migrations under an advisory lock; returns how many ran.
pub async fn run_migrations(url: &str) -> Result<usize> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| Error::Internal(unreachable_hint(url, &e)))?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn)
        .await?;
    // The harness drives sync diesel on this connection, so it must leave the async runtime.
    let (conn, ran) = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let ran = harness
            .run_pending_migrations(MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| e.to_string());
        (harness.into_inner(), ran)
    })
    .await
    .map_err(|e| Error::Internal(format!("migration task: {e}")))?;
    let mut conn = conn;
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn)
        .await?;
    ran.map_err(|e| Error::Internal(format!("migrations failed: {e}")))
}

/// Reverts every migration (tests prove that down.sql undoes up.sql).
pub async fn revert_all_migrations(url: &str) -> Result<usize> {
    let conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| Error::Internal(unreachable_hint(url, &e)))?;
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness
            .revert_all_migrations(MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| Error::Internal(format!("migration task: {e}")))?
    .map_err(|e| Error::Internal(format!("revert failed: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            super::redact_url("postgres://postgres@h/db"),
            "postgres://postgres@h/db"
        );
    }
}
