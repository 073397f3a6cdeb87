//! Organizations, their managers and networks.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use birgemiz_schema::models;
use birgemiz_schema::organizations::{self as orgs, NewOrganization, OrgFilter, OrganizationPatch};
use birgemiz_schema::places::{self, PlaceFilter};
use birgemiz_schema::projects::{self as projs, ProjectFilter};
use chrono::{DateTime, Utc};

use super::common::{
    LocalizedTextGql, LocalizedTextInput, connection, localized, localized_or_empty, page_args,
};
use super::context::ContextExt;
use super::errors::{ApiError, ApiResult};
use super::ids::{self, NodeType};
use super::loaders::{self, MemberOf, NetworkMembers, OrgKey, OrgManagers, OrgProjects, UserKey};
use super::pagination::Connection;
use super::plain_fields::plain_fields;
use super::projects::{Project, ProjectFilterInput};
use super::viewer::User;

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::organizations::OrganizationKind")]
pub enum OrganizationKind {
    Ngo,
    State,
    InitiativeGroup,
    Club,
    Network,
    International,
    Company,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::organizations::OrganizationRole")]
pub enum OrganizationRole {
    Owner,
    Manager,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrganizationOrder {
    Name,
    Newest,
    MostProjects,
}

#[derive(Clone)]
pub struct Organization(pub models::Organization);

// The resolvers below that read only the row and the request's language.
plain_fields!(Organization {
    "id" => id,
    "slug" => slug,
    "name" => name,
    "description" => description,
    "kind" => kind,
    "country" => country,
    "region" => region,
    "city" => city,
    "regionCode" => region_code,
    "cityCode" => city_code,
    "website" => website,
    "verified" => verified,
    "createdAt" => created_at,
});

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        localized_or_empty(ctx, &self.0.name)
    }
    #[graphql(name = "nameI18n")]
    async fn name_i18n(&self) -> LocalizedTextGql {
        (&self.0.name).into()
    }
    async fn description(&self, ctx: &Context<'_>) -> Option<String> {
        localized(ctx, &self.0.description)
    }
    #[graphql(name = "descriptionI18n")]
    async fn description_i18n(&self) -> LocalizedTextGql {
        (&self.0.description).into()
    }
    async fn kind(&self) -> OrganizationKind {
        orgs::OrganizationKind::parse(&self.0.kind).map_or(OrganizationKind::Ngo, Into::into)
    }
    /// ISO 3166-1 alpha-2, e.g. KZ or RU.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// In the request's language when the region is a listed place (`regionCode`).
    async fn region(&self, ctx: &Context<'_>) -> Option<&str> {
        places::name(self.0.region_code.as_deref(), ctx.locale()).or(self.0.region.as_deref())
    }
    /// In the request's language when the city is a listed place (`cityCode`).
    async fn city(&self, ctx: &Context<'_>) -> Option<&str> {
        places::name(self.0.city_code.as_deref(), ctx.locale()).or(self.0.city.as_deref())
    }
    /// The listed region's code (see `places`), when the region is listed.
    async fn region_code(&self) -> Option<&str> {
        self.0.region_code.as_deref()
    }
    /// The listed city's code (see `places`), when the city is listed.
    async fn city_code(&self) -> Option<&str> {
        self.0.city_code.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    async fn verified(&self) -> bool {
        self.0.verified
    }
    /// Networks this organization belongs to (e.g. a national volunteer network).
    async fn member_of(&self, ctx: &Context<'_>) -> ApiResult<Vec<Organization>> {
        Ok(loaders::loader(ctx)
            .load_one(MemberOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Organization)
            .collect())
    }
    /// Member organizations, for a NETWORK.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Organization>> {
        let args = page_args::<models::Organization>(ctx, first, after)?;
        let page = loaders::loader(ctx)
            .load_one(NetworkMembers {
                network: self.0.id,
                locale: ctx.locale(),
                args: args.clone(),
            })
            .await?
            .unwrap_or_default();
        Ok(connection(ctx, page, &args, Organization))
    }
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ProjectFilterInput>,
    ) -> ApiResult<Connection<Project>> {
        let args = page_args::<models::Project>(ctx, first, after)?;
        let mut filter = match filter {
            Some(f) => f.into_filter()?,
            None => ProjectFilter::default(),
        };
        filter.organization_id = None;
        if filter.status != projs::PUBLISHED && !loaders::can_manage(ctx, self.0.id).await? {
            return Err(ApiError::from(birgemiz_schema::Error::forbidden(
                "only the organization's managers see its unpublished projects",
            )));
        }
        let loader = loaders::loader(ctx);
        let page = loader
            .load_one(OrgProjects {
                org: self.0.id,
                filter,
                args: args.clone(),
            })
            .await?
            .unwrap_or_default();
        // Moved into the nodes rather than copied, as for a category's nominations.
        loader.clear::<OrgProjects>();
        let page = Arc::unwrap_or_clone(page);
        Ok(connection(ctx, page, &args, Project))
    }
    /// People who manage this organization; its managers and admins only, null otherwise.
    async fn managers(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<OrganizationMembership>>> {
        if !loaders::can_manage(ctx, self.0.id).await? {
            return Ok(None);
        }
        let rows = loaders::loader(ctx)
            .load_one(OrgManagers(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(Some(rows.into_iter().map(OrganizationMembership).collect()))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Clone)]
pub struct OrganizationMembership(pub models::OrganizationManager);

#[Object]
impl OrganizationMembership {
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        load_org(ctx, self.0.organization_id).await
    }
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<User> {
        loaders::loader(ctx)
            .load_one(UserKey(self.0.user_id))
            .await?
            .map(User)
            .ok_or_else(|| birgemiz_schema::Error::NotFound("user").into())
    }
    async fn role(&self) -> OrganizationRole {
        orgs::OrganizationRole::parse(&self.0.role).map_or(OrganizationRole::Manager, Into::into)
    }
}

pub async fn load_org(ctx: &Context<'_>, id: i64) -> ApiResult<Organization> {
    loaders::loader(ctx)
        .load_one(OrgKey(id))
        .await?
        .map(Organization)
        .ok_or_else(|| birgemiz_schema::Error::NotFound("organization").into())
}

#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    kind: Option<OrganizationKind>,
    country: Option<String>,
    /// A region's name in any language (the listed region it names) or its free text.
    region: Option<String>,
    /// A listed region's code, e.g. KZ-39.
    region_code: Option<String>,
    /// A city's name in any language (the listed city it names) or its free text.
    city: Option<String>,
    /// A listed city's code, e.g. KZ-71 or KZ-39-KOSTANAY.
    city_code: Option<String>,
    verified: Option<bool>,
    member_of: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateOrganizationInput {
    name: LocalizedTextInput,
    description: Option<LocalizedTextInput>,
    kind: OrganizationKind,
    country: String,
    /// Free text; one that names a listed region is stored as its code.
    region: Option<String>,
    /// Free text; one that names a listed city is stored as its code.
    city: Option<String>,
    /// A listed region of `country` (see `places`); wins over `region`.
    region_code: Option<String>,
    /// A listed city of `country` (see `places`); wins over `city`. Implies its region when
    /// none is given.
    city_code: Option<String>,
    website: Option<String>,
    slug: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    name: Option<LocalizedTextInput>,
    description: MaybeUndefined<LocalizedTextInput>,
    kind: Option<OrganizationKind>,
    region: MaybeUndefined<String>,
    city: MaybeUndefined<String>,
    /// A listed region (see `places`); wins over `region`; null clears the region.
    region_code: MaybeUndefined<String>,
    /// A listed city (see `places`); wins over `city`; null clears the city.
    city_code: MaybeUndefined<String>,
    website: MaybeUndefined<String>,
}

/// Absent → leave, null → clear, value → set.
pub fn patch<T, U>(v: MaybeUndefined<T>, f: impl Fn(T) -> U) -> Option<Option<U>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(f(v))),
    }
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OrganizationFilter>,
        order_by: Option<OrganizationOrder>,
    ) -> ApiResult<Connection<Organization>> {
        let args = page_args::<models::Organization>(ctx, first, after)?;
        let f = filter.unwrap_or_default();
        let filter = OrgFilter {
            kind: f
                .kind
                .map(|k| orgs::OrganizationKind::from(k).as_str().to_owned()),
            place: PlaceFilter {
                country: f.country,
                region: f.region,
                region_code: f.region_code,
                city: f.city,
                city_code: f.city_code,
            },
            verified: f.verified,
            member_of: f
                .member_of
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.memberOf"))
                .transpose()?,
        };
        let order = match order_by.unwrap_or(OrganizationOrder::Name) {
            OrganizationOrder::Name => orgs::order_name(ctx.locale()),
            OrganizationOrder::Newest => &orgs::ORDER_NEWEST,
            OrganizationOrder::MostProjects => &orgs::ORDER_MOST_PROJECTS,
        };
        let page = orgs::list(&*ctx.read().await?, &filter, order, &args).await?;
        Ok(connection(ctx, page, &args, Organization))
    }

    async fn organization(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> ApiResult<Option<Organization>> {
        Ok(orgs::by_slug(&*ctx.read().await?, &slug)
            .await?
            .map(Organization))
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> ApiResult<Organization> {
        let v = ctx.require_viewer()?;
        let org = orgs::create(
            &mut *ctx.conn().await?,
            v,
            NewOrganization {
                name: input.name.into(),
                description: input.description.map(Into::into),
                kind: orgs::OrganizationKind::from(input.kind).as_str().to_owned(),
                country: input.country,
                region: input.region,
                city: input.city,
                region_code: input.region_code,
                city_code: input.city_code,
                website: input.website,
                slug: input.slug,
            },
        )
        .await?;
        Ok(Organization(org))
    }

    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateOrganizationInput,
    ) -> ApiResult<Organization> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Organization, &id, "id")?;
        let p = OrganizationPatch {
            name: input.name.map(Into::into),
            description: patch(input.description, Into::into),
            kind: input
                .kind
                .map(|k| orgs::OrganizationKind::from(k).as_str().to_owned()),
            region: patch(input.region, |s| s),
            city: patch(input.city, |s| s),
            region_code: patch(input.region_code, |s| s),
            city_code: patch(input.city_code, |s| s),
            website: patch(input.website, |s| s),
        };
        Ok(Organization(
            orgs::update(&mut *ctx.conn().await?, v, id, p).await?,
        ))
    }

    async fn verify_organization(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Organization> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Organization, &id, "id")?;
        Ok(Organization(
            orgs::verify(&mut *ctx.conn().await?, v, id).await?,
        ))
    }

    async fn add_organization_manager(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        email: String,
        role: OrganizationRole,
    ) -> ApiResult<OrganizationMembership> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        Ok(OrganizationMembership(
            orgs::add_manager(
                &mut *ctx.conn().await?,
                v,
                id,
                &email,
                orgs::OrganizationRole::from(role).as_str(),
            )
            .await?,
        ))
    }

    async fn remove_organization_manager(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        user_id: ID,
    ) -> ApiResult<Organization> {
        let v = ctx.require_viewer()?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let user = ids::decode(NodeType::User, &user_id, "userId")?;
        Ok(Organization(
            orgs::remove_manager(&mut *ctx.conn().await?, v, org, user).await?,
        ))
    }

    async fn add_network_member(
        &self,
        ctx: &Context<'_>,
        network_id: ID,
        member_id: ID,
    ) -> ApiResult<Organization> {
        let v = ctx.require_viewer()?;
        let n = ids::decode(NodeType::Organization, &network_id, "networkId")?;
        let m = ids::decode(NodeType::Organization, &member_id, "memberId")?;
        Ok(Organization(
            orgs::add_network_member(&mut *ctx.conn().await?, v, n, m).await?,
        ))
    }

    async fn remove_network_member(
        &self,
        ctx: &Context<'_>,
        network_id: ID,
        member_id: ID,
    ) -> ApiResult<Organization> {
        let v = ctx.require_viewer()?;
        let n = ids::decode(NodeType::Organization, &network_id, "networkId")?;
        let m = ids::decode(NodeType::Organization, &member_id, "memberId")?;
        Ok(Organization(
            orgs::remove_network_member(&mut *ctx.conn().await?, v, n, m).await?,
        ))
    }
}
