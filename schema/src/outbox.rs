//! The outbox: every email is a row written in the same transaction as the change that causes it.
//! PostgreSQL decides what is sent; Redis (an apalis queue of outbox ids) only carries wake-ups.
//!
//! # How the api uses it
//! 1. Inside the transaction: [`enqueue`] (or [`enqueue_many`]) returns the new row id, or `None`
//!    when a row with the same dedupe key exists (the email was already queued: nothing to do).
//! 2. After commit: [`push_or_log`] with the ids. A failed push is logged and otherwise ignored:
//!    the worker's relay sweep finds every due row within seconds anyway.
//!
//! # How the worker uses it
//! It claims a job's rows ([`claim`]), sends them and finishes each with [`mark_sent`],
//! [`retry_at`], [`fail`] or [`suppress`]; its relay pushes what [`relay_due`] finds.
//!
//! # Link tokens
//! Sign-in, verification and subscription-confirmation emails carry a one-time token whose hash is
//! in `one_time_tokens`; the raw token exists nowhere else. It travels in this row's `payload`
//! (`{"token": …}`) and the worker removes it from the payload in the same statement that marks the
//! row `SENT` or `FAILED`, so a database copy taken later holds no usable link. A row not yet sent
//! still holds its token: that is the price of sending it after commit, and such a row expires
//! with the token (one_time_tokens.expires_at).
//!
//! # Rendering
//! The payload holds ids (and the token), never rendered text: the worker renders from current
//! rows, in the row's locale, so a retry after a crash renders the same bytes.

use std::collections::HashSet;

use apalis::prelude::TaskSink;
use apalis_redis::{Config as QueueConfig, RedisStorage};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::i18n::Locale;
use crate::models::{OutboxRow, text_enum};
use crate::sql::{Bind, Sql};
use crate::tables::{outbox, suppressions};

text_enum! {
    /// Where a row is in its life; stored in `outbox.status` (the column's CHECK allows these four).
    pub enum OutboxStatus {
        Pending => "PENDING",
        Sent => "SENT",
        Failed => "FAILED",
        Suppressed => "SUPPRESSED",
    }
}

impl OutboxStatus {
    /// The statuses a row never leaves.
    pub const FINISHED: [OutboxStatus; 3] = [
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Suppressed,
    ];
}

/// What an email is; stored in `outbox.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EmailKind {
    VerifyEmail,
    SignInLink,
    ApplicationReceipt,
    NewApplicationNotice,
    VolunteerWithdrewNotice,
    ApplicationDecision,
    NominationReceipt,
    NominationDecision,
    SubscriptionConfirmation,
    ResultsAnnouncement,
    VotingClosesReminder,
    NominationClosesReminder,
    ProjectStartsReminder,
    Digest,
    JuryInvitation,
    JuryReminder,
}

impl EmailKind {
    pub const ALL: [EmailKind; 16] = [
        EmailKind::VerifyEmail,
        EmailKind::SignInLink,
        EmailKind::ApplicationReceipt,
        EmailKind::NewApplicationNotice,
        EmailKind::VolunteerWithdrewNotice,
        EmailKind::ApplicationDecision,
        EmailKind::NominationReceipt,
        EmailKind::NominationDecision,
        EmailKind::SubscriptionConfirmation,
        EmailKind::ResultsAnnouncement,
        EmailKind::VotingClosesReminder,
        EmailKind::NominationClosesReminder,
        EmailKind::ProjectStartsReminder,
        EmailKind::Digest,
        EmailKind::JuryInvitation,
        EmailKind::JuryReminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::VerifyEmail => "VERIFY_EMAIL",
            EmailKind::SignInLink => "SIGN_IN_LINK",
            EmailKind::ApplicationReceipt => "APPLICATION_RECEIPT",
            EmailKind::NewApplicationNotice => "NEW_APPLICATION_NOTICE",
            EmailKind::VolunteerWithdrewNotice => "VOLUNTEER_WITHDREW_NOTICE",
            EmailKind::ApplicationDecision => "APPLICATION_DECISION",
            EmailKind::NominationReceipt => "NOMINATION_RECEIPT",
            EmailKind::NominationDecision => "NOMINATION_DECISION",
            EmailKind::SubscriptionConfirmation => "SUBSCRIPTION_CONFIRMATION",
            EmailKind::ResultsAnnouncement => "RESULTS_ANNOUNCEMENT",
            EmailKind::VotingClosesReminder => "VOTING_CLOSES_REMINDER",
            EmailKind::NominationClosesReminder => "NOMINATION_CLOSES_REMINDER",
            EmailKind::ProjectStartsReminder => "PROJECT_STARTS_REMINDER",
            EmailKind::Digest => "DIGEST",
            EmailKind::JuryInvitation => "JURY_INVITATION",
            EmailKind::JuryReminder => "JURY_REMINDER",
        }
    }

    pub fn parse(s: &str) -> Option<EmailKind> {
        EmailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Bulk mail honours suppressions and carries List-Unsubscribe; transactional mail does not.
    pub fn is_bulk(self) -> bool {
        matches!(
            self,
            EmailKind::ResultsAnnouncement
                | EmailKind::VotingClosesReminder
                | EmailKind::NominationClosesReminder
                | EmailKind::ProjectStartsReminder
                | EmailKind::Digest
        )
    }
}

/// An email with what it is about; serialized (tagged by `kind`) into `outbox.payload`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Email {
    VerifyEmail {
        token: Option<String>,
    },
    SignInLink {
        token: Option<String>,
    },
    ApplicationReceipt {
        application_id: i64,
    },
    NewApplicationNotice {
        application_id: i64,
    },
    /// To the managers: an accepted volunteer withdrew.
    VolunteerWithdrewNotice {
        application_id: i64,
    },
    ApplicationDecision {
        application_id: i64,
        /// The decision as made (ACCEPTED or DECLINED): the email tells that one even if the
        /// application changed again before it was sent. Absent in rows written before it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<String>,
    },
    NominationReceipt {
        nomination_id: i64,
    },
    NominationDecision {
        nomination_id: i64,
        /// APPROVED or REJECTED as decided; see `ApplicationDecision::decision`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<String>,
    },
    SubscriptionConfirmation {
        token: Option<String>,
    },
    ResultsAnnouncement {
        award_id: i64,
    },
    VotingClosesReminder {
        award_id: i64,
    },
    NominationClosesReminder {
        award_id: i64,
    },
    ProjectStartsReminder {
        project_id: i64,
    },
    /// Content published in `[since, until)`: fixed at enqueue time so a re-send is identical.
    Digest {
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// A sign-in link that also shows which jury seat it is for.
    JuryInvitation {
        juror_id: i64,
        token: Option<String>,
    },
    JuryReminder {
        juror_id: i64,
    },
}

impl Email {
    pub fn kind(&self) -> EmailKind {
        match self {
            Email::VerifyEmail { .. } => EmailKind::VerifyEmail,
            Email::SignInLink { .. } => EmailKind::SignInLink,
            Email::ApplicationReceipt { .. } => EmailKind::ApplicationReceipt,
            Email::NewApplicationNotice { .. } => EmailKind::NewApplicationNotice,
            Email::VolunteerWithdrewNotice { .. } => EmailKind::VolunteerWithdrewNotice,
            Email::ApplicationDecision { .. } => EmailKind::ApplicationDecision,
            Email::NominationReceipt { .. } => EmailKind::NominationReceipt,
            Email::NominationDecision { .. } => EmailKind::NominationDecision,
            Email::SubscriptionConfirmation { .. } => EmailKind::SubscriptionConfirmation,
            Email::ResultsAnnouncement { .. } => EmailKind::ResultsAnnouncement,
            Email::VotingClosesReminder { .. } => EmailKind::VotingClosesReminder,
            Email::NominationClosesReminder { .. } => EmailKind::NominationClosesReminder,
            Email::ProjectStartsReminder { .. } => EmailKind::ProjectStartsReminder,
            Email::Digest { .. } => EmailKind::Digest,
            Email::JuryInvitation { .. } => EmailKind::JuryInvitation,
            Email::JuryReminder { .. } => EmailKind::JuryReminder,
        }
    }

    pub fn to_payload(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }

    pub fn from_payload(payload: &serde_json::Value) -> Result<Email> {
        serde_json::from_value(payload.clone())
            .map_err(|e| Error::Internal(format!("outbox payload: {e}")))
    }
}

/// A row to insert. `dedupe_key` makes the insert idempotent: build it from what makes the email
/// unique, e.g. `application-receipt:{application_id}` or `sign-in:{token_id}`.
#[derive(Clone, Debug)]
pub struct NewEmail {
    pub email: Email,
    pub recipient: String,
    pub locale: Locale,
    pub dedupe_key: String,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct OutboxInsert<'a> {
    kind: &'a str,
    recipient: String,
    locale: &'a str,
    payload: serde_json::Value,
    dedupe_key: &'a str,
    bulk: bool,
    digest_run_id: Option<i64>,
}

fn insertable(e: &NewEmail, digest_run_id: Option<i64>) -> OutboxInsert<'_> {
    let kind = e.email.kind();
    OutboxInsert {
        kind: kind.as_str(),
        recipient: e.recipient.trim().to_lowercase(),
        locale: e.locale.as_str(),
        payload: e.email.to_payload(),
        dedupe_key: &e.dedupe_key,
        bulk: kind.is_bulk(),
        digest_run_id,
    }
}

/// Inserts one row; `None` when its dedupe key was already used (the email is already queued).
pub async fn enqueue(conn: &mut AsyncPgConnection, email: NewEmail) -> Result<Option<i64>> {
    let id = diesel::insert_into(outbox::table)
        .values(insertable(&email, None))
        .on_conflict(outbox::dedupe_key)
        .do_nothing()
        .returning(outbox::id)
        .get_result::<i64>(conn)
        .await
        .optional()?;
    Ok(id)
}

/// Inserts many rows at once; returns the ids of the rows actually inserted.
pub async fn enqueue_many(conn: &mut AsyncPgConnection, emails: &[NewEmail]) -> Result<Vec<i64>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = emails.iter().map(|e| insertable(e, None)).collect();
    let ids = diesel::insert_into(outbox::table)
        .values(rows)
        .on_conflict(outbox::dedupe_key)
        .do_nothing()
        .returning(outbox::id)
        .get_results::<i64>(conn)
        .await?;
    Ok(ids)
}

/// The apalis job: outbox ids only; everything else is read from the rows when it runs. Bulk
/// pushes (digests, the relay sweep) carry up to [`JOB_IDS`] ids per job, so Redis, the apalis
/// bookkeeping and the claim cost one round trip per batch rather than per email.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxJob {
    #[serde(default)]
    pub ids: Vec<i64>,
    /// Jobs pushed before ids were batched carried a single `id`; still read so that an upgrade
    /// does not leave queued jobs to the relay.
    #[serde(default, skip_serializing)]
    pub id: Option<i64>,
}

impl OutboxJob {
    /// Every id the job names.
    pub fn all_ids(&self) -> Vec<i64> {
        self.ids.iter().copied().chain(self.id).collect()
    }
}

/// Ids per job. A job's rows are claimed together, so this also bounds how far claims run ahead
/// of sending.
pub const JOB_IDS: usize = 50;

/// The queue both the api (producer) and the worker (consumer) use, under the Redis namespace.
pub fn queue_name(namespace: &str) -> String {
    format!("{namespace}:outbox")
}

/// The apalis storage for outbox jobs on `namespace`'s queue.
pub fn job_storage(redis: ConnectionManager, namespace: &str) -> RedisStorage<OutboxJob> {
    RedisStorage::new(redis).with_config(QueueConfig::default().queue(queue_name(namespace)))
}

/// Jobs waiting in `namespace`'s queue (due or scheduled), not yet fetched by any consumer.
pub async fn queued_jobs(mut redis: ConnectionManager, namespace: &str) -> Result<u64> {
    let config = QueueConfig::default().queue(queue_name(namespace));
    let (active, scheduled): (u64, u64) = redis::pipe()
        .llen(config.active_jobs_list())
        .zcard(config.scheduled_jobs_set())
        .query_async(&mut redis)
        .await?;
    Ok(active + scheduled)
}

/// The fast path, called after the transaction that enqueued `ids` committed. An error means only
/// that the email waits for the relay sweep (a few seconds); log it, don't fail the request.
pub async fn push_after_commit(
    redis: ConnectionManager,
    namespace: &str,
    ids: &[i64],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut storage = job_storage(redis, namespace);
    let push = storage.push_bulk(
        ids.chunks(JOB_IDS)
            .map(|chunk| OutboxJob {
                ids: chunk.to_vec(),
                id: None,
            })
            .collect(),
    );
    // Bounded: without Redis the request that committed must not wait for it.
    tokio::time::timeout(PUSH_WAIT, push)
        .await
        .map_err(|_| Error::Internal("pushing outbox jobs: Redis timed out".into()))?
        .map_err(|e| Error::Internal(format!("pushing outbox jobs: {e}")))
}

/// [`push_after_commit`] for callers that go on whatever happens (a request that committed, a
/// schedule): a failure is logged, since the relay sweep pushes the rows again within seconds.
/// Returns whether the push landed.
pub async fn push_or_log(redis: ConnectionManager, namespace: &str, ids: &[i64]) -> bool {
    match push_after_commit(redis, namespace, ids).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, count = ids.len(), "outbox push failed; the relay will push the rows");
            false
        }
    }
}

/// How long the fast path waits for Redis before leaving the rows to the relay sweep.
const PUSH_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

// ───────────── Delivery: the statements the worker runs on its rows ─────────────

/// The payload without the one-time link token: what a finished row keeps (see the module's
/// "Link tokens"). Every statement that finishes a row sets `payload` to this.
const WITHOUT_TOKEN: &str = "payload - 'token'";

/// Takes the lease of every claimable row among `ids` (due, not finished, not leased) for
/// `worker` until `now + lease`, counting the attempt; returns the claimed rows by id.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    worker: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<Vec<OutboxRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
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
        outbox::leased_by.eq(worker),
        outbox::attempts.eq(outbox::attempts + 1),
    ))
    .returning(OutboxRow::as_returning())
    .get_results(conn)
    .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// The SMTP server's answer to a sent row, for [`mark_sent`].
#[derive(Clone, Debug)]
pub struct SentMark {
    pub id: i64,
    pub answer: String,
    pub at: DateTime<Utc>,
}

/// Marks rows SENT with their answers, in one statement however many.
pub async fn mark_sent(conn: &mut AsyncPgConnection, marks: &[SentMark]) -> Result<()> {
    if marks.is_empty() {
        return Ok(());
    }
    // Prepared once per connection (crate::sql): parsing and planning it for every group was a
    // large share of the group's time, and a digest's sending rate waits on this statement.
    let mut update = Sql::new(&format!(
        "UPDATE outbox
         SET status = '{}', smtp_response = s.answer, last_error = NULL, sent_at = s.at,
             lease_until = NULL, payload = {WITHOUT_TOKEN}
         FROM unnest(",
        OutboxStatus::Sent.as_str()
    ));
    update
        .bind(Bind::I64s(marks.iter().map(|m| m.id).collect()))
        .push("::bigint[], ")
        .bind(Bind::Texts(
            marks.iter().map(|m| m.answer.clone()).collect(),
        ))
        .push("::text[], ")
        .bind(Bind::Times(marks.iter().map(|m| m.at).collect()))
        .push("::timestamptz[]) AS s(id, answer, at) WHERE outbox.id = s.id");
    update.execute(conn).await?;
    Ok(())
}

/// Keeps `worker`'s lease on the unfinished rows among `ids` until `until`: rows sent and not
/// yet recorded must not be claimed (and sent) by another worker meanwhile.
pub async fn extend_leases(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    worker: &str,
    until: DateTime<Utc>,
) -> Result<()> {
    let mut update = Sql::new("UPDATE outbox SET lease_until = ");
    update
        .bind(Bind::Time(until))
        .push(" WHERE id = ANY(")
        .bind(Bind::I64s(ids.to_vec()))
        .push(") AND leased_by = ")
        .bind(Bind::Text(worker.to_owned()))
        .push(&format!(
            " AND status = '{}'",
            OutboxStatus::Pending.as_str()
        ));
    update.execute(conn).await?;
    Ok(())
}

/// Finishes a row that will never be sent; `smtp_response` is the server's refusal, if any.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    id: i64,
    smtp_response: Option<&str>,
    error: &str,
) -> Result<()> {
    finish(conn, id, OutboxStatus::Failed, smtp_response, error).await
}

/// Finishes a row that must not be sent (the address is suppressed, the recipient opted out,
/// the moment has passed); `reason` is kept in `last_error`.
pub async fn suppress(conn: &mut AsyncPgConnection, id: i64, reason: &str) -> Result<()> {
    finish(conn, id, OutboxStatus::Suppressed, None, reason).await
}

async fn finish(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: OutboxStatus,
    smtp_response: Option<&str>,
    error: &str,
) -> Result<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::smtp_response.eq(smtp_response),
            outbox::last_error.eq(error),
            outbox::sent_at.eq(None::<DateTime<Utc>>),
            outbox::lease_until.eq(None::<DateTime<Utc>>),
            outbox::payload.eq(diesel::dsl::sql::<diesel::sql_types::Jsonb>(WITHOUT_TOKEN)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Fails the row after a permanent SMTP refusal and suppresses its address for bulk mail.
pub async fn fail_permanently(
    conn: &mut AsyncPgConnection,
    id: i64,
    recipient: &str,
    answer: &str,
) -> Result<()> {
    fail(conn, id, Some(answer), answer).await?;
    diesel::insert_into(suppressions::table)
        .values((
            suppressions::email.eq(recipient),
            suppressions::reason.eq("PERMANENT_FAILURE"),
            suppressions::smtp_response.eq(answer),
        ))
        .on_conflict(suppressions::email)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// The addresses among `emails` that bulk mail must not reach.
pub async fn suppressed_among(
    conn: &mut AsyncPgConnection,
    emails: &[&str],
) -> Result<HashSet<String>> {
    if emails.is_empty() {
        return Ok(HashSet::new());
    }
    let found = suppressions::table
        .filter(suppressions::email.eq_any(emails))
        .select(suppressions::email)
        .load::<String>(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// Releases the lease and schedules the next attempt at `next` after a temporary failure.
pub async fn retry_at(
    conn: &mut AsyncPgConnection,
    id: i64,
    next: DateTime<Utc>,
    error: &str,
) -> Result<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::next_attempt_at.eq(next),
            outbox::last_error.eq(error),
            outbox::lease_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A row the relay may push: unfinished, due and unleased at the time of [`relay_due`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Queryable)]
pub struct DueRow {
    pub id: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    /// Claims so far: a row claimed before and due again has no job left anywhere.
    pub attempts: i32,
}

/// Up to `limit` due, unleased, pending rows, the longest due first: the relay's slow path
/// behind the after-commit push.
pub async fn relay_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueRow>> {
    Ok(outbox::table
        .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::lease_until
                .is_null()
                .or(outbox::lease_until.lt(now)),
        )
        .order((outbox::next_attempt_at, outbox::id))
        .limit(limit)
        .select((
            outbox::id,
            outbox::next_attempt_at,
            outbox::lease_until,
            outbox::attempts,
        ))
        .load(conn)
        .await?)
}

/// Rows waiting to be sent and the age of the oldest, for the worker's metrics.
#[derive(QueryableByName, Clone, Copy, Debug, PartialEq)]
pub struct Backlog {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub unsent: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub oldest_age_secs: f64,
}

pub async fn backlog(conn: &mut AsyncPgConnection) -> Result<Backlog> {
    // Count and oldest id come from an index-only scan of the partial index `outbox_due_idx`
    // (`WHERE status = 'PENDING'`); ids follow insertion order, so the smallest one is the
    // oldest row, and its `created_at` is one primary-key lookup.
    let query = format!(
        "SELECT p.unsent,
                coalesce(extract(epoch FROM now() - o.created_at), 0)::float8 AS oldest_age_secs
         FROM (SELECT count(*) AS unsent, min(id) AS oldest FROM outbox WHERE status = '{}') p
         LEFT JOIN outbox o ON o.id = p.oldest",
        OutboxStatus::Pending.as_str()
    );
    Ok(diesel::sql_query(query).get_result(conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for &s in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OutboxStatus::parse("sent"), None);
    }

    #[test]
    fn kinds_round_trip_and_payload_is_tagged() {
        for k in EmailKind::ALL {
            assert_eq!(EmailKind::parse(k.as_str()), Some(k));
        }
        let e = Email::NominationReceipt { nomination_id: 7 };
        let p = e.to_payload();
        assert_eq!(p["kind"], "NOMINATION_RECEIPT");
        assert_eq!(Email::from_payload(&p).unwrap(), e);
        assert_eq!(p["kind"], e.kind().as_str());
    }

    #[test]
    fn jobs_of_one_id_from_before_batching_still_decode() {
        let old: OutboxJob = serde_json::from_str(r#"{"id": 7}"#).unwrap();
        assert_eq!(old.all_ids(), [7]);
        let new = OutboxJob {
            ids: vec![1, 2],
            id: None,
        };
        let wire = serde_json::to_string(&new).unwrap();
        assert_eq!(wire, r#"{"ids":[1,2]}"#);
        assert_eq!(serde_json::from_str::<OutboxJob>(&wire).unwrap(), new);
    }
}
