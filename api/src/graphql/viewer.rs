//! The signed-in viewer and ending a session.

use async_graphql::{Context, Enum, ID, Object};
use birgemiz_schema::accounts;
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::models;
use birgemiz_schema::users;
use chrono::{DateTime, Utc};

use super::common::{connection, page_args};
use super::context::ContextExt;
use super::errors::ApiResult;
use super::ids::{self, NodeType};
use super::loaders::{self, UserApplications, UserMemberships};
use super::organizations::OrganizationMembership;
use super::pagination::Connection;
use super::projects::Application;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role")]
pub enum RoleGql {
    Admin,
    Member,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Locale", remote = "birgemiz_schema::i18n::Locale")]
pub enum LocaleGql {
    Kk,
    Ru,
    En,
}

#[derive(Clone)]
pub struct User(pub models::User);

impl User {
    /// What this request may see of the account (`users::access`, the one rule).
    pub fn access(&self, ctx: &Context<'_>) -> users::UserAccess {
        let viewer = ctx.acting_user_id().map(|id| (id, ctx.is_admin()));
        users::access(viewer, self.0.id)
    }
    fn is_self_or_admin(&self, ctx: &Context<'_>) -> bool {
        self.access(ctx).is_full()
    }
    /// The row as this request may see it: masked unless the access is full.
    fn shown(&self, ctx: &Context<'_>) -> std::borrow::Cow<'_, models::User> {
        match self.access(ctx) {
            users::UserAccess::Full => std::borrow::Cow::Borrowed(&self.0),
            a => std::borrow::Cow::Owned(users::as_seen(self.0.clone(), a)),
        }
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::User, self.0.id)
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Visible to the user themself and to admins only; null otherwise.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        self.is_self_or_admin(ctx).then_some(self.0.email.as_str())
    }
    /// The user themself and admins; false for anyone else.
    async fn email_verified(&self, ctx: &Context<'_>) -> bool {
        self.shown(ctx).email_verified_at.is_some()
    }
    /// The user themself and admins; KK for anyone else.
    async fn locale(&self, ctx: &Context<'_>) -> LocaleGql {
        Locale::parse(&self.shown(ctx).locale)
            .unwrap_or_default()
            .into()
    }
    /// The user themself and admins; MEMBER for anyone else.
    async fn role(&self, ctx: &Context<'_>) -> RoleGql {
        match accounts::Role::parse(&self.shown(ctx).role) {
            accounts::Role::Admin => RoleGql::Admin,
            accounts::Role::Member => RoleGql::Member,
        }
    }
    /// The user themself and admins only; null otherwise.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<Vec<OrganizationMembership>>> {
        if !self.is_self_or_admin(ctx) {
            return Ok(None);
        }
        let rows = loaders::loader(ctx)
            .load_one(UserMemberships(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(Some(rows.into_iter().map(OrganizationMembership).collect()))
    }
    /// The user themself and admins only; null otherwise.
    async fn applications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<Application>>> {
        if !self.is_self_or_admin(ctx) {
            return Ok(None);
        }
        let args = page_args::<models::Application>(ctx, first, after)?;
        let page = loaders::loader(ctx)
            .load_one(UserApplications {
                user: self.0.id,
                args: args.clone(),
            })
            .await?
            .unwrap_or_default();
        Ok(Some(connection(ctx, page, &args, Application)))
    }
    /// The user's jury seats; on the viewer only (empty for anyone else).
    async fn juror_seats(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::juries::Juror>> {
        super::juries::user_juror_seats(ctx, self.0.id).await
    }
    /// The user's current votes, one per award category at most. The user themself only; null otherwise.
    async fn votes(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<super::awards::Vote>>> {
        super::awards::user_votes(ctx, self.0.id).await
    }
    /// Nominations the user submitted, any status. The user themself and admins only; null otherwise.
    async fn nominations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<super::awards::NominationStatus>,
    ) -> ApiResult<Option<super::pagination::Connection<super::awards::Nomination>>> {
        super::awards::user_nominations(ctx, self.0.id, first, after, status).await
    }
    /// The user themself and admins; the Unix epoch for anyone else.
    async fn created_at(&self, ctx: &Context<'_>) -> DateTime<Utc> {
        self.shown(ctx).created_at
    }
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The signed-in user, or null for an anonymous request.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(v) = ctx.viewer() else {
            return Ok(None);
        };
        Ok(users::find(&*ctx.read().await?, v.user_id).await?.map(User))
    }
}

#[derive(Default)]
pub struct ViewerMutation;

#[Object]
impl ViewerMutation {
    /// Ends the current session; its token stops working at once.
    async fn sign_out(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let v = ctx.require_viewer()?;
        accounts::revoke_session(&mut *ctx.conn().await?, v.session_id).await?;
        Ok(true)
    }
}
