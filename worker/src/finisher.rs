//! Marks sent rows SENT in groups: every send that completes while the previous group's UPDATE
//! runs joins the next one. At full speed that is one statement and one WAL flush for a dozen
//! rows instead of one each; when idle a row is committed alone, without waiting for company.
//! A sender holds an in-flight permit until its row's commit, so the messages accepted by the
//! SMTP server but not yet recorded never exceed the permits (what a SIGKILL can duplicate:
//! `UNRECORDED_PER_SLOT` × `WORKER_CONCURRENCY`).
//!
//! An accepted send is never forgotten: when the mark fails (PostgreSQL away, a statement
//! timeout) the group is kept and written again with backoff until it lands, however long that
//! takes. Meanwhile its rows' leases are extended when PostgreSQL answers that much, and this
//! process claims none of them again, so the only duplicates left are SMTP's own gap between the
//! final dot and the 250.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use birgemiz_schema::db::Pool;
use birgemiz_schema::outbox::{self, SentMark};
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Rows per statement at most.
const GROUP: usize = 256;
/// The first wait after a failed mark; it doubles up to [`Finisher::max_backoff`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

struct Sent {
    mark: SentMark,
    /// Told once the mark committed; a mark is retried until it does.
    done: oneshot::Sender<()>,
}

#[derive(Clone)]
pub struct Finisher {
    tx: mpsc::Sender<Sent>,
    /// Rows accepted by SMTP whose SENT mark has not committed yet.
    unrecorded: Arc<Mutex<HashSet<i64>>>,
}

/// What the retry loop needs to keep a waiting group's rows ours.
#[derive(Clone)]
pub struct LeaseKeeper {
    pub lease: Duration,
    pub worker_name: String,
}

impl LeaseKeeper {
    /// The longest wait between two tries: short enough that a returning database sees the
    /// mark within about a second, and several tries within any lease.
    fn max_backoff(&self) -> Duration {
        (self.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(1))
    }
}

impl Finisher {
    pub fn start(pool: Pool, keeper: LeaseKeeper) -> Finisher {
        let (tx, rx) = mpsc::channel(GROUP * 4);
        let unrecorded = Arc::new(Mutex::new(HashSet::new()));
        tokio::spawn(run(pool, keeper, rx, unrecorded.clone()));
        Finisher { tx, unrecorded }
    }

    /// Records the SMTP answer of row `id` (and clears its link token); returns once committed.
    pub async fn sent(&self, id: i64, answer: String) -> Result<()> {
        self.lock().insert(id);
        let (done, committed) = oneshot::channel();
        let mark = SentMark {
            id,
            answer,
            at: Utc::now(),
        };
        self.tx
            .send(Sent { mark, done })
            .await
            .map_err(|_| Error::FinisherStopped)?;
        committed.await.map_err(|_| Error::FinisherStopped)
    }

    /// `ids` without the rows sent by this process and not recorded yet.
    pub fn without_unrecorded(&self, ids: &[i64]) -> Vec<i64> {
        let unrecorded = self.lock();
        ids.iter()
            .copied()
            .filter(|id| !unrecorded.contains(id))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.unrecorded.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn run(
    pool: Pool,
    keeper: LeaseKeeper,
    mut rx: mpsc::Receiver<Sent>,
    unrecorded: Arc<Mutex<HashSet<i64>>>,
) {
    let mut group = Vec::with_capacity(GROUP);
    while rx.recv_many(&mut group, GROUP).await > 0 {
        let mut wait = FIRST_BACKOFF;
        let mut tries = 1u32;
        while let Err(e) = mark_sent(&pool, &group).await {
            tracing::warn!(error = %e, rows = group.len(), tries, retry_in_ms = wait.as_millis() as u64,
                "recording sent emails failed; keeping them and retrying");
            tokio::time::sleep(wait).await;
            // Extending is worth a try of its own: a mark held up by a lock or a statement
            // timeout may fail where this small update succeeds.
            if let Err(e) = extend_leases(&pool, &keeper, &group).await {
                tracing::debug!(error = %e, "extending the leases of unrecorded rows failed");
            }
            wait = (wait * 2).min(keeper.max_backoff());
            tries += 1;
        }
        if tries > 1 {
            tracing::info!(
                rows = group.len(),
                tries,
                "sent emails recorded after retries"
            );
        }
        {
            let mut unrecorded = unrecorded.lock().unwrap_or_else(|e| e.into_inner());
            for sent in &group {
                unrecorded.remove(&sent.mark.id);
            }
        }
        for sent in group.drain(..) {
            // A sender that gave up waiting (its task was dropped) needs no answer.
            if sent.done.send(()).is_err() {
                tracing::debug!(outbox_id = sent.mark.id, "nobody waits for this commit");
            }
        }
    }
}

async fn mark_sent(pool: &Pool, group: &[Sent]) -> Result<()> {
    let marks: Vec<SentMark> = group.iter().map(|s| s.mark.clone()).collect();
    let mut conn = pool.get().await?;
    outbox::mark_sent(&mut conn, &marks).await?;
    Ok(())
}

/// Keeps the group's rows leased to this worker while their mark waits, so that no other worker
/// claims (and sends) them meanwhile.
async fn extend_leases(pool: &Pool, keeper: &LeaseKeeper, group: &[Sent]) -> Result<()> {
    let mut conn = pool.get().await?;
    let until = Utc::now()
        + chrono::Duration::from_std(keeper.lease).unwrap_or(chrono::Duration::minutes(2));
    let ids: Vec<i64> = group.iter().map(|s| s.mark.id).collect();
    outbox::extend_leases(&mut conn, &ids, &keeper.worker_name, until).await?;
    Ok(())
}
