//! Email subscriptions (double opt-in), the preferences link, and digest runs for admins.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use birgemiz_schema::Error;
use birgemiz_schema::digests::{self, Progress};
use birgemiz_schema::models::{self, EmailSubscription as SubscriptionRow};
use birgemiz_schema::opt_outs::{self, OptOut};
use birgemiz_schema::subscriptions::LinkKeys;
use birgemiz_schema::subscriptions::{self, Topic};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;

use super::common::push_outbox;
use super::context::ContextExt;
use super::errors::ApiResult;
use super::ids::{self, NodeType};
use super::pagination::{self, Connection, Shape};
use super::rate_limit;
use super::viewer::LocaleGql;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Topic", remote = "birgemiz_schema::subscriptions::Topic")]
pub enum TopicGql {
    WeeklyDigest,
    AwardUpdates,
    News,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(
    name = "SubscriptionStatus",
    remote = "birgemiz_schema::subscriptions::SubscriptionStatus"
)]
pub enum SubscriptionStatusGql {
    PendingConfirmation,
    Active,
    Unsubscribed,
}

#[derive(InputObject)]
pub struct SubscribeInput {
    email: String,
    locale: Option<LocaleGql>,
    topics: Option<Vec<TopicGql>>,
}

/// Always PENDING_CONFIRMATION, whether or not the address was known, so addresses can't be probed.
#[derive(SimpleObject)]
pub struct SubscribePayload {
    status: SubscriptionStatusGql,
}

#[derive(SimpleObject)]
#[graphql(name = "EmailSubscription")]
pub struct EmailSubscriptionGql {
    email: String,
    locale: LocaleGql,
    topics: Vec<TopicGql>,
    status: SubscriptionStatusGql,
}

impl From<SubscriptionRow> for EmailSubscriptionGql {
    fn from(row: SubscriptionRow) -> Self {
        let status = subscriptions::SubscriptionStatus::parse(&row.status)
            .map_or(SubscriptionStatusGql::PendingConfirmation, Into::into);
        EmailSubscriptionGql {
            topics: subscriptions::topics_of(&row)
                .into_iter()
                .map(Into::into)
                .collect(),
            locale: birgemiz_schema::i18n::Locale::parse(&row.locale)
                .unwrap_or_default()
                .into(),
            email: row.email,
            status,
        }
    }
}

/// A run of the digest; admins only.
#[derive(SimpleObject, Clone)]
pub struct DigestRun {
    // Owned: the `Node` interface's `id` resolves to an `ID`, not a reference.
    #[graphql(owned)]
    pub id: ID,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    recipient_count: i32,
    sent_count: i32,
    failed_count: i32,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl super::plain_fields::PlainFields for DigestRun {}

impl DigestRun {
    pub fn new(run: &models::DigestRun, progress: Progress) -> Self {
        let clamp = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        DigestRun {
            id: ids::encode(NodeType::DigestRun, run.id),
            period_start: run.period_start,
            period_end: run.period_end,
            recipient_count: run.recipient_count,
            sent_count: clamp(progress.sent),
            failed_count: clamp(progress.failed),
            started_at: run.started_at,
            finished_at: run.finished_at,
        }
    }
}

/// Runs with their progress, read in one query for the whole list.
pub async fn digest_runs_by_ids(
    conn: &diesel_async::AsyncPgConnection,
    runs: &[models::DigestRun],
) -> ApiResult<Vec<DigestRun>> {
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let progress: HashMap<i64, Progress> = digests::progress_of(conn, &ids).await?;
    Ok(runs
        .iter()
        .map(|r| DigestRun::new(r, progress.get(&r.id).copied().unwrap_or_default()))
        .collect())
}

fn require_admin(ctx: &Context<'_>) -> ApiResult<()> {
    ctx.require_viewer()?;
    if ctx.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden("admins only").into())
    }
}

#[derive(Default)]
pub struct EmailQuery;

#[Object]
impl EmailQuery {
    /// Admins only (null otherwise): digest runs, newest first, with their progress.
    async fn digest_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<DigestRun>>> {
        if !ctx.is_admin() {
            return Ok(None);
        }
        let first = pagination::page_size(first)?;
        let cursor: Option<(DateTime<Utc>, i64)> = pagination::decode_cursor(after.as_deref())?;
        let conn = ctx.read().await?;
        let rows = digests::page_runs(&conn, cursor, first + 1).await?;
        let total = digests::count_runs(&conn).await?;
        let nodes = digest_runs_by_ids(&conn, &rows).await?;
        Ok(Some(Connection::from_rows(
            rows.into_iter().zip(nodes).collect(),
            first,
            cursor.is_some(),
            total,
            Shape::of(ctx),
            |(r, _)| (r.started_at, r.id),
            |(_, n)| n,
        )))
    }

    /// Read the subscription behind an email link (preferences, unsubscribe or confirmation)
    /// without using the link up.
    async fn email_subscription(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> ApiResult<Option<EmailSubscriptionGql>> {
        let conn = ctx.read().await?;
        match subscriptions::find_by_any_token(&conn, LinkKeys::of(ctx.config()), &token).await {
            Ok(sub) => Ok(Some(sub.into())),
            Err(Error::NotFound(_) | Error::BadInput { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Read what an opt-out link stands for (null for any other token) without acting.
    async fn email_opt_out(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> ApiResult<Option<EmailOptOutGql>> {
        let conn = ctx.read().await?;
        match opt_outs::find(&conn, &ctx.config().app_secret, &token).await {
            Ok(found) => Ok(found.map(Into::into)),
            Err(Error::BadInput { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(
    name = "EmailOptOutKind",
    remote = "birgemiz_schema::opt_outs::OptOutKind"
)]
pub enum OptOutKindGql {
    /// Receipts and decisions of one's volunteer applications.
    Applications,
    /// New applications and withdrawals, to a project's managers.
    ProjectManagement,
    /// Receipts and moderation decisions of one's nominations.
    Nominations,
    /// Reminders to a juror to submit scores.
    Jury,
}

/// The kind of participant email an opt-out link (in the footer of a receipt, decision, notice
/// or jury reminder) stops, and whether it is stopped now.
#[derive(SimpleObject)]
#[graphql(name = "EmailOptOut")]
pub struct EmailOptOutGql {
    kind: OptOutKindGql,
    opted_out: bool,
}

impl From<OptOut> for EmailOptOutGql {
    fn from(o: OptOut) -> Self {
        EmailOptOutGql {
            kind: o.kind.into(),
            opted_out: o.opted_out,
        }
    }
}

#[derive(Default)]
pub struct EmailMutation;

#[Object]
impl EmailMutation {
    async fn subscribe(
        &self,
        ctx: &Context<'_>,
        input: SubscribeInput,
    ) -> ApiResult<SubscribePayload> {
        let limits = ctx.config().rate_limits;
        rate_limit::email_action(
            ctx,
            "subscribe",
            &input.email,
            limits.subscribe_per_email,
            limits.subscribe_per_ip,
        )
        .await?;
        let locale = input.locale.map(Into::into).unwrap_or_else(|| ctx.locale());
        let topics: Vec<Topic> = input
            .topics
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let mut conn = ctx.conn().await?;
        let queued = conn
            .transaction::<_, Error, _>(async |conn| {
                subscriptions::subscribe(conn, &input.email, locale, &topics).await
            })
            .await?;
        if let Some(id) = queued {
            push_outbox(ctx, &[id]).await;
        }
        Ok(SubscribePayload {
            status: SubscriptionStatusGql::PendingConfirmation,
        })
    }

    async fn confirm_subscription(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> ApiResult<EmailSubscriptionGql> {
        let mut conn = ctx.conn().await?;
        Ok(subscriptions::confirm(&mut conn, &token).await?.0.into())
    }

    /// Without topics: from everything. The token of an email's unsubscribe link stays valid (RFC 8058).
    async fn unsubscribe(
        &self,
        ctx: &Context<'_>,
        token: String,
        topics: Option<Vec<TopicGql>>,
    ) -> ApiResult<EmailSubscriptionGql> {
        let topics: Option<Vec<Topic>> = topics.map(|t| t.into_iter().map(Into::into).collect());
        let mut conn = ctx.conn().await?;
        let secret = LinkKeys::of(ctx.config());
        Ok(
            subscriptions::unsubscribe(&mut conn, secret, &token, topics.as_deref())
                .await?
                .into(),
        )
    }

    /// Change topics and language from an email's link.
    async fn update_subscription(
        &self,
        ctx: &Context<'_>,
        token: String,
        topics: Vec<TopicGql>,
        locale: Option<LocaleGql>,
    ) -> ApiResult<EmailSubscriptionGql> {
        let topics: Vec<Topic> = topics.into_iter().map(Into::into).collect();
        let mut conn = ctx.conn().await?;
        let secret = LinkKeys::of(ctx.config());
        let updated = subscriptions::update(
            &mut conn,
            secret,
            &token,
            Some(&topics),
            locale.map(Into::into),
        )
        .await?;
        Ok(updated.into())
    }

    /// Stop (`optedOut: true`) or resume the kind of email an opt-out link stands for; the same
    /// link keeps working both ways.
    async fn set_email_opt_out(
        &self,
        ctx: &Context<'_>,
        token: String,
        opted_out: bool,
    ) -> ApiResult<EmailOptOutGql> {
        let mut conn = ctx.conn().await?;
        Ok(
            opt_outs::set(&mut conn, &ctx.config().app_secret, &token, opted_out)
                .await?
                .into(),
        )
    }

    /// Admins: start a digest run now rather than at the scheduled time; the worker fills it.
    async fn run_digest_now(&self, ctx: &Context<'_>) -> ApiResult<DigestRun> {
        require_admin(ctx)?;
        let mut conn = ctx.conn().await?;
        let (run, _created) = digests::start_manual_run(&mut conn).await?;
        let progress = digests::progress_of(&conn, &[run.id]).await?;
        Ok(DigestRun::new(
            &run,
            progress.get(&run.id).copied().unwrap_or_default(),
        ))
    }
}
