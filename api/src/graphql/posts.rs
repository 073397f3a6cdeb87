//! News posts.

use async_graphql::{Context, ID, InputObject, Object};
use birgemiz_schema::access;
use birgemiz_schema::models;
use birgemiz_schema::posts::{self, NewPost, PostFilter};
use birgemiz_schema::tokens;
use chrono::{DateTime, Utc};

use super::common::{
    LocalizedTextGql, LocalizedTextInput, connection, localized_or_empty, page_args,
};
use super::context::ContextExt;
use super::errors::{ApiError, ApiResult};
use super::ids::{self, NodeType};
use super::loaders::{self, OrgKey, UserKey};
use super::organizations::Organization;
use super::pagination::Connection;
use super::viewer::User;

const EXCERPT_CHARS: usize = 200;

#[derive(Clone)]
pub struct Post(pub models::Post);

impl super::plain_fields::PlainFields for Post {}

/// `access::may_see_post` for the viewer.
pub async fn visible(ctx: &Context<'_>, p: &models::Post) -> ApiResult<bool> {
    access::may_see_post(&loaders::facts(ctx), ctx.viewer(), p).await
}

#[Object]
impl Post {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Post, self.0.id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn title(&self, ctx: &Context<'_>) -> String {
        localized_or_empty(ctx, &self.0.title)
    }
    #[graphql(name = "titleI18n")]
    async fn title_i18n(&self) -> LocalizedTextGql {
        (&self.0.title).into()
    }
    /// Markdown.
    async fn body(&self, ctx: &Context<'_>) -> String {
        localized_or_empty(ctx, &self.0.body)
    }
    #[graphql(name = "bodyI18n")]
    async fn body_i18n(&self) -> LocalizedTextGql {
        (&self.0.body).into()
    }
    /// The start of the body as plain text: every bit of markdown and HTML markup removed.
    async fn excerpt(&self, ctx: &Context<'_>) -> String {
        posts::excerpt(&localized_or_empty(ctx, &self.0.body), EXCERPT_CHARS)
    }
    /// The body rendered from markdown to HTML and sanitized (no scripts, event handlers or
    /// unsafe URLs), for clients that show HTML rather than render the markdown themselves.
    async fn body_html(&self, ctx: &Context<'_>) -> String {
        posts::body_html(&localized_or_empty(ctx, &self.0.body))
    }
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(o) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loaders::loader(ctx)
            .load_one(OrgKey(o))
            .await?
            .map(Organization))
    }
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(a) = self.0.author_id else {
            return Ok(None);
        };
        Ok(loaders::loader(ctx).load_one(UserKey(a)).await?.map(User))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Null while a draft.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn view_count(&self) -> i32 {
        i32::try_from(self.0.view_count).unwrap_or(i32::MAX)
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "PostFilter")]
pub struct PostFilterInput {
    organization_id: Option<ID>,
    /// Default true; drafts only for the organization's managers and admins.
    published: Option<bool>,
}

#[derive(InputObject)]
pub struct CreatePostInput {
    title: LocalizedTextInput,
    body: LocalizedTextInput,
    organization_id: Option<ID>,
    slug: Option<String>,
    publish: Option<bool>,
}

#[derive(InputObject)]
pub struct UpdatePostInput {
    title: Option<LocalizedTextInput>,
    body: Option<LocalizedTextInput>,
}

#[derive(Default)]
pub struct PostQuery;

#[Object]
impl PostQuery {
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<PostFilterInput>,
    ) -> ApiResult<Connection<Post>> {
        let args = page_args::<models::Post>(ctx, first, after)?;
        let f = filter.unwrap_or_default();
        let filter = PostFilter {
            organization_id: f
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            published: f.published.unwrap_or(true),
        };
        let conn = ctx.read().await?;
        if !filter.published
            && !access::may_manage(&*conn, ctx.viewer(), filter.organization_id).await?
        {
            return Err(ApiError::from(birgemiz_schema::Error::forbidden(
                "drafts: only admins, or managers filtering by their organizationId",
            )));
        }
        let page = posts::list(&conn, &filter, &args).await?;
        Ok(connection(ctx, page, &args, Post))
    }

    async fn post(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Option<Post>> {
        let Some(p) = posts::by_slug(&*ctx.read().await?, &slug).await? else {
            return Ok(None);
        };
        Ok(visible(ctx, &p).await?.then_some(Post(p)))
    }
}

#[derive(Default)]
pub struct PostMutation;

#[Object]
impl PostMutation {
    async fn create_post(&self, ctx: &Context<'_>, input: CreatePostInput) -> ApiResult<Post> {
        let v = ctx.require_viewer()?;
        let org = input
            .organization_id
            .map(|id| ids::decode(NodeType::Organization, &id, "organizationId"))
            .transpose()?;
        let p = posts::create(
            &mut *ctx.conn().await?,
            v,
            NewPost {
                title: input.title.into(),
                body: input.body.into(),
                organization_id: org,
                slug: input.slug,
                publish: input.publish.unwrap_or(false),
            },
        )
        .await?;
        Ok(Post(p))
    }

    async fn update_post(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePostInput,
    ) -> ApiResult<Post> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Post, &id, "id")?;
        Ok(Post(
            posts::update(
                &mut *ctx.conn().await?,
                v,
                id,
                input.title.map(Into::into),
                input.body.map(Into::into),
            )
            .await?,
        ))
    }

    async fn publish_post(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Post> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Post, &id, "id")?;
        Ok(Post(
            posts::set_published(&mut *ctx.conn().await?, v, id, true).await?,
        ))
    }

    async fn unpublish_post(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Post> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Post, &id, "id")?;
        Ok(Post(
            posts::set_published(&mut *ctx.conn().await?, v, id, false).await?,
        ))
    }

    /// Counts one view; repeated views from one client within an hour count once.
    async fn record_post_view(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Post> {
        let id = ids::decode(NodeType::Post, &id, "id")?;
        // A signed-in reader is one client on every device; others are their address and
        // browser, hashed so no address is stored.
        let client = match ctx.viewer() {
            Some(v) => format!("user:{}", v.user_id),
            None => format!(
                "anon:{}|{}",
                ctx.req().client_ip.as_deref().unwrap_or(""),
                ctx.req().user_agent.as_deref().unwrap_or("")
            ),
        };
        Ok(Post(
            posts::record_view(
                &mut *ctx.conn().await?,
                ctx.viewer(),
                id,
                tokens::hash_token(&client),
            )
            .await?,
        ))
    }
}
