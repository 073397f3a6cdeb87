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
use birgemiz_schema::outbox::{Email, EmailKind, OutboxStatus};
use birgemiz_schema::schema::{outbox, suppressions};
use birgemiz_schema::{Error, Result, subscriptions};
use chrono::Utc;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Jsonb;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use lettre::Message;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::Semaphore;

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
    Never(String),
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
    /// Delivers the rows of one job: one claim for all of them, one suppression lookup, digest
    /// content loaded once per window, then the sends in parallel (bounded by the process-wide
    /// sending slots) with their answers recorded in groups. Returns each id's outcome.
    pub async fn deliver(self: &Arc<Self>, ids: &[i64]) -> Vec<(i64, Result<Outcome>)> {
        let claimed_at = Instant::now();
        let rows = match self.claim(ids).await {
            Ok(rows) => rows,
            Err(e) => {
                let reason = e.to_string();
                return ids
                    .iter()
                    .map(|&id| (id, Err(Error::Internal(reason.clone()))))
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
                let reason = e.to_string();
                outcomes.extend(
                    ids.into_iter()
                        .map(|id| (id, Err(Error::Internal(reason.clone())))),
                );
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
        let suppressed: HashSet<String> = if bulk.is_empty() {
            HashSet::new()
        } else {
            match suppressions::table
                .filter(suppressions::email.eq_any(&bulk))
                .select(suppressions::email)
                .load::<String>(&mut conn)
                .await
            {
                Ok(emails) => emails.into_iter().collect(),
                Err(e) => return Err((ids(), e.into())),
            }
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
                Err(e) => return Err((ids(), e)),
            };
        let mut digests = DigestCache::default();
        let eight_bit = self.transport.eight_bit_mime().await;
        let mut ready = Vec::with_capacity(rows.len());
        for row in rows {
            if row.bulk && suppressed.contains(&row.recipient) {
                let done = self
                    .finish(
                        &mut conn,
                        row.id,
                        OutboxStatus::Suppressed,
                        None,
                        Some("address is on the suppression list"),
                    )
                    .await
                    .map(|()| Outcome::Suppressed);
                outcomes.push((row.id, done));
                continue;
            }
            let opted_out = EmailKind::parse(&row.kind)
                .and_then(OptOutKind::of)
                .is_some_and(|k| stopped.contains(&(row.recipient.clone(), k)));
            if opted_out {
                let done = self
                    .finish(
                        &mut conn,
                        row.id,
                        OutboxStatus::Suppressed,
                        None,
                        Some("the recipient stopped this kind of email"),
                    )
                    .await
                    .map(|()| Outcome::Suppressed);
                outcomes.push((row.id, done));
                continue;
            }
            match self.build(&mut conn, &mut digests, &row, eight_bit).await {
                Ok(Some(message)) => ready.push((row, message)),
                Ok(None) => {
                    let done = self
                        .finish(
                            &mut conn,
                            row.id,
                            OutboxStatus::Suppressed,
                            None,
                            Some("the reminder's moment has passed"),
                        )
                        .await
                        .map(|()| Outcome::Suppressed);
                    outcomes.push((row.id, done));
                }
                // PostgreSQL went away while rendering: nothing is wrong with the email. Its
                // lease runs out and the relay pushes it again.
                Err(Unbuildable::Retry(e)) => {
                    outcomes.push((row.id, Err(e)));
                }
                Err(Unbuildable::Never(reason)) => {
                    tracing::error!(outbox_id = row.id, kind = %row.kind, %reason, "email cannot be built; marked FAILED");
                    let done = self
                        .finish(&mut conn, row.id, OutboxStatus::Failed, None, Some(&reason))
                        .await
                        .map(|()| Outcome::Failed);
                    outcomes.push((row.id, done));
                }
            }
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
        let email =
            Email::from_payload(&row.payload).map_err(|e| Unbuildable::Never(e.to_string()))?;
        // A database that is away is worth waiting for; anything else will never build.
        let unbuildable = |e: birgemiz_schema::Error| match e.code() {
            "SERVICE_UNAVAILABLE" => Unbuildable::Retry(e),
            _ => Unbuildable::Never(e.to_string()),
        };
        // One look-up of whom the unsubscribe link stands for, shared by the footer and the
        // List-Unsubscribe header.
        let secret = &self.render_env.app_secret;
        let link_token = if row.bulk {
            Some(
                subscriptions::unsubscribe_link_token(conn, secret, &row.recipient)
                    .await
                    .map_err(unbuildable)?,
            )
        } else if let Some(kind) = OptOutKind::of(email.kind()) {
            // An address with no account and no subscription (none is expected) goes without.
            opt_outs::subject_for(conn, &row.recipient)
                .await
                .map_err(unbuildable)?
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
        let _unrecorded = self
            .unrecorded
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("sending slots: {e}")))?;
        let slot = self
            .sending
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("sending slots: {e}")))?;
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
                self.finish(
                    &mut conn,
                    row.id,
                    OutboxStatus::Failed,
                    Some(&answer),
                    Some(&answer),
                )
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
        let ids = ids.as_slice();
        let mut conn = self.pool.get().await?;
        let now = Utc::now();
        let lease =
            chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::minutes(2));
        // "Not finished" rather than `status = 'PENDING'` (the same rows: the column's CHECK
        // allows four values), so that only the primary key can serve this statement. With the
        // equality the planner may also AND in the pending-rows index, whose `next_attempt_at <=
        // now` range covers a whole digest's backlog: it did, with statistics taken before a
        // digest's rows were added, walking tens of thousands of index entries to claim 50 rows.
        let mut rows = diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(ids))
                .filter(outbox::status.ne_all(OutboxStatus::FINISHED.map(OutboxStatus::as_str)))
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
        .get_results(&mut conn)
        .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    async fn finish(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        status: OutboxStatus,
        smtp_response: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(status.as_str()),
                outbox::smtp_response.eq(smtp_response),
                outbox::last_error.eq(error),
                outbox::sent_at.eq((status == OutboxStatus::Sent).then(Utc::now)),
                outbox::lease_until.eq(None::<chrono::DateTime<Utc>>),
                outbox::payload.eq(without_token()),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn retry_later(
        &self,
        conn: &mut AsyncPgConnection,
        row: &OutboxRow,
        error: &str,
    ) -> Result<Outcome> {
        if row.attempts >= self.settings.max_attempts {
            tracing::error!(outbox_id = row.id, attempts = row.attempts, %error, "giving up after temporary failures");
            self.finish(conn, row.id, OutboxStatus::Failed, None, Some(error))
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
