//! AwardCategory.

use super::*;

#[derive(Clone)]
pub struct AwardCategory(pub Arc<models::AwardCategory>);

impl AwardCategory {
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<AwardCategory>> {
        Ok(load_category(ctx, id).await?.map(AwardCategory))
    }
    pub async fn load_by_ids(
        ctx: &Context<'_>,
        ids: &[i64],
    ) -> ApiResult<Vec<Option<AwardCategory>>> {
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| CategoryId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| found.get(&CategoryId(*i)).cloned().map(AwardCategory))
            .collect())
    }
}

#[Object]
impl AwardCategory {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::AwardCategory, self.0.id)
    }
    async fn award(&self, ctx: &Context<'_>) -> ApiResult<Award> {
        load_award(ctx, self.0.award_id)
            .await?
            .map(Award)
            .ok_or_else(|| Error::NotFound("award").into())
    }
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
    /// Approved nominations for everyone; other statuses (via `status`) for admins only
    /// (FORBIDDEN otherwise). The default order is NAME; MOST_VOTES while counts are hidden
    /// orders by NAME too (the order would tell the counts) and says so in the response's
    /// `extensions.warnings` (code ORDER_BY_NAME_WHILE_COUNTS_HIDDEN).
    async fn nominations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<NominationOrder>,
        status: Option<NominationStatus>,
    ) -> ApiResult<Connection<Nomination>> {
        let status = status.unwrap_or(NominationStatus::Approved);
        if status != NominationStatus::Approved && !ctx.is_admin() {
            return Err(
                Error::forbidden("only admins see nominations that are not approved").into(),
            );
        }
        let order = order_by.unwrap_or(NominationOrder::Name);
        let award = award_of_category(ctx, self.0.id).await?;
        // Hidden counts keep the order hidden too, without failing the page: by NAME, and the
        // response says so.
        let order = if order == NominationOrder::MostVotes
            && !category_counts_visible(ctx, &award, self.0.id, Some(self.0.vote_count)).await?
        {
            ctx.warn(
                "ORDER_BY_NAME_WHILE_COUNTS_HIDDEN",
                "MOST_VOTES is available once counts are public; ordered by NAME",
            );
            NominationOrder::Name
        } else {
            order
        };
        let order = match order {
            NominationOrder::Name => domain::NOMINATIONS_BY_NAME,
            NominationOrder::Newest => domain::NOMINATIONS_NEWEST,
            NominationOrder::MostVotes => domain::NOMINATIONS_MOST_VOTES,
        };
        let args = page_args::<models::Nomination>(ctx, first, after)?;
        let loader = loaders::get(ctx);
        let page = loader
            .load_one(loaders::NominationsIn {
                category_id: self.0.id,
                status: status.as_str(),
                order,
                args: args.clone(),
            })
            .await?
            .unwrap_or_default();
        // The cache shares the page, which would then be copied row by row into its nodes: the
        // first category back drops the cached pages of the batch, so the others own theirs (the
        // same page asked for twice in a request is rare, and is then read again).
        loader.clear::<loaders::NominationsIn>();
        let page = Arc::unwrap_or_clone(page);
        Ok(connection(ctx, page, &args, |n| {
            Nomination(n, Some(award.clone()))
        }))
    }
    /// The viewer's vote in this category, if any.
    async fn viewer_vote(&self, ctx: &Context<'_>) -> ApiResult<Option<Vote>> {
        let Some(v) = ctx.viewer() else {
            return Ok(None);
        };
        Ok(loaders::get(ctx)
            .load_one(loaders::VoteOf {
                user_id: v.user_id,
                category_id: self.0.id,
            })
            .await?
            .map(Vote))
    }
    /// Total votes in the category; null while counts are hidden.
    async fn vote_count(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        let award = award_of_category(ctx, self.0.id).await?;
        let visible =
            category_counts_visible(ctx, &award, self.0.id, Some(self.0.vote_count)).await?;
        Ok(visible.then_some(self.0.vote_count))
    }
    /// The final ranking (public vote and jury) once results are published; empty before.
    async fn final_results(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::graphql::juries::FinalResult>> {
        crate::graphql::juries::category_final_results(ctx, self.0.id).await
    }
    /// Ranked approved nominations; empty until results are published.
    async fn results(&self, ctx: &Context<'_>) -> ApiResult<Vec<NominationResult>> {
        let award = award_of_category(ctx, self.0.id).await?;
        if award.results_published_at.is_none() {
            return Ok(Vec::new());
        }
        let approved = loaders::get(ctx)
            .load_one(loaders::ApprovedIn(self.0.id))
            .await?
            .unwrap_or_default();
        let total = approved.iter().map(|n| i64::from(n.vote_count)).sum();
        Ok(domain::rank(
            approved,
            |n| n.vote_count,
            |n| (n.nominee_key.clone(), n.id),
            total,
        )
        .into_iter()
        .map(|r| NominationResult {
            rank: r.rank,
            vote_count: r.vote_count,
            share: r.share,
            nomination: Nomination::from(r.item),
        })
        .collect())
    }
}
