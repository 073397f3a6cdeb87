//! Juries and final results: the GraphQL face of `birgemiz_schema::juries` and
//! `birgemiz_schema::results`. Every list goes through `JuryLoader`; who sees what is decided by
//! `juries::can_see_*`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use birgemiz_schema::juries::freeze as freezing;
use birgemiz_schema::juries::models as jm;
use birgemiz_schema::juries::{self as domain, Assignment, Progress};
use birgemiz_schema::results::{Formula, Method};
use birgemiz_schema::{Error, db};
use chrono::{DateTime, Utc};

use super::award_loaders::{self as award_loaders, AwardId, CategoryId, NominationId};
use super::awards::{Award, AwardCategory, Nomination};
use super::common::{
    LocalizedTextGql, LocalizedTextInput, localized, localized_or_empty, push_outbox,
};
use super::context::ContextExt;
use super::errors::{ApiError, ApiResult};
use super::ids::{self, NodeType};
use super::loaders::RequestCache;
use super::pagination::{Connection, Shape, decode_cursor, page_size};
use super::plain_fields::PlainFields;
use super::reads::{ReadConn, ReadSource};
use super::viewer::User;

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn require_admin<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a birgemiz_schema::accounts::Viewer> {
    Ok(birgemiz_schema::access::require_admin(ctx.viewer())?)
}

// ───────────── loaders ─────────────

pub struct JuryData {
    reads: ReadSource,
}

pub type JuryLoader = DataLoader<JuryData, RequestCache>;

pub fn for_request(reads: ReadSource, delay: Option<std::time::Duration>) -> JuryLoader {
    DataLoader::with_cache(JuryData { reads }, tokio::spawn, RequestCache::new())
        .delay(delay.unwrap_or(super::loaders::BATCH_DELAY))
}

pub fn uncached(pool: db::Pool, delay: Option<std::time::Duration>) -> JuryLoader {
    let loader = for_request(ReadSource::Pool(pool), delay);
    loader.enable_all_cache(false);
    loader
}

pub(super) fn loader<'a>(ctx: &'a Context<'_>) -> &'a JuryLoader {
    ctx.data_unchecked::<JuryLoader>()
}

impl JuryData {
    pub(super) async fn conn(&self) -> ApiResult<ReadConn<'_>> {
        Ok(self.reads.conn().await?)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FormulaOf(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CriteriaOf(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CriterionId(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JurorId(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScoreId(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JurorsOf {
    pub award_id: i64,
    pub after: Option<i64>,
    pub limit: i64,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CategoriesOfJuror(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProgressOf(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AssignmentsOf {
    pub juror_id: i64,
    pub category_id: Option<i64>,
    pub after: Option<i64>,
    pub limit: i64,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScoreCriteria(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeatsOf(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotOf(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FinalResultsOf(pub i64);

fn ids_of<K: Copy>(keys: &[K], f: impl Fn(K) -> i64) -> Vec<i64> {
    let mut v: Vec<i64> = keys.iter().map(|k| f(*k)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl Loader<FormulaOf> for JuryData {
    type Value = Formula;
    type Error = ApiError;
    async fn load(&self, keys: &[FormulaOf]) -> ApiResult<HashMap<FormulaOf, Formula>> {
        let got = domain::formulas(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|(k, v)| (FormulaOf(k), v)).collect())
    }
}

impl Loader<CriteriaOf> for JuryData {
    type Value = Vec<jm::Criterion>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[CriteriaOf],
    ) -> ApiResult<HashMap<CriteriaOf, Vec<jm::Criterion>>> {
        let got = domain::criteria_of(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|(k, v)| (CriteriaOf(k), v)).collect())
    }
}

impl Loader<CriterionId> for JuryData {
    type Value = jm::Criterion;
    type Error = ApiError;
    async fn load(&self, keys: &[CriterionId]) -> ApiResult<HashMap<CriterionId, jm::Criterion>> {
        let got = domain::criteria_by_ids(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|c| (CriterionId(c.id), c)).collect())
    }
}

impl Loader<JurorId> for JuryData {
    type Value = jm::Juror;
    type Error = ApiError;
    async fn load(&self, keys: &[JurorId]) -> ApiResult<HashMap<JurorId, jm::Juror>> {
        let got = domain::jurors_by_ids(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|j| (JurorId(j.id), j)).collect())
    }
}

impl Loader<ScoreId> for JuryData {
    type Value = jm::JuryScore;
    type Error = ApiError;
    async fn load(&self, keys: &[ScoreId]) -> ApiResult<HashMap<ScoreId, jm::JuryScore>> {
        let got = domain::scores_by_ids(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|s| (ScoreId(s.id), s)).collect())
    }
}

impl Loader<JurorsOf> for JuryData {
    type Value = (Vec<jm::Juror>, i64);
    type Error = ApiError;
    async fn load(&self, keys: &[JurorsOf]) -> ApiResult<HashMap<JurorsOf, (Vec<jm::Juror>, i64)>> {
        // Keys sharing page arguments are one statement for all their awards.
        let mut groups: HashMap<(Option<i64>, i64), Vec<i64>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.after, k.limit))
                .or_default()
                .push(k.award_id);
        }
        let conn = self.conn().await?;
        let mut out = HashMap::new();
        for ((after, limit), awards) in groups {
            for (award_id, page) in domain::jurors_of_awards(&conn, &awards, after, limit).await? {
                out.insert(
                    JurorsOf {
                        award_id,
                        after,
                        limit,
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

impl Loader<CategoriesOfJuror> for JuryData {
    type Value = Vec<i64>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[CategoriesOfJuror],
    ) -> ApiResult<HashMap<CategoriesOfJuror, Vec<i64>>> {
        let got =
            domain::categories_of_jurors(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got
            .into_iter()
            .map(|(k, v)| (CategoriesOfJuror(k), v))
            .collect())
    }
}

impl Loader<ProgressOf> for JuryData {
    type Value = Progress;
    type Error = ApiError;
    async fn load(&self, keys: &[ProgressOf]) -> ApiResult<HashMap<ProgressOf, Progress>> {
        let got = domain::progress(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|(k, v)| (ProgressOf(k), v)).collect())
    }
}

impl Loader<AssignmentsOf> for JuryData {
    type Value = (Vec<Assignment>, i64);
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[AssignmentsOf],
    ) -> ApiResult<HashMap<AssignmentsOf, (Vec<Assignment>, i64)>> {
        let mut groups: HashMap<(Option<i64>, Option<i64>, i64), Vec<i64>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.category_id, k.after, k.limit))
                .or_default()
                .push(k.juror_id);
        }
        let conn = self.conn().await?;
        let mut out = HashMap::new();
        for ((category_id, after, limit), jurors) in groups {
            let pages = domain::assignments(&conn, &jurors, category_id, after, limit).await?;
            for (juror_id, page) in pages {
                out.insert(
                    AssignmentsOf {
                        juror_id,
                        category_id,
                        after,
                        limit,
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

impl Loader<ScoreCriteria> for JuryData {
    type Value = Vec<(i64, i32)>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[ScoreCriteria],
    ) -> ApiResult<HashMap<ScoreCriteria, Vec<(i64, i32)>>> {
        let got = domain::criterion_scores(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got
            .into_iter()
            .map(|(k, v)| (ScoreCriteria(k), v))
            .collect())
    }
}

impl Loader<SeatsOf> for JuryData {
    type Value = Vec<jm::Juror>;
    type Error = ApiError;
    async fn load(&self, keys: &[SeatsOf]) -> ApiResult<HashMap<SeatsOf, Vec<jm::Juror>>> {
        let got = domain::seats_of_users(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|(k, v)| (SeatsOf(k), v)).collect())
    }
}

impl Loader<SnapshotOf> for JuryData {
    type Value = jm::SnapshotRow;
    type Error = ApiError;
    async fn load(&self, keys: &[SnapshotOf]) -> ApiResult<HashMap<SnapshotOf, jm::SnapshotRow>> {
        let got = freezing::snapshots(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got.into_iter().map(|(k, v)| (SnapshotOf(k), v)).collect())
    }
}

impl Loader<FinalResultsOf> for JuryData {
    type Value = Vec<jm::FinalResultRow>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[FinalResultsOf],
    ) -> ApiResult<HashMap<FinalResultsOf, Vec<jm::FinalResultRow>>> {
        let got = freezing::final_results_of(&*self.conn().await?, &ids_of(keys, |k| k.0)).await?;
        Ok(got
            .into_iter()
            .map(|(k, v)| (FinalResultsOf(k), v))
            .collect())
    }
}

// ───────────── types ─────────────

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "birgemiz_schema::results::Method")]
pub enum ResultMethod {
    RankPoints,
    WeightedShare,
}

pub struct ResultFormula(Formula);

#[Object]
impl ResultFormula {
    /// 0–1; publicWeight + juryWeight = 1. 1 means no jury.
    async fn public_weight(&self) -> f64 {
        self.0.public_weight
    }
    async fn jury_weight(&self) -> f64 {
        self.0.jury_weight
    }
    async fn method(&self) -> ResultMethod {
        self.0.method.into()
    }
    /// RANK_POINTS only, e.g. [5, 4, 3, 2, 1].
    async fn rank_points(&self) -> Option<Vec<i32>> {
        self.0.rank_points.clone()
    }
    /// Standardize each juror's scores (z-score) before averaging, so a harsh juror weighs like a lenient one.
    async fn normalize_jurors(&self) -> bool {
        self.0.normalize_jurors
    }
    /// The formula in words, in the request's language.
    async fn description(&self, ctx: &Context<'_>) -> String {
        domain::describe(&self.0, ctx.locale())
    }
}

#[derive(InputObject)]
pub struct ResultFormulaInput {
    public_weight: f64,
    method: ResultMethod,
    rank_points: Option<Vec<i32>>,
    normalize_jurors: Option<bool>,
}

#[derive(Clone)]
pub struct JudgingCriterion(pub jm::Criterion);

impl PlainFields for JudgingCriterion {}

#[Object]
impl JudgingCriterion {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::JudgingCriterion, self.0.id)
    }
    async fn award(&self, ctx: &Context<'_>) -> ApiResult<Award> {
        award(ctx, self.0.award_id).await
    }
    async fn title(&self, ctx: &Context<'_>) -> String {
        localized_or_empty(ctx, &self.0.title)
    }
    #[graphql(name = "titleI18n")]
    async fn title_i18n(&self) -> LocalizedTextGql {
        (&self.0.title).into()
    }
    async fn description(&self, ctx: &Context<'_>) -> Option<String> {
        localized(ctx, &self.0.description)
    }
    /// Relative weight in a juror's total (weights are normalized to sum to 1).
    async fn weight(&self) -> f64 {
        self.0.weight
    }
    /// Scores are integers from 0 to maxScore.
    async fn max_score(&self) -> i32 {
        self.0.max_score
    }
    async fn position(&self) -> i32 {
        self.0.position
    }
}

#[derive(InputObject)]
pub struct CreateJudgingCriterionInput {
    award_id: ID,
    title: LocalizedTextInput,
    description: Option<LocalizedTextInput>,
    weight: f64,
    max_score: i32,
}

#[derive(InputObject)]
pub struct UpdateJudgingCriterionInput {
    title: Option<LocalizedTextInput>,
    description: MaybeUndefined<LocalizedTextInput>,
    weight: Option<f64>,
    max_score: Option<i32>,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct JudgingProgress {
    assigned: i32,
    scored: i32,
    conflicts: i32,
    submitted: bool,
}

async fn award(ctx: &Context<'_>, id: i64) -> ApiResult<Award> {
    award_loaders::get(ctx)
        .load_one(AwardId(id))
        .await?
        .map(Award)
        .ok_or_else(|| Error::NotFound("award").into())
}

/// A seat on an award's jury. Visible in full to admins and to the juror.
#[derive(Clone)]
pub struct Juror(pub jm::Juror);

impl PlainFields for Juror {}

impl Juror {
    /// For `node(id:)`: admins and the juror only.
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<Juror>>> {
        let found = loader(ctx)
            .load_many(ids.iter().map(|&i| JurorId(i)))
            .await?;
        Ok(ids
            .iter()
            .map(|i| {
                found
                    .get(&JurorId(*i))
                    .filter(|j| domain::can_see_juror(ctx.viewer(), j))
                    .cloned()
                    .map(Juror)
            })
            .collect())
    }
}

#[Object]
impl Juror {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Juror, self.0.id)
    }
    async fn award(&self, ctx: &Context<'_>) -> ApiResult<Award> {
        award(ctx, self.0.award_id).await
    }
    /// Null for anyone but admins and the juror.
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let (true, Some(id)) = (domain::can_see_juror(ctx.viewer(), &self.0), self.0.user_id)
        else {
            return Ok(None);
        };
        Ok(award_loaders::get(ctx)
            .load_one(award_loaders::UserId(id))
            .await?
            .map(User))
    }
    async fn display_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        if let Some(id) = self.0.user_id
            && let Some(u) = award_loaders::get(ctx)
                .load_one(award_loaders::UserId(id))
                .await?
        {
            return Ok(u.display_name);
        }
        Ok(self
            .0
            .email
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned())
    }
    /// The categories this juror scores; all of the award's when empty.
    async fn categories(&self, ctx: &Context<'_>) -> ApiResult<Vec<AwardCategory>> {
        let ids = loader(ctx)
            .load_one(CategoriesOfJuror(self.0.id))
            .await?
            .unwrap_or_default();
        let found = award_loaders::get(ctx)
            .load_many(ids.iter().map(|&i| CategoryId(i)))
            .await?;
        Ok(ids
            .iter()
            .filter_map(|i| found.get(&CategoryId(*i)).cloned().map(AwardCategory))
            .collect())
    }
    async fn invited_at(&self) -> DateTime<Utc> {
        self.0.invited_at
    }
    /// When the juror first signed in through the invitation.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    async fn progress(&self, ctx: &Context<'_>) -> ApiResult<JudgingProgress> {
        let p = loader(ctx)
            .load_one(ProgressOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(JudgingProgress {
            assigned: p.assigned,
            scored: p.scored,
            conflicts: p.conflicts,
            submitted: self.0.submitted_at.is_some(),
        })
    }
    /// Admins and the juror: the approved nominations to score.
    async fn assignments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        category_id: Option<ID>,
    ) -> ApiResult<Option<Connection<JurorAssignment>>> {
        if !domain::can_see_juror(ctx.viewer(), &self.0) {
            return Ok(None);
        }
        let first = page_size(first)?;
        let cursor: Option<i64> = decode_cursor(after.as_deref())?;
        let category_id = category_id
            .map(|c| ids::decode(NodeType::AwardCategory, &c, "categoryId"))
            .transpose()?;
        let (rows, total) = loader(ctx)
            .load_one(AssignmentsOf {
                juror_id: self.0.id,
                category_id,
                after: cursor,
                limit: first + 1,
            })
            .await?
            .unwrap_or_default();
        Ok(Some(Connection::from_rows(
            rows,
            first,
            cursor.is_some(),
            total,
            Shape::of(ctx),
            |a| a.nomination.id,
            JurorAssignment,
        )))
    }
}

#[derive(Clone)]
pub struct JurorAssignment(Assignment);

impl PlainFields for JurorAssignment {}

#[Object]
impl JurorAssignment {
    async fn nomination(&self) -> Nomination {
        Nomination::from(self.0.nomination.clone())
    }
    /// The juror declared a conflict of interest: the nomination is not theirs to score.
    async fn conflict(&self) -> bool {
        self.0.conflict
    }
    /// The juror's score, if any (the juror and admins only).
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<Option<JuryScore>> {
        let Some(s) = &self.0.score else {
            return Ok(None);
        };
        visible_score(ctx, s.clone()).await
    }
}

/// The score if the viewer may see it (its juror's seat decides).
async fn visible_score(ctx: &Context<'_>, s: jm::JuryScore) -> ApiResult<Option<JuryScore>> {
    let Some(j) = loader(ctx).load_one(JurorId(s.juror_id)).await? else {
        return Ok(None);
    };
    let visible = domain::can_see_score(ctx.viewer(), &j);
    Ok(visible.then_some(JuryScore(s, j)))
}

#[derive(SimpleObject, Clone)]
pub struct CriterionScore {
    criterion: JudgingCriterion,
    score: i32,
}

#[derive(InputObject)]
pub struct CriterionScoreInput {
    criterion_id: ID,
    score: i32,
}

/// One juror's score of one nomination: the juror and admins only.
#[derive(Clone)]
pub struct JuryScore(jm::JuryScore, jm::Juror);

impl JuryScore {
    pub async fn load_by_ids(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Option<JuryScore>>> {
        let found = loader(ctx)
            .load_many(ids.iter().map(|&i| ScoreId(i)))
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for i in ids {
            out.push(match found.get(&ScoreId(*i)) {
                Some(s) => visible_score(ctx, s.clone()).await?,
                None => None,
            });
        }
        Ok(out)
    }
}

#[Object]
impl JuryScore {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::JuryScore, self.0.id)
    }
    async fn juror(&self) -> Juror {
        Juror(self.1.clone())
    }
    async fn nomination(&self, ctx: &Context<'_>) -> ApiResult<Nomination> {
        award_loaders::get(ctx)
            .load_one(NominationId(self.0.nomination_id))
            .await?
            .map(Nomination::from)
            .ok_or_else(|| Error::NotFound("nomination").into())
    }
    async fn criteria(&self, ctx: &Context<'_>) -> ApiResult<Vec<CriterionScore>> {
        let given = loader(ctx)
            .load_one(ScoreCriteria(self.0.id))
            .await?
            .unwrap_or_default();
        let found = loader(ctx)
            .load_many(given.iter().map(|(c, _)| CriterionId(*c)))
            .await?;
        Ok(given
            .iter()
            .filter_map(|(c, s)| {
                found.get(&CriterionId(*c)).map(|c| CriterionScore {
                    criterion: JudgingCriterion(c.clone()),
                    score: *s,
                })
            })
            .collect())
    }
    /// Weighted total, 0–1.
    async fn total(&self) -> f64 {
        self.0.total
    }
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Locked by submitJuryScores.
    async fn submitted(&self) -> bool {
        self.1.submitted_at.is_some()
    }
}

/// One line of the final ranking: published with the results.
#[derive(Clone)]
pub struct FinalResult(jm::FinalResultRow);

#[Object]
impl FinalResult {
    /// Ties (equal score to 1e-9) share a rank.
    async fn rank(&self) -> i32 {
        self.0.rank
    }
    async fn nomination(&self, ctx: &Context<'_>) -> ApiResult<Nomination> {
        award_loaders::get(ctx)
            .load_one(NominationId(self.0.nomination_id))
            .await?
            .map(Nomination::from)
            .ok_or_else(|| Error::NotFound("nomination").into())
    }
    async fn score(&self) -> f64 {
        self.0.score
    }
    async fn public_votes(&self) -> i32 {
        self.0.public_votes
    }
    async fn public_rank(&self) -> i32 {
        self.0.public_rank
    }
    /// Mean (normalized, if the formula says so) jury total, 0–1; null with no jury.
    async fn jury_score(&self) -> Option<f64> {
        self.0.jury_score
    }
    async fn jury_rank(&self) -> Option<i32> {
        self.0.jury_rank
    }
    async fn jurors_scored(&self) -> i32 {
        self.0.jurors_scored
    }
}

/// The frozen results. Anyone can fetch the document at `url` and check it against `sha256`.
pub struct ResultSnapshot(jm::SnapshotRow);

/// Where a snapshot's document is served (see `http::results`).
pub fn snapshot_path(sha256: &str) -> String {
    format!("/results/{sha256}.json")
}

#[Object]
impl ResultSnapshot {
    async fn frozen_at(&self) -> DateTime<Utc> {
        self.0.frozen_at
    }
    /// Admins only.
    async fn frozen_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let (true, Some(id)) = (ctx.is_admin(), self.0.frozen_by) else {
            return Ok(None);
        };
        Ok(award_loaders::get(ctx)
            .load_one(award_loaders::UserId(id))
            .await?
            .map(User))
    }
    /// Hex SHA-256 of the exact bytes served at `url`.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// A canonical JSON document (sorted keys, no insignificant whitespace): the formula, every counted vote total (recounted from the vote log), the excluded votes' totals, every submitted jury score by anonymous juror number, and the final ranking.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}{}",
            ctx.config().public_url.trim_end_matches('/'),
            snapshot_path(&self.0.sha256)
        )
    }
    async fn votes_counted(&self) -> i32 {
        self.0.votes_counted
    }
    async fn votes_excluded(&self) -> i32 {
        self.0.votes_excluded
    }
}

// ───────────── fields on Award, AwardCategory and User (resolved from their files) ─────────────

pub async fn award_formula(ctx: &Context<'_>, award_id: i64) -> ApiResult<ResultFormula> {
    Ok(ResultFormula(
        loader(ctx)
            .load_one(FormulaOf(award_id))
            .await?
            .unwrap_or_default(),
    ))
}

pub async fn award_criteria(ctx: &Context<'_>, award_id: i64) -> ApiResult<Vec<JudgingCriterion>> {
    Ok(loader(ctx)
        .load_one(CriteriaOf(award_id))
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(JudgingCriterion)
        .collect())
}

pub async fn award_jurors(
    ctx: &Context<'_>,
    award_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Option<Connection<Juror>>> {
    if !ctx.is_admin() {
        return Ok(None);
    }
    let first = page_size(first)?;
    let cursor: Option<i64> = decode_cursor(after.as_deref())?;
    let (rows, total) = loader(ctx)
        .load_one(JurorsOf {
            award_id,
            after: cursor,
            limit: first + 1,
        })
        .await?
        .unwrap_or_default();
    Ok(Some(Connection::from_rows(
        rows,
        first,
        cursor.is_some(),
        total,
        Shape::of(ctx),
        |j| j.id,
        Juror,
    )))
}

pub async fn award_snapshot(ctx: &Context<'_>, award_id: i64) -> ApiResult<Option<ResultSnapshot>> {
    Ok(loader(ctx)
        .load_one(SnapshotOf(award_id))
        .await?
        .map(ResultSnapshot))
}

pub async fn category_final_results(
    ctx: &Context<'_>,
    category_id: i64,
) -> ApiResult<Vec<FinalResult>> {
    Ok(loader(ctx)
        .load_one(FinalResultsOf(category_id))
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(FinalResult)
        .collect())
}

/// The viewer's own seats; empty for anyone else.
pub async fn user_juror_seats(ctx: &Context<'_>, user_id: i64) -> ApiResult<Vec<Juror>> {
    if ctx.viewer().map(|v| v.user_id) != Some(user_id) {
        return Ok(Vec::new());
    }
    Ok(loader(ctx)
        .load_one(SeatsOf(user_id))
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(Juror)
        .collect())
}

// ───────────── mutations ─────────────

fn maybe_text(
    m: MaybeUndefined<LocalizedTextInput>,
) -> Option<Option<birgemiz_schema::i18n::LocalizedText>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(t) => Some(Some(t.into())),
    }
}

#[derive(Default)]
pub struct JuryMutation;

#[Object]
impl JuryMutation {
    /// Admins, before voting opens (PHASE_CLOSED after).
    async fn set_result_formula(
        &self,
        ctx: &Context<'_>,
        award_id: ID,
        input: ResultFormulaInput,
    ) -> ApiResult<Award> {
        require_admin(ctx)?;
        let award_id = ids::decode(NodeType::Award, &award_id, "awardId")?;
        let formula = Formula::new(
            input.public_weight,
            match input.method {
                ResultMethod::RankPoints => Method::RankPoints,
                ResultMethod::WeightedShare => Method::WeightedShare,
            },
            input.rank_points,
            input.normalize_jurors.unwrap_or(false),
        )?;
        let a = domain::set_formula(&mut *ctx.conn().await?, award_id, formula, now()).await?;
        Ok(Award(Arc::new(a)))
    }

    /// Admins, before jury scoring opens.
    async fn create_judging_criterion(
        &self,
        ctx: &Context<'_>,
        input: CreateJudgingCriterionInput,
    ) -> ApiResult<JudgingCriterion> {
        require_admin(ctx)?;
        let award_id = ids::decode(NodeType::Award, &input.award_id, "input.awardId")?;
        let c = domain::create_criterion(
            &mut *ctx.conn().await?,
            award_id,
            domain::CriterionInput {
                title: Some(input.title.into()),
                description: Some(input.description.map(Into::into)),
                weight: Some(input.weight),
                max_score: Some(input.max_score),
            },
            now(),
        )
        .await?;
        Ok(JudgingCriterion(c))
    }

    async fn update_judging_criterion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateJudgingCriterionInput,
    ) -> ApiResult<JudgingCriterion> {
        require_admin(ctx)?;
        let id = ids::decode(NodeType::JudgingCriterion, &id, "id")?;
        let c = domain::update_criterion(
            &mut *ctx.conn().await?,
            id,
            domain::CriterionInput {
                title: input.title.map(Into::into),
                description: maybe_text(input.description),
                weight: input.weight,
                max_score: input.max_score,
            },
            now(),
        )
        .await?;
        Ok(JudgingCriterion(c))
    }

    async fn delete_judging_criterion(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Award> {
        require_admin(ctx)?;
        let id = ids::decode(NodeType::JudgingCriterion, &id, "id")?;
        let a = domain::delete_criterion(&mut *ctx.conn().await?, id, now()).await?;
        Ok(Award(Arc::new(a)))
    }

    /// Admins. Emails the invitation (a sign-in link); the account is created on first use. The same email twice is CONFLICT.
    async fn invite_juror(
        &self,
        ctx: &Context<'_>,
        award_id: ID,
        email: String,
        category_ids: Option<Vec<ID>>,
    ) -> ApiResult<Juror> {
        let v = require_admin(ctx)?;
        let award_id = ids::decode(NodeType::Award, &award_id, "awardId")?;
        let category_ids = category_ids
            .unwrap_or_default()
            .iter()
            .map(|c| ids::decode(NodeType::AwardCategory, c, "categoryIds"))
            .collect::<ApiResult<Vec<i64>>>()?;
        let (j, outbox_ids) = domain::invite_juror(
            &mut *ctx.conn().await?,
            v.user_id,
            award_id,
            &email,
            category_ids,
            ctx.locale(),
            now(),
        )
        .await?;
        push_outbox(ctx, outbox_ids).await;
        Ok(Juror(j))
    }

    /// Admins, until the juror has submitted.
    async fn remove_juror(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Award> {
        require_admin(ctx)?;
        let id = ids::decode(NodeType::Juror, &id, "id")?;
        let a = domain::remove_juror(&mut *ctx.conn().await?, id).await?;
        Ok(Award(Arc::new(a)))
    }

    /// The juror, until they submit: they will not score this nomination; the reason is for admins only.
    async fn declare_conflict(
        &self,
        ctx: &Context<'_>,
        nomination_id: ID,
        reason: String,
    ) -> ApiResult<JurorAssignment> {
        let v = ctx.require_viewer()?;
        let nomination_id = ids::decode(NodeType::Nomination, &nomination_id, "nominationId")?;
        let a = domain::declare_conflict(
            &mut *ctx.conn().await?,
            v.user_id,
            nomination_id,
            &reason,
            now(),
        )
        .await?;
        Ok(JurorAssignment(a))
    }

    /// The juror, while scoring is open and until they submit: replaces their score of the nomination. Every criterion once, each 0–maxScore.
    async fn score_nomination(
        &self,
        ctx: &Context<'_>,
        nomination_id: ID,
        scores: Vec<CriterionScoreInput>,
        comment: Option<String>,
    ) -> ApiResult<JuryScore> {
        let v = ctx.require_viewer()?;
        let nomination_id = ids::decode(NodeType::Nomination, &nomination_id, "nominationId")?;
        let scores = scores
            .iter()
            .map(|s| {
                ids::decode(NodeType::JudgingCriterion, &s.criterion_id, "scores")
                    .map(|c| (c, s.score))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let s = domain::score_nomination(
            &mut *ctx.conn().await?,
            v.user_id,
            nomination_id,
            scores,
            comment,
            now(),
        )
        .await?;
        visible_score(ctx, s)
            .await?
            .ok_or_else(|| Error::NotFound("jury score").into())
    }

    /// The juror: locks all their scores for the award. BAD_USER_INPUT while an assignment is neither scored nor in conflict.
    async fn submit_jury_scores(&self, ctx: &Context<'_>, award_id: ID) -> ApiResult<Juror> {
        let v = ctx.require_viewer()?;
        let award_id = ids::decode(NodeType::Award, &award_id, "awardId")?;
        let j = domain::submit_scores(&mut *ctx.conn().await?, v.user_id, award_id, now()).await?;
        Ok(Juror(j))
    }

    /// Admins, once voting has closed and every juror has submitted (or been removed): recounts every
    /// vote from the log, computes the final ranking and freezes the snapshot. Once frozen, nothing
    /// that feeds the results changes. publishResults then publishes exactly what was frozen.
    async fn freeze_results(&self, ctx: &Context<'_>, award_id: ID) -> ApiResult<ResultSnapshot> {
        let v = require_admin(ctx)?;
        let award_id = ids::decode(NodeType::Award, &award_id, "awardId")?;
        let s = freezing::freeze(&mut *ctx.conn().await?, v.user_id, award_id, now()).await?;
        Ok(ResultSnapshot(s))
    }
}

/// For `node(id:)`: criteria are public.
pub async fn criteria_by_ids(
    ctx: &Context<'_>,
    ids: &[i64],
) -> ApiResult<Vec<Option<JudgingCriterion>>> {
    let found = loader(ctx)
        .load_many(ids.iter().map(|&i| CriterionId(i)))
        .await?;
    Ok(ids
        .iter()
        .map(|i| found.get(&CriterionId(*i)).cloned().map(JudgingCriterion))
        .collect())
}
