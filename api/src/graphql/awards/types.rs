//! Shared GraphQL types.

use super::*;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::awards::Phase")]
pub enum AwardPhase {
    Upcoming,
    Nomination,
    Review,
    Voting,
    Closed,
    Results,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::awards::NomineeKind")]
pub enum NomineeKind {
    Person,
    Project,
    Organization,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::awards::NominationStatus")]
pub enum NominationStatus {
    Pending,
    Approved,
    Rejected,
    Withdrawn,
}

impl NominationStatus {
    pub(crate) fn as_str(self) -> &'static str {
        domain::NominationStatus::from(self).as_str()
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NominationOrder {
    Newest,
    MostVotes,
    Name,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ModerationDecision {
    Approve,
    Reject,
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Nominating and voting need a verified email.
pub(crate) fn require_verified<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Viewer> {
    let v = ctx.require_viewer()?;
    if !v.email_verified {
        return Err(Error::forbidden("verify your email address first").into());
    }
    Ok(v)
}

pub(crate) fn require_admin<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Viewer> {
    Ok(access::require_admin(ctx.viewer())?)
}

pub(crate) async fn load_award(
    ctx: &Context<'_>,
    id: i64,
) -> ApiResult<Option<Arc<models::Award>>> {
    loaders::get(ctx).load_one(AwardId(id)).await
}

pub(crate) async fn load_category(
    ctx: &Context<'_>,
    id: i64,
) -> ApiResult<Option<Arc<models::AwardCategory>>> {
    loaders::get(ctx).load_one(CategoryId(id)).await
}

pub(crate) async fn award_of_category(
    ctx: &Context<'_>,
    category_id: i64,
) -> ApiResult<Arc<models::Award>> {
    let c = load_category(ctx, category_id)
        .await?
        .ok_or(Error::NotFound("award category"))?;
    load_award(ctx, c.award_id)
        .await?
        .ok_or_else(|| Error::NotFound("award").into())
}

/// Whether the counts of category `category_id` (`votes` of them when already at hand) may be
/// shown: `domain::category_counts_visible` with the configured minimum.
pub(crate) async fn category_counts_visible(
    ctx: &Context<'_>,
    award: &models::Award,
    category_id: i64,
    votes: Option<i32>,
) -> ApiResult<bool> {
    if !domain::counts_visible(award) {
        return Ok(false);
    }
    let votes = match votes {
        Some(v) => v,
        None => {
            load_category(ctx, category_id)
                .await?
                .ok_or(Error::NotFound("award category"))?
                .vote_count
        }
    };
    let min = ctx.config().live_counts_min_votes;
    Ok(domain::category_counts_visible(award, votes, min))
}
