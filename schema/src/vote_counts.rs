//! Vote counters: votes append deltas (see the `vote_count_deltas` migration) and this folds them
//! into `nominations.vote_count` / `award_categories.vote_count`.
//!
//! A request that changed a vote calls [`VoteCounts::settle`] after its commit and returns only
//! once a fold that started after that commit has finished, so it reads its own vote in the
//! counters. Concurrent requests of one process share folds: while one fold runs, every request
//! that commits meanwhile waits for the next one, so the counters see one fold per batch of
//! votes rather than one update per vote. Processes take turns through the database's lock.
//! The caller that folded also gets the batch's changes, so live counts are read and published
//! once per batch, not once per vote.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::sql_types::BigInt;
use diesel_async::AsyncPgConnection;
use tokio::sync::Mutex;

use crate::awards::VoteChange;
use crate::{Result, db};

#[derive(diesel::QueryableByName)]
struct Folded {
    #[diesel(sql_type = BigInt)]
    folded: i64,
}

/// Folds every committed delta into the counters, inside the caller's transaction; returns how
/// many deltas it folded.
pub async fn fold(conn: &mut AsyncPgConnection) -> Result<i64> {
    run_fold(conn, "SELECT fold_vote_counts() AS folded").await
}

/// `fold` as a transaction of its own that does not wait for its WAL flush: a crash that loses
/// the fold loses its DELETE of the deltas too, so they are folded again, and nothing else is
/// written. Not for use inside a transaction that writes anything else.
async fn fold_alone(conn: &mut AsyncPgConnection) -> Result<i64> {
    run_fold(
        conn,
        "SELECT fold_vote_counts() AS folded, set_config('synchronous_commit', 'off', true)",
    )
    .await
}

async fn run_fold(conn: &mut AsyncPgConnection, statement: &'static str) -> Result<i64> {
    // Imported here only: its `load` would shadow the atomics' below.
    use diesel_async::RunQueryDsl;
    let row: Folded = diesel::sql_query(statement).get_result(conn).await?;
    Ok(row.folded)
}

/// One per process; see the module documentation.
#[derive(Default)]
pub struct VoteCounts {
    /// Tickets handed to callers of `settle`, each taken after the caller's commit.
    issued: AtomicU64,
    /// Every ticket up to this one is covered by a finished fold.
    settled: AtomicU64,
    folding: Mutex<()>,
    /// Changes to announce once folded, handed to the caller that folds them.
    unannounced: std::sync::Mutex<Vec<VoteChange>>,
}

impl VoteCounts {
    pub fn new() -> VoteCounts {
        VoteCounts::default()
    }

    /// Call after committing a vote change: returns once the counters include it. `announce`
    /// is a change whose new counts should be published; the caller whose fold covered it gets
    /// it back, with every other change that fold covered, to publish them all at once.
    pub async fn settle(
        &self,
        pool: &db::Pool,
        announce: Option<VoteChange>,
    ) -> Result<Vec<VoteChange>> {
        if let Some(change) = announce {
            self.unannounced().push(change);
        }
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        if self.settled.load(Ordering::SeqCst) >= ticket {
            return Ok(Vec::new());
        }
        let _turn = self.folding.lock().await;
        // A fold that started after this commit may have finished while this caller waited.
        if self.settled.load(Ordering::SeqCst) >= ticket {
            return Ok(Vec::new());
        }
        // Every ticket issued so far belongs to a commit that precedes this fold's snapshot,
        // and every change announced with such a ticket is queued by now.
        let covered = self.issued.load(Ordering::SeqCst);
        let changes = std::mem::take(&mut *self.unannounced());
        let folded = match pool.get().await {
            Ok(mut conn) => fold_alone(&mut conn).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = folded {
            // The next fold announces them.
            self.unannounced().extend(changes);
            return Err(e);
        }
        self.settled.fetch_max(covered, Ordering::SeqCst);
        Ok(changes)
    }

    fn unannounced(&self) -> std::sync::MutexGuard<'_, Vec<VoteChange>> {
        self.unannounced.lock().unwrap_or_else(|e| e.into_inner())
    }
}
