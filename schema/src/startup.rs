//! Reaching PostgreSQL and Redis at start: services in a cluster start in any order, so a
//! binary keeps trying (with backoff, each attempt logged) until `STARTUP_TIMEOUT_SECS`.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::Result;

const FIRST_WAIT: Duration = Duration::from_millis(250);
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Runs `attempt` until it succeeds or `timeout` has passed since the first try; then the last
/// error. A zero timeout tries once.
pub async fn retry<T, F, Fut>(what: &str, timeout: Duration, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut wait = FIRST_WAIT;
    let mut n = 0u32;
    loop {
        n += 1;
        match attempt().await {
            Ok(v) => {
                if n > 1 {
                    tracing::info!(what, attempts = n, "reached at start after retries");
                }
                return Ok(v);
            }
            Err(e) => {
                let left = timeout.saturating_sub(started.elapsed());
                if left.is_zero() {
                    tracing::error!(what, attempts = n, error = %e, "giving up: STARTUP_TIMEOUT_SECS passed");
                    return Err(e);
                }
                let pause = wait.min(left);
                tracing::warn!(what, attempt = n, error = %e, retry_in_ms = pause.as_millis() as u64,
                    "not reachable at start; retrying");
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(MAX_WAIT);
            }
        }
    }
}
