//! Worker tunables beyond the shared Config. The defaults suit production; the tests shrink the
//! delays (a 100 ms retry base instead of 30 s) to see retries, leases and sweeps in seconds.

use std::time::Duration;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Settings {
    /// First retry delay after a temporary failure (`OUTBOX_RETRY_BASE_MS`).
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Temporary failures before a row is given up as FAILED (`OUTBOX_MAX_ATTEMPTS`).
    pub max_attempts: i32,
    /// How long a claimed row is ours (`OUTBOX_LEASE_SECS`); a dead worker's rows wait this long.
    pub lease: Duration,
    /// Relay sweep period (`RELAY_INTERVAL_MS`).
    pub relay_interval: Duration,
    /// A row still due this long after the relay pushed it is pushed again (`RELAY_REPUSH_SECS`).
    pub repush_after: Duration,
    /// How often reminders are computed (`REMINDER_INTERVAL_SECS`).
    pub reminder_interval: Duration,
    /// How often vote forensics past their retention are forgotten (`FORENSICS_PURGE_INTERVAL_SECS`).
    pub forensics_interval: Duration,
    /// How often an idle consumer asks Redis for jobs (`QUEUE_POLL_MS`).
    pub poll_interval: Duration,
    /// Where `/metrics`, `/healthz` and `/readyz` listen (`WORKER_METRICS_BIND`); None: nowhere.
    pub metrics_bind: Option<String>,
}

fn env_u64(name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                Error::Config(format!(
                    "{name} must be a number from {} to {}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings> {
        Ok(Settings {
            retry_base: Duration::from_millis(env_u64(
                "OUTBOX_RETRY_BASE_MS",
                30_000,
                1..=3_600_000,
            )?),
            retry_cap: Duration::from_secs(6 * 3600),
            max_attempts: env_u64("OUTBOX_MAX_ATTEMPTS", 12, 1..=100)? as i32,
            lease: Duration::from_secs(env_u64("OUTBOX_LEASE_SECS", 120, 1..=3600)?),
            relay_interval: Duration::from_millis(env_u64(
                "RELAY_INTERVAL_MS",
                3_000,
                50..=600_000,
            )?),
            repush_after: Duration::from_secs(env_u64("RELAY_REPUSH_SECS", 20, 1..=3600)?),
            reminder_interval: Duration::from_secs(env_u64(
                "REMINDER_INTERVAL_SECS",
                60,
                1..=86_400,
            )?),
            forensics_interval: Duration::from_secs(env_u64(
                "FORENSICS_PURGE_INTERVAL_SECS",
                3600,
                1..=86_400,
            )?),
            poll_interval: Duration::from_millis(env_u64("QUEUE_POLL_MS", 100, 10..=60_000)?),
            metrics_bind: metrics_bind(std::env::var("WORKER_METRICS_BIND").ok()),
        })
    }
}

/// Loopback by default, like the api's BIND: metrics are for a scraper on the same host or
/// network, not for the public. `off` (or empty) serves no port.
fn metrics_bind(value: Option<String>) -> Option<String> {
    match value.as_deref().map(str::trim) {
        None => Some("127.0.0.1:8081".into()),
        Some("" | "off") => None,
        Some(bind) => Some(bind.into()),
    }
}
