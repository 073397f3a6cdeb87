//! Configuration read from the environment (and a `.env` file), with the defaults of the
//! README's configuration table, shared by both binaries so they can never disagree on a default.

use std::env;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub redis_url: String,
    pub smtp_url: String,
    pub mail_from: String,
    pub public_url: String,
    /// Where people read Birgemiz (`FRONTEND_URL`): every link in an email opens it
    /// (docs/language-and-links.md). `None`: emails link only to the api's own pages.
    pub frontend_url: Option<String>,
    pub app_secret: String,
    pub bind: String,
    pub app_env: AppEnv,
    pub worker_concurrency: usize,
    /// How many GraphQL requests one api executes at once (`GRAPHQL_CONCURRENCY`, by default
    /// four per core); the others wait their turn in arrival order.
    pub graphql_concurrency: usize,
    pub digest_schedule: String,
    pub timezone: String,
    /// Prefix of every Redis key and queue name: tests give each run its own namespace.
    pub redis_namespace: String,
    /// Browser origins allowed to call the API cross-site (`CORS_ALLOWED_ORIGINS`, comma-separated).
    pub cors_allowed_origins: Vec<String>,
    /// How long a DataLoader batch waits for more keys (`DATALOADER_DELAY_MS`); the api's
    /// build-dependent default when unset.
    pub dataloader_delay: Option<std::time::Duration>,
    pub rate_limits: RateLimits,
    /// Load balancers and proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`,
    /// comma-separated addresses or CIDR ranges); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpRange>,
    /// The least time between two folds of vote counters in one api process
    /// (`VOTE_FOLD_INTERVAL_MS`): how stale `voteCount` and live counts may be, for fewer folds.
    pub vote_fold_interval: std::time::Duration,
    /// Until when unsubscribe links of the old format, which carried the address, still work
    /// (`LEGACY_UNSUBSCRIBE_TOKENS_UNTIL`, RFC 3339, or `off`); see docs/privacy.md.
    pub legacy_unsubscribe_tokens_until: Option<chrono::DateTime<chrono::Utc>>,
    /// While voting, a category's counts stay hidden until it has this many votes
    /// (`LIVE_COUNTS_MIN_VOTES`), so a count that moves tells no one how a known voter voted.
    pub live_counts_min_votes: i32,
    /// How long after an award's results are published its votes keep their forensic hashes
    /// (`VOTE_FORENSICS_RETENTION_DAYS`, default 90); the worker forgets them then.
    pub vote_forensics_retention: chrono::Duration,
    /// `GRAPHQL_FAST_PATHS` (default on): off runs every request through async-graphql's own
    /// executor, validation and serializer only (docs/graphql.md).
    pub graphql_fast_paths: bool,
    /// `GRAPHQL_GET_MAX_AGE` seconds (default 0: `no-store`) of `Cache-Control: public` on
    /// anonymous `GET /graphql` answers.
    pub graphql_get_max_age: u32,
    /// Bounds of pooled PostgreSQL connections (docs/faults.md).
    pub pool: crate::db::PoolOptions,
    /// The most a GraphQL request may take before it is answered SERVICE_UNAVAILABLE
    /// (`REQUEST_TIMEOUT_SECS`).
    pub request_timeout: std::time::Duration,
    /// After SIGTERM, how long in-flight requests may finish before they are answered
    /// SERVICE_UNAVAILABLE and the process exits (`SHUTDOWN_GRACE_SECS`).
    pub shutdown_grace: std::time::Duration,
    /// How long a binary keeps trying to reach PostgreSQL and Redis at start
    /// (`STARTUP_TIMEOUT_SECS`).
    pub startup_timeout: std::time::Duration,
}

/// A duration variable in `unit`s (1 or 1000 for seconds), within `range`, or its default.
fn duration_var(
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    millis: bool,
) -> Result<std::time::Duration, String> {
    let value = match env::var(name) {
        Err(_) => default,
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                format!(
                    "{name} must be a number of {} from {} to {}",
                    if millis { "milliseconds" } else { "seconds" },
                    range.start(),
                    range.end()
                )
            })?,
    };
    Ok(if millis {
        std::time::Duration::from_millis(value)
    } else {
        std::time::Duration::from_secs(value)
    })
}

/// When the legacy unsubscribe tokens stop working by default: a year of digests after the
/// opaque tokens replaced them, longer than anyone keeps acting on an old newsletter.
pub const LEGACY_UNSUBSCRIBE_TOKENS_UNTIL: &str = "2027-12-31T00:00:00Z";

/// An address range such as `10.0.0.0/8` or `::1/128`; a bare address is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    network: std::net::IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Result<IpRange, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR range");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let network: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpRange { network, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        // An IPv4 client seen through an IPv6 socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let (net, ip, bits) = match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (net >> shift) == (ip >> shift)
    }
}

/// At most `max` requests per `window_secs`, counted in Redis so every api process shares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window_secs: u64,
}

impl RateLimit {
    /// `MAX/SECONDS`, e.g. `60/60`.
    pub fn parse(s: &str) -> Option<RateLimit> {
        let (max, window) = s.trim().split_once('/')?;
        let limit = RateLimit {
            max: max.trim().parse().ok()?,
            window_secs: window.trim().parse().ok()?,
        };
        (limit.max > 0 && limit.window_secs > 0).then_some(limit)
    }
}

/// Per voter and per client address. A whole office or campus can share one address, hence
/// the higher per-address limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub vote_per_user: RateLimit,
    pub vote_per_ip: RateLimit,
    pub nomination_per_user: RateLimit,
    pub nomination_per_ip: RateLimit,
    /// The anonymous account actions count per email address they name and per client address.
    pub sign_in_per_email: RateLimit,
    pub sign_in_per_ip: RateLimit,
    pub sign_up_per_email: RateLimit,
    pub sign_up_per_ip: RateLimit,
    pub sign_in_link_per_email: RateLimit,
    pub sign_in_link_per_ip: RateLimit,
    pub subscribe_per_email: RateLimit,
    pub subscribe_per_ip: RateLimit,
}

impl RateLimits {
    fn from_env() -> Result<RateLimits, String> {
        let read = |name: &str, default: &str| -> Result<RateLimit, String> {
            let raw = env::var(name).unwrap_or_else(|_| default.to_owned());
            RateLimit::parse(&raw).ok_or_else(|| {
                format!("{name} must look like MAX/SECONDS (e.g. 60/60), not {raw:?}")
            })
        };
        Ok(RateLimits {
            vote_per_user: read("RATE_LIMIT_VOTE_USER", "30/60")?,
            vote_per_ip: read("RATE_LIMIT_VOTE_IP", "600/60")?,
            nomination_per_user: read("RATE_LIMIT_NOMINATION_USER", "10/3600")?,
            nomination_per_ip: read("RATE_LIMIT_NOMINATION_IP", "100/3600")?,
            sign_in_per_email: read("RATE_LIMIT_SIGN_IN_EMAIL", "5/3600")?,
            sign_in_per_ip: read("RATE_LIMIT_SIGN_IN_IP", "100/3600")?,
            sign_up_per_email: read("RATE_LIMIT_SIGN_UP_EMAIL", "5/3600")?,
            sign_up_per_ip: read("RATE_LIMIT_SIGN_UP_IP", "50/3600")?,
            sign_in_link_per_email: read("RATE_LIMIT_SIGN_IN_LINK_EMAIL", "5/3600")?,
            sign_in_link_per_ip: read("RATE_LIMIT_SIGN_IN_LINK_IP", "50/3600")?,
            subscribe_per_email: read("RATE_LIMIT_SUBSCRIBE_EMAIL", "5/3600")?,
            subscribe_per_ip: read("RATE_LIMIT_SUBSCRIBE_IP", "50/3600")?,
        })
    }
}

/// The development secret: signed links still work locally, and a warning says why not to ship it.
const DEV_SECRET: &str = "birgemiz-development-secret-do-not-use-in-production";

impl Config {
    /// Reads `.env` (if present) and the environment. Errors are one line, naming the variable.
    pub fn from_env() -> Result<Config, String> {
        // A missing .env is normal; a malformed one is worth a word but not a refusal to start.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            tracing::warn!("ignoring .env: {e}");
        }
        let var = |name: &str, default: &str| env::var(name).unwrap_or_else(|_| default.to_owned());
        let app_env = match var("APP_ENV", "development").as_str() {
            "development" | "dev" | "test" => AppEnv::Development,
            "production" | "prod" => AppEnv::Production,
            other => {
                return Err(format!(
                    "APP_ENV must be development or production, not {other:?}"
                ));
            }
        };
        let app_secret = match (
            env::var("APP_SECRET").ok().filter(|s| !s.is_empty()),
            app_env,
        ) {
            (Some(s), _) if s.len() < 32 => {
                return Err("APP_SECRET must be at least 32 characters".into());
            }
            (Some(s), _) => s,
            (None, AppEnv::Production) => {
                return Err("APP_SECRET is required when APP_ENV=production".into());
            }
            (None, AppEnv::Development) => {
                tracing::warn!("APP_SECRET is not set: using the development secret");
                DEV_SECRET.to_owned()
            }
        };
        let worker_concurrency = var("WORKER_CONCURRENCY", "16")
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1024).contains(n))
            .ok_or("WORKER_CONCURRENCY must be a number from 1 to 1024")?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let graphql_concurrency = var("GRAPHQL_CONCURRENCY", &(4 * cores).to_string())
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=65_536).contains(n))
            .ok_or("GRAPHQL_CONCURRENCY must be a number from 1 to 65536")?;
        Ok(Config {
            database_url: var(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/birgemiz",
            ),
            redis_url: var("REDIS_URL", "redis://127.0.0.1:6379"),
            smtp_url: var("SMTP_URL", "smtp://127.0.0.1:2525"),
            mail_from: var("MAIL_FROM", "Birgemiz <noreply@birgemiz.local>"),
            public_url: var("PUBLIC_URL", "http://127.0.0.1:8080")
                .trim_end_matches('/')
                .to_owned(),
            frontend_url: match var("FRONTEND_URL", "").trim().trim_end_matches('/') {
                "" => None,
                f if f.starts_with("https://") || f.starts_with("http://") => Some(f.to_owned()),
                f => return Err(format!("FRONTEND_URL must be an http(s) URL, not {f:?}")),
            },
            app_secret,
            bind: var("BIND", "127.0.0.1:8080"),
            app_env,
            worker_concurrency,
            graphql_concurrency,
            digest_schedule: var("DIGEST_SCHEDULE", "0 0 9 * * Mon"),
            timezone: var("TIMEZONE", "Asia/Almaty"),
            redis_namespace: var("REDIS_NAMESPACE", "birgemiz"),
            cors_allowed_origins: var("CORS_ALLOWED_ORIGINS", "")
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            rate_limits: RateLimits::from_env()?,
            trusted_proxies: var("TRUSTED_PROXIES", "")
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(IpRange::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("TRUSTED_PROXIES: {e}"))?,
            dataloader_delay: match env::var("DATALOADER_DELAY_MS") {
                Ok(ms) => Some(std::time::Duration::from_millis(
                    ms.parse()
                        .map_err(|_| "DATALOADER_DELAY_MS must be a number of milliseconds")?,
                )),
                Err(_) => None,
            },
            vote_fold_interval: std::time::Duration::from_millis(
                var("VOTE_FOLD_INTERVAL_MS", "5")
                    .parse()
                    .map_err(|_| "VOTE_FOLD_INTERVAL_MS must be a number of milliseconds")?,
            ),
            legacy_unsubscribe_tokens_until: match var(
                "LEGACY_UNSUBSCRIBE_TOKENS_UNTIL",
                LEGACY_UNSUBSCRIBE_TOKENS_UNTIL,
            )
            .as_str()
            {
                "off" | "" => None,
                t => Some(
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map_err(
                            |_| "LEGACY_UNSUBSCRIBE_TOKENS_UNTIL must be an RFC 3339 time or off",
                        )?
                        .with_timezone(&chrono::Utc),
                ),
            },
            live_counts_min_votes: var("LIVE_COUNTS_MIN_VOTES", "10")
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or("LIVE_COUNTS_MIN_VOTES must be a number of votes")?,
            vote_forensics_retention: var("VOTE_FORENSICS_RETENTION_DAYS", "90")
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=3650).contains(n))
                .map(chrono::Duration::days)
                .ok_or("VOTE_FORENSICS_RETENTION_DAYS must be a number of days from 0 to 3650")?,
            graphql_fast_paths: match var("GRAPHQL_FAST_PATHS", "on").as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                other => {
                    return Err(format!(
                        "GRAPHQL_FAST_PATHS must be on or off, not {other:?}"
                    ));
                }
            },
            graphql_get_max_age: var("GRAPHQL_GET_MAX_AGE", "0")
                .parse()
                .map_err(|_| "GRAPHQL_GET_MAX_AGE must be a number of seconds")?,
            pool: crate::db::PoolOptions {
                acquire_timeout: duration_var(
                    "DATABASE_ACQUIRE_TIMEOUT_MS",
                    1500,
                    50..=60_000,
                    true,
                )?,
                statement_timeout: duration_var(
                    "DATABASE_STATEMENT_TIMEOUT_MS",
                    10_000,
                    0..=3_600_000,
                    true,
                )?,
                idle_in_transaction_timeout: duration_var(
                    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                    10_000,
                    0..=3_600_000,
                    true,
                )?,
            },
            request_timeout: duration_var("REQUEST_TIMEOUT_SECS", 15, 1..=3600, false)?,
            shutdown_grace: duration_var("SHUTDOWN_GRACE_SECS", 20, 0..=3600, false)?,
            startup_timeout: duration_var("STARTUP_TIMEOUT_SECS", 60, 0..=3600, false)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}
