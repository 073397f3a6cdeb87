//! The GraphQL schema. `build_schema` is separate from serving, so the SDL can be printed and
//! checked without a database (`sdl`).

pub mod award_loaders;
pub mod award_subscription;
pub mod awards;
pub mod context;
pub mod errors;
pub mod ids;
pub mod live_counts;
pub mod pagination;
mod rate_limit;
mod stats;
mod viewer;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, SchemaBuilder};
use birgemiz_schema::config::Config;
use birgemiz_schema::db;
use redis::aio::ConnectionManager;

pub use context::RequestContext;
pub use errors::{ApiError, ApiResult};

#[derive(MergedObject, Default)]
pub struct Query(stats::StatsQuery, viewer::ViewerQuery, awards::AwardsQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(viewer::ViewerMutation, awards::AwardsMutation);

pub type Subscription = award_subscription::AwardsSubscription;

pub type BirgemizSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

/// The schema with its process-wide data; per-request data (viewer, locale) is added per request.
pub fn build_schema(
    config: Arc<Config>,
    pool: db::Pool,
    redis: ConnectionManager,
) -> BirgemizSchema {
    let mut b = builder();
    if config.is_production() {
        b = b.disable_introspection().disable_suggestions();
    }
    let live_counts = live_counts::LiveCounts::start(&config.redis_url, &config.redis_namespace);
    b.data(award_loaders::loader(pool.clone()))
        .data(live_counts)
        .data(config)
        .data(pool)
        .data(redis)
        .finish()
}

/// The SDL exactly as served (printed by `print-schema`, snapshotted in api/schema.graphql).
pub fn sdl() -> String {
    builder().finish().sdl()
}
