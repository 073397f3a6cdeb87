//! `Query.stats`: the front page's counters, read from maintained counters in one statement.

use async_graphql::{Context, Object, SimpleObject};
use birgemiz_schema::stats;

use super::context::ContextExt;
use super::errors::ApiResult;

#[derive(SimpleObject)]
pub struct PlatformStats {
    organization_count: i32,
    project_count: i32,
    volunteer_count: i32,
    application_count: i32,
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Counts for the front page: organizations, published projects, volunteers, applications.
    async fn stats(&self, ctx: &Context<'_>) -> ApiResult<PlatformStats> {
        let s = stats::platform(&*ctx.read().await?).await?;
        Ok(PlatformStats {
            organization_count: s.organizations,
            project_count: s.published_projects,
            volunteer_count: s.volunteers,
            application_count: s.applications,
        })
    }
}
