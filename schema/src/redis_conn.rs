//! Redis connections with a bounded wait and a one-line reason when Redis is not there.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{Error, Result};

pub async fn connect(url: &str, timeout: Duration) -> Result<ConnectionManager> {
    let hint = |e: &dyn std::fmt::Display| {
        Error::Internal(format!(
            "Redis at {} is not reachable ({e}); start it (see README: `./dev up`) or set REDIS_URL",
            crate::db::redact_url(url)
        ))
    };
    let client = redis::Client::open(url).map_err(|e| hint(&e))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1);
    let mut conn =
        tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
            .await
            .map_err(|_| hint(&"timed out"))?
            .map_err(|e| hint(&e))?;
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map_err(|e| hint(&e))?;
    Ok(conn)
}

/// The readiness probes' Redis check: a PING answered within `timeout`, or why not.
pub async fn ping(redis: &ConnectionManager, timeout: Duration) -> std::result::Result<(), String> {
    let mut conn = redis.clone();
    let cmd = redis::cmd("PING");
    let pong = cmd.query_async::<String>(&mut conn);
    match tokio::time::timeout(timeout, pong).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}
