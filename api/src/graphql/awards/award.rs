//! Award.

use super::*;

#[derive(Clone)]
pub struct Award(pub Arc<models::Award>);

impl PlainFields for Award {}

impl Award {
    /// For `node(id:)`: awards are public.
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Award>> {
        Ok(load_award(ctx, id).await?.map(Award))
    }
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Award>>> {
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| AwardId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| found.get(&AwardId(*i)).cloned().map(Award))
            .collect())
    }
}

#[Object]
impl Award {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Award, self.0.id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// e.g. Volunteer of the Year 2020
    async fn title(&self, ctx: &Context<'_>) -> String {
        localized_or_empty(ctx, &self.0.title)
    }
    #[graphql(name = "titleI18n")]
    async fn title_i18n(&self) -> LocalizedTextGql {
        (&self.0.title).into()
    }
    async fn description(&self, ctx: &Context<'_>) -> Option<String> {
        localized(ctx, &self.0.description)
    }
    #[graphql(name = "descriptionI18n")]
    async fn description_i18n(&self) -> LocalizedTextGql {
        (&self.0.description).into()
    }
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Countries whose people and projects may be nominated, ISO 3166-1 alpha-2.
    async fn countries(&self) -> Vec<String> {
        self.0.countries.iter().flatten().cloned().collect()
    }
    async fn nomination_opens_at(&self) -> DateTime<Utc> {
        self.0.nomination_opens_at
    }
    async fn nomination_closes_at(&self) -> DateTime<Utc> {
        self.0.nomination_closes_at
    }
    async fn voting_opens_at(&self) -> DateTime<Utc> {
        self.0.voting_opens_at
    }
    async fn voting_closes_at(&self) -> DateTime<Utc> {
        self.0.voting_closes_at
    }
    async fn results_published_at(&self) -> Option<DateTime<Utc>> {
        self.0.results_published_at
    }
    async fn phase(&self) -> AwardPhase {
        domain::award_phase(&self.0, now()).into()
    }
    /// Whether vote counts are public while voting is open (otherwise only after results).
    async fn live_counts(&self) -> bool {
        self.0.live_counts
    }
    async fn categories(&self, ctx: &Context<'_>) -> ApiResult<Vec<AwardCategory>> {
        let loader = loaders::get(ctx);
        let categories: Vec<Arc<models::AwardCategory>> = loader
            .load_one(CategoriesOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Arc::new)
            .collect();
        // Their nominations' counts ask for the category and award again: answer from the cache.
        loader.feed_one(AwardId(self.0.id), self.0.clone()).await;
        loader
            .feed_many(categories.iter().map(|c| (CategoryId(c.id), c.clone())))
            .await;
        Ok(categories.into_iter().map(AwardCategory).collect())
    }
    async fn formula(&self, ctx: &Context<'_>) -> ApiResult<crate::graphql::juries::ResultFormula> {
        crate::graphql::juries::award_formula(ctx, self.0.id).await
    }
    async fn criteria(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::graphql::juries::JudgingCriterion>> {
        crate::graphql::juries::award_criteria(ctx, self.0.id).await
    }
    /// Admins only, null otherwise.
    async fn jurors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<crate::graphql::juries::Juror>>> {
        crate::graphql::juries::award_jurors(ctx, self.0.id, first, after).await
    }
    /// Admins only, null otherwise; available once voting has opened.
    async fn integrity_report(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::integrity::VoteIntegrityReport>> {
        crate::graphql::integrity::award_report(ctx, &self.0).await
    }
    /// Null until the results are frozen; public from then on.
    async fn result_snapshot(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::juries::ResultSnapshot>> {
        crate::graphql::juries::award_snapshot(ctx, self.0.id).await
    }
    /// Admins only, null otherwise: nominations of every category, for the moderation queue.
    async fn nominations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<NominationStatus>,
    ) -> ApiResult<Option<Connection<Nomination>>> {
        if !ctx.is_admin() {
            return Ok(None);
        }
        nomination_page(
            ctx,
            NominationScope::Award(self.0.id),
            status.map(|s| s.as_str()),
            first,
            after,
        )
        .await
        .map(Some)
    }
}
