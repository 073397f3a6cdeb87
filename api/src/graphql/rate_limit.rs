//! Fixed-window rate limits in Redis, so that every api process counts against the same budget.
//!
//! Without Redis (down, or slower than [`REDIS_WAIT`]) a limit never answers INTERNAL: each action
//! either counts in this process alone ([`WithoutRedis::Local`], the same budgets per process)
//! or is refused as retryable SERVICE_UNAVAILABLE ([`WithoutRedis::Refuse`]). docs/faults.md
//! explains the choice per action.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Context;
use birgemiz_schema::config::RateLimit;
use birgemiz_schema::{Error, tokens};
use redis::aio::ConnectionManager;

use super::context::ContextExt;
use super::errors::ApiResult;

/// Counts the request in both windows in one round trip and reports the longer wait if either is
/// over. Rejected requests count too: hammering does not reopen the window early.
static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local wait = 0
for i = 1, #KEYS do
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i]) end
    if n > tonumber(ARGV[2 * i - 1]) then
        local ttl = redis.call('TTL', KEYS[i])
        if ttl < 1 then ttl = 1 end
        if ttl > wait then wait = ttl end
    end
end
return wait
",
    )
});

/// Checks `action` for the user and, when known, the client address; RATE_LIMITED when over.
pub async fn check(
    redis: &ConnectionManager,
    namespace: &str,
    action: &str,
    user_id: i64,
    per_user: RateLimit,
    ip: Option<&str>,
    per_ip: RateLimit,
) -> Result<(), Error> {
    let subject = format!("u:{user_id}");
    check_subject(redis, namespace, action, &subject, per_user, ip, per_ip).await
}

/// The same for actions of anonymous clients, counted per email address: guessing passwords or
/// flooding someone's inbox from many addresses still meets the per-email budget. The key holds
/// a hash, so Redis never stores addresses.
pub async fn check_email(
    redis: &ConnectionManager,
    namespace: &str,
    action: &str,
    email: &str,
    per_email: RateLimit,
    ip: Option<&str>,
    per_ip: RateLimit,
) -> Result<(), Error> {
    let digest = tokens::hash_token(&email.trim().to_lowercase());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let subject = format!("e:{hex}");
    check_subject(redis, namespace, action, &subject, per_email, ip, per_ip).await
}

/// What an action does while Redis can't count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithoutRedis {
    /// Count in this process only, with the same budgets: brute force still meets a limit
    /// (per process), and the action keeps working.
    Local,
    /// Refuse with SERVICE_UNAVAILABLE and `retryAfter`.
    Refuse,
}

/// The one table of what each limited action does without Redis.
pub fn without_redis(action: &str) -> WithoutRedis {
    match action {
        // Signing in and up must keep working; a per-process budget still stops guessing.
        "sign-in" | "sign-up" | "sign-in-link" => WithoutRedis::Local,
        // Voting has a deadline: refusing votes during an outage would lose them for good, and
        // a voter has one vote per category anyway, so the limit only bounds churn.
        "vote" | "nominate" => WithoutRedis::Local,
        // A subscription mails a confirmation to an address anyone can type: with N processes
        // counting apart, N times the budget could land in a stranger's inbox. It can wait.
        _ => WithoutRedis::Refuse,
    }
}

/// How long a limit waits for Redis before it decides without it.
pub const REDIS_WAIT: Duration = Duration::from_millis(500);
/// What a refused action tells the client to wait.
const RETRY_WITHOUT_REDIS: Duration = Duration::from_secs(5);

/// Checks decided without Redis, by how: exposed on /metrics.
pub static LOCAL_CHECKS: AtomicU64 = AtomicU64::new(0);
pub static REFUSED_CHECKS: AtomicU64 = AtomicU64::new(0);

/// Fixed windows in this process's memory, keyed like the Redis ones.
struct LocalWindows {
    /// Key → (window start, count, window length).
    windows: Mutex<HashMap<String, (Instant, u32, Duration)>>,
}

/// Beyond this many keys, expired windows are dropped before counting.
const LOCAL_KEYS: usize = 100_000;

static LOCAL: LazyLock<LocalWindows> = LazyLock::new(|| LocalWindows {
    windows: Mutex::new(HashMap::new()),
});

impl LocalWindows {
    /// Counts one request in every window; the longest wait if any is over (0 when none is).
    fn hit(&self, keys: &[(String, RateLimit)], now: Instant) -> u64 {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > LOCAL_KEYS {
            windows.retain(|_, (start, _, window)| now.duration_since(*start) < *window);
        }
        let mut wait = 0;
        for (key, limit) in keys {
            let window = Duration::from_secs(limit.window_secs);
            let (start, n, len) = windows.entry(key.clone()).or_insert((now, 0, window));
            if now.duration_since(*start) >= *len {
                (*start, *n, *len) = (now, 0, window);
            }
            *n += 1;
            if *n > limit.max {
                let left = len.saturating_sub(now.duration_since(*start));
                wait = wait.max(left.as_secs().max(1));
            }
        }
        wait
    }
}

async fn check_subject(
    redis: &ConnectionManager,
    namespace: &str,
    action: &str,
    subject: &str,
    per_subject: RateLimit,
    ip: Option<&str>,
    per_ip: RateLimit,
) -> Result<(), Error> {
    let mut keys = vec![(format!("{namespace}:rl:{action}:{subject}"), per_subject)];
    if let Some(ip) = ip {
        keys.push((format!("{namespace}:rl:{action}:ip:{ip}"), per_ip));
    }
    let mut script = SCRIPT.prepare_invoke();
    for (key, limit) in &keys {
        script.key(key).arg(limit.max).arg(limit.window_secs);
    }
    let mut conn = redis.clone();
    let counted = tokio::time::timeout(REDIS_WAIT, script.invoke_async::<u64>(&mut conn)).await;
    let wait = match counted {
        Ok(Ok(wait)) => wait,
        failed => {
            let reason = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            match without_redis(action) {
                WithoutRedis::Local => {
                    LOCAL_CHECKS.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(action, %reason, "rate limit: Redis unavailable; counting in this process");
                    LOCAL.hit(&keys, Instant::now())
                }
                WithoutRedis::Refuse => {
                    REFUSED_CHECKS.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(action, %reason, "rate limit: Redis unavailable; refusing");
                    return Err(Error::Unavailable {
                        what: "rate limiting",
                        retry_after: RETRY_WITHOUT_REDIS,
                    });
                }
            }
        }
    };
    if wait > 0 {
        return Err(Error::RateLimited {
            retry_after: Duration::from_secs(wait),
        });
    }
    Ok(())
}

/// `check_email` with the request's Redis, namespace and client address.
pub async fn email_action(
    ctx: &Context<'_>,
    action: &str,
    email: &str,
    per_email: RateLimit,
    per_ip: RateLimit,
) -> ApiResult<()> {
    check_email(
        ctx.data_unchecked::<ConnectionManager>(),
        &ctx.config().redis_namespace,
        action,
        email,
        per_email,
        ctx.req().client_ip.as_deref(),
        per_ip,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_windows_count_each_key_and_reopen() {
        let local = LocalWindows {
            windows: Mutex::new(HashMap::new()),
        };
        let limit = RateLimit {
            max: 2,
            window_secs: 60,
        };
        let keys = [("a".to_owned(), limit), ("ip".to_owned(), limit)];
        let t0 = Instant::now();
        assert_eq!(local.hit(&keys, t0), 0);
        assert_eq!(local.hit(&keys, t0), 0);
        assert_eq!(local.hit(&keys, t0 + Duration::from_secs(10)), 50);
        assert_eq!(local.hit(&keys[..1], t0 + Duration::from_secs(61)), 0);
        // The address's window is still the first one.
        assert!(local.hit(&keys[1..], t0 + Duration::from_secs(30)) > 0);
    }

    #[test]
    fn every_limited_action_has_a_decision() {
        for action in ["sign-in", "sign-up", "sign-in-link", "vote", "nominate"] {
            assert_eq!(without_redis(action), WithoutRedis::Local, "{action}");
        }
        assert_eq!(without_redis("subscribe"), WithoutRedis::Refuse);
    }
}
