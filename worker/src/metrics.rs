//! The worker's own HTTP port (`WORKER_METRICS_BIND`): `/metrics` in Prometheus text format,
//! `/healthz` and `/readyz`.
//!
//! Delivery outcomes are counted in atomics, so the send path pays one relaxed increment. The
//! outbox backlog is not a counter: every worker reads it from PostgreSQL at scrape time, so all
//! of them report the same truth whatever restarted or crashed, and an alert on the age of the
//! oldest unsent row fires however the mail got stuck (no worker, SMTP down, Redis flushed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use birgemiz_schema::db::Pool;
use birgemiz_schema::outbox::{self, Backlog};
use redis::aio::ConnectionManager;

use crate::delivery::Outcome;
use crate::error::{Error, Result};

/// Every label of `birgemiz_worker_jobs_total`, in exposition order.
const OUTCOMES: [&str; 6] = ["sent", "retry", "failed", "suppressed", "skipped", "error"];

/// Counts of delivery jobs by outcome since the process started.
#[derive(Default)]
pub struct Metrics {
    jobs: [AtomicU64; OUTCOMES.len()],
}

impl Metrics {
    /// Counts one delivery job; an `Err` is a delivery cut short (database gone, panic) that the
    /// relay will push again.
    pub fn record(&self, result: &Result<Outcome>) {
        let label = match result {
            Ok(Outcome::Sent) => "sent",
            Ok(Outcome::Retry) => "retry",
            Ok(Outcome::Failed) => "failed",
            Ok(Outcome::Suppressed) => "suppressed",
            Ok(Outcome::Skipped) => "skipped",
            Err(_) => "error",
        };
        self.jobs[index(label)].fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self, label: &str) -> u64 {
        self.jobs[index(label)].load(Ordering::Relaxed)
    }

    /// The exposition text; `backlog` is None when PostgreSQL did not answer, and then its
    /// gauges are left out rather than reported as zero.
    pub fn render(
        &self,
        backlog: Option<Backlog>,
        pool_connections: u32,
        pool_idle: u32,
    ) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "birgemiz_worker_jobs_total",
            "counter",
            "Delivery jobs handled by this process, by outcome (skipped: already sent, leased elsewhere or not due).",
        );
        for label in OUTCOMES {
            out += &format!(
                "birgemiz_worker_jobs_total{{outcome=\"{label}\"}} {}\n",
                self.count(label)
            );
        }
        for (name, help, label) in [
            (
                "birgemiz_worker_emails_sent_total",
                "Emails the SMTP server accepted.",
                "sent",
            ),
            (
                "birgemiz_worker_emails_failed_total",
                "Emails given up: permanent (5xx) refusals, unbuildable messages, attempts exhausted.",
                "failed",
            ),
            (
                "birgemiz_worker_emails_retried_total",
                "Temporary failures (4xx, connection errors, timeouts) scheduled for another attempt.",
                "retry",
            ),
        ] {
            family(&mut out, name, "counter", help);
            out += &format!("{name} {}\n", self.count(label));
        }
        if let Some(b) = backlog {
            family(
                &mut out,
                "birgemiz_worker_outbox_backlog",
                "gauge",
                "Outbox rows not yet sent, failed or suppressed (all workers).",
            );
            out += &format!("birgemiz_worker_outbox_backlog {}\n", b.unsent);
            family(
                &mut out,
                "birgemiz_worker_outbox_oldest_unsent_age_seconds",
                "gauge",
                "Age of the oldest unsent outbox row; 0 when there is none.",
            );
            out += &format!(
                "birgemiz_worker_outbox_oldest_unsent_age_seconds {}\n",
                b.oldest_age_secs
            );
        }
        family(
            &mut out,
            "birgemiz_db_pool_connections",
            "gauge",
            "PostgreSQL pool connections by state.",
        );
        let in_use = pool_connections.saturating_sub(pool_idle);
        out += &format!("birgemiz_db_pool_connections{{state=\"in_use\"}} {in_use}\n");
        out += &format!("birgemiz_db_pool_connections{{state=\"idle\"}} {pool_idle}\n");
        out
    }
}

fn index(label: &str) -> usize {
    OUTCOMES
        .iter()
        .position(|l| *l == label)
        .expect("a label from OUTCOMES")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    *out += &format!("# HELP {name} {help}\n# TYPE {name} {kind}\n");
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

async fn backlog(pool: &Pool) -> Result<Backlog> {
    let query = async {
        let mut conn = pool.get().await?;
        Ok(outbox::backlog(&mut conn).await?)
    };
    tokio::time::timeout(CHECK_TIMEOUT, query)
        .await
        .unwrap_or(Err(Error::TimedOut("the backlog query")))
}

#[derive(Clone)]
struct Endpoint {
    metrics: Arc<Metrics>,
    pool: Pool,
    redis: ConnectionManager,
}

/// Binds `bind` now, so a taken port stops the worker at start with a clear reason, then serves
/// in the background for the life of the process (scrapes keep working while it drains).
/// `None` (WORKER_METRICS_BIND=off) serves nothing.
pub async fn start(
    bind: Option<&str>,
    metrics: Arc<Metrics>,
    pool: Pool,
    redis: ConnectionManager,
) -> Result<()> {
    let Some(bind) = bind else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| Error::Config(format!("WORKER_METRICS_BIND: cannot listen on {bind}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("WORKER_METRICS_BIND: {e}")))?;
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(Endpoint {
            metrics,
            pool,
            redis,
        });
    tracing::info!(%addr, "metrics and health on http://{addr}/metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics endpoint stopped");
        }
    });
    Ok(())
}

async fn metrics_text(State(endpoint): State<Endpoint>) -> impl IntoResponse {
    let backlog = backlog(&endpoint.pool)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "outbox backlog unavailable for /metrics"))
        .ok();
    let pool = endpoint.pool.state();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        endpoint
            .metrics
            .render(backlog, pool.connections, pool.idle_connections),
    )
}

/// Ready when PostgreSQL and Redis answer: without them no email can be claimed or queued.
async fn readyz(State(endpoint): State<Endpoint>) -> (StatusCode, String) {
    let postgres = backlog(&endpoint.pool).await.map(drop);
    let redis = birgemiz_schema::redis_conn::ping(&endpoint.redis, CHECK_TIMEOUT).await;
    fn verdict<E: std::fmt::Display>(name: &str, r: &Result<(), E>) -> String {
        match r {
            Ok(()) => format!("{name}: ok\n"),
            Err(e) => {
                tracing::warn!(check = name, error = %e, "readiness check failed");
                format!("{name}: unavailable\n")
            }
        }
    }
    let status = if postgres.is_ok() && redis.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        verdict("postgres", &postgres) + &verdict("redis", &redis),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_outcome_and_leaves_out_an_unknown_backlog() {
        let m = Metrics::default();
        m.record(&Ok(Outcome::Sent));
        m.record(&Ok(Outcome::Sent));
        m.record(&Ok(Outcome::Retry));
        m.record(&Err(Error::FinisherStopped));
        let text = m.render(None, 0, 0);
        assert!(text.contains("birgemiz_worker_jobs_total{outcome=\"sent\"} 2\n"));
        assert!(text.contains("birgemiz_worker_jobs_total{outcome=\"error\"} 1\n"));
        assert!(text.contains("birgemiz_worker_emails_sent_total 2\n"));
        assert!(text.contains("birgemiz_worker_emails_retried_total 1\n"));
        assert!(text.contains("birgemiz_worker_emails_failed_total 0\n"));
        assert!(!text.contains("birgemiz_worker_outbox_backlog"));
    }
}
