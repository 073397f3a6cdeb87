//! Vote.

use super::*;

/// A user's vote in one category; it keeps its id when moved to another nomination.
#[derive(Clone)]
pub struct Vote(pub models::Vote);

impl Vote {
    /// A vote is its voter's alone: null for everyone else, admins included.
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Vote>> {
        Ok(Self::load_by_ids(ctx, &[id]).await?.pop().flatten())
    }
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Vote>>> {
        let Some(viewer) = ctx.viewer().map(|v| v.user_id) else {
            return Ok(ids.iter().map(|_| None).collect());
        };
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| loaders::VoteId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| {
                found
                    .get(&loaders::VoteId(*i))
                    .filter(|v| v.user_id == viewer)
                    .cloned()
                    .map(Vote)
            })
            .collect())
    }
}

#[Object]
impl Vote {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Vote, self.0.id)
    }
    async fn nomination(&self, ctx: &Context<'_>) -> ApiResult<Nomination> {
        loaders::get(ctx)
            .load_one(NominationId(self.0.nomination_id))
            .await?
            .map(Nomination::from)
            .ok_or_else(|| Error::NotFound("nomination").into())
    }
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<AwardCategory> {
        load_category(ctx, self.0.category_id)
            .await?
            .map(AwardCategory)
            .ok_or_else(|| Error::NotFound("award category").into())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
