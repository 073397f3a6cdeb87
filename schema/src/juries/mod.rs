//! Juries: the result formula, judging criteria, jurors, conflicts and scores, who may see and
//! change what, and the freeze of the final results. The computation itself is pure and lives in
//! `crate::results`.
//!
//! Phases (docs/results.md): the formula can change until voting opens; criteria until
//! nominations close, which is when jury scoring opens; scoring stays open until the results are
//! frozen. Every writer here locks the award row (shared, or exclusive for the freeze), so a
//! phase or freeze check holds until its commit.

pub mod freeze;
pub mod models;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, BigInt, Integer, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::{Locale, LocalizedText};
use crate::models::{Award, Nomination};
use crate::outbox::{self, Email, NewEmail};
use crate::results::{self, CriterionSpec, Formula, Method};
use crate::tables::{
    award_categories, award_result_formulas, awards, judging_criteria, juror_categories,
    juror_conflicts, jurors, jury_criterion_scores, jury_scores, nominations, result_snapshots,
    users,
};
use models::{Criterion, FormulaRow, Juror, JuryScore};

/// How long the sign-in link of a jury invitation works (a juror may read it days later).
pub const INVITATION_TTL: Duration = Duration::days(14);

/// Jurors with unscored assignments are reminded this long before voting closes, the moment the
/// scores are expected (the freeze needs every juror's submission).
pub const REMINDER_BEFORE: &str = "72 hours";

fn phase_closed(what: &str) -> Error {
    Error::PhaseClosed(what.to_owned())
}

fn is_unique_violation(e: &DieselError, constraint: &str) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

async fn lock_award(conn: &mut AsyncPgConnection, id: i64, exclusive: bool) -> Result<Award> {
    let q = awards::table.find(id).select(Award::as_select());
    let found = if exclusive {
        q.for_update().first(conn).await
    } else {
        q.for_share().first(conn).await
    };
    found.optional()?.ok_or(Error::NotFound("award"))
}

/// Whether the award's results are frozen (read inside the writer's transaction, after the lock).
pub async fn is_frozen(conn: &mut AsyncPgConnection, award_id: i64) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        result_snapshots::table.filter(result_snapshots::award_id.eq(award_id)),
    ))
    .get_result(conn)
    .await?)
}

async fn refuse_if_frozen(conn: &mut AsyncPgConnection, award_id: i64) -> Result<()> {
    if is_frozen(conn, award_id).await? {
        return Err(phase_closed("the results are frozen"));
    }
    Ok(())
}

/// Jury scoring is open from the end of nominations until the results are frozen.
fn scoring_opened(a: &Award, now: DateTime<Utc>) -> bool {
    now >= a.nomination_closes_at
}

// ───────────── access ─────────────

/// A juror seat is visible in full to admins and to the juror; to nobody else.
pub fn can_see_juror(viewer: Option<&Viewer>, juror: &Juror) -> bool {
    viewer.is_some_and(|v| v.is_admin() || juror.user_id == Some(v.user_id))
}

/// A score is the juror's and the admins': other jurors never see it. (Conflict reasons are
/// stored for admins and reach no one through the API.)
pub fn can_see_score(viewer: Option<&Viewer>, juror: &Juror) -> bool {
    can_see_juror(viewer, juror)
}

// ───────────── formula ─────────────

fn formula_of(row: Option<&FormulaRow>) -> Formula {
    let Some(r) = row else {
        return Formula::default();
    };
    Formula {
        public_weight: r.public_weight,
        jury_weight: 1.0 - r.public_weight,
        method: Method::parse(&r.method).unwrap_or(Method::WeightedShare),
        rank_points: r
            .rank_points
            .as_ref()
            .map(|p| p.iter().flatten().copied().collect()),
        normalize_jurors: r.normalize_jurors,
    }
}

/// The formulas of some awards (the default for an award that never set one).
pub async fn formulas(
    conn: &AsyncPgConnection,
    award_ids: &[i64],
) -> Result<HashMap<i64, Formula>> {
    let rows: Vec<FormulaRow> = award_result_formulas::table
        .filter(award_result_formulas::award_id.eq_any(award_ids))
        .select(FormulaRow::as_select())
        .load(&mut &*conn)
        .await?;
    let by_award: HashMap<i64, FormulaRow> = rows.into_iter().map(|r| (r.award_id, r)).collect();
    Ok(award_ids
        .iter()
        .map(|id| (*id, formula_of(by_award.get(id))))
        .collect())
}

/// Admins, before voting opens.
pub async fn set_formula(
    conn: &mut AsyncPgConnection,
    award_id: i64,
    formula: Formula,
    now: DateTime<Utc>,
) -> Result<Award> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, award_id, true).await?;
        if now >= a.voting_opens_at {
            return Err(phase_closed(
                "the result formula can't change once voting has opened",
            ));
        }
        let points: Option<Vec<i32>> = formula.rank_points.clone();
        diesel::insert_into(award_result_formulas::table)
            .values((
                award_result_formulas::award_id.eq(award_id),
                award_result_formulas::public_weight.eq(formula.public_weight),
                award_result_formulas::method.eq(formula.method.as_str()),
                award_result_formulas::rank_points.eq(&points),
                award_result_formulas::normalize_jurors.eq(formula.normalize_jurors),
            ))
            .on_conflict(award_result_formulas::award_id)
            .do_update()
            .set((
                award_result_formulas::public_weight.eq(formula.public_weight),
                award_result_formulas::method.eq(formula.method.as_str()),
                award_result_formulas::rank_points.eq(&points),
                award_result_formulas::normalize_jurors.eq(formula.normalize_jurors),
                award_result_formulas::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        Ok(a)
    })
    .await
}

fn percent(x: f64) -> String {
    let p = (x * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p}%")
    }
}

/// The formula in words.
pub fn describe(f: &Formula, locale: Locale) -> String {
    let pw = percent(f.public_weight);
    let jw = percent(f.jury_weight);
    let points = f
        .rank_points
        .as_ref()
        .map(|p| {
            p.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default();
    // Standardizing only means something when there is a jury to standardize.
    let normalized = match locale {
        Locale::En => {
            " Each juror's scores are standardized first, so a harsh juror weighs like a lenient one."
        }
        Locale::Ru => {
            " Оценки каждого члена жюри сначала стандартизируются, чтобы строгий и мягкий судья весили одинаково."
        }
        Locale::Kk => {
            " Әр қазының бағалары алдымен стандартталады, сондықтан қатал және жұмсақ қазының салмағы бірдей."
        }
    };
    let text: String = match (locale, f.has_jury(), f.method) {
        (Locale::En, false, Method::WeightedShare) => {
            "Public vote only: nominations are ranked by their votes.".into()
        }
        (Locale::En, false, Method::RankPoints) => format!(
            "Public vote only: nominations are ranked by their votes, and rank points {points} decide the order."
        ),
        (Locale::En, true, Method::RankPoints) => format!(
            "Public vote {pw}, jury {jw}. The public vote and the jury each rank the nominations; the ranks earn {points} points, weighted and added up.",
        ),
        (Locale::En, true, Method::WeightedShare) => format!(
            "Public vote {pw}, jury {jw}: the share of the category's votes and the mean jury score (out of 1) are weighted and added up.",
        ),
        (Locale::Ru, false, Method::WeightedShare) => {
            "Только народное голосование: номинации ранжируются по числу голосов.".into()
        }
        (Locale::Ru, false, Method::RankPoints) => format!(
            "Только народное голосование: номинации ранжируются по числу голосов, места приносят {points} баллов."
        ),
        (Locale::Ru, true, Method::RankPoints) => format!(
            "Народное голосование — {pw}, жюри — {jw}. Голосование и жюри по отдельности ранжируют номинации; места приносят {points} баллов, баллы взвешиваются и складываются.",
        ),
        (Locale::Ru, true, Method::WeightedShare) => format!(
            "Народное голосование — {pw}, жюри — {jw}: доля голосов в категории и средняя оценка жюри (из 1) взвешиваются и складываются.",
        ),
        (Locale::Kk, false, Method::WeightedShare) => {
            "Тек халықтық дауыс беру: номинациялар дауыс санына қарай орналасады.".into()
        }
        (Locale::Kk, false, Method::RankPoints) => format!(
            "Тек халықтық дауыс беру: номинациялар дауыс санына қарай орналасады, орындар {points} ұпай береді."
        ),
        (Locale::Kk, true, Method::RankPoints) => format!(
            "Халықтық дауыс — {pw}, қазылар алқасы — {jw}. Дауыс беру мен қазылар номинацияларды бөлек орналастырады; орындар {points} ұпай береді, ұпайлар салмағына қарай қосылады.",
        ),
        (Locale::Kk, true, Method::WeightedShare) => format!(
            "Халықтық дауыс — {pw}, қазылар алқасы — {jw}: санаттағы дауыстардың үлесі мен қазылардың орташа бағасы (1-ден) салмағына қарай қосылады.",
        ),
    };
    if f.has_jury() && f.normalize_jurors {
        text + normalized
    } else {
        text
    }
}

// ───────────── criteria ─────────────

pub async fn criteria_of(
    conn: &AsyncPgConnection,
    award_ids: &[i64],
) -> Result<HashMap<i64, Vec<Criterion>>> {
    let rows: Vec<Criterion> = judging_criteria::table
        .filter(judging_criteria::award_id.eq_any(award_ids))
        .order((judging_criteria::award_id, judging_criteria::position))
        .select(Criterion::as_select())
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<Criterion>> =
        award_ids.iter().map(|id| (*id, Vec::new())).collect();
    for r in rows {
        out.entry(r.award_id).or_default().push(r);
    }
    Ok(out)
}

pub async fn criteria_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Criterion>> {
    Ok(judging_criteria::table
        .filter(judging_criteria::id.eq_any(ids))
        .select(Criterion::as_select())
        .load(&mut &*conn)
        .await?)
}

pub fn specs(criteria: &[Criterion]) -> Vec<CriterionSpec> {
    criteria
        .iter()
        .map(|c| CriterionSpec {
            id: c.id,
            weight: c.weight,
            max_score: c.max_score,
        })
        .collect()
}

fn check_weight(field: &str, w: f64) -> Result<f64> {
    if !w.is_finite() || w <= 0.0 || w > 1000.0 {
        return Err(Error::bad_input(field, "must be above 0 and at most 1000"));
    }
    Ok(w)
}

fn check_max_score(field: &str, m: i32) -> Result<i32> {
    if !(1..=100).contains(&m) {
        return Err(Error::bad_input(field, "must be between 1 and 100"));
    }
    Ok(m)
}

fn criteria_open(a: &Award, now: DateTime<Utc>) -> Result<()> {
    if scoring_opened(a, now) {
        return Err(phase_closed(
            "criteria can't change once jury scoring has opened (at the end of nominations)",
        ));
    }
    Ok(())
}

pub struct CriterionInput {
    pub title: Option<LocalizedText>,
    /// `Some(None)` clears it.
    pub description: Option<Option<LocalizedText>>,
    pub weight: Option<f64>,
    pub max_score: Option<i32>,
}

pub async fn create_criterion(
    conn: &mut AsyncPgConnection,
    award_id: i64,
    input: CriterionInput,
    now: DateTime<Utc>,
) -> Result<Criterion> {
    let title = input
        .title
        .unwrap_or_default()
        .normalized("input.title", 200, true)?;
    let description = input.description.flatten().unwrap_or_default().normalized(
        "input.description",
        2000,
        false,
    )?;
    let weight = check_weight("input.weight", input.weight.unwrap_or(1.0))?;
    let max_score = check_max_score("input.maxScore", input.max_score.unwrap_or(10))?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, award_id, true).await?;
        criteria_open(&a, now)?;
        let next: Option<i32> = judging_criteria::table
            .filter(judging_criteria::award_id.eq(award_id))
            .select(diesel::dsl::max(judging_criteria::position))
            .first(conn)
            .await?;
        Ok(diesel::insert_into(judging_criteria::table)
            .values((
                judging_criteria::award_id.eq(award_id),
                judging_criteria::title.eq(&title),
                judging_criteria::description.eq(&description),
                judging_criteria::weight.eq(weight),
                judging_criteria::max_score.eq(max_score),
                judging_criteria::position.eq(next.map_or(0, |p| p + 1)),
            ))
            .returning(Criterion::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

async fn criterion(conn: &mut AsyncPgConnection, id: i64) -> Result<Criterion> {
    judging_criteria::table
        .find(id)
        .select(Criterion::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("judging criterion"))
}

pub async fn update_criterion(
    conn: &mut AsyncPgConnection,
    id: i64,
    input: CriterionInput,
    now: DateTime<Utc>,
) -> Result<Criterion> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let c = criterion(conn, id).await?;
        let a = lock_award(conn, c.award_id, true).await?;
        criteria_open(&a, now)?;
        let title = match input.title {
            Some(t) => t.normalized("input.title", 200, true)?,
            None => c.title,
        };
        let description = match input.description {
            Some(Some(d)) => d.normalized("input.description", 2000, false)?,
            Some(None) => LocalizedText::default(),
            None => c.description,
        };
        let weight = check_weight("input.weight", input.weight.unwrap_or(c.weight))?;
        let max_score = check_max_score("input.maxScore", input.max_score.unwrap_or(c.max_score))?;
        Ok(diesel::update(judging_criteria::table.find(id))
            .set((
                judging_criteria::title.eq(&title),
                judging_criteria::description.eq(&description),
                judging_criteria::weight.eq(weight),
                judging_criteria::max_score.eq(max_score),
            ))
            .returning(Criterion::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

pub async fn delete_criterion(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Award> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let c = criterion(conn, id).await?;
        let a = lock_award(conn, c.award_id, true).await?;
        criteria_open(&a, now)?;
        diesel::delete(judging_criteria::table.find(id))
            .execute(conn)
            .await?;
        Ok(a)
    })
    .await
}

// ───────────── jurors ─────────────

/// Admins: seats a juror and queues the invitation, a sign-in link (the account is created when
/// it is first used). Returns the juror and the outbox ids to push after commit.
pub async fn invite_juror(
    conn: &mut AsyncPgConnection,
    admin_id: i64,
    award_id: i64,
    email: &str,
    category_ids: Vec<i64>,
    fallback_locale: Locale,
    now: DateTime<Utc>,
) -> Result<(Juror, Vec<i64>)> {
    let email = crate::subscriptions::normalize_email(email)?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, award_id, false).await?;
        refuse_if_frozen(conn, a.id).await?;
        let mut cats = category_ids;
        cats.sort_unstable();
        cats.dedup();
        if !cats.is_empty() {
            let found: i64 = award_categories::table
                .filter(award_categories::id.eq_any(&cats))
                .filter(award_categories::award_id.eq(award_id))
                .count()
                .get_result(conn)
                .await?;
            if found != cats.len() as i64 {
                return Err(Error::bad_input(
                    "categoryIds",
                    "every category must be one of this award's",
                ));
            }
        }
        let user: Option<(i64, String)> = users::table
            .filter(users::email.eq(&email))
            .select((users::id, users::locale))
            .first(conn)
            .await
            .optional()?;
        let locale = user
            .as_ref()
            .and_then(|(_, l)| Locale::parse(l))
            .unwrap_or(fallback_locale);
        let inserted = diesel::insert_into(jurors::table)
            .values((
                jurors::award_id.eq(award_id),
                jurors::email.eq(&email),
                jurors::user_id.eq(user.as_ref().map(|u| u.0)),
                jurors::locale.eq(locale.as_str()),
                jurors::invited_by.eq(admin_id),
                jurors::invited_at.eq(now),
            ))
            .returning(Juror::as_returning())
            .get_result(conn)
            .await;
        let juror = match inserted {
            Ok(j) => j,
            Err(e) if is_unique_violation(&e, "jurors_award_email_key") => {
                return Err(Error::Conflict(
                    "this address is already invited to the award's jury".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if !cats.is_empty() {
            let rows: Vec<_> = cats
                .iter()
                .map(|c| {
                    (
                        juror_categories::juror_id.eq(juror.id),
                        juror_categories::category_id.eq(*c),
                    )
                })
                .collect();
            diesel::insert_into(juror_categories::table)
                .values(rows)
                .execute(conn)
                .await?;
        }
        let (token_id, token) = crate::accounts::insert_token(
            conn,
            crate::accounts::PURPOSE_SIGN_IN,
            user.as_ref().map(|u| u.0),
            &email,
            INVITATION_TTL,
        )
        .await?;
        diesel::update(jurors::table.find(juror.id))
            .set(jurors::invitation_token_id.eq(token_id))
            .execute(conn)
            .await?;
        let ids = outbox::enqueue(
            conn,
            NewEmail {
                email: Email::JuryInvitation {
                    juror_id: juror.id,
                    token: Some(token),
                },
                recipient: email.clone(),
                locale,
                dedupe_key: format!("jury-invitation:{}", juror.id),
            },
        )
        .await?;
        Ok((juror, ids.into_iter().collect()))
    })
    .await
}

/// Called when a sign-in link is used: the seats of the address get their account, and the seat
/// whose invitation this link was is accepted.
pub async fn seats_signed_in(
    conn: &mut AsyncPgConnection,
    token: &str,
    user_id: i64,
    email: &str,
) -> Result<()> {
    diesel::update(
        jurors::table
            .filter(jurors::email.eq(email))
            .filter(jurors::user_id.is_null()),
    )
    .set(jurors::user_id.eq(user_id))
    .execute(conn)
    .await?;
    let token_ids = crate::tables::one_time_tokens::table
        .filter(
            crate::tables::one_time_tokens::token_hash.eq(crate::tokens::hash_token(token.trim())),
        )
        .select(crate::tables::one_time_tokens::id.nullable());
    diesel::update(
        jurors::table
            .filter(jurors::invitation_token_id.eq_any(token_ids))
            .filter(jurors::accepted_at.is_null()),
    )
    .set(jurors::accepted_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

async fn juror_row(conn: &mut AsyncPgConnection, id: i64) -> Result<Juror> {
    jurors::table
        .find(id)
        .select(Juror::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("juror"))
}

/// Admins, until the juror has submitted: the seat and its scores and conflicts go.
pub async fn remove_juror(conn: &mut AsyncPgConnection, id: i64) -> Result<Award> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let j = juror_row(conn, id).await?;
        let a = lock_award(conn, j.award_id, false).await?;
        refuse_if_frozen(conn, a.id).await?;
        let j = juror_row(conn, id).await?;
        if j.submitted_at.is_some() {
            return Err(phase_closed(
                "the juror has submitted their scores and can no longer be removed",
            ));
        }
        diesel::delete(jurors::table.find(id)).execute(conn).await?;
        Ok(a)
    })
    .await
}

pub async fn jurors_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Juror>> {
    Ok(jurors::table
        .filter(jurors::id.eq_any(ids))
        .select(Juror::as_select())
        .load(&mut &*conn)
        .await?)
}

/// A page of each award's jurors in invitation order (keyset on id), and each award's total.
pub async fn jurors_of_awards(
    conn: &AsyncPgConnection,
    award_ids: &[i64],
    after: Option<i64>,
    limit: i64,
) -> Result<HashMap<i64, (Vec<Juror>, i64)>> {
    let rows: Vec<Juror> = jurors::table
        .filter(jurors::award_id.eq_any(award_ids))
        .filter(jurors::id.gt(after.unwrap_or(0)))
        .order((jurors::award_id, jurors::id))
        .select(Juror::as_select())
        .load(&mut &*conn)
        .await?;
    let totals: Vec<(i64, i64)> = jurors::table
        .filter(jurors::award_id.eq_any(award_ids))
        .group_by(jurors::award_id)
        .select((jurors::award_id, diesel::dsl::count_star()))
        .load(&mut &*conn)
        .await?;
    let totals: HashMap<i64, i64> = totals.into_iter().collect();
    let mut out: HashMap<i64, (Vec<Juror>, i64)> = award_ids
        .iter()
        .map(|id| (*id, (Vec::new(), totals.get(id).copied().unwrap_or(0))))
        .collect();
    for r in rows {
        let e = out.entry(r.award_id).or_default();
        if (e.0.len() as i64) < limit {
            e.0.push(r);
        }
    }
    Ok(out)
}

/// The user's seats, newest award first.
pub async fn seats_of_users(
    conn: &AsyncPgConnection,
    user_ids: &[i64],
) -> Result<HashMap<i64, Vec<Juror>>> {
    let rows: Vec<Juror> = jurors::table
        .filter(jurors::user_id.eq_any(user_ids))
        .order((jurors::award_id.desc(), jurors::id))
        .select(Juror::as_select())
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<Juror>> = user_ids.iter().map(|u| (*u, Vec::new())).collect();
    for r in rows {
        if let Some(u) = r.user_id {
            out.entry(u).or_default().push(r);
        }
    }
    Ok(out)
}

/// Each juror's categories (empty: all of the award's).
pub async fn categories_of_jurors(
    conn: &AsyncPgConnection,
    juror_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>> {
    let rows: Vec<(i64, i64)> = juror_categories::table
        .filter(juror_categories::juror_id.eq_any(juror_ids))
        .order((juror_categories::juror_id, juror_categories::category_id))
        .select((juror_categories::juror_id, juror_categories::category_id))
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<i64>> = juror_ids.iter().map(|j| (*j, Vec::new())).collect();
    for (j, c) in rows {
        out.entry(j).or_default().push(c);
    }
    Ok(out)
}

/// A juror's assignments: the APPROVED nominations of the juror's categories (all of the
/// award's when the juror has none). The one definition, used by progress, pages, the submit
/// check and reminders; `jurors` is an SQL array of juror ids.
pub fn assignments_sql(jurors: &str) -> String {
    format!(
        "SELECT j.id AS juror_id, n.id AS nomination_id, c.position AS category_position
    FROM jurors j
    JOIN award_categories c ON c.award_id = j.award_id
    JOIN nominations n ON n.category_id = c.id AND n.status = 'APPROVED'
    WHERE j.id = ANY({jurors})
      AND (NOT EXISTS (SELECT 1 FROM juror_categories jc WHERE jc.juror_id = j.id)
           OR EXISTS (SELECT 1 FROM juror_categories jc WHERE jc.juror_id = j.id AND jc.category_id = c.id))"
    )
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, QueryableByName)]
pub struct Progress {
    #[diesel(sql_type = BigInt)]
    pub juror_id: i64,
    #[diesel(sql_type = Integer)]
    pub assigned: i32,
    #[diesel(sql_type = Integer)]
    pub scored: i32,
    #[diesel(sql_type = Integer)]
    pub conflicts: i32,
}

pub async fn progress(
    conn: &AsyncPgConnection,
    juror_ids: &[i64],
) -> Result<HashMap<i64, Progress>> {
    let rows: Vec<Progress> = diesel::sql_query(format!(
        "SELECT a.juror_id, count(*)::int AS assigned,
                count(s.id) FILTER (WHERE cf.juror_id IS NULL)::int AS scored,
                count(cf.juror_id)::int AS conflicts
         FROM ({}) a
         LEFT JOIN jury_scores s ON s.juror_id = a.juror_id AND s.nomination_id = a.nomination_id
         LEFT JOIN juror_conflicts cf ON cf.juror_id = a.juror_id AND cf.nomination_id = a.nomination_id
         GROUP BY a.juror_id",
        assignments_sql("$1")
    ))
    .bind::<Array<BigInt>, _>(juror_ids)
    .load(&mut &*conn)
    .await?;
    let mut out: HashMap<i64, Progress> = juror_ids
        .iter()
        .map(|j| {
            (
                *j,
                Progress {
                    juror_id: *j,
                    ..Progress::default()
                },
            )
        })
        .collect();
    for r in rows {
        out.insert(r.juror_id, r);
    }
    Ok(out)
}

/// One assignment of a juror.
#[derive(Clone, Debug)]
pub struct Assignment {
    pub juror_id: i64,
    pub nomination: Nomination,
    pub conflict: bool,
    pub score: Option<JuryScore>,
}

#[derive(QueryableByName)]
struct AssignedRow {
    #[diesel(sql_type = BigInt)]
    juror_id: i64,
    #[diesel(sql_type = BigInt)]
    nomination_id: i64,
}

/// A page of each juror's assignments (ordered by nomination id, after `after`), optionally in
/// one category, with each juror's total.
pub async fn assignments(
    conn: &AsyncPgConnection,
    juror_ids: &[i64],
    category_id: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<HashMap<i64, (Vec<Assignment>, i64)>> {
    let rows: Vec<AssignedRow> = diesel::sql_query(format!(
        "SELECT a.juror_id, a.nomination_id FROM ({}) a
         JOIN nominations n ON n.id = a.nomination_id
         WHERE ($2::bigint IS NULL OR n.category_id = $2)
         ORDER BY a.juror_id, a.nomination_id",
        assignments_sql("$1")
    ))
    .bind::<Array<BigInt>, _>(juror_ids)
    .bind::<Nullable<BigInt>, _>(category_id)
    .load(&mut &*conn)
    .await?;
    let mut totals: HashMap<i64, i64> = HashMap::new();
    let mut page: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in &rows {
        *totals.entry(r.juror_id).or_default() += 1;
        let p = page.entry(r.juror_id).or_default();
        if r.nomination_id > after.unwrap_or(0) && (p.len() as i64) < limit {
            p.push(r.nomination_id);
        }
    }
    let wanted: Vec<i64> = page.values().flatten().copied().collect();
    let noms: HashMap<i64, Nomination> = nominations::table
        .filter(nominations::id.eq_any(&wanted))
        .select(Nomination::as_select())
        .load(&mut &*conn)
        .await?
        .into_iter()
        .map(|n: Nomination| (n.id, n))
        .collect();
    let conflicts: Vec<(i64, i64)> = juror_conflicts::table
        .filter(juror_conflicts::juror_id.eq_any(juror_ids))
        .filter(juror_conflicts::nomination_id.eq_any(&wanted))
        .select((juror_conflicts::juror_id, juror_conflicts::nomination_id))
        .load(&mut &*conn)
        .await?;
    let scores: Vec<JuryScore> = jury_scores::table
        .filter(jury_scores::juror_id.eq_any(juror_ids))
        .filter(jury_scores::nomination_id.eq_any(&wanted))
        .select(JuryScore::as_select())
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, (Vec<Assignment>, i64)> = HashMap::new();
    for &j in juror_ids {
        let list = page
            .get(&j)
            .map(|ids| {
                ids.iter()
                    .filter_map(|n| noms.get(n))
                    .map(|n| Assignment {
                        juror_id: j,
                        nomination: n.clone(),
                        conflict: conflicts.contains(&(j, n.id)),
                        score: scores
                            .iter()
                            .find(|s| s.juror_id == j && s.nomination_id == n.id)
                            .cloned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(j, (list, totals.get(&j).copied().unwrap_or(0)));
    }
    Ok(out)
}

pub async fn scores_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<JuryScore>> {
    Ok(jury_scores::table
        .filter(jury_scores::id.eq_any(ids))
        .select(JuryScore::as_select())
        .load(&mut &*conn)
        .await?)
}

/// Each score's criteria, in the criteria's order.
pub async fn criterion_scores(
    conn: &AsyncPgConnection,
    score_ids: &[i64],
) -> Result<HashMap<i64, Vec<(i64, i32)>>> {
    let rows: Vec<(i64, i64, i32)> = jury_criterion_scores::table
        .inner_join(judging_criteria::table)
        .filter(jury_criterion_scores::score_id.eq_any(score_ids))
        .order((jury_criterion_scores::score_id, judging_criteria::position))
        .select((
            jury_criterion_scores::score_id,
            jury_criterion_scores::criterion_id,
            jury_criterion_scores::score,
        ))
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<(i64, i32)>> =
        score_ids.iter().map(|s| (*s, Vec::new())).collect();
    for (s, c, v) in rows {
        out.entry(s).or_default().push((c, v));
    }
    Ok(out)
}

/// The viewer's seat on the jury of the nomination's award, the award (locked shared) and the
/// nomination, checked for what every juror change needs: scoring open, not frozen, not
/// submitted, and the nomination among the juror's assignments.
async fn seat_for(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    nomination_id: i64,
    now: DateTime<Utc>,
) -> Result<(Juror, Award, Nomination)> {
    let (n, award_id): (Nomination, i64) = nominations::table
        .inner_join(award_categories::table)
        .filter(nominations::id.eq(nomination_id))
        .select((Nomination::as_select(), award_categories::award_id))
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("nomination"))?;
    let a = lock_award(conn, award_id, false).await?;
    let juror: Juror = jurors::table
        .filter(jurors::award_id.eq(award_id))
        .filter(jurors::user_id.eq(user_id))
        .for_update()
        .select(Juror::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::forbidden("only the award's jurors may do this"))?;
    refuse_if_frozen(conn, award_id).await?;
    if !scoring_opened(&a, now) {
        return Err(phase_closed("jury scoring opens when nominations close"));
    }
    if juror.submitted_at.is_some() {
        return Err(phase_closed("your scores are submitted and locked"));
    }
    let assigned: Vec<AssignedRow> = diesel::sql_query(format!(
        "SELECT a.juror_id, a.nomination_id FROM ({}) a WHERE a.nomination_id = $2",
        assignments_sql("$1")
    ))
    .bind::<Array<BigInt>, _>(vec![juror.id])
    .bind::<BigInt, _>(nomination_id)
    .load(conn)
    .await?;
    if assigned.is_empty() {
        return Err(Error::forbidden(
            "this nomination is not among your assignments",
        ));
    }
    Ok((juror, a, n))
}

/// The juror: takes the nomination out of their set; a score they gave it goes.
pub async fn declare_conflict(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    nomination_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Assignment> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(Error::bad_input("reason", "must be 1 to 2000 characters"));
    }
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let (juror, _, n) = seat_for(conn, user_id, nomination_id, now).await?;
        diesel::insert_into(juror_conflicts::table)
            .values((
                juror_conflicts::juror_id.eq(juror.id),
                juror_conflicts::nomination_id.eq(nomination_id),
                juror_conflicts::reason.eq(&reason),
                juror_conflicts::declared_at.eq(now),
            ))
            .on_conflict((juror_conflicts::juror_id, juror_conflicts::nomination_id))
            .do_update()
            .set(juror_conflicts::reason.eq(&reason))
            .execute(conn)
            .await?;
        diesel::delete(
            jury_scores::table
                .filter(jury_scores::juror_id.eq(juror.id))
                .filter(jury_scores::nomination_id.eq(nomination_id)),
        )
        .execute(conn)
        .await?;
        Ok(Assignment {
            juror_id: juror.id,
            nomination: n,
            conflict: true,
            score: None,
        })
    })
    .await
}

/// The juror: replaces their score of the nomination.
pub async fn score_nomination(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    nomination_id: i64,
    scores: Vec<(i64, i32)>,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<JuryScore> {
    let comment = comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 5000) {
        return Err(Error::bad_input(
            "comment",
            "must be at most 5000 characters",
        ));
    }
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let (juror, a, _) = seat_for(conn, user_id, nomination_id, now).await?;
        let conflicted: bool = diesel::select(diesel::dsl::exists(
            juror_conflicts::table
                .filter(juror_conflicts::juror_id.eq(juror.id))
                .filter(juror_conflicts::nomination_id.eq(nomination_id)),
        ))
        .get_result(conn)
        .await?;
        if conflicted {
            return Err(Error::Conflict(
                "you declared a conflict of interest for this nomination".into(),
            ));
        }
        let criteria = criteria_of(&*conn, &[a.id])
            .await?
            .remove(&a.id)
            .unwrap_or_default();
        let specs = specs(&criteria);
        let checked = results::check_scores(&specs, &scores)?;
        let total = results::juror_total(&specs, &checked);
        let score: JuryScore = diesel::insert_into(jury_scores::table)
            .values((
                jury_scores::juror_id.eq(juror.id),
                jury_scores::nomination_id.eq(nomination_id),
                jury_scores::total.eq(total),
                jury_scores::comment.eq(&comment),
                jury_scores::updated_at.eq(now),
            ))
            .on_conflict((jury_scores::juror_id, jury_scores::nomination_id))
            .do_update()
            .set((
                jury_scores::total.eq(total),
                jury_scores::comment.eq(&comment),
                jury_scores::updated_at.eq(now),
            ))
            .returning(JuryScore::as_returning())
            .get_result(conn)
            .await?;
        diesel::delete(
            jury_criterion_scores::table.filter(jury_criterion_scores::score_id.eq(score.id)),
        )
        .execute(conn)
        .await?;
        let rows: Vec<_> = checked
            .iter()
            .map(|(c, v)| {
                (
                    jury_criterion_scores::score_id.eq(score.id),
                    jury_criterion_scores::criterion_id.eq(*c),
                    jury_criterion_scores::score.eq(*v),
                )
            })
            .collect();
        diesel::insert_into(jury_criterion_scores::table)
            .values(rows)
            .execute(conn)
            .await?;
        Ok(score)
    })
    .await
}

/// The juror: locks all their scores for the award; refused while an assignment is neither
/// scored nor in conflict, and before voting opens (the set of nominations is final only then).
/// Submitting again changes nothing.
pub async fn submit_scores(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    award_id: i64,
    now: DateTime<Utc>,
) -> Result<Juror> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, award_id, false).await?;
        let juror: Juror = jurors::table
            .filter(jurors::award_id.eq(award_id))
            .filter(jurors::user_id.eq(user_id))
            .for_update()
            .select(Juror::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| Error::forbidden("only the award's jurors may do this"))?;
        if juror.submitted_at.is_some() {
            return Ok(juror);
        }
        refuse_if_frozen(conn, award_id).await?;
        if now < a.voting_opens_at {
            return Err(phase_closed(
                "scores can be submitted once voting opens, when the nominations are final",
            ));
        }
        let p = progress(&*conn, &[juror.id]).await?[&juror.id];
        let open = p.assigned - p.scored - p.conflicts;
        if open > 0 {
            return Err(Error::bad_input(
                "awardId",
                format!("{open} of your assignments are neither scored nor in conflict"),
            ));
        }
        Ok(diesel::update(jurors::table.find(juror.id))
            .set(jurors::submitted_at.eq(now))
            .returning(Juror::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

// ───────────── reminders ─────────────

/// Jurors who have not submitted and have an assignment neither scored nor in conflict, of an
/// award whose voting closes within REMINDER_BEFORE and whose results are not frozen: one
/// reminder per seat, in the juror's language.
pub fn reminder_sql() -> String {
    format!(
        "WITH due AS (
             SELECT j.id FROM jurors j JOIN awards a ON a.id = j.award_id
             WHERE j.submitted_at IS NULL
               AND a.nomination_closes_at <= now() AND a.voting_closes_at > now()
               AND a.voting_closes_at <= now() + interval '{REMINDER_BEFORE}'
               AND NOT EXISTS (SELECT 1 FROM result_snapshots r WHERE r.award_id = a.id)
         ), open AS (
             SELECT DISTINCT x.juror_id FROM ({assigned}) x
             WHERE NOT EXISTS (SELECT 1 FROM jury_scores s
                               WHERE s.juror_id = x.juror_id AND s.nomination_id = x.nomination_id)
               AND NOT EXISTS (SELECT 1 FROM juror_conflicts c
                               WHERE c.juror_id = x.juror_id AND c.nomination_id = x.nomination_id)
         )
         INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
         SELECT 'JURY_REMINDER', j.email, j.locale,
                jsonb_build_object('kind', 'JURY_REMINDER', 'juror_id', j.id),
                'jury-reminder:' || j.id, false
         FROM jurors j JOIN open o ON o.juror_id = j.id
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING id",
        assigned = assignments_sql("ARRAY(SELECT id FROM due)"),
    )
}
