//! Fixed-window rate limits in Redis, so that every api process counts against the same budget.

use std::sync::LazyLock;
use std::time::Duration;

use birgemiz_schema::Error;
use birgemiz_schema::config::RateLimit;
use redis::aio::ConnectionManager;

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
    let mut script = SCRIPT.prepare_invoke();
    script
        .key(format!("{namespace}:rl:{action}:u:{user_id}"))
        .arg(per_user.max)
        .arg(per_user.window_secs);
    if let Some(ip) = ip {
        script
            .key(format!("{namespace}:rl:{action}:ip:{ip}"))
            .arg(per_ip.max)
            .arg(per_ip.window_secs);
    }
    let wait: u64 = script.invoke_async(&mut redis.clone()).await?;
    if wait > 0 {
        return Err(Error::RateLimited {
            retry_after: Duration::from_secs(wait),
        });
    }
    Ok(())
}
