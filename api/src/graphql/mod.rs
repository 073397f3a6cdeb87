//! The GraphQL schema. `build_schema` is separate from serving, so the SDL can be printed and
//! checked without a database (`sdl`).

mod accounts;
mod common;
pub mod context;
pub mod errors;
pub mod ids;
pub mod loaders;
mod node;
mod organizations;
pub mod pagination;
mod posts;
mod projects;
mod search;
mod stats;
mod viewer;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};
use birgemiz_schema::config::Config;
use birgemiz_schema::db;
use redis::aio::ConnectionManager;

pub use context::RequestContext;
pub use errors::{ApiError, ApiResult};

#[derive(MergedObject, Default)]
pub struct Query(
    stats::StatsQuery,
    viewer::ViewerQuery,
    node::NodeQuery,
    organizations::OrganizationQuery,
    projects::ProjectQuery,
    posts::PostQuery,
    search::SearchQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    viewer::ViewerMutation,
    accounts::AccountMutation,
    organizations::OrganizationMutation,
    projects::ProjectMutation,
    posts::PostMutation,
);

pub type BirgemizSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        // Types reachable only through the Node interface must still be in the schema.
        .register_output_type::<node::Node>()
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
    // The HTTP handler gives each request its own loader; this one serves the rest (WebSocket).
    let loader = loaders::uncached(pool.clone());
    b.data(config).data(pool).data(redis).data(loader).finish()
}

/// The SDL exactly as served (printed by `print-schema`, snapshotted in api/schema.graphql).
pub fn sdl() -> String {
    builder().finish().sdl()
}
