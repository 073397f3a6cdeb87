//! The Relay `Node` interface and `node`/`nodes`. `nodes` loads each type's ids in one batch
//! (the DataLoaders group them), then applies the same visibility rules as every other field:
//! a draft, or someone else's application, is null.

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface, Object};

use birgemiz_schema::digests;

use super::awards::{Award, AwardCategory, Nomination, Vote};
use super::context::ContextExt;
use super::email_subscriptions::{self, DigestRun};
use super::errors::{ApiResult, bad_input};
use super::ids::{self, NodeType};
use super::integrity::{self, IntegritySignal};
use super::juries::{self, JudgingCriterion, Juror, JuryScore};
use super::loaders::{self, ApplicationKey, OrgKey, PostKey, ProjectKey, UserKey};
use super::organizations::Organization;
use super::posts::{self, Post};
use super::projects::{self, Application, Project};
use super::viewer::User;

#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Organization(Organization),
    Project(Project),
    Application(Application),
    Post(Post),
    Award(Award),
    AwardCategory(AwardCategory),
    Nomination(Nomination),
    Vote(Vote),
    DigestRun(DigestRun),
    JudgingCriterion(JudgingCriterion),
    Juror(Juror),
    JuryScore(JuryScore),
    IntegritySignal(IntegritySignal),
}

/// Pairs ids with what a `load_by_ids` found for them (None: missing or hidden).
fn found<T>(ids: &[i64], rows: Vec<Option<T>>, wrap: impl Fn(T) -> Node) -> HashMap<i64, Node> {
    ids.iter()
        .zip(rows)
        .filter_map(|(id, row)| Some((*id, wrap(row?))))
        .collect()
}

/// Loads the given ids of one type, visible ones only.
async fn load_type(
    ctx: &Context<'_>,
    ty: NodeType,
    ids: Vec<i64>,
) -> ApiResult<HashMap<i64, Node>> {
    let loader = loaders::loader(ctx);
    let mut out = HashMap::new();
    match ty {
        NodeType::User => {
            // Only the person and admins find an account by its id: for anyone else it is null,
            // as if it did not exist, so ids can't be walked to list the accounts.
            for (k, u) in loader.load_many(ids.into_iter().map(UserKey)).await? {
                let user = User(u);
                if user.access(ctx).is_full() {
                    out.insert(k.0, Node::User(user));
                }
            }
        }
        NodeType::Organization => {
            for (k, o) in loader.load_many(ids.into_iter().map(OrgKey)).await? {
                out.insert(k.0, Node::Organization(Organization(o)));
            }
        }
        NodeType::Project => {
            for (k, p) in loader.load_many(ids.into_iter().map(ProjectKey)).await? {
                if projects::visible(ctx, &p).await? {
                    out.insert(k.0, Node::Project(Project(p)));
                }
            }
        }
        NodeType::Application => {
            for (k, a) in loader
                .load_many(ids.into_iter().map(ApplicationKey))
                .await?
            {
                if projects::application_visible(ctx, &a).await? {
                    out.insert(k.0, Node::Application(Application(a)));
                }
            }
        }
        NodeType::Post => {
            for (k, p) in loader.load_many(ids.into_iter().map(PostKey)).await? {
                if posts::visible(ctx, &p).await? {
                    out.insert(k.0, Node::Post(Post(p)));
                }
            }
        }
        NodeType::Award => {
            out = found(&ids, Award::load_by_ids(ctx, &ids).await?, Node::Award);
        }
        NodeType::AwardCategory => {
            let rows = AwardCategory::load_by_ids(ctx, &ids).await?;
            out = found(&ids, rows, Node::AwardCategory);
        }
        NodeType::Nomination => {
            let rows = Nomination::load_by_ids(ctx, &ids).await?;
            out = found(&ids, rows, Node::Nomination);
        }
        NodeType::Vote => {
            out = found(&ids, Vote::load_by_ids(ctx, &ids).await?, Node::Vote);
        }
        NodeType::JudgingCriterion => {
            // Criteria are public, like the formula they feed.
            let rows = juries::criteria_by_ids(ctx, &ids).await?;
            out = found(&ids, rows, Node::JudgingCriterion);
        }
        NodeType::Juror => {
            out = found(&ids, Juror::load_by_ids(ctx, &ids).await?, Node::Juror);
        }
        NodeType::JuryScore => {
            out = found(
                &ids,
                JuryScore::load_by_ids(ctx, &ids).await?,
                Node::JuryScore,
            );
        }
        NodeType::IntegritySignal => {
            let rows = integrity::signals_by_ids(ctx, &ids).await?;
            out = found(&ids, rows, Node::IntegritySignal);
        }
        NodeType::DigestRun => {
            // Admins only; for anyone else the ids are not even looked up.
            if ctx.is_admin() {
                let conn = ctx.read().await?;
                let runs = digests::runs_by_ids(&conn, &ids).await?;
                let nodes = email_subscriptions::digest_runs_by_ids(&conn, &runs).await?;
                for (r, n) in runs.iter().zip(nodes) {
                    out.insert(r.id, Node::DigestRun(n));
                }
            }
        }
    }
    Ok(out)
}

fn decode(id: &ID, field: &str) -> ApiResult<(NodeType, i64)> {
    ids::decode_any(id).ok_or_else(|| bad_input(field, "is not a valid ID"))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let (ty, n) = decode(&id, "id")?;
        Ok(load_type(ctx, ty, vec![n]).await?.remove(&n))
    }

    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(bad_input("ids", "at most 100 ids at once"));
        }
        let decoded: Vec<(NodeType, i64)> = ids
            .iter()
            .map(|id| decode(id, "ids"))
            .collect::<ApiResult<_>>()?;
        let mut by_type: HashMap<NodeType, Vec<i64>> = HashMap::new();
        for (ty, n) in &decoded {
            by_type.entry(*ty).or_default().push(*n);
        }
        let mut found: HashMap<(NodeType, i64), Node> = HashMap::new();
        for (ty, ns) in by_type {
            for (n, node) in load_type(ctx, ty, ns).await? {
                found.insert((ty, n), node);
            }
        }
        Ok(decoded.iter().map(|k| found.get(k).cloned()).collect())
    }
}
