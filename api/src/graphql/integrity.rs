//! Vote integrity: the GraphQL face of `birgemiz_schema::integrity`. The report is computed
//! from the vote log per request (one batch per request through `JuryLoader`); who may read it
//! or act on it is decided there.

use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, Object};
use birgemiz_schema::integrity::{self as domain, RULES};
use chrono::{DateTime, Utc};

use super::awards::{AwardCategory, Nomination};
use super::context::ContextExt;
use super::errors::{ApiError, ApiResult};
use super::ids::{self, NodeType};
use super::juries::{JuryData, loader};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::integrity::SignalKind")]
pub enum IntegritySignalKind {
    /// Many votes for one nomination from one network (/24 IPv4, /48 IPv6).
    SharedNetwork,
    /// A nomination's votes per minute far above its own baseline.
    Burst,
    /// Votes from accounts created shortly before they voted.
    NewAccounts,
    /// Votes from one client fingerprint (user agent + network) across many accounts.
    SameClient,
}

/// A group of votes that looks coordinated. Admins only.
#[derive(Clone)]
pub struct IntegritySignal(pub Arc<domain::Signal>);

#[Object]
impl IntegritySignal {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::IntegritySignal, self.0.id)
    }
    async fn kind(&self) -> IntegritySignalKind {
        self.0.kind.into()
    }
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<AwardCategory> {
        AwardCategory::load_by_ids(ctx, &[self.0.category_id])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| birgemiz_schema::Error::NotFound("award category").into())
    }
    async fn nomination(&self, ctx: &Context<'_>) -> ApiResult<Option<Nomination>> {
        let Some(id) = self.0.nomination_id else {
            return Ok(None);
        };
        Ok(Nomination::load_by_ids(ctx, &[id]).await?.pop().flatten())
    }
    async fn votes(&self) -> i32 {
        self.0.votes
    }
    /// How far from expected, e.g. 12.5 = 12.5× the baseline; higher is more suspicious.
    async fn strength(&self) -> f64 {
        self.0.strength
    }
    async fn first_at(&self) -> DateTime<Utc> {
        self.0.first_at
    }
    async fn last_at(&self) -> DateTime<Utc> {
        self.0.last_at
    }
    /// In the request's language.
    async fn description(&self, ctx: &Context<'_>) -> String {
        self.0.describe(ctx.locale(), &RULES)
    }
    async fn quarantined(&self) -> bool {
        self.0.quarantined
    }
    async fn quarantine_reason(&self) -> Option<&str> {
        self.0.quarantine_reason.as_deref()
    }
}

/// Admins only. Computed from the vote log; addresses are kept only as keyed hashes.
pub struct VoteIntegrityReport(Arc<domain::Report>);

#[Object]
impl VoteIntegrityReport {
    async fn generated_at(&self) -> DateTime<Utc> {
        self.0.generated_at
    }
    async fn votes_total(&self) -> i32 {
        i32::try_from(self.0.votes_total).unwrap_or(i32::MAX)
    }
    async fn votes_quarantined(&self) -> i32 {
        i32::try_from(self.0.votes_quarantined).unwrap_or(i32::MAX)
    }
    async fn signals(&self) -> Vec<IntegritySignal> {
        self.0
            .signals
            .iter()
            .map(|s| IntegritySignal(Arc::new(s.clone())))
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportOf(pub i64);

impl Loader<ReportOf> for JuryData {
    type Value = Arc<domain::Report>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[ReportOf],
    ) -> ApiResult<std::collections::HashMap<ReportOf, Arc<domain::Report>>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let got = domain::reports(&*self.conn().await?, &ids, Utc::now()).await?;
        Ok(got
            .into_iter()
            .map(|(k, v)| (ReportOf(k), Arc::new(v)))
            .collect())
    }
}

/// `Award.integrityReport`: admins, once voting has opened; null otherwise.
pub async fn award_report(
    ctx: &Context<'_>,
    award: &birgemiz_schema::models::Award,
) -> ApiResult<Option<VoteIntegrityReport>> {
    if !domain::may_read_report(ctx.viewer(), award, Utc::now()) {
        return Ok(None);
    }
    Ok(loader(ctx)
        .load_one(ReportOf(award.id))
        .await?
        .map(VoteIntegrityReport))
}

/// For `node(id:)`: admins only.
pub async fn signals_by_ids(
    ctx: &Context<'_>,
    ids: &[i64],
) -> ApiResult<Vec<Option<IntegritySignal>>> {
    if !ctx.is_admin() {
        return Ok(ids.iter().map(|_| None).collect());
    }
    let conn = ctx.read().await?;
    let mut found = domain::signals_by_ids(&conn, ctx.viewer(), ids).await?;
    Ok(ids
        .iter()
        .map(|i| found.remove(i).map(|s| IntegritySignal(Arc::new(s))))
        .collect())
}

/// A quarantine or release moved the public counters: fold them before answering, so that the
/// next read shows it, and tell live-count subscribers of the signal's nomination.
async fn counts_moved(ctx: &Context<'_>, s: &domain::Signal, live_counts: bool) {
    let change = birgemiz_schema::awards::VoteChange {
        category_id: s.category_id,
        from: s.nomination_id,
        to: None,
    };
    super::awards::counts_changed(ctx, Some(change), live_counts, true).await;
}

#[derive(Default)]
pub struct IntegrityMutation;

#[Object]
impl IntegrityMutation {
    /// Admins, until the results are frozen: the signal's votes are not counted. Logged with the admin and the reason.
    async fn quarantine_votes(
        &self,
        ctx: &Context<'_>,
        signal_id: ID,
        reason: String,
    ) -> ApiResult<IntegritySignal> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::IntegritySignal, &signal_id, "signalId")?;
        let (s, a) =
            domain::quarantine(&mut *ctx.conn().await?, v, id, &reason, Utc::now()).await?;
        counts_moved(ctx, &s, a.live_counts).await;
        Ok(IntegritySignal(Arc::new(s)))
    }

    /// Admins, until the results are frozen.
    async fn release_votes(&self, ctx: &Context<'_>, signal_id: ID) -> ApiResult<IntegritySignal> {
        let v = ctx.require_viewer()?;
        let id = ids::decode(NodeType::IntegritySignal, &signal_id, "signalId")?;
        let (s, a) = domain::release(&mut *ctx.conn().await?, v, id, Utc::now()).await?;
        counts_moved(ctx, &s, a.live_counts).await;
        Ok(IntegritySignal(Arc::new(s)))
    }
}
