//! Live vote counts across api processes: castVote publishes to Redis after commit; each process
//! holds one pattern subscription and fans messages out to its own WebSocket subscribers through
//! a broadcast channel per category, so Redis sees one subscriber per process, not per client.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use birgemiz_schema::awards::{self, VoteChange};
use birgemiz_schema::db;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

/// One nomination's count and its category's total, as read after a committed change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountMessage {
    pub category_id: i64,
    pub nomination_id: i64,
    pub vote_count: i32,
    pub category_vote_count: i32,
    /// When the counts were read: messages of racing votes can arrive out of order, and a
    /// subscriber drops one older than what it already showed for that nomination.
    pub read_at: DateTime<Utc>,
}

/// Slow subscribers lose the oldest messages rather than hold memory; counts are absolute, so
/// the next message repairs what was skipped.
const CHANNEL_CAPACITY: usize = 256;

pub struct LiveCounts {
    namespace: String,
    channels: Mutex<HashMap<i64, broadcast::Sender<CountMessage>>>,
    /// Set at shutdown: every subscription stream ends (its client gets `complete`).
    stopping: watch::Sender<bool>,
}

/// The longest wait between two reconnects: a client sees counts again within about a second
/// of Redis returning.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

fn pattern(namespace: &str) -> String {
    format!("{namespace}:votes:*")
}

fn channel(namespace: &str, category_id: i64) -> String {
    format!("{namespace}:votes:{category_id}")
}

impl LiveCounts {
    /// Starts the process's Redis subscriber; it reconnects on its own after a Redis outage.
    pub fn start(redis_url: &str, namespace: &str, pool: db::Pool) -> Arc<LiveCounts> {
        let hub = Arc::new(LiveCounts {
            namespace: namespace.to_owned(),
            channels: Mutex::new(HashMap::new()),
            stopping: watch::channel(false).0,
        });
        let (url, weak) = (redis_url.to_owned(), Arc::downgrade(&hub));
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            let mut first = true;
            loop {
                let Some(hub) = weak.upgrade() else { return };
                match hub.listen(&url, &pool, !first).await {
                    Ok(()) => backoff = Duration::from_millis(100),
                    Err(e) => tracing::warn!(error = %e, "live counts subscriber: reconnecting"),
                }
                first = false;
                drop(hub);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
        hub
    }

    /// Ends every subscription stream (shutdown).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once [`LiveCounts::stop`] was called.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.stopping.subscribe();
        async move {
            // An error means the hub is gone: nothing will publish any more either.
            if rx.wait_for(|stop| *stop).await.is_err() {
                tracing::debug!("live counts hub dropped");
            }
        }
    }

    async fn listen(&self, url: &str, pool: &db::Pool, again: bool) -> redis::RedisResult<()> {
        let client = redis::Client::open(url)?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.psubscribe(pattern(&self.namespace)).await?;
        let mut messages = pubsub.on_message();
        if again {
            // Counts published while the subscription was down are lost: send subscribers the
            // current ones, so none shows a stale count once Redis is back.
            self.resend(pool).await;
        }
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<CountMessage>(&payload) {
                Ok(m) => self.dispatch(m),
                Err(e) => tracing::warn!(error = %e, "live counts: bad message"),
            }
        }
        Ok(())
    }

    fn dispatch(&self, m: CountMessage) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = channels.get(&m.category_id) {
            if tx.receiver_count() == 0 {
                channels.remove(&m.category_id);
            } else {
                // An error only means the last receiver left meanwhile.
                tx.send(m).ok();
            }
        }
    }

    /// Reads and dispatches the current counts of every category with subscribers here.
    async fn resend(&self, pool: &db::Pool) {
        let categories: Vec<i64> = {
            let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
            channels
                .iter()
                .filter(|(_, tx)| tx.receiver_count() > 0)
                .map(|(id, _)| *id)
                .collect()
        };
        if categories.is_empty() {
            return;
        }
        let read_at = Utc::now();
        let rows = match pool.get().await {
            Ok(mut conn) => awards::category_counts(&mut conn, &categories).await,
            Err(e) => Err(e.into()),
        };
        match rows {
            Ok(rows) => {
                tracing::info!(
                    categories = categories.len(),
                    "live counts: resubscribed; current counts sent"
                );
                for r in rows {
                    self.dispatch(CountMessage {
                        category_id: r.category_id,
                        nomination_id: r.nomination_id,
                        vote_count: r.vote_count,
                        category_vote_count: r.category_vote_count,
                        read_at,
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "live counts: could not resend current counts"),
        }
    }

    pub fn subscribe(&self, category_id: i64) -> broadcast::Receiver<CountMessage> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(category_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// After the counters include `changes`: reads the counts they touched and publishes them,
    /// each nomination once however many of the changes touched it. Failures are logged, not
    /// returned: the votes stand, and the next change republishes absolute counts.
    pub async fn publish(
        &self,
        pool: &db::Pool,
        redis: &ConnectionManager,
        changes: &[VoteChange],
    ) {
        if changes.is_empty() {
            return;
        }
        if let Err(e) = self.try_publish(pool, redis, changes).await {
            tracing::warn!(error = %e, "live counts: publish failed");
        }
    }

    async fn try_publish(
        &self,
        pool: &db::Pool,
        redis: &ConnectionManager,
        changes: &[VoteChange],
    ) -> birgemiz_schema::Result<()> {
        let ids: BTreeSet<i64> = changes
            .iter()
            .flat_map(|c| c.from.into_iter().chain(c.to))
            .collect();
        let ids: Vec<i64> = ids.into_iter().collect();
        let read_at = Utc::now();
        let rows = awards::counts(&mut *pool.get().await?, &ids).await?;
        let mut pipe = redis::pipe();
        for r in rows {
            let m = CountMessage {
                category_id: r.category_id,
                nomination_id: r.nomination_id,
                vote_count: r.vote_count,
                category_vote_count: r.category_vote_count,
                read_at,
            };
            let payload = serde_json::to_string(&m)
                .map_err(|e| birgemiz_schema::Error::Internal(e.to_string()))?;
            pipe.cmd("PUBLISH")
                .arg(channel(&self.namespace, r.category_id))
                .arg(payload)
                .ignore();
        }
        pipe.query_async::<()>(&mut redis.clone()).await?;
        Ok(())
    }
}
