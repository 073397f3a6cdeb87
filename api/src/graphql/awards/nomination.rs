//! Nomination.

use super::*;

/// A nomination, with its award when it was listed under its category (the award is then read
/// once per category instead of once per nomination).
#[derive(Clone)]
pub struct Nomination(
    pub models::Nomination,
    pub(crate) Option<Arc<models::Award>>,
);

impl From<models::Nomination> for Nomination {
    fn from(row: models::Nomination) -> Self {
        Nomination(row, None)
    }
}

impl Nomination {
    fn visible_to(&self, viewer: Option<&Viewer>) -> bool {
        access::may_see_nomination(viewer, &self.0)
    }
    fn is_submitter_or_admin(&self, ctx: &Context<'_>) -> bool {
        access::is_submitter_or_admin(ctx.viewer(), &self.0)
    }
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Nomination>> {
        Ok(loaders::get(ctx)
            .load_one(NominationId(id))
            .await?
            .map(Nomination::from)
            .filter(|n| n.visible_to(ctx.viewer())))
    }
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Nomination>>> {
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| NominationId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| {
                found
                    .get(&NominationId(*i))
                    .cloned()
                    .map(Nomination::from)
                    .filter(|n| n.visible_to(ctx.viewer()))
            })
            .collect())
    }
}

// The resolvers below that read only the row, the request and (for `voteCount`) the award,
// which the request has loaded already unless it is the first to need it.
plain_fields!(Nomination {
    "id" => id,
    "nomineeName" => nominee_name,
    "nomineeKind" => nominee_kind,
    "statement" => statement,
    "country" => country,
    "region" => region,
    "status" => status,
    "voteCount" => vote_count,
    "moderationNote" => moderation_note,
    "createdAt" => created_at,
});

#[Object]
impl Nomination {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Nomination, self.0.id)
    }
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<AwardCategory> {
        load_category(ctx, self.0.category_id)
            .await?
            .map(AwardCategory)
            .ok_or_else(|| Error::NotFound("award category").into())
    }
    async fn nominee_name(&self) -> &str {
        &self.0.nominee_name
    }
    async fn nominee_kind(&self) -> NomineeKind {
        domain::NomineeKind::parse(&self.0.nominee_kind).map_or(NomineeKind::Person, Into::into)
    }
    /// The nominated project, when it is one on the platform; null if it is not visible to the
    /// viewer (a draft), as everywhere else.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let Some(id) = self.0.project_id else {
            return Ok(None);
        };
        let Some(p) = app_loaders::loader(ctx).load_one(ProjectKey(id)).await? else {
            return Ok(None);
        };
        Ok(projects::visible(ctx, &p).await?.then_some(Project(p)))
    }
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(app_loaders::loader(ctx)
            .load_one(OrgKey(id))
            .await?
            .map(Organization))
    }
    /// Why this nominee deserves the award.
    async fn statement(&self) -> &str {
        &self.0.statement
    }
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn status(&self) -> NominationStatus {
        domain::NominationStatus::parse(&self.0.status)
            .map_or(NominationStatus::Pending, Into::into)
    }
    /// Null while counts are hidden.
    async fn vote_count(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        let award = match &self.1 {
            Some(award) => award.clone(),
            None => award_of_category(ctx, self.0.category_id).await?,
        };
        let visible = category_counts_visible(ctx, &award, self.0.category_id, None).await?;
        Ok(visible.then_some(self.0.vote_count))
    }
    /// Submitter; visible to the submitter and admins only.
    async fn submitted_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let (true, Some(id)) = (self.is_submitter_or_admin(ctx), self.0.submitted_by) else {
            return Ok(None);
        };
        Ok(loaders::get(ctx)
            .load_one(loaders::UserId(id))
            .await?
            .map(User))
    }
    /// Visible to the submitter and admins only.
    async fn moderation_note(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.is_submitter_or_admin(ctx) {
            self.0.moderation_note.as_deref()
        } else {
            None
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Ties share a rank. `share` is the fraction (0–1) of the category's votes; 0 when there are none.
#[derive(SimpleObject, Clone)]
pub struct NominationResult {
    pub(crate) rank: i32,
    pub(crate) nomination: Nomination,
    pub(crate) vote_count: i32,
    pub(crate) share: f64,
}

// ───────────── User.votes / User.nominations (resolved from viewer.rs) ─────────────

pub async fn user_votes(ctx: &Context<'_>, user_id: i64) -> ApiResult<Option<Vec<Vote>>> {
    if !access::may_see_votes_of(ctx.viewer(), user_id) {
        return Ok(None);
    }
    Ok(Some(
        loaders::get(ctx)
            .load_one(loaders::VotesOf(user_id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Vote)
            .collect(),
    ))
}

pub async fn user_nominations(
    ctx: &Context<'_>,
    user_id: i64,
    first: Option<i32>,
    after: Option<String>,
    status: Option<NominationStatus>,
) -> ApiResult<Option<Connection<Nomination>>> {
    if !access::may_see_nominations_of(ctx.viewer(), user_id) {
        return Ok(None);
    }
    nomination_page(
        ctx,
        NominationScope::Submitter(user_id),
        status.map(|s| s.as_str()),
        first,
        after,
    )
    .await
    .map(Some)
}

// ───────────── nomination pages ─────────────

pub(crate) async fn nomination_page(
    ctx: &Context<'_>,
    scope: NominationScope,
    status: Option<&str>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<Nomination>> {
    let args = page_args::<models::Nomination>(ctx, first, after)?;
    let page = domain::nominations_in(&*ctx.read().await?, scope, status, &args).await?;
    Ok(connection(ctx, page, &args, Nomination::from))
}
