//! Delivering one outbox row: claim it with a lease, render, send, record the SMTP answer.
//!
//! The lease (`lease_until`) is what stops two workers sending one row at once: the claim is a
//! single conditional UPDATE. A worker that dies holding a lease simply lets it expire; the relay
//! then pushes the row again. Attempts are counted at the claim, so a row that crashes its worker
//! is not retried forever.

use std::sync::Arc;
use std::time::Duration;

use birgemiz_schema::db::Pool;
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::models::OutboxRow;
use birgemiz_schema::outbox::Email;
use birgemiz_schema::schema::{outbox, suppressions};
use birgemiz_schema::{Result, subscriptions};
use chrono::Utc;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Jsonb;
use diesel_async::RunQueryDsl;
use lettre::AsyncTransport;
use lettre::message::Mailbox;
use rand::Rng;

use crate::mailer::{self, Envelope, Transport};
use crate::metrics::Metrics;
use crate::render::{self, RenderEnv};
use crate::settings::Settings;

/// What a delivery needs, shared by every job of the process.
pub struct Deliverer {
    pub pool: Pool,
    pub transport: Transport,
    pub from: Mailbox,
    pub render_env: RenderEnv,
    pub settings: Settings,
    /// Unique per process: whose lease a row holds.
    pub worker_name: String,
    pub metrics: Arc<Metrics>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not claimable: already sent, failed, leased by someone else or not due yet.
    Skipped,
    Sent,
    Suppressed,
    Retry,
    Failed,
}

/// Exponential backoff with ±25 % jitter: attempt n waits base × 2^(n-1), capped.
pub fn backoff(base: Duration, cap: Duration, attempt: i32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << (attempt.clamp(1, 20) - 1) as u32)
        .min(cap);
    let jitter = rand::rng().random_range(0.75..1.25);
    exp.mul_f64(jitter)
}

/// The payload without the one-time link token: what a sent or failed row keeps.
fn without_token() -> diesel::expression::SqlLiteral<Jsonb> {
    sql::<Jsonb>("payload - 'token'")
}

impl Deliverer {
    pub async fn deliver(self: &Arc<Self>, id: i64) -> Result<Outcome> {
        let outcome = self.attempt(id).await;
        self.metrics.record(&outcome);
        outcome
    }

    async fn attempt(self: &Arc<Self>, id: i64) -> Result<Outcome> {
        let Some(row) = self.claim(id).await? else {
            return Ok(Outcome::Skipped);
        };
        let mut conn = self.pool.get().await?;
        if row.bulk {
            let suppressed: bool = diesel::select(diesel::dsl::exists(
                suppressions::table.filter(suppressions::email.eq(&row.recipient)),
            ))
            .get_result(&mut conn)
            .await?;
            if suppressed {
                self.finish(
                    &mut conn,
                    row.id,
                    "SUPPRESSED",
                    None,
                    Some("address is on the suppression list"),
                )
                .await?;
                return Ok(Outcome::Suppressed);
            }
        }
        let locale = Locale::parse(&row.locale).unwrap_or_default();
        let prepared = match Email::from_payload(&row.payload) {
            Ok(email) => render::render(
                &mut conn,
                &self.render_env,
                &email,
                &row.recipient,
                locale,
                row.bulk,
            )
            .await
            .map_err(|e| e.to_string())
            .and_then(|content| {
                let unsubscribe_url = row.bulk.then(|| {
                    subscriptions::unsubscribe_url(
                        &self.render_env.public_url,
                        &self.render_env.app_secret,
                        &row.recipient,
                    )
                });
                let envelope = Envelope {
                    outbox_id: row.id,
                    created_at: row.created_at,
                    from: &self.from,
                    to: &row.recipient,
                    unsubscribe_url,
                };
                mailer::build(&envelope, &content)
            }),
            Err(e) => Err(e.to_string()),
        };
        // The connection goes back to the pool while SMTP talks: sending is the slow part.
        drop(conn);
        let message = match prepared {
            Ok(m) => m,
            Err(reason) => {
                tracing::error!(outbox_id = row.id, kind = %row.kind, %reason, "email cannot be built; marked FAILED");
                let mut conn = self.pool.get().await?;
                self.finish(&mut conn, row.id, "FAILED", None, Some(&reason))
                    .await?;
                return Ok(Outcome::Failed);
            }
        };
        let sent =
            tokio::time::timeout(Duration::from_secs(60), self.transport.send(message)).await;
        let mut conn = self.pool.get().await?;
        match sent {
            Ok(Ok(response)) => {
                let answer = format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                );
                self.finish(&mut conn, row.id, "SENT", Some(&answer), None)
                    .await?;
                tracing::debug!(outbox_id = row.id, kind = %row.kind, "sent");
                Ok(Outcome::Sent)
            }
            Ok(Err(e)) if e.is_permanent() => {
                let answer = e.to_string();
                self.finish(&mut conn, row.id, "FAILED", Some(&answer), Some(&answer))
                    .await?;
                diesel::insert_into(suppressions::table)
                    .values((
                        suppressions::email.eq(&row.recipient),
                        suppressions::reason.eq("PERMANENT_FAILURE"),
                        suppressions::smtp_response.eq(&answer),
                    ))
                    .on_conflict(suppressions::email)
                    .do_nothing()
                    .execute(&mut conn)
                    .await?;
                tracing::warn!(outbox_id = row.id, error = %answer, "permanent SMTP failure; address suppressed");
                Ok(Outcome::Failed)
            }
            other => {
                let error = match other {
                    Ok(Err(e)) => e.to_string(),
                    _ => "SMTP send timed out".to_owned(),
                };
                self.retry_later(&mut conn, &row, &error).await
            }
        }
    }

    async fn claim(&self, id: i64) -> Result<Option<OutboxRow>> {
        let mut conn = self.pool.get().await?;
        let now = Utc::now();
        let lease =
            chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::minutes(2));
        Ok(diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq("PENDING"))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::lease_until
                        .is_null()
                        .or(outbox::lease_until.lt(now)),
                ),
        )
        .set((
            outbox::lease_until.eq(now + lease),
            outbox::leased_by.eq(&self.worker_name),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .returning(OutboxRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()?)
    }

    async fn finish(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        id: i64,
        status: &str,
        smtp_response: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(status),
                outbox::smtp_response.eq(smtp_response),
                outbox::last_error.eq(error),
                outbox::sent_at.eq((status == "SENT").then(Utc::now)),
                outbox::lease_until.eq(None::<chrono::DateTime<Utc>>),
                outbox::payload.eq(without_token()),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn retry_later(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        row: &OutboxRow,
        error: &str,
    ) -> Result<Outcome> {
        if row.attempts >= self.settings.max_attempts {
            tracing::error!(outbox_id = row.id, attempts = row.attempts, %error, "giving up after temporary failures");
            self.finish(conn, row.id, "FAILED", None, Some(error))
                .await?;
            return Ok(Outcome::Failed);
        }
        let wait = backoff(
            self.settings.retry_base,
            self.settings.retry_cap,
            row.attempts,
        );
        let next =
            Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        diesel::update(outbox::table.find(row.id))
            .set((
                outbox::next_attempt_at.eq(next),
                outbox::last_error.eq(error),
                outbox::lease_until.eq(None::<chrono::DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
        tracing::info!(outbox_id = row.id, attempts = row.attempts, wait_ms = wait.as_millis() as u64, %error, "temporary failure; will retry");
        Ok(Outcome::Retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_even_with_jitter() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(3600);
        for attempt in 1..10 {
            assert!(backoff(base, cap, attempt) < backoff(base, cap, attempt + 1));
        }
        assert!(backoff(base, Duration::from_secs(1), 30) <= Duration::from_millis(1250));
    }
}
