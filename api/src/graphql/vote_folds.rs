//! The process's fold loop: folds the vote counters after votes commit, at most once per
//! `VOTE_FOLD_INTERVAL_MS`, and publishes the live counts each fold changed (see
//! `birgemiz_schema::vote_counts`). It is driven by votes, not by a clock: an idle process
//! sleeps on its notification.

use std::sync::Arc;
use std::time::Duration;

use birgemiz_schema::db;
use birgemiz_schema::vote_counts::VoteCounts;
use redis::aio::ConnectionManager;

use super::live_counts::LiveCounts;

/// After a failed fold (PostgreSQL unreachable): the deltas wait in the table meanwhile.
const RETRY_AFTER: Duration = Duration::from_millis(500);

pub fn start(
    counts: Arc<VoteCounts>,
    pool: db::Pool,
    redis: ConnectionManager,
    hub: Arc<LiveCounts>,
    interval: Duration,
) {
    // One fold at start: deltas a process that stopped between a commit and its fold left.
    counts.committed(None);
    tokio::spawn(async move {
        loop {
            counts.work().await;
            fold_once(&counts, &pool, &redis, &hub).await;
            tokio::time::sleep(interval).await;
        }
    });
}

/// Folds what is pending and publishes it; on failure waits before the loop tries again.
pub async fn fold_once(
    counts: &VoteCounts,
    pool: &db::Pool,
    redis: &ConnectionManager,
    hub: &LiveCounts,
) {
    match counts.fold_pending(pool).await {
        Ok(changes) => hub.publish(pool, redis, &changes).await,
        Err(e) => {
            tracing::warn!(error = %e, "vote counters: fold failed; retrying");
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }
}
