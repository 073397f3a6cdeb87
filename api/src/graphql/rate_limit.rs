//! Fixed-window rate limits in Redis, so that every api process counts against the same budget.

use std::sync::LazyLock;
use std::time::Duration;

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

async fn check_subject(
    redis: &ConnectionManager,
    namespace: &str,
    action: &str,
    subject: &str,
    per_subject: RateLimit,
    ip: Option<&str>,
    per_ip: RateLimit,
) -> Result<(), Error> {
    let mut script = SCRIPT.prepare_invoke();
    script
        .key(format!("{namespace}:rl:{action}:{subject}"))
        .arg(per_subject.max)
        .arg(per_subject.window_secs);
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
