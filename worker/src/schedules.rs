//! The worker's schedules: the relay sweep (which also fills and finishes digest runs), the
//! digest cron, the reminders and the retention of vote forensics. Each takes effect once across any number of workers: the relay's
//! pushes are harmless duplicates (the claim decides), a digest period is a unique row, reminders
//! have dedupe keys and run under an advisory lock.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use birgemiz_schema::db::Pool;
use birgemiz_schema::{Error, Result, digests, integrity, outbox as ob, reminders};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use redis::aio::ConnectionManager;
use tokio::sync::watch;

const REMINDER_LOCK: i64 = 0x7265_6d69_6e64; // "remind"

pub struct Queue {
    pub redis: ConnectionManager,
    pub namespace: String,
}

impl Queue {
    /// Pushes ids to the apalis queue; a Redis error is logged, as the next sweep pushes again.
    pub async fn push(&self, ids: &[i64]) -> bool {
        ob::push_or_log(self.redis.clone(), &self.namespace, ids).await
    }
}

/// Fills every batch of `run_id`, pushing each batch's ids as soon as it commits.
pub async fn fill_run(pool: &Pool, queue: &Queue, run_id: i64) -> Result<()> {
    loop {
        let batch = {
            let mut conn = pool.get().await?;
            digests::fill_batch(&mut conn, run_id, digests::BATCH_SIZE).await?
        };
        queue.push(&batch.outbox_ids).await;
        if batch.done {
            return Ok(());
        }
    }
}

/// What the relay last pushed for a row: pushed again only when the row changed since (a retry
/// was scheduled, a lease expired) or the push is old enough to have been lost.
type Pushed = HashMap<i64, (RowState, Instant)>;
type RowState = (DateTime<Utc>, Option<DateTime<Utc>>);

/// How many due rows one sweep reads and pushes at most.
const SWEEP_LIMIT: i64 = 5000;
/// The relay forgets a push after this long even if the row is still due.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

impl Queue {
    /// Whether the queue holds no job yet to be fetched. While it does, a due row the relay did
    /// not see change is most likely in it (a digest pushes all its ids at once, and re-pushing
    /// the head of that backlog every few seconds only made the consumers claim each row
    /// twice); a lost push (a Redis flush, a killed consumer's fetched jobs) shows once the
    /// queue has drained, which a flush does at once. A Redis error counts as drained: pushing
    /// is then the safe side.
    async fn drained(&self) -> bool {
        match ob::queued_jobs(self.redis.clone(), &self.namespace).await {
            Ok(n) => n == 0,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the queue length");
                true
            }
        }
    }
}

/// Due, unleased, unsent rows: the slow path behind the after-commit push. A row is pushed when
/// it changed since the relay last pushed it (a retry is due, a lease expired: no job for it can
/// be left), or, once the queue has drained, when the relay never pushed it or pushed it more
/// than `repush_after` ago.
async fn sweep(
    pool: &Pool,
    queue: &Queue,
    recently: &mut Pushed,
    repush_after: Duration,
) -> Result<usize> {
    let due = {
        let mut conn = pool.get().await?;
        ob::relay_due(&mut conn, Utc::now(), SWEEP_LIMIT).await?
    };
    if (due.len() as i64) < SWEEP_LIMIT {
        // Every due row is in `due`: what is not was sent, failed or leased again since.
        let ids: std::collections::HashSet<i64> = due.iter().map(|r| r.id).collect();
        recently.retain(|id, _| ids.contains(id));
    }
    recently.retain(|_, (_, at)| at.elapsed() < FORGET_AFTER);
    let drained = due.is_empty() || queue.drained().await;
    // A row claimed before (attempts > 0) and due again has no job left anywhere: its retry is
    // due or its lease ran out. It goes at once even if only the api's push ever named it.
    let fresh: Vec<(i64, RowState)> = due
        .into_iter()
        .filter(|r| match recently.get(&r.id) {
            None => drained || r.attempts > 0,
            Some((pushed, at)) => {
                *pushed != (r.next_attempt_at, r.lease_until)
                    || (drained && at.elapsed() >= repush_after)
            }
        })
        .map(|r| (r.id, (r.next_attempt_at, r.lease_until)))
        .collect();
    let ids: Vec<i64> = fresh.iter().map(|(id, _)| *id).collect();
    if !ids.is_empty() && queue.push(&ids).await {
        let at = Instant::now();
        recently.extend(fresh.into_iter().map(|(id, state)| (id, (state, at))));
    }
    Ok(ids.len())
}

async fn relay_tick(
    pool: &Pool,
    queue: &Queue,
    recently: &mut Pushed,
    repush_after: Duration,
) -> Result<()> {
    let runs = {
        let mut conn = pool.get().await?;
        digests::unfinished_runs(&mut conn).await?
    };
    for run in runs {
        fill_run(pool, queue, run).await?;
    }
    let pushed = sweep(pool, queue, recently, repush_after).await?;
    if pushed > 0 {
        tracing::debug!(pushed, "relay pushed due outbox rows");
    }
    let mut conn = pool.get().await?;
    digests::finish_runs(&mut conn).await?;
    Ok(())
}

/// `repush_after`: a row still due this long after its push is pushed again (the push was lost,
/// e.g. to a Redis flush); sooner only if its retry time or lease changed.
pub async fn relay_loop(
    pool: Pool,
    queue: Queue,
    every: Duration,
    repush_after: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut recently = HashMap::new();
    loop {
        if let Err(e) = relay_tick(&pool, &queue, &mut recently, repush_after).await {
            tracing::warn!(error = %e, "relay sweep failed; retrying next tick");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Parses DIGEST_SCHEDULE and TIMEZONE, so that `run` refuses a bad value at start.
pub fn digest_schedule(expr: &str, tz: &str) -> crate::error::Result<(cron::Schedule, Tz)> {
    let bad = crate::error::Error::Config;
    let schedule = cron::Schedule::from_str(expr).map_err(|e| {
        bad(format!(
            "DIGEST_SCHEDULE {expr:?} is not a cron expression: {e}"
        ))
    })?;
    let tz =
        Tz::from_str(tz).map_err(|_| bad(format!("TIMEZONE {tz:?} is not an IANA time zone")))?;
    Ok((schedule, tz))
}

/// At each fire time, starts the run of the period ending then; the relay fills it.
pub async fn digest_loop(
    pool: Pool,
    queue: Queue,
    schedule: cron::Schedule,
    tz: Tz,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let Some(fire) = schedule.upcoming(tz).next().map(|t| t.with_timezone(&Utc)) else {
            return;
        };
        let wait = (fire - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        let start = digests::previous_fire(&schedule, &tz, fire)
            .unwrap_or(fire - chrono::Duration::days(7));
        let started = async {
            let mut conn = pool.get().await?;
            digests::start_run(&mut conn, start, fire).await
        }
        .await;
        match started {
            Ok(Some(run)) => {
                tracing::info!(run_id = run.id, "digest run started");
                if let Err(e) = fill_run(&pool, &queue, run.id).await {
                    tracing::warn!(error = %e, "digest fill interrupted; the relay resumes it");
                }
            }
            Ok(None) => tracing::debug!("digest run of this period already started elsewhere"),
            Err(e) => tracing::error!(error = %e, "could not start the digest run"),
        }
        // Past the fire second, so `upcoming` moves on to the next one.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

async fn reminders_once(pool: &Pool, tz: &str) -> Result<Vec<i64>> {
    let mut conn = pool.get().await?;
    let tz = tz.to_owned();
    (*conn)
        .transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
            let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<BigInt, _>(REMINDER_LOCK)
                .get_result(conn)
                .await?;
            if !lock.locked {
                return Ok(Vec::new());
            }
            reminders::enqueue_due(conn, &tz).await
        })
        .await
}

pub async fn reminders_loop(
    pool: Pool,
    queue: Queue,
    tz: String,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match reminders_once(&pool, &tz).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(count = ids.len(), "reminders queued");
                queue.push(&ids).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reminder schedule failed; retrying next tick"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Forgets the forensic hashes of votes once their award's results are older than the
/// retention. Clearing a cleared row changes nothing, so every worker may run it.
pub async fn forensics_loop(
    pool: Pool,
    retention: chrono::Duration,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let forgotten = async {
            let mut conn = pool.get().await?;
            integrity::forget_forensics(&mut conn, retention, Utc::now(), 10_000).await
        };
        match forgotten.await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "vote forensics forgotten"),
            Err(e) => {
                tracing::warn!(error = %e, "vote forensics retention failed; retrying next tick")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
