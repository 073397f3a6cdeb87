//! Projects and applications.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use birgemiz_schema::access;
use birgemiz_schema::applications as apps;
use birgemiz_schema::models;
use birgemiz_schema::places::{self, PlaceFilter};
use birgemiz_schema::projects::{self as projs, NewProject, ProjectFilter, ProjectPatch};
use chrono::{DateTime, Utc};

use super::common::{
    LocalizedTextGql, LocalizedTextInput, connection, localized, localized_or_empty, page_args,
    push_outbox,
};
use super::context::ContextExt;
use super::errors::{ApiError, ApiResult};
use super::ids::{self, NodeType};
use super::loaders::{self, ApplicationOf, ProjectApplications, ProjectKey, UserKey};
use super::organizations::{Organization, load_org, patch};
use super::pagination::Connection;
use super::plain_fields::{PlainFields, plain_fields};
use super::viewer::User;

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::projects::Direction")]
pub enum Direction {
    Social,
    Events,
    Animals,
    Ethno,
    Emergency,
    Medical,
    Culture,
    Media,
    Online,
    Environment,
    Education,
    Sports,
    Silver,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::projects::ProjectStatus")]
pub enum ProjectStatus {
    Draft,
    Published,
    Archived,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::applications::ApplicationStatus")]
pub enum ApplicationStatus {
    Submitted,
    Accepted,
    Declined,
    Withdrawn,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProjectOrder {
    Newest,
    /// Only projects that have not started yet (a start date ahead), soonest first.
    StartsSoon,
    MostVolunteers,
}

#[derive(Clone)]
pub struct Project(pub models::Project);

/// `access::may_see_project` for the viewer.
pub async fn visible(ctx: &Context<'_>, p: &models::Project) -> ApiResult<bool> {
    access::may_see_project(&loaders::facts(ctx), ctx.viewer(), p).await
}

// The resolvers below that read only the row and the request's language.
plain_fields!(Project {
    "id" => id,
    "slug" => slug,
    "title" => title,
    "summary" => summary,
    "description" => description,
    "direction" => direction,
    "status" => status,
    "country" => country,
    "region" => region,
    "city" => city,
    "regionCode" => region_code,
    "cityCode" => city_code,
    "startsAt" => starts_at,
    "endsAt" => ends_at,
    "volunteersNeeded" => volunteers_needed,
    "volunteerCount" => volunteer_count,
    "spotsLeft" => spots_left,
    "createdAt" => created_at,
    "publishedAt" => published_at,
});

#[Object]
impl Project {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Project, self.0.id)
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
    async fn summary(&self, ctx: &Context<'_>) -> Option<String> {
        localized(ctx, &self.0.summary)
    }
    #[graphql(name = "summaryI18n")]
    async fn summary_i18n(&self) -> LocalizedTextGql {
        (&self.0.summary).into()
    }
    async fn description(&self, ctx: &Context<'_>) -> Option<String> {
        localized(ctx, &self.0.description)
    }
    #[graphql(name = "descriptionI18n")]
    async fn description_i18n(&self) -> LocalizedTextGql {
        (&self.0.description).into()
    }
    async fn direction(&self) -> Direction {
        projs::Direction::parse(&self.0.direction).map_or(Direction::Social, Into::into)
    }
    async fn status(&self) -> ProjectStatus {
        projs::ProjectStatus::parse(&self.0.status).map_or(ProjectStatus::Draft, Into::into)
    }
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        load_org(ctx, self.0.organization_id).await
    }
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
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    async fn volunteers_needed(&self) -> Option<i32> {
        self.0.volunteers_needed
    }
    /// Accepted applications.
    async fn volunteer_count(&self) -> i32 {
        self.0.volunteer_count
    }
    /// Places still open: volunteersNeeded minus the accepted volunteers (0 when full); null
    /// when the project sets no number. Read from the row's counter, no query of its own.
    async fn spots_left(&self) -> Option<i32> {
        self.0
            .volunteers_needed
            .map(|n| (n - self.0.volunteer_count).max(0))
    }
    /// The viewer's own application, if any.
    async fn viewer_application(&self, ctx: &Context<'_>) -> ApiResult<Option<Application>> {
        let Some(v) = ctx.viewer() else {
            return Ok(None);
        };
        Ok(loaders::loader(ctx)
            .load_one(ApplicationOf {
                user: v.user_id,
                project: self.0.id,
            })
            .await?
            .map(Application))
    }
    /// Applications to this project; the organization's managers and admins only, null otherwise.
    async fn applications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<ApplicationStatus>,
    ) -> ApiResult<Option<Connection<Application>>> {
        if !loaders::can_manage(ctx, self.0.organization_id).await? {
            return Ok(None);
        }
        let args = page_args::<models::Application>(ctx, first, after)?;
        let page = loaders::loader(ctx)
            .load_one(ProjectApplications {
                project: self.0.id,
                status: status.map(|s| apps::ApplicationStatus::from(s).as_str().to_owned()),
                args: args.clone(),
            })
            .await?
            .unwrap_or_default();
        Ok(Some(connection(ctx, page, &args, Application)))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
}

#[derive(Clone)]
pub struct Application(pub models::Application);

impl PlainFields for Application {}

impl Application {
    async fn project_row(&self, ctx: &Context<'_>) -> ApiResult<models::Project> {
        loaders::loader(ctx)
            .load_one(ProjectKey(self.0.project_id))
            .await?
            .ok_or_else(|| birgemiz_schema::Error::NotFound("project").into())
    }
}

/// `access::may_see_application` for the viewer.
pub async fn application_visible(ctx: &Context<'_>, a: &models::Application) -> ApiResult<bool> {
    access::may_see_application(&loaders::facts(ctx), ctx.viewer(), a).await
}

#[Object]
impl Application {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Application, self.0.id)
    }
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Project> {
        Ok(Project(self.project_row(ctx).await?))
    }
    async fn volunteer(&self, ctx: &Context<'_>) -> ApiResult<User> {
        loaders::loader(ctx)
            .load_one(UserKey(self.0.volunteer_id))
            .await?
            .map(User)
            .ok_or_else(|| birgemiz_schema::Error::NotFound("user").into())
    }
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// The volunteer's email, for the project's managers and admins; null otherwise.
    async fn contact_email(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let p = self.project_row(ctx).await?;
        if !loaders::can_manage(ctx, p.organization_id).await? {
            return Ok(None);
        }
        Ok(loaders::loader(ctx)
            .load_one(UserKey(self.0.volunteer_id))
            .await?
            .map(|u| u.email))
    }
    async fn status(&self) -> ApplicationStatus {
        apps::ApplicationStatus::parse(&self.0.status)
            .map_or(ApplicationStatus::Submitted, Into::into)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
}

#[derive(InputObject, Default, Clone)]
#[graphql(name = "ProjectFilter")]
pub struct ProjectFilterInput {
    direction: Option<Direction>,
    country: Option<String>,
    /// A region's name in any language (the listed region it names) or its free text.
    region: Option<String>,
    /// A listed region's code, e.g. KZ-39.
    region_code: Option<String>,
    /// A city's name in any language (the listed city it names) or its free text.
    city: Option<String>,
    /// A listed city's code, e.g. KZ-71 or KZ-39-KOSTANAY.
    city_code: Option<String>,
    organization_id: Option<ID>,
    /// Default PUBLISHED; other statuses only for the organization's managers and admins.
    status: Option<ProjectStatus>,
    starts_after: Option<DateTime<Utc>>,
    starts_before: Option<DateTime<Utc>>,
}

impl ProjectFilterInput {
    pub fn into_filter(self) -> ApiResult<ProjectFilter> {
        Ok(ProjectFilter {
            direction: self
                .direction
                .map(|d| projs::Direction::from(d).as_str().to_owned()),
            place: PlaceFilter {
                country: self.country,
                region: self.region,
                region_code: self.region_code,
                city: self.city,
                city_code: self.city_code,
            },
            organization_id: self
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            status: projs::ProjectStatus::from(self.status.unwrap_or(ProjectStatus::Published))
                .as_str()
                .to_owned(),
            starts_after: self.starts_after,
            starts_before: self.starts_before,
        })
    }
}

#[derive(InputObject)]
pub struct CreateProjectInput {
    organization_id: ID,
    title: LocalizedTextInput,
    summary: Option<LocalizedTextInput>,
    description: Option<LocalizedTextInput>,
    direction: Direction,
    country: Option<String>,
    /// Free text; one that names a listed region is stored as its code.
    region: Option<String>,
    /// Free text; one that names a listed city is stored as its code.
    city: Option<String>,
    /// A listed region of the project's country (see `places`); wins over `region`.
    region_code: Option<String>,
    /// A listed city of the project's country (see `places`); wins over `city`. Implies its
    /// region when none is given.
    city_code: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    volunteers_needed: Option<i32>,
    slug: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateProjectInput {
    title: Option<LocalizedTextInput>,
    summary: MaybeUndefined<LocalizedTextInput>,
    description: MaybeUndefined<LocalizedTextInput>,
    direction: Option<Direction>,
    region: MaybeUndefined<String>,
    city: MaybeUndefined<String>,
    /// A listed region (see `places`); wins over `region`; null clears the region.
    region_code: MaybeUndefined<String>,
    /// A listed city (see `places`); wins over `city`; null clears the city.
    city_code: MaybeUndefined<String>,
    starts_at: MaybeUndefined<DateTime<Utc>>,
    ends_at: MaybeUndefined<DateTime<Utc>>,
    volunteers_needed: MaybeUndefined<i32>,
}

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ProjectFilterInput>,
        order_by: Option<ProjectOrder>,
    ) -> ApiResult<Connection<Project>> {
        let args = page_args::<models::Project>(ctx, first, after)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let conn = ctx.read().await?;
        if filter.status != projs::PUBLISHED
            && !access::may_manage(&*conn, ctx.viewer(), filter.organization_id).await?
        {
            return Err(ApiError::from(birgemiz_schema::Error::forbidden(
                "unpublished projects: only admins, or managers filtering by their organizationId",
            )));
        }
        let order = match order_by.unwrap_or(ProjectOrder::Newest) {
            ProjectOrder::Newest => &projs::ORDER_NEWEST,
            ProjectOrder::StartsSoon => &projs::ORDER_STARTS_SOON,
            ProjectOrder::MostVolunteers => &projs::ORDER_MOST_VOLUNTEERS,
        };
        let page = projs::list(&conn, &filter, order, &args).await?;
        Ok(connection(ctx, page, &args, Project))
    }

    async fn project(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Option<Project>> {
        let Some(p) = projs::by_slug(&*ctx.read().await?, &slug).await? else {
            return Ok(None);
        };
        Ok(visible(ctx, &p).await?.then_some(Project(p)))
    }
}

#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> ApiResult<Project> {
        let v = ctx.require_viewer()?;
        let org = ids::decode(
            NodeType::Organization,
            &input.organization_id,
            "organizationId",
        )?;
        let p = projs::create(
            &mut *ctx.conn().await?,
            v,
            NewProject {
                organization_id: org,
                title: input.title.into(),
                summary: input.summary.map(Into::into),
                description: input.description.map(Into::into),
                direction: projs::Direction::from(input.direction).as_str().to_owned(),
                country: input.country,
                region: input.region,
                city: input.city,
                region_code: input.region_code,
                city_code: input.city_code,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                volunteers_needed: input.volunteers_needed,
                slug: input.slug,
            },
        )
        .await?;
        Ok(Project(p))
    }

    async fn update_project(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProjectInput,
    ) -> ApiResult<Project> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Project, &id, "id")?;
        let p = ProjectPatch {
            title: input.title.map(Into::into),
            summary: patch(input.summary, Into::into),
            description: patch(input.description, Into::into),
            direction: input
                .direction
                .map(|d| projs::Direction::from(d).as_str().to_owned()),
            region: patch(input.region, |s| s),
            city: patch(input.city, |s| s),
            region_code: patch(input.region_code, |s| s),
            city_code: patch(input.city_code, |s| s),
            starts_at: patch(input.starts_at, |s| s),
            ends_at: patch(input.ends_at, |s| s),
            volunteers_needed: patch(input.volunteers_needed, |s| s),
        };
        Ok(Project(
            projs::update(&mut *ctx.conn().await?, v, id, p).await?,
        ))
    }

    async fn publish_project(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Project> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Project, &id, "id")?;
        Ok(Project(
            projs::publish(&mut *ctx.conn().await?, v, id).await?,
        ))
    }

    async fn archive_project(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Project> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Project, &id, "id")?;
        Ok(Project(
            projs::archive(&mut *ctx.conn().await?, v, id).await?,
        ))
    }

    /// Emails the volunteer a receipt and the organization's managers a notice. An archived
    /// project is CONFLICT; one whose endsAt has passed is PHASE_CLOSED.
    async fn apply_to_project(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        message: Option<String>,
    ) -> ApiResult<Application> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Project, &project_id, "projectId")?;
        let (app, outbox) = apps::apply(&mut *ctx.conn().await?, v, id, message).await?;
        push_outbox(ctx, outbox).await;
        Ok(Application(app))
    }

    /// By the volunteer, at any time; withdrawing an accepted place emails the managers.
    async fn withdraw_application(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Application> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Application, &id, "id")?;
        let (app, outbox) = apps::withdraw(&mut *ctx.conn().await?, v, id).await?;
        push_outbox(ctx, outbox).await;
        Ok(Application(app))
    }

    /// Emails the volunteer the decision. Accepting beyond volunteersNeeded is CONFLICT until
    /// the manager raises it.
    async fn decide_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        accept: bool,
    ) -> ApiResult<Application> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Application, &id, "id")?;
        let (app, outbox) = apps::decide(&mut *ctx.conn().await?, v, id, accept).await?;
        push_outbox(ctx, outbox).await;
        Ok(Application(app))
    }
}
