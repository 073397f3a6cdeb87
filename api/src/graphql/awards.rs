//! Awards, categories, nominations, votes and results, and the live counts subscription.
//! The rules live in `birgemiz_schema::awards`; this is their GraphQL face.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use birgemiz_schema::access;
use birgemiz_schema::award_reads;
use birgemiz_schema::awards::{self as domain, NominationScope, Phase};
use birgemiz_schema::i18n::LocalizedText;
use birgemiz_schema::integrity::Forensics;
use birgemiz_schema::models;
use birgemiz_schema::vote_counts::VoteCounts;
use birgemiz_schema::{Error, accounts::Viewer};
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

use super::award_loaders::{self as loaders, AwardId, CategoriesOf, CategoryId, NominationId};
use super::common::{LocalizedTextGql, LocalizedTextInput, connection, page_args, push_outbox};
use super::context::ContextExt;
use super::errors::ApiResult;
use super::ids::{self, NodeType};
use super::loaders::{self as app_loaders, OrgKey, ProjectKey};
use super::organizations::Organization;
use super::pagination::Connection;
use super::plain_fields::{PlainFields, plain_fields};
use super::projects::{self, Project};
use super::rate_limit;
use super::viewer::User;

// ───────────── shared GraphQL types ─────────────

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::awards::Phase")]
pub enum AwardPhase {
    Upcoming,
    Nomination,
    Review,
    Voting,
    Closed,
    Results,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::awards::NomineeKind")]
pub enum NomineeKind {
    Person,
    Project,
    Organization,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::awards::NominationStatus")]
pub enum NominationStatus {
    Pending,
    Approved,
    Rejected,
    Withdrawn,
}

impl NominationStatus {
    fn as_str(self) -> &'static str {
        domain::NominationStatus::from(self).as_str()
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NominationOrder {
    Newest,
    MostVotes,
    Name,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ModerationDecision {
    Approve,
    Reject,
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Nominating and voting need a verified email.
fn require_verified<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Viewer> {
    let v = ctx.require_viewer()?;
    if !v.email_verified {
        return Err(Error::forbidden("verify your email address first").into());
    }
    Ok(v)
}

fn require_admin<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Viewer> {
    Ok(access::require_admin(ctx.viewer())?)
}

async fn load_award(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Arc<models::Award>>> {
    loaders::get(ctx).load_one(AwardId(id)).await
}

async fn load_category(
    ctx: &Context<'_>,
    id: i64,
) -> ApiResult<Option<Arc<models::AwardCategory>>> {
    loaders::get(ctx).load_one(CategoryId(id)).await
}

pub(super) async fn award_of_category(
    ctx: &Context<'_>,
    category_id: i64,
) -> ApiResult<Arc<models::Award>> {
    let c = load_category(ctx, category_id)
        .await?
        .ok_or(Error::NotFound("award category"))?;
    load_award(ctx, c.award_id)
        .await?
        .ok_or_else(|| Error::NotFound("award").into())
}

/// Whether the counts of category `category_id` (`votes` of them when already at hand) may be
/// shown: `domain::category_counts_visible` with the configured minimum.
async fn category_counts_visible(
    ctx: &Context<'_>,
    award: &models::Award,
    category_id: i64,
    votes: Option<i32>,
) -> ApiResult<bool> {
    if !domain::counts_visible(award) {
        return Ok(false);
    }
    let votes = match votes {
        Some(v) => v,
        None => {
            load_category(ctx, category_id)
                .await?
                .ok_or(Error::NotFound("award category"))?
                .vote_count
        }
    };
    let min = ctx.config().live_counts_min_votes;
    Ok(domain::category_counts_visible(award, votes, min))
}

// ───────────── Award ─────────────

#[derive(Clone)]
pub struct Award(pub Arc<models::Award>);

impl PlainFields for Award {}

impl Award {
    /// For `node(id:)`: awards are public.
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Award>> {
        Ok(load_award(ctx, id).await?.map(Award))
    }
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Award>>> {
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| AwardId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| found.get(&AwardId(*i)).cloned().map(Award))
            .collect())
    }
}

#[Object]
impl Award {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Award, self.0.id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// e.g. Volunteer of the Year 2020
    async fn title(&self, ctx: &Context<'_>) -> String {
        self.0
            .title
            .resolve(ctx.locale())
            .unwrap_or_default()
            .to_owned()
    }
    #[graphql(name = "titleI18n")]
    async fn title_i18n(&self) -> LocalizedTextGql {
        (&self.0.title).into()
    }
    async fn description(&self, ctx: &Context<'_>) -> Option<String> {
        self.0.description.resolve(ctx.locale()).map(str::to_owned)
    }
    #[graphql(name = "descriptionI18n")]
    async fn description_i18n(&self) -> LocalizedTextGql {
        (&self.0.description).into()
    }
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Countries whose people and projects may be nominated, ISO 3166-1 alpha-2.
    async fn countries(&self) -> Vec<String> {
        self.0.countries.iter().flatten().cloned().collect()
    }
    async fn nomination_opens_at(&self) -> DateTime<Utc> {
        self.0.nomination_opens_at
    }
    async fn nomination_closes_at(&self) -> DateTime<Utc> {
        self.0.nomination_closes_at
    }
    async fn voting_opens_at(&self) -> DateTime<Utc> {
        self.0.voting_opens_at
    }
    async fn voting_closes_at(&self) -> DateTime<Utc> {
        self.0.voting_closes_at
    }
    async fn results_published_at(&self) -> Option<DateTime<Utc>> {
        self.0.results_published_at
    }
    async fn phase(&self) -> AwardPhase {
        domain::award_phase(&self.0, now()).into()
    }
    /// Whether vote counts are public while voting is open (otherwise only after results).
    async fn live_counts(&self) -> bool {
        self.0.live_counts
    }
    async fn categories(&self, ctx: &Context<'_>) -> ApiResult<Vec<AwardCategory>> {
        let loader = loaders::get(ctx);
        let categories: Vec<Arc<models::AwardCategory>> = loader
            .load_one(CategoriesOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Arc::new)
            .collect();
        // Their nominations' counts ask for the category and award again: answer from the cache.
        loader.feed_one(AwardId(self.0.id), self.0.clone()).await;
        loader
            .feed_many(categories.iter().map(|c| (CategoryId(c.id), c.clone())))
            .await;
        Ok(categories.into_iter().map(AwardCategory).collect())
    }
    async fn formula(&self, ctx: &Context<'_>) -> ApiResult<super::juries::ResultFormula> {
        super::juries::award_formula(ctx, self.0.id).await
    }
    async fn criteria(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::juries::JudgingCriterion>> {
        super::juries::award_criteria(ctx, self.0.id).await
    }
    /// Admins only, null otherwise.
    async fn jurors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<super::juries::Juror>>> {
        super::juries::award_jurors(ctx, self.0.id, first, after).await
    }
    /// Admins only, null otherwise; available once voting has opened.
    async fn integrity_report(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::integrity::VoteIntegrityReport>> {
        super::integrity::award_report(ctx, &self.0).await
    }
    /// Null until the results are frozen; public from then on.
    async fn result_snapshot(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::juries::ResultSnapshot>> {
        super::juries::award_snapshot(ctx, self.0.id).await
    }
    /// Admins only, null otherwise: nominations of every category, for the moderation queue.
    async fn nominations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<NominationStatus>,
    ) -> ApiResult<Option<Connection<Nomination>>> {
        if !ctx.is_admin() {
            return Ok(None);
        }
        nomination_page(
            ctx,
            NominationScope::Award(self.0.id),
            status.map(|s| s.as_str()),
            first,
            after,
        )
        .await
        .map(Some)
    }
}

// ───────────── AwardCategory ─────────────

#[derive(Clone)]
pub struct AwardCategory(pub Arc<models::AwardCategory>);

impl AwardCategory {
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<AwardCategory>> {
        Ok(load_category(ctx, id).await?.map(AwardCategory))
    }
    pub async fn load_by_ids(
        ctx: &Context<'_>,
        ids: &[i64],
    ) -> ApiResult<Vec<Option<AwardCategory>>> {
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| CategoryId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| found.get(&CategoryId(*i)).cloned().map(AwardCategory))
            .collect())
    }
}

#[Object]
impl AwardCategory {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::AwardCategory, self.0.id)
    }
    async fn award(&self, ctx: &Context<'_>) -> ApiResult<Award> {
        load_award(ctx, self.0.award_id)
            .await?
            .map(Award)
            .ok_or_else(|| Error::NotFound("award").into())
    }
    async fn title(&self, ctx: &Context<'_>) -> String {
        self.0
            .title
            .resolve(ctx.locale())
            .unwrap_or_default()
            .to_owned()
    }
    #[graphql(name = "titleI18n")]
    async fn title_i18n(&self) -> LocalizedTextGql {
        (&self.0.title).into()
    }
    async fn description(&self, ctx: &Context<'_>) -> Option<String> {
        self.0.description.resolve(ctx.locale()).map(str::to_owned)
    }
    #[graphql(name = "descriptionI18n")]
    async fn description_i18n(&self) -> LocalizedTextGql {
        (&self.0.description).into()
    }
    /// Approved nominations for everyone; other statuses (via `status`) for admins only
    /// (FORBIDDEN otherwise). The default order is NAME; MOST_VOTES while counts are hidden
    /// orders by NAME too (the order would tell the counts) and says so in the response's
    /// `extensions.warnings` (code ORDER_BY_NAME_WHILE_COUNTS_HIDDEN).
    async fn nominations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<NominationOrder>,
        status: Option<NominationStatus>,
    ) -> ApiResult<Connection<Nomination>> {
        let status = status.unwrap_or(NominationStatus::Approved);
        if status != NominationStatus::Approved && !ctx.is_admin() {
            return Err(
                Error::forbidden("only admins see nominations that are not approved").into(),
            );
        }
        let order = order_by.unwrap_or(NominationOrder::Name);
        let award = award_of_category(ctx, self.0.id).await?;
        // Hidden counts keep the order hidden too, without failing the page: by NAME, and the
        // response says so.
        let order = if order == NominationOrder::MostVotes
            && !category_counts_visible(ctx, &award, self.0.id, Some(self.0.vote_count)).await?
        {
            ctx.warn(
                "ORDER_BY_NAME_WHILE_COUNTS_HIDDEN",
                "MOST_VOTES is available once counts are public; ordered by NAME",
            );
            NominationOrder::Name
        } else {
            order
        };
        let order = match order {
            NominationOrder::Name => domain::NOMINATIONS_BY_NAME,
            NominationOrder::Newest => domain::NOMINATIONS_NEWEST,
            NominationOrder::MostVotes => domain::NOMINATIONS_MOST_VOTES,
        };
        let args = page_args::<models::Nomination>(ctx, first, after)?;
        let loader = loaders::get(ctx);
        let page = loader
            .load_one(loaders::NominationsIn {
                category_id: self.0.id,
                status: status.as_str(),
                order,
                args: args.clone(),
            })
            .await?
            .unwrap_or_default();
        // The cache shares the page, which would then be copied row by row into its nodes: the
        // first category back drops the cached pages of the batch, so the others own theirs (the
        // same page asked for twice in a request is rare, and is then read again).
        loader.clear::<loaders::NominationsIn>();
        let page = Arc::unwrap_or_clone(page);
        Ok(connection(ctx, page, &args, |n| {
            Nomination(n, Some(award.clone()))
        }))
    }
    /// The viewer's vote in this category, if any.
    async fn viewer_vote(&self, ctx: &Context<'_>) -> ApiResult<Option<Vote>> {
        let Some(v) = ctx.viewer() else {
            return Ok(None);
        };
        Ok(loaders::get(ctx)
            .load_one(loaders::VoteOf {
                user_id: v.user_id,
                category_id: self.0.id,
            })
            .await?
            .map(Vote))
    }
    /// Total votes in the category; null while counts are hidden.
    async fn vote_count(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        let award = award_of_category(ctx, self.0.id).await?;
        let visible =
            category_counts_visible(ctx, &award, self.0.id, Some(self.0.vote_count)).await?;
        Ok(visible.then_some(self.0.vote_count))
    }
    /// The final ranking (public vote and jury) once results are published; empty before.
    async fn final_results(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::juries::FinalResult>> {
        super::juries::category_final_results(ctx, self.0.id).await
    }
    /// Ranked approved nominations; empty until results are published.
    async fn results(&self, ctx: &Context<'_>) -> ApiResult<Vec<NominationResult>> {
        let award = award_of_category(ctx, self.0.id).await?;
        if award.results_published_at.is_none() {
            return Ok(Vec::new());
        }
        let approved = loaders::get(ctx)
            .load_one(loaders::ApprovedIn(self.0.id))
            .await?
            .unwrap_or_default();
        let total = approved.iter().map(|n| i64::from(n.vote_count)).sum();
        Ok(domain::rank(
            approved,
            |n| n.vote_count,
            |n| (n.nominee_key.clone(), n.id),
            total,
        )
        .into_iter()
        .map(|r| NominationResult {
            rank: r.rank,
            vote_count: r.vote_count,
            share: r.share,
            nomination: Nomination::from(r.item),
        })
        .collect())
    }
}

// ───────────── Nomination ─────────────

/// A nomination, with its award when it was listed under its category (the award is then read
/// once per category instead of once per nomination).
#[derive(Clone)]
pub struct Nomination(pub models::Nomination, Option<Arc<models::Award>>);

impl From<models::Nomination> for Nomination {
    fn from(row: models::Nomination) -> Self {
        Nomination(row, None)
    }
}

impl Nomination {
    fn visible_to(&self, viewer: Option<&Viewer>) -> bool {
        access::may_see_nomination(viewer, &self.0)
    }
    fn is_submitter_or_admin(&self, ctx: &Context<'_>) -> bool {
        access::is_submitter_or_admin(ctx.viewer(), &self.0)
    }
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Nomination>> {
        Ok(loaders::get(ctx)
            .load_one(NominationId(id))
            .await?
            .map(Nomination::from)
            .filter(|n| n.visible_to(ctx.viewer())))
    }
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Nomination>>> {
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| NominationId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| {
                found
                    .get(&NominationId(*i))
                    .cloned()
                    .map(Nomination::from)
                    .filter(|n| n.visible_to(ctx.viewer()))
            })
            .collect())
    }
}

// The resolvers below that read only the row, the request and (for `voteCount`) the award,
// which the request has loaded already unless it is the first to need it.
plain_fields!(Nomination {
    "id" => id,
    "nomineeName" => nominee_name,
    "nomineeKind" => nominee_kind,
    "statement" => statement,
    "country" => country,
    "region" => region,
    "status" => status,
    "voteCount" => vote_count,
    "moderationNote" => moderation_note,
    "createdAt" => created_at,
});

#[Object]
impl Nomination {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Nomination, self.0.id)
    }
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<AwardCategory> {
        load_category(ctx, self.0.category_id)
            .await?
            .map(AwardCategory)
            .ok_or_else(|| Error::NotFound("award category").into())
    }
    async fn nominee_name(&self) -> &str {
        &self.0.nominee_name
    }
    async fn nominee_kind(&self) -> NomineeKind {
        domain::NomineeKind::parse(&self.0.nominee_kind).map_or(NomineeKind::Person, Into::into)
    }
    /// The nominated project, when it is one on the platform; null if it is not visible to the
    /// viewer (a draft), as everywhere else.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let Some(id) = self.0.project_id else {
            return Ok(None);
        };
        let Some(p) = app_loaders::loader(ctx).load_one(ProjectKey(id)).await? else {
            return Ok(None);
        };
        Ok(projects::visible(ctx, &p).await?.then_some(Project(p)))
    }
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(app_loaders::loader(ctx)
            .load_one(OrgKey(id))
            .await?
            .map(Organization))
    }
    /// Why this nominee deserves the award.
    async fn statement(&self) -> &str {
        &self.0.statement
    }
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn status(&self) -> NominationStatus {
        domain::NominationStatus::parse(&self.0.status)
            .map_or(NominationStatus::Pending, Into::into)
    }
    /// Null while counts are hidden.
    async fn vote_count(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        let award = match &self.1 {
            Some(award) => award.clone(),
            None => award_of_category(ctx, self.0.category_id).await?,
        };
        let visible = category_counts_visible(ctx, &award, self.0.category_id, None).await?;
        Ok(visible.then_some(self.0.vote_count))
    }
    /// Submitter; visible to the submitter and admins only.
    async fn submitted_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let (true, Some(id)) = (self.is_submitter_or_admin(ctx), self.0.submitted_by) else {
            return Ok(None);
        };
        Ok(loaders::get(ctx)
            .load_one(loaders::UserId(id))
            .await?
            .map(User))
    }
    /// Visible to the submitter and admins only.
    async fn moderation_note(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.is_submitter_or_admin(ctx) {
            self.0.moderation_note.as_deref()
        } else {
            None
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Ties share a rank. `share` is the fraction (0–1) of the category's votes; 0 when there are none.
#[derive(SimpleObject, Clone)]
pub struct NominationResult {
    rank: i32,
    nomination: Nomination,
    vote_count: i32,
    share: f64,
}

// ───────────── Vote ─────────────

/// A user's vote in one category; it keeps its id when moved to another nomination.
#[derive(Clone)]
pub struct Vote(pub models::Vote);

impl Vote {
    /// A vote is its voter's alone: null for everyone else, admins included.
    pub async fn load(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Vote>> {
        Ok(Self::load_by_ids(ctx, &[id]).await?.pop().flatten())
    }
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Vote>>> {
        let Some(viewer) = ctx.viewer().map(|v| v.user_id) else {
            return Ok(ids.iter().map(|_| None).collect());
        };
        let found = loaders::get(ctx)
            .load_many(ids.iter().map(|&i| loaders::VoteId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| {
                found
                    .get(&loaders::VoteId(*i))
                    .filter(|v| v.user_id == viewer)
                    .cloned()
                    .map(Vote)
            })
            .collect())
    }
}

#[Object]
impl Vote {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Vote, self.0.id)
    }
    async fn nomination(&self, ctx: &Context<'_>) -> ApiResult<Nomination> {
        loaders::get(ctx)
            .load_one(NominationId(self.0.nomination_id))
            .await?
            .map(Nomination::from)
            .ok_or_else(|| Error::NotFound("nomination").into())
    }
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<AwardCategory> {
        load_category(ctx, self.0.category_id)
            .await?
            .map(AwardCategory)
            .ok_or_else(|| Error::NotFound("award category").into())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

// ───────────── User.votes / User.nominations (resolved from viewer.rs) ─────────────

pub async fn user_votes(ctx: &Context<'_>, user_id: i64) -> ApiResult<Option<Vec<Vote>>> {
    if !access::may_see_votes_of(ctx.viewer(), user_id) {
        return Ok(None);
    }
    Ok(Some(
        loaders::get(ctx)
            .load_one(loaders::VotesOf(user_id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Vote)
            .collect(),
    ))
}

pub async fn user_nominations(
    ctx: &Context<'_>,
    user_id: i64,
    first: Option<i32>,
    after: Option<String>,
    status: Option<NominationStatus>,
) -> ApiResult<Option<Connection<Nomination>>> {
    if !access::may_see_nominations_of(ctx.viewer(), user_id) {
        return Ok(None);
    }
    nomination_page(
        ctx,
        NominationScope::Submitter(user_id),
        status.map(|s| s.as_str()),
        first,
        after,
    )
    .await
    .map(Some)
}

// ───────────── nomination pages ─────────────

async fn nomination_page(
    ctx: &Context<'_>,
    scope: NominationScope,
    status: Option<&str>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<Nomination>> {
    let args = page_args::<models::Nomination>(ctx, first, after)?;
    let page = domain::nominations_in(&*ctx.read().await?, scope, status, &args).await?;
    Ok(connection(ctx, page, &args, Nomination::from))
}

// ───────────── queries ─────────────

#[derive(InputObject, Default)]
pub struct AwardFilter {
    year: Option<i32>,
    phase: Option<AwardPhase>,
    country: Option<String>,
}

#[derive(Default)]
pub struct AwardsQuery;

#[Object]
impl AwardsQuery {
    async fn awards(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AwardFilter>,
    ) -> ApiResult<Connection<Award>> {
        let args = page_args::<models::Award>(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let filter = domain::AwardFilter {
            year: filter.year,
            phase: filter.phase.map(Phase::from),
            country: filter
                .country
                .as_deref()
                .map(|c| domain::normalize_country("filter.country", c))
                .transpose()?,
        };
        let page = domain::list(&*ctx.read().await?, &filter, now(), &args).await?;
        Ok(connection(ctx, page, &args, |a| Award(Arc::new(a))))
    }

    async fn award(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Option<Award>> {
        if ctx.look_ahead().field("categories").exists() {
            let found = domain::award_with_categories(&*ctx.read().await?, slug.trim()).await?;
            let Some((award, categories)) = found else {
                return Ok(None);
            };
            // `categories` below reads them from the request's cache instead of a second query.
            loaders::get(ctx)
                .feed_one(CategoriesOf(award.id), categories)
                .await;
            return Ok(Some(Award(Arc::new(award))));
        }
        let a = award_reads::award_by_slug(&*ctx.read().await?, slug.trim()).await?;
        Ok(a.map(|a| Award(Arc::new(a))))
    }
}

// ───────────── mutations ─────────────

#[derive(InputObject)]
pub struct CreateAwardInput {
    title: LocalizedTextInput,
    description: Option<LocalizedTextInput>,
    year: i32,
    countries: Vec<String>,
    nomination_opens_at: DateTime<Utc>,
    nomination_closes_at: DateTime<Utc>,
    voting_opens_at: DateTime<Utc>,
    voting_closes_at: DateTime<Utc>,
    live_counts: Option<bool>,
    slug: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateAwardInput {
    title: Option<LocalizedTextInput>,
    description: MaybeUndefined<LocalizedTextInput>,
    countries: Option<Vec<String>>,
    nomination_opens_at: Option<DateTime<Utc>>,
    nomination_closes_at: Option<DateTime<Utc>>,
    voting_opens_at: Option<DateTime<Utc>>,
    voting_closes_at: Option<DateTime<Utc>>,
    live_counts: Option<bool>,
}

#[derive(InputObject)]
pub struct CreateAwardCategoryInput {
    award_id: ID,
    title: LocalizedTextInput,
    description: Option<LocalizedTextInput>,
}

#[derive(InputObject)]
pub struct UpdateAwardCategoryInput {
    title: Option<LocalizedTextInput>,
    description: MaybeUndefined<LocalizedTextInput>,
}

#[derive(InputObject)]
pub struct SubmitNominationInput {
    category_id: ID,
    nominee_name: String,
    nominee_kind: NomineeKind,
    project_id: Option<ID>,
    organization_id: Option<ID>,
    statement: String,
    country: String,
    region: Option<String>,
}

fn maybe_text(m: MaybeUndefined<LocalizedTextInput>) -> Option<Option<LocalizedText>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(t) => Some(Some(t.into())),
    }
}

#[derive(Default)]
pub struct AwardsMutation;

#[Object]
impl AwardsMutation {
    async fn create_award(&self, ctx: &Context<'_>, input: CreateAwardInput) -> ApiResult<Award> {
        require_admin(ctx)?;
        let a = domain::create_award(
            &mut *ctx.conn().await?,
            domain::NewAward {
                slug: input.slug,
                title: input.title.into(),
                description: input.description.map(Into::into).unwrap_or_default(),
                year: input.year,
                countries: input.countries,
                dates: domain::Dates {
                    nomination_opens_at: input.nomination_opens_at,
                    nomination_closes_at: input.nomination_closes_at,
                    voting_opens_at: input.voting_opens_at,
                    voting_closes_at: input.voting_closes_at,
                },
                live_counts: input.live_counts.unwrap_or(false),
            },
        )
        .await?;
        Ok(Award(Arc::new(a)))
    }

    async fn update_award(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateAwardInput,
    ) -> ApiResult<Award> {
        require_admin(ctx)?;
        let id = ids::decode(NodeType::Award, &id, "id")?;
        let a = domain::update_award(
            &mut *ctx.conn().await?,
            id,
            domain::AwardChanges {
                title: input.title.map(Into::into),
                description: maybe_text(input.description),
                countries: input.countries,
                nomination_opens_at: input.nomination_opens_at,
                nomination_closes_at: input.nomination_closes_at,
                voting_opens_at: input.voting_opens_at,
                voting_closes_at: input.voting_closes_at,
                live_counts: input.live_counts,
            },
            now(),
        )
        .await?;
        Ok(Award(Arc::new(a)))
    }

    async fn create_award_category(
        &self,
        ctx: &Context<'_>,
        input: CreateAwardCategoryInput,
    ) -> ApiResult<AwardCategory> {
        require_admin(ctx)?;
        let award_id = ids::decode(NodeType::Award, &input.award_id, "awardId")?;
        let c = domain::create_category(
            &mut *ctx.conn().await?,
            award_id,
            input.title.into(),
            input.description.map(Into::into),
            now(),
        )
        .await?;
        Ok(AwardCategory(Arc::new(c)))
    }

    async fn update_award_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateAwardCategoryInput,
    ) -> ApiResult<AwardCategory> {
        require_admin(ctx)?;
        let id = ids::decode(NodeType::AwardCategory, &id, "id")?;
        let c = domain::update_category(
            &mut *ctx.conn().await?,
            id,
            input.title.map(Into::into),
            maybe_text(input.description),
            now(),
        )
        .await?;
        Ok(AwardCategory(Arc::new(c)))
    }

    /// Admins; only before the award's nominations open (PHASE_CLOSED after). Deletes its
    /// categories with it; returns the deleted award's id.
    async fn delete_award(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        require_admin(ctx)?;
        let raw = ids::decode(NodeType::Award, &id, "id")?;
        domain::delete_award(&mut *ctx.conn().await?, raw, now()).await?;
        Ok(id)
    }

    /// Only while the category has no nominations.
    async fn delete_award_category(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Award> {
        require_admin(ctx)?;
        let id = ids::decode(NodeType::AwardCategory, &id, "id")?;
        let a = domain::delete_category(&mut *ctx.conn().await?, id, now()).await?;
        Ok(Award(Arc::new(a)))
    }

    /// NOMINATION phase only. Emails the submitter a receipt.
    async fn submit_nomination(
        &self,
        ctx: &Context<'_>,
        input: SubmitNominationInput,
    ) -> ApiResult<Nomination> {
        let v = require_verified(ctx)?;
        let category_id = ids::decode(NodeType::AwardCategory, &input.category_id, "categoryId")?;
        let project_id = input
            .project_id
            .as_ref()
            .map(|id| ids::decode(NodeType::Project, id, "projectId"))
            .transpose()?;
        let organization_id = input
            .organization_id
            .as_ref()
            .map(|id| ids::decode(NodeType::Organization, id, "organizationId"))
            .transpose()?;
        let limits = ctx.config().rate_limits;
        rate_limit::check(
            ctx.data_unchecked::<ConnectionManager>(),
            &ctx.config().redis_namespace,
            "nominate",
            v.user_id,
            limits.nomination_per_user,
            ctx.req().client_ip.as_deref(),
            limits.nomination_per_ip,
        )
        .await?;
        let (n, outbox_id) = domain::submit_nomination(
            &mut *ctx.conn().await?,
            v,
            domain::NewNomination {
                category_id,
                nominee_name: input.nominee_name,
                nominee_kind: input.nominee_kind.into(),
                project_id,
                organization_id,
                statement: input.statement,
                country: input.country,
                region: input.region,
            },
            now(),
        )
        .await?;
        push_outbox(ctx, outbox_id.as_slice()).await;
        Ok(Nomination::from(n))
    }

    /// By the submitter, before voting opens.
    async fn withdraw_nomination(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Nomination> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::Nomination, &id, "id")?;
        let n = domain::withdraw_nomination(&mut *ctx.conn().await?, v.user_id, id, now()).await?;
        Ok(Nomination::from(n))
    }

    /// Admins, before voting opens. Emails the submitter the decision.
    async fn moderate_nomination(
        &self,
        ctx: &Context<'_>,
        id: ID,
        decision: ModerationDecision,
        note: Option<String>,
    ) -> ApiResult<Nomination> {
        let v = require_admin(ctx)?;
        let id = ids::decode(NodeType::Nomination, &id, "id")?;
        let (n, outbox_id) = domain::moderate_nomination(
            &mut *ctx.conn().await?,
            v.user_id,
            id,
            decision == ModerationDecision::Approve,
            note,
            now(),
        )
        .await?;
        push_outbox(ctx, outbox_id.as_slice()).await;
        Ok(Nomination::from(n))
    }

    /// VOTING phase only, APPROVED nominations only; one vote per user per category: voting
    /// again in the same category moves the vote, voting again for the same nomination changes
    /// nothing.
    async fn cast_vote(&self, ctx: &Context<'_>, nomination_id: ID) -> ApiResult<Vote> {
        let v = require_verified(ctx)?;
        let nomination_id = ids::decode(NodeType::Nomination, &nomination_id, "nominationId")?;
        let limits = ctx.config().rate_limits;
        let ip = ctx.req().client_ip.as_deref();
        rate_limit::check(
            ctx.data_unchecked::<ConnectionManager>(),
            &ctx.config().redis_namespace,
            "vote",
            v.user_id,
            limits.vote_per_user,
            ip,
            limits.vote_per_ip,
        )
        .await?;
        let t = now();
        let forensics = Forensics::of(
            &ctx.config().app_secret,
            ip,
            ctx.req().user_agent.as_deref(),
        );
        let out = {
            let mut conn = ctx.conn().await?;
            domain::cast_vote(&mut conn, v.user_id, nomination_id, forensics, t).await?
        };
        if out.change.is_some() {
            // The vote's nomination or category can show counts, which must include this vote.
            let look = ctx.look_ahead();
            let shows_counts = look.field("nomination").exists() || look.field("category").exists();
            counts_changed(ctx, out.change, out.live_counts, shows_counts).await;
        }
        Ok(Vote(models::Vote {
            id: out.vote_id,
            user_id: v.user_id,
            category_id: out.category_id,
            nomination_id: out.nomination_id,
            created_at: out.created_at,
            updated_at: t,
            previous_nomination_id: None,
        }))
    }

    /// VOTING phase only. Returns the category so clients can refresh viewerVote and voteCount.
    async fn retract_vote(&self, ctx: &Context<'_>, category_id: ID) -> ApiResult<AwardCategory> {
        let v = require_verified(ctx)?;
        let category_id = ids::decode(NodeType::AwardCategory, &category_id, "categoryId")?;
        let (c, a, change) = {
            let mut conn = ctx.conn().await?;
            domain::retract_vote(
                &mut conn,
                v.user_id,
                category_id,
                Forensics::of(
                    &ctx.config().app_secret,
                    ctx.req().client_ip.as_deref(),
                    ctx.req().user_agent.as_deref(),
                ),
                now(),
            )
            .await?
        };
        let Some(change) = change else {
            return Ok(AwardCategory(Arc::new(c)));
        };
        counts_changed(ctx, Some(change), a.live_counts, true).await;
        // Read again: the counters include the retraction only now.
        let c = domain::category(&mut *ctx.conn().await?, c.id).await?;
        Ok(AwardCategory(Arc::new(c)))
    }

    /// Admins; after voting closes. Emails the AWARD_UPDATES subscribers.
    async fn publish_results(&self, ctx: &Context<'_>, award_id: ID) -> ApiResult<Award> {
        let v = require_admin(ctx)?;
        let award_id = ids::decode(NodeType::Award, &award_id, "awardId")?;
        let (a, outbox_ids) =
            domain::publish_results(&mut *ctx.conn().await?, Some(v.user_id), award_id, now())
                .await?;
        push_outbox(ctx, &outbox_ids).await;
        Ok(Award(Arc::new(a)))
    }
}

/// After a committed vote change: hands it to the process's fold loop, which folds it and
/// publishes its live counts; waits for that fold only when `wait` (the answer shows counts).
pub(super) async fn counts_changed(
    ctx: &Context<'_>,
    change: Option<domain::VoteChange>,
    live: bool,
    wait: bool,
) {
    let counts = ctx.data_unchecked::<Arc<VoteCounts>>();
    let ticket = counts.committed(change.filter(|_| live));
    if wait {
        counts.wait(ticket).await;
    }
}
