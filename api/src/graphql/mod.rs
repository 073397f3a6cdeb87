//! The GraphQL schema. `build_schema` is separate from serving, so the SDL can be printed and
//! checked without a database (`sdl`).

mod accounts;
pub mod award_loaders;
pub mod award_subscription;
pub mod awards;
pub mod common;
pub mod completion;
pub mod context;
pub mod cost;
mod email_subscriptions;
pub mod errors;
pub mod ids;
pub mod integrity;
pub mod json;
pub mod juries;
pub mod live_counts;
pub mod loaders;
mod node;
mod organizations;
pub mod pagination;
mod places;
pub mod plain_fields;
mod posts;
mod projects;
pub mod rate_limit;
pub mod reads;
mod search;
mod stats;
mod viewer;
pub mod vote_folds;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, SchemaBuilder, ValidationMode};
use birgemiz_schema::config::Config;
use birgemiz_schema::db;
use birgemiz_schema::vote_counts::VoteCounts;
use redis::aio::ConnectionManager;

pub use context::RequestContext;
pub use errors::{ApiError, ApiResult};

#[derive(MergedObject, Default)]
pub struct Query(
    stats::StatsQuery,
    viewer::ViewerQuery,
    email_subscriptions::EmailQuery,
    node::NodeQuery,
    organizations::OrganizationQuery,
    projects::ProjectQuery,
    posts::PostQuery,
    search::SearchQuery,
    awards::AwardsQuery,
    places::PlaceQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    viewer::ViewerMutation,
    accounts::AccountMutation,
    organizations::OrganizationMutation,
    projects::ProjectMutation,
    posts::PostMutation,
    email_subscriptions::EmailMutation,
    awards::AwardsMutation,
    juries::JuryMutation,
    integrity::IntegrityMutation,
);

pub type Subscription = award_subscription::AwardsSubscription;

pub type BirgemizSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    use crate::http::limits;
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    // Depth and cost are checked before execution by our own walks (`http::limits`, `cost`),
    // which also count introspection and multiply lists by their length.
    .limit_directives(limits::MAX_DIRECTIVES)
    // Types reachable only through the Node interface must still be in the schema.
    .register_output_type::<node::Node>()
}

/// The schema twice over, with the same process-wide data: `strict` validates every document
/// it is given; `fast` runs only the checks that can come out differently for the same document
/// (its cost and depth limits, fragment cycles) and serves documents `strict` has already
/// accepted without variables, whose validation can only come out the same again (the rules
/// read nothing but the document and the schema, and variable values only when there are
/// some). Validation otherwise runs in full on every request, for a document that cannot come
/// out differently.
#[derive(Clone)]
pub struct Schemas {
    pub strict: BirgemizSchema,
    pub fast: BirgemizSchema,
    /// The types both serve, for what reads the document beside the executor (`completion`).
    pub registry: Arc<async_graphql::registry::Registry>,
}

/// The schemas with their process-wide data; per-request data (viewer, locale) is added per request.
pub fn build_schema(
    config: Arc<Config>,
    pool: db::Pool,
    redis: ConnectionManager,
    vote_counts: Arc<VoteCounts>,
    live_counts: Arc<live_counts::LiveCounts>,
) -> Schemas {
    vote_folds::start(
        vote_counts.clone(),
        pool.clone(),
        redis.clone(),
        live_counts.clone(),
        config.vote_fold_interval,
    );
    let build = |mode: ValidationMode| {
        let mut b = builder().validation_mode(mode);
        if config.is_production() {
            b = b.disable_introspection().disable_suggestions();
        }
        // The HTTP handler gives each request its own loaders; these serve the rest (WebSocket).
        b.data(award_loaders::uncached(
            pool.clone(),
            config.dataloader_delay,
        ))
        .data(juries::uncached(pool.clone(), config.dataloader_delay))
        .data(live_counts.clone())
        .data(vote_counts.clone())
        .data(loaders::uncached(pool.clone(), config.dataloader_delay))
        .data(config.clone())
        .data(reads::ReadSource::Pool(pool.clone()))
        .data(pool.clone())
        .data(redis.clone())
        .finish()
    };
    Schemas {
        strict: build(ValidationMode::Strict),
        fast: build(ValidationMode::Fast),
        registry: Arc::new(completion::registry()),
    }
}

/// The SDL exactly as served (printed by `print-schema`, snapshotted in api/schema.graphql).
pub fn sdl() -> String {
    builder().finish().sdl()
}
