//! Mutations.

use super::*;

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

pub(crate) fn maybe_text(m: MaybeUndefined<LocalizedTextInput>) -> Option<Option<LocalizedText>> {
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
pub(crate) async fn counts_changed(
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
