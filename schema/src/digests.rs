//! Digest runs. A run is one row per period (`period_start` is unique, so any number of workers or
//! triggers start it once); filling it writes one outbox row per active WEEKLY_DIGEST subscriber
//! with something to read, in batches, each batch one transaction that also advances
//! `cursor_id`: a filler killed midway is resumed by the next one from the cursor, and the dedupe
//! key `digest:{run}:{subscriber}` makes a replayed batch insert nothing twice.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};
use crate::models::DigestRun;
use crate::outbox::OutboxStatus;
use crate::tables::digest_runs;

/// Serializes manual starts so that a double click (or two workers' `digest-now`) makes one run.
const MANUAL_START_LOCK: i64 = 0x6469_6765_7374; // "digest"
/// A manual trigger within this long after a run started joins that run instead of starting one.
pub const MANUAL_DEBOUNCE: Duration = Duration::minutes(5);
pub const BATCH_SIZE: i64 = 500;

/// Starts the run of a scheduled period; `None` when another worker already did.
pub async fn start_run(
    conn: &mut AsyncPgConnection,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
) -> Result<Option<DigestRun>> {
    Ok(diesel::insert_into(digest_runs::table)
        .values((
            digest_runs::period_start.eq(period_start),
            digest_runs::period_end.eq(period_end),
        ))
        .on_conflict(digest_runs::period_start)
        .do_nothing()
        .returning(DigestRun::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// `runDigestNow` / `birgemiz-worker digest-now`: a run covering everything since the last one.
/// Returns the run and whether this call created it (false: a run had just started).
pub async fn start_manual_run(conn: &mut AsyncPgConnection) -> Result<(DigestRun, bool)> {
    conn.transaction::<_, Error, _>(async |conn: &mut AsyncPgConnection| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(MANUAL_START_LOCK)
            .execute(conn)
            .await?;
        let now = Utc::now();
        let latest: Option<DigestRun> = digest_runs::table
            .order(digest_runs::period_end.desc())
            .select(DigestRun::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(run) = &latest
            && run.started_at > now - MANUAL_DEBOUNCE
        {
            return Ok((run.clone(), false));
        }
        let start = latest
            .map(|r| r.period_end)
            .filter(|end| *end < now)
            .unwrap_or(now - Duration::days(7));
        match start_run(conn, start, now).await? {
            Some(run) => Ok((run, true)),
            None => Err(Error::Conflict(
                "a digest run for this period exists".into(),
            )),
        }
    })
    .await
}

/// The outcome of one batch: outbox ids to push after commit, and whether the run is queued.
#[derive(Debug, Default)]
pub struct Batch {
    pub outbox_ids: Vec<i64>,
    pub done: bool,
}

#[derive(QueryableByName)]
struct InsertedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Cursor {
    #[diesel(sql_type = BigInt)]
    cursor_id: i64,
    #[diesel(sql_type = Timestamptz)]
    period_end: DateTime<Utc>,
}

/// Fills the next batch of `run_id`. Several fillers of one run take turns on the run's row lock.
pub async fn fill_batch(
    conn: &mut AsyncPgConnection,
    run_id: i64,
    batch_size: i64,
) -> Result<Batch> {
    conn.transaction::<_, Error, _>(async |conn: &mut AsyncPgConnection| {
            let cursor: Option<Cursor> = diesel::sql_query(
                "SELECT cursor_id, period_end FROM digest_runs WHERE id = $1 AND status = 'RUNNING' FOR UPDATE",
            )
            .bind::<BigInt, _>(run_id)
            .get_result(conn)
            .await
            .optional()?;
            let Some(Cursor { cursor_id, period_end }) = cursor else {
                return Ok(Batch { outbox_ids: Vec::new(), done: true });
            };
            #[derive(QueryableByName)]
            struct Last {
                #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
                last_id: Option<i64>,
            }
            // The batch's subscribers, then one digest row for those with anything new in their
            // window [since, period_end). The window is copied into the payload so that a re-send
            // after a crash renders the same message.
            let last: Last = diesel::sql_query(
                "SELECT max(id) AS last_id FROM (
                     SELECT id FROM email_subscriptions
                     WHERE status = 'ACTIVE' AND 'WEEKLY_DIGEST' = ANY(topics) AND id > $1
                     ORDER BY id LIMIT $2) b",
            )
            .bind::<BigInt, _>(cursor_id)
            .bind::<BigInt, _>(batch_size)
            .get_result(conn)
            .await?;
            let Some(last_id) = last.last_id else {
                diesel::update(digest_runs::table.find(run_id))
                    .set(digest_runs::status.eq("QUEUED"))
                    .execute(conn)
                    .await?;
                return Ok(Batch { outbox_ids: Vec::new(), done: true });
            };
            let inserted: Vec<InsertedRow> = diesel::sql_query(
                "WITH batch AS (
                     SELECT id, email, locale,
                            coalesce(last_digest_at, confirmed_at, created_at) AS since
                     FROM email_subscriptions
                     WHERE status = 'ACTIVE' AND 'WEEKLY_DIGEST' = ANY(topics) AND id > $1 AND id <= $2
                 ), due AS (
                     SELECT b.* FROM batch b
                     WHERE b.since < $3 AND (
                         EXISTS (SELECT 1 FROM projects p WHERE p.status = 'PUBLISHED'
                                 AND p.published_at >= b.since AND p.published_at < $3)
                      OR EXISTS (SELECT 1 FROM posts p WHERE p.published_at >= b.since AND p.published_at < $3)
                      OR EXISTS (SELECT 1 FROM awards a WHERE
                                 (a.nomination_opens_at >= b.since AND a.nomination_opens_at < $3)
                              OR (a.nomination_closes_at >= b.since AND a.nomination_closes_at < $3)
                              OR (a.voting_opens_at >= b.since AND a.voting_opens_at < $3)
                              OR (a.voting_closes_at >= b.since AND a.voting_closes_at < $3)
                              OR (a.results_published_at >= b.since AND a.results_published_at < $3)))
                 ), ins AS (
                     INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk, digest_run_id)
                     SELECT 'DIGEST', d.email, d.locale,
                            jsonb_build_object('kind', 'DIGEST',
                                'since', to_char(d.since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                                'until', to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')),
                            'digest:' || $4 || ':' || d.id, true, $4
                     FROM due d ORDER BY d.id
                     ON CONFLICT (dedupe_key) DO NOTHING
                     RETURNING id, recipient
                 ), seen AS (
                     UPDATE email_subscriptions s SET last_digest_at = $3
                     FROM due d WHERE s.id = d.id
                 )
                 SELECT id FROM ins",
            )
            .bind::<BigInt, _>(cursor_id)
            .bind::<BigInt, _>(last_id)
            .bind::<Timestamptz, _>(period_end)
            .bind::<BigInt, _>(run_id)
            .load(conn)
            .await?;
            diesel::sql_query(
                "UPDATE digest_runs SET cursor_id = $2, recipient_count = recipient_count + $3 WHERE id = $1",
            )
            .bind::<BigInt, _>(run_id)
            .bind::<BigInt, _>(last_id)
            .bind::<Integer, _>(inserted.len() as i32)
            .execute(conn)
            .await?;
            Ok(Batch { outbox_ids: inserted.into_iter().map(|r| r.id).collect(), done: false })
    })
    .await
}

/// Runs still being filled (a filler may have died): the worker resumes them.
pub async fn unfinished_runs(conn: &mut AsyncPgConnection) -> Result<Vec<i64>> {
    Ok(digest_runs::table
        .filter(digest_runs::status.eq("RUNNING"))
        .order(digest_runs::id)
        .select(digest_runs::id)
        .load(conn)
        .await?)
}

/// Marks QUEUED runs FINISHED once none of their rows waits any more.
pub async fn finish_runs(conn: &mut AsyncPgConnection) -> Result<usize> {
    Ok(diesel::sql_query(format!(
        "UPDATE digest_runs r SET status = 'FINISHED', finished_at = now()
         WHERE r.status = 'QUEUED'
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.digest_run_id = r.id AND o.status = '{}')",
        OutboxStatus::Pending.as_str()
    ))
    .execute(conn)
    .await?)
}

/// A page of runs, newest first, after the keyset `(started_at, id)` of the previous page.
pub async fn page_runs(
    conn: &AsyncPgConnection,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<DigestRun>> {
    let mut query = digest_runs::table
        .order((digest_runs::started_at.desc(), digest_runs::id.desc()))
        .limit(limit)
        .select(DigestRun::as_select())
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            digest_runs::started_at
                .lt(at)
                .or(digest_runs::started_at.eq(at).and(digest_runs::id.lt(id))),
        );
    }
    Ok(query.load(&mut &*conn).await?)
}

pub async fn find_run(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<DigestRun>> {
    Ok(digest_runs::table
        .find(id)
        .select(DigestRun::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Several runs in one query (`nodes`); unknown ids are absent.
pub async fn runs_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<DigestRun>> {
    Ok(digest_runs::table
        .filter(digest_runs::id.eq_any(ids))
        .select(DigestRun::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn count_runs(conn: &AsyncPgConnection) -> Result<i64> {
    Ok(digest_runs::table.count().get_result(&mut &*conn).await?)
}

/// Delivery progress of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub sent: i64,
    /// Failed permanently or skipped as suppressed.
    pub failed: i64,
    pub pending: i64,
}

/// Progress of several runs in one query (a page of `digestRuns`).
pub async fn progress_of(
    conn: &AsyncPgConnection,
    run_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Progress>> {
    use crate::tables::outbox;
    let rows: Vec<(Option<i64>, String, i64)> = outbox::table
        .filter(outbox::digest_run_id.eq_any(run_ids))
        .group_by((outbox::digest_run_id, outbox::status))
        .select((
            outbox::digest_run_id,
            outbox::status,
            diesel::dsl::count_star(),
        ))
        .load(&mut &*conn)
        .await?;
    let mut out = std::collections::HashMap::new();
    for (run, status, n) in rows {
        let Some(run) = run else { continue };
        let p: &mut Progress = out.entry(run).or_default();
        match OutboxStatus::parse(&status) {
            Some(OutboxStatus::Sent) => p.sent += n,
            Some(OutboxStatus::Pending) => p.pending += n,
            _ => p.failed += n,
        }
    }
    Ok(out)
}

/// The previous fire time of `schedule` before `at`: the start of the period that ends at `at`.
pub fn previous_fire<Tz: chrono::TimeZone>(
    schedule: &cron::Schedule,
    tz: &Tz,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule
        .after(&(at - Duration::days(40)).with_timezone(tz))
        .map(|t| t.with_timezone(&Utc))
        .take_while(|t| *t < at)
        .last()
}
