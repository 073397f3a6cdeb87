//! Vote counters: votes append deltas (see the `vote_count_deltas` migration) and this folds them
//! into `nominations.vote_count` / `award_categories.vote_count`.
//!
//! A request that changed a vote records it with [`VoteCounts::committed`] after its commit and
//! answers at once; each api process runs one fold loop ([`VoteCounts::work`] then
//! [`VoteCounts::fold_pending`]) that folds whatever committed meanwhile, at most once per
//! `VOTE_FOLD_INTERVAL_MS`, so the counters see one fold per batch of votes rather than one
//! update per vote, and live counts are read and published once per batch. A fold was once run
//! by the voting request itself and awaited: the folds, each covering a few votes, took a large
//! share of PostgreSQL's time and added their latency to every vote (docs/benchmarks.md).
//!
//! Nothing is lost when a process dies between a commit and its fold: the deltas are rows, and
//! the next fold of any process folds them. Readers that must see a vote in the counters wait for
//! its ticket ([`VoteCounts::wait`], [`VoteCounts::caught_up`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel_async::AsyncPgConnection;
use tokio::sync::{Notify, watch};

use crate::awards::VoteChange;
use crate::{Result, db};

/// How long a reader waits for a fold before it answers with the counters as they are: a fold
/// that cannot run (PostgreSQL unreachable) must not hang every reader with it.
pub const READ_WAIT: Duration = Duration::from_secs(2);

/// A committed vote change, in the order this process acknowledged them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

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

/// Committed deltas no fold has folded yet (0 at rest: every process folds what it committed
/// within `VOTE_FOLD_INTERVAL_MS`).
pub async fn unfolded(conn: &mut AsyncPgConnection) -> Result<i64> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    Ok(crate::tables::vote_count_deltas::table
        .count()
        .get_result(conn)
        .await?)
}

/// One per process; see the module documentation.
pub struct VoteCounts {
    /// Tickets handed out, each after its change committed.
    issued: AtomicU64,
    /// Every ticket up to this one is covered by a finished fold.
    settled: watch::Sender<u64>,
    /// Wakes the fold loop; holds a permit when a change arrives while it is busy.
    pending: Notify,
    /// Changes to announce once folded, handed to the fold that covers them.
    unannounced: std::sync::Mutex<Vec<VoteChange>>,
}

impl Default for VoteCounts {
    fn default() -> VoteCounts {
        VoteCounts {
            issued: AtomicU64::new(0),
            settled: watch::Sender::new(0),
            pending: Notify::new(),
            unannounced: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl VoteCounts {
    pub fn new() -> VoteCounts {
        VoteCounts::default()
    }

    /// Call after committing a vote change. `announce` is a change whose new counts should be
    /// published once folded.
    pub fn committed(&self, announce: Option<VoteChange>) -> Ticket {
        if let Some(change) = announce {
            self.unannounced().push(change);
        }
        let ticket = Ticket(self.issued.fetch_add(1, Ordering::SeqCst) + 1);
        self.pending.notify_one();
        ticket
    }

    /// Returns once the counters include the change of `ticket`, or after [`READ_WAIT`].
    pub async fn wait(&self, ticket: Ticket) {
        let mut settled = self.settled.subscribe();
        let folded = settled.wait_for(|s| *s >= ticket.0);
        if tokio::time::timeout(READ_WAIT, folded).await.is_err() {
            tracing::warn!("vote counters: no fold within {READ_WAIT:?}; answering without it");
        }
    }

    /// `wait` for every change this process has acknowledged so far; at once when none is
    /// waiting for a fold.
    pub async fn caught_up(&self) {
        if self.has_pending() {
            self.wait(Ticket(self.issued.load(Ordering::SeqCst))).await;
        }
    }

    /// Whether acknowledged changes wait for a fold.
    pub fn has_pending(&self) -> bool {
        *self.settled.borrow() < self.issued.load(Ordering::SeqCst)
    }

    /// Returns when changes wait for a fold (at once if some already do).
    pub async fn work(&self) {
        while !self.has_pending() {
            self.pending.notified().await;
        }
    }

    /// Folds every committed delta (this process's and any other's) and returns the changes to
    /// announce that it covered. On failure the changes stay queued for the next fold.
    pub async fn fold_pending(&self, pool: &db::Pool) -> Result<Vec<VoteChange>> {
        // Every ticket issued so far belongs to a commit that precedes this fold's snapshot,
        // and every change announced with such a ticket is queued by now.
        let covered = self.issued.load(Ordering::SeqCst);
        let changes = std::mem::take(&mut *self.unannounced());
        let folded = match pool.get().await {
            Ok(mut conn) => fold_alone(&mut conn).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = folded {
            self.unannounced().extend(changes);
            return Err(e);
        }
        self.settled.send_if_modified(|s| {
            let moved = covered > *s;
            *s = (*s).max(covered);
            moved
        });
        Ok(changes)
    }

    fn unannounced(&self) -> std::sync::MutexGuard<'_, Vec<VoteChange>> {
        self.unannounced.lock().unwrap_or_else(|e| e.into_inner())
    }
}
