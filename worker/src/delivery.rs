//! Delivering outbox rows: claim them with a lease, render, send, record the SMTP answer.
//!
//! The lease (`lease_until`) is what stops two workers sending one row at once: the claim is a
//! single conditional UPDATE. A worker that dies holding a lease simply lets it expire; the relay
//! then pushes the row again. Attempts are counted at the claim, so a row that crashes its worker
//! is not retried forever.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use birgemiz_schema::db::Pool;
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::models::OutboxRow;
use birgemiz_schema::opt_outs::{self, OptOutKind};
use birgemiz_schema::outbox::{self, Email, EmailKind};
use birgemiz_schema::subscriptions;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use futures_util::StreamExt;
use lettre::Message;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::finisher::Finisher;
use crate::mailer::{self, Envelope, Transport};
use crate::metrics::Metrics;
use crate::render::{self, DigestCache, RenderEnv};
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
    /// `WORKER_CONCURRENCY`: parallel sends across all jobs of the process.
    pub concurrency: usize,
    pub sending: Semaphore,
    /// Messages handed to SMTP and not yet recorded SENT, sending ones included: what a SIGKILL
    /// can duplicate. [`UNRECORDED_PER_SLOT`] per sending slot, so that a slot sends its next
    /// message while the previous one's mark commits.
    pub unrecorded: Semaphore,
    pub finisher: Finisher,
}

/// Messages in flight (sending, or sent and waiting for their SENT mark) per sending slot. With
/// one, each slot waited for its mark's commit before it could send again. Each permit more
/// raised the digest's rate (three only together with more jobs at a time, see `main.rs`;
/// docs/benchmarks.md) and also what a SIGKILL can duplicate, this many × `WORKER_CONCURRENCY`.
pub const UNRECORDED_PER_SLOT: usize = 3;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not claimable: already sent, failed, leased by someone else or not due yet.
    Skipped,
    Sent,
    Suppressed,
    Retry,
    Failed,
}

/// Why a claimed row could not be turned into a message.
enum Unbuildable {
    /// PostgreSQL is away: try again later.
    Retry(Error),
    /// The row itself can't be sent (a bad payload, a deleted subject): FAILED.
    Never(Error),
}

/// Exponential backoff with ±25 % jitter: attempt n waits base × 2^(n-1), capped.
pub fn backoff(base: Duration, cap: Duration, attempt: i32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << (attempt.clamp(1, 20) - 1) as u32)
        .min(cap);
    let jitter = rand::rng().random_range(0.75..1.25);
    exp.mul_f64(jitter)
}

impl Deliverer {
    /// Delivers the rows of one job: one claim for all of them, one suppression lookup, digest
    /// content loaded once per window, then the sends in parallel (bounded by the process-wide
    /// sending slots) with their answers recorded in groups. Returns each id's outcome.
    pub async fn deliver(self: &Arc<Self>, ids: &[i64]) -> Vec<(i64, Result<Outcome>)> {
        let claimed_at = Instant::now();
        let rows = match self.claim(ids).await {
            Ok(rows) => rows,
            Err(e) => {
                let e = Arc::new(e);
                return ids
                    .iter()
                    .map(|&id| (id, Err(Error::Job(e.clone()))))
                    .collect();
            }
        };
        let mut outcomes: Vec<(i64, Result<Outcome>)> = ids
            .iter()
            .filter(|id| !rows.iter().any(|r| r.id == **id))
            .map(|&id| (id, Ok(Outcome::Skipped)))
            .collect();
        let ready = match self.prepare(rows, &mut outcomes).await {
            Ok(ready) => ready,
            Err((ids, e)) => {
                let e = Arc::new(e);
                outcomes.extend(ids.into_iter().map(|id| (id, Err(Error::Job(e.clone())))));
                return outcomes;
            }
        };
        let sent: Vec<(i64, Result<Outcome>)> = futures_util::stream::iter(ready)
            .map(|(row, message)| async move {
                let outcome = self.send(&row, message, claimed_at).await;
                (row.id, outcome)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        outcomes.extend(sent);
        for (_, outcome) in &outcomes {
            self.metrics.record(outcome);
        }
        outcomes
    }

    /// Renders the claimed rows; rows that can't be sent (suppressed, unbuildable) are finished
    /// here. An Err carries the ids left claimed (their leases expire and the relay retries).
    async fn prepare(
        &self,
        rows: Vec<OutboxRow>,
        outcomes: &mut Vec<(i64, Result<Outcome>)>,
    ) -> std::result::Result<Vec<(OutboxRow, Message)>, (Vec<i64>, Error)> {
        let ids = || rows.iter().map(|r| r.id).collect::<Vec<_>>();
        let mut conn = match self.pool.get().await {
            Ok(conn) => conn,
            Err(e) => return Err((ids(), e.into())),
        };
        let bulk: Vec<&str> = rows
            .iter()
            .filter(|r| r.bulk)
            .map(|r| r.recipient.as_str())
            .collect();
        let suppressed = match outbox::suppressed_among(&mut conn, &bulk).await {
            Ok(emails) => emails,
            Err(e) => return Err((ids(), e.into())),
        };
        // Participant mail whose kind its recipient stopped (opt_outs), honoured when sent.
        let participants: Vec<&str> = rows
            .iter()
            .filter(|r| EmailKind::parse(&r.kind).and_then(OptOutKind::of).is_some())
            .map(|r| r.recipient.as_str())
            .collect();
        let stopped: HashSet<(String, OptOutKind)> =
            match opt_outs::stopped(&mut conn, &participants).await {
                Ok(pairs) => pairs.into_iter().collect(),
                Err(e) => return Err((ids(), e.into())),
            };
        let mut digests = DigestCache::default();
        let eight_bit = self.transport.eight_bit_mime().await;
        let mut ready = Vec::with_capacity(rows.len());
        for row in rows {
            let opted_out = || {
                EmailKind::parse(&row.kind)
                    .and_then(OptOutKind::of)
                    .is_some_and(|k| stopped.contains(&(row.recipient.clone(), k)))
            };
            let not_sent = if row.bulk && suppressed.contains(&row.recipient) {
                "address is on the suppression list"
            } else if opted_out() {
                "the recipient stopped this kind of email"
            } else {
                match self.build(&mut conn, &mut digests, &row, eight_bit).await {
                    Ok(Some(message)) => {
                        ready.push((row, message));
                        continue;
                    }
                    Ok(None) => "the reminder's moment has passed",
                    // PostgreSQL went away while rendering: nothing is wrong with the email. Its
                    // lease runs out and the relay pushes it again.
                    Err(Unbuildable::Retry(e)) => {
                        outcomes.push((row.id, Err(e)));
                        continue;
                    }
                    Err(Unbuildable::Never(reason)) => {
                        tracing::error!(outbox_id = row.id, kind = %row.kind, %reason, "email cannot be built; marked FAILED");
                        let done = outbox::fail(&mut conn, row.id, None, &reason.to_string())
                            .await
                            .map(|()| Outcome::Failed)
                            .map_err(Error::from);
                        outcomes.push((row.id, done));
                        continue;
                    }
                }
            };
            let done = outbox::suppress(&mut conn, row.id, not_sent)
                .await
                .map(|()| Outcome::Suppressed)
                .map_err(Error::from);
            outcomes.push((row.id, done));
        }
        Ok(ready)
    }

    async fn build(
        &self,
        conn: &mut AsyncPgConnection,
        digests: &mut DigestCache,
        row: &OutboxRow,
        eight_bit: bool,
    ) -> std::result::Result<Option<Message>, Unbuildable> {
        let locale = Locale::parse(&row.locale).unwrap_or_default();
        let email = Email::from_payload(&row.payload).map_err(|e| Unbuildable::Never(e.into()))?;
        // A database that is away is worth waiting for; anything else will never build.
        let unbuildable = |e: Error| match &e {
            Error::Schema(s) if s.code() == "SERVICE_UNAVAILABLE" => Unbuildable::Retry(e),
            _ => Unbuildable::Never(e),
        };
        // One look-up of whom the unsubscribe link stands for, shared by the footer and the
        // List-Unsubscribe header.
        let secret = &self.render_env.app_secret;
        let link_token = if row.bulk {
            Some(
                subscriptions::unsubscribe_link_token(conn, secret, &row.recipient)
                    .await
                    .map_err(|e| unbuildable(e.into()))?,
            )
        } else if let Some(kind) = OptOutKind::of(email.kind()) {
            // An address with no account and no subscription (none is expected) goes without.
            opt_outs::subject_for(conn, &row.recipient)
                .await
                .map_err(|e| unbuildable(e.into()))?
                .map(|subject| opt_outs::token(secret, kind, subject))
        } else {
            None
        };
        let links = &self.render_env.links;
        let unsubscribe_url = link_token.as_deref().map(|t| links.unsubscribe(t));
        let content = render::render(
            conn,
            digests,
            &self.render_env,
            &email,
            locale,
            unsubscribe_url.as_deref(),
        )
        .await
        .map_err(unbuildable)?;
        // Nothing true left to say (a reminder of a moment that has passed).
        let Some(content) = content else {
            return Ok(None);
        };
        let envelope = Envelope {
            outbox_id: row.id,
            created_at: row.created_at,
            from: &self.from,
            to: &row.recipient,
            unsubscribe_url: link_token.as_deref().map(|t| links.one_click(t)),
            eight_bit,
        };
        mailer::build(&envelope, &content)
            .map(Some)
            .map_err(Unbuildable::Never)
    }

    /// Sends one claimed row and records the answer: it holds a sending slot while it sends and
    /// an in-flight permit until its answer is recorded.
    async fn send(
        &self,
        row: &OutboxRow,
        message: Message,
        claimed_at: Instant,
    ) -> Result<Outcome> {
        let _unrecorded = self.unrecorded.acquire().await?;
        let slot = self.sending.acquire().await?;
        // A row that waited for a slot past half its lease is left alone: its lease may run out
        // mid-send and another claim would send it again. It goes out after the lease expires.
        if claimed_at.elapsed() > self.settings.lease / 2 {
            tracing::debug!(
                outbox_id = row.id,
                "lease half spent before sending; left for the relay"
            );
            return Ok(Outcome::Skipped);
        }
        let sent =
            tokio::time::timeout(Duration::from_secs(60), self.transport.send(message)).await;
        match sent {
            Ok(Ok(response)) => {
                drop(slot);
                let answer = format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                );
                self.finisher.sent(row.id, answer).await?;
                tracing::debug!(outbox_id = row.id, kind = %row.kind, "sent");
                Ok(Outcome::Sent)
            }
            Ok(Err(e)) if e.is_permanent() => {
                let mut conn = self.pool.get().await?;
                let answer = e.to_string();
                outbox::fail_permanently(&mut conn, row.id, &row.recipient, &answer).await?;
                tracing::warn!(outbox_id = row.id, error = %answer, "permanent SMTP failure; address suppressed");
                Ok(Outcome::Failed)
            }
            other => {
                let error = match other {
                    Ok(Err(e)) => e.to_string(),
                    _ => "SMTP send timed out".to_owned(),
                };
                let mut conn = self.pool.get().await?;
                self.retry_later(&mut conn, row, &error).await
            }
        }
    }

    /// Takes the lease of every claimable row among `ids` in one statement.
    async fn claim(&self, ids: &[i64]) -> Result<Vec<OutboxRow>> {
        // A row this process sent and has not recorded yet (PostgreSQL was away) may have
        // outlived its lease; claiming it again would send it twice.
        let ids: Vec<i64> = self.finisher.without_unrecorded(ids);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        let lease =
            chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::minutes(2));
        Ok(outbox::claim(&mut conn, &ids, &self.worker_name, Utc::now(), lease).await?)
    }

    async fn retry_later(
        &self,
        conn: &mut AsyncPgConnection,
        row: &OutboxRow,
        error: &str,
    ) -> Result<Outcome> {
        if row.attempts >= self.settings.max_attempts {
            tracing::error!(outbox_id = row.id, attempts = row.attempts, %error, "giving up after temporary failures");
            outbox::fail(conn, row.id, None, error).await?;
            return Ok(Outcome::Failed);
        }
        let wait = backoff(
            self.settings.retry_base,
            self.settings.retry_cap,
            row.attempts,
        );
        let next =
            Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        outbox::retry_at(conn, row.id, next, error).await?;
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
