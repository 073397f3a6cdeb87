//! Queries.

use super::*;

#[derive(InputObject, Default)]
pub struct AwardFilter {
    year: Option<i32>,
    phase: Option<AwardPhase>,
    country: Option<String>,
}

#[derive(Default)]
pub struct AwardsQuery;

#[Object]
impl AwardsQuery {
    async fn awards(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AwardFilter>,
    ) -> ApiResult<Connection<Award>> {
        let args = page_args::<models::Award>(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let filter = domain::AwardFilter {
            year: filter.year,
            phase: filter.phase.map(Phase::from),
            country: filter
                .country
                .as_deref()
                .map(|c| domain::normalize_country("filter.country", c))
                .transpose()?,
        };
        let page = domain::list(&*ctx.read().await?, &filter, now(), &args).await?;
        Ok(connection(ctx, page, &args, |a| Award(Arc::new(a))))
    }

    async fn award(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Option<Award>> {
        if ctx.look_ahead().field("categories").exists() {
            let found = domain::award_with_categories(&*ctx.read().await?, slug.trim()).await?;
            let Some((award, categories)) = found else {
                return Ok(None);
            };
            // `categories` below reads them from the request's cache instead of a second query.
            loaders::get(ctx)
                .feed_one(CategoriesOf(award.id), categories)
                .await;
            return Ok(Some(Award(Arc::new(award))));
        }
        let a = award_reads::award_by_slug(&*ctx.read().await?, slug.trim()).await?;
        Ok(a.map(|a| Award(Arc::new(a))))
    }
}
