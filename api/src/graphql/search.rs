//! `Query.search`: ranked hits over published organizations, projects and posts.

use async_graphql::{Context, Object, Union};
use birgemiz_schema::search::{self, HitKind};

use super::common::whole_rows_page_args;
use super::context::ContextExt;
use super::errors::ApiResult;
use super::loaders::{self, OrgKey, PostKey, ProjectKey};
use super::organizations::Organization;
use super::pagination::{Connection, Edge, PageInfo, encode_cursor};
use super::plain_fields::{Nodes, PlainFields};
use super::posts::Post;
use super::projects::Project;

#[derive(Union, Clone)]
pub enum SearchResult {
    Organization(Organization),
    Project(Project),
    Post(Post),
}

impl PlainFields for SearchResult {}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Full-text search over published organizations, projects and posts, in any of the three languages.
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<SearchResult>> {
        let args = whole_rows_page_args(ctx, first, after)?;
        let (mut hits, total) = search::search(&*ctx.read().await?, &query, &args).await?;
        let has_next_page = hits.len() as i64 > args.first;
        hits.truncate(args.first as usize);
        let ids = |k: HitKind| hits.iter().filter(move |h| h.kind == k).map(|h| h.id);
        let loader = loaders::loader(ctx);
        let (orgs, projects, posts) = futures_util::try_join!(
            loader.load_many(ids(HitKind::Organization).map(OrgKey)),
            loader.load_many(ids(HitKind::Project).map(ProjectKey)),
            loader.load_many(ids(HitKind::Post).map(PostKey)),
        )?;
        let edges: Vec<Edge<SearchResult>> = hits
            .iter()
            .filter_map(|h| {
                let node = match h.kind {
                    HitKind::Organization => {
                        SearchResult::Organization(Organization(orgs.get(&OrgKey(h.id))?.clone()))
                    }
                    HitKind::Project => {
                        SearchResult::Project(Project(projects.get(&ProjectKey(h.id))?.clone()))
                    }
                    HitKind::Post => SearchResult::Post(Post(posts.get(&PostKey(h.id))?.clone())),
                };
                Some(Edge {
                    cursor: encode_cursor(&h.cursor),
                    node,
                })
            })
            .collect();
        Ok(Connection {
            page_info: PageInfo {
                has_next_page,
                has_previous_page: args.after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            nodes: Nodes(edges.iter().map(|e| e.node.clone()).collect()),
            edges,
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
        })
    }
}
