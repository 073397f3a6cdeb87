//! `Subscription.voteCounts`: live counts of a category over graphql-transport-ws.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, ID, SimpleObject, Subscription};
use birgemiz_schema::Error;
use birgemiz_schema::awards as domain;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

use super::awards::award_of_category;
use super::context::ContextExt;
use super::errors::ApiError;
use super::ids::{self, NodeType};
use super::live_counts::{CountMessage, LiveCounts};

/// IDs are the same global IDs as Nomination.id and AwardCategory.id.
#[derive(SimpleObject, Clone)]
pub struct VoteCountUpdate {
    nomination_id: ID,
    category_id: ID,
    vote_count: i32,
    category_vote_count: i32,
}

#[derive(Default)]
pub struct AwardsSubscription;

#[Subscription(name = "Subscription")]
impl AwardsSubscription {
    /// Live counts for one category while the award has liveCounts, across all API replicas;
    /// subscribing while counts are hidden is an error (FORBIDDEN).
    async fn vote_counts(
        &self,
        ctx: &Context<'_>,
        category_id: ID,
    ) -> Result<impl Stream<Item = VoteCountUpdate> + use<>, ApiError> {
        let id = ids::decode(NodeType::AwardCategory, &category_id, "categoryId")?;
        let award = award_of_category(ctx, id).await?;
        if !domain::counts_visible(&award) {
            return Err(Error::forbidden("vote counts of this award are not public").into());
        }
        let hub = ctx.data_unchecked::<Arc<LiveCounts>>();
        let rx = hub.subscribe(id);
        // At shutdown the stream ends, so the client gets `complete` rather than a cut socket.
        Ok(updates(rx, award, ctx.config().live_counts_min_votes).take_until(hub.stopped()))
    }
}

/// The category's messages as updates, dropping any older than one already sent for the same
/// nomination (racing votes publish out of order).
/// Counts of a category below the minimum are not sent (`domain::category_counts_visible`).
fn updates(
    rx: broadcast::Receiver<CountMessage>,
    award: Arc<birgemiz_schema::models::Award>,
    min_votes: i32,
) -> impl Stream<Item = VoteCountUpdate> {
    let seen: HashMap<i64, DateTime<Utc>> = HashMap::new();
    futures_util::stream::unfold((rx, seen), move |(mut rx, mut seen)| {
        let award = award.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(m) => {
                        if !domain::category_counts_visible(
                            &award,
                            m.category_vote_count,
                            min_votes,
                        ) {
                            continue;
                        }
                        if seen.get(&m.nomination_id).is_some_and(|t| *t > m.read_at) {
                            continue;
                        }
                        seen.insert(m.nomination_id, m.read_at);
                        let u = VoteCountUpdate {
                            nomination_id: ids::encode(NodeType::Nomination, m.nomination_id),
                            category_id: ids::encode(NodeType::AwardCategory, m.category_id),
                            vote_count: m.vote_count,
                            category_vote_count: m.category_vote_count,
                        };
                        return Some((u, (rx, seen)));
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
}
