//! The awards' reads: rows by id and by parent for the api's loaders (one statement per batch of
//! keys, never one per row), the nominations and awards lists, and an award by slug.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::awards::{APPROVED, Phase};
use crate::error::{Error, Result};
use crate::models::{Award, AwardCategory, Nomination, Vote};
use crate::schema::{award_categories, awards, nominations, votes};

pub async fn awards_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Award>> {
    Ok(awards::table
        .filter(awards::id.eq_any(ids))
        .select(Award::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn categories_by_ids(
    conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<AwardCategory>> {
    Ok(award_categories::table
        .filter(award_categories::id.eq_any(ids))
        .select(AwardCategory::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn nominations_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Nomination>> {
    Ok(nominations::table
        .filter(nominations::id.eq_any(ids))
        .select(Nomination::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn votes_by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Vote>> {
    Ok(votes::table
        .filter(votes::id.eq_any(ids))
        .select(Vote::as_select())
        .load(&mut &*conn)
        .await?)
}

/// The categories of the awards, by award and then in their order.
pub async fn categories_of_awards(
    conn: &AsyncPgConnection,
    award_ids: &[i64],
) -> Result<Vec<AwardCategory>> {
    Ok(award_categories::table
        .filter(award_categories::award_id.eq_any(award_ids))
        .order((award_categories::award_id, award_categories::position))
        .select(AwardCategory::as_select())
        .load(&mut &*conn)
        .await?)
}

/// The approved nominations of the categories (for results).
pub async fn approved_in_categories(
    conn: &AsyncPgConnection,
    category_ids: &[i64],
) -> Result<Vec<Nomination>> {
    Ok(nominations::table
        .filter(nominations::category_id.eq_any(category_ids))
        .filter(nominations::status.eq(APPROVED))
        .select(Nomination::as_select())
        .load(&mut &*conn)
        .await?)
}

/// The votes of any of the users in any of the categories: a superset of the pairs asked for,
/// which the caller narrows.
pub async fn votes_of_users_in(
    conn: &AsyncPgConnection,
    user_ids: &[i64],
    category_ids: &[i64],
) -> Result<Vec<Vote>> {
    Ok(votes::table
        .filter(votes::user_id.eq_any(user_ids))
        .filter(votes::category_id.eq_any(category_ids))
        .select(Vote::as_select())
        .load(&mut &*conn)
        .await?)
}

/// All current votes of the users, by user and then oldest first.
pub async fn votes_of_users(conn: &AsyncPgConnection, user_ids: &[i64]) -> Result<Vec<Vote>> {
    Ok(votes::table
        .filter(votes::user_id.eq_any(user_ids))
        .order((votes::user_id, votes::created_at, votes::id))
        .select(Vote::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn award_by_slug(conn: &AsyncPgConnection, slug: &str) -> Result<Option<Award>> {
    Ok(awards::table
        .filter(awards::slug.eq(slug))
        .select(Award::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

/// Whose nominations a list holds.
#[derive(Clone, Copy, Debug)]
pub enum NominationScope {
    Award(i64),
    Submitter(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NominationSort {
    Newest,
    MostVotes,
    Name,
}

/// The sort key of a row in its order; a cursor from another order is rejected. Clients hold
/// these (encoded), so the variants and their fields keep their names.
#[derive(Serialize, Deserialize)]
pub enum NominationCursor {
    Name(String, i64),
    Newest(DateTime<Utc>, i64),
    Votes(i32, i64),
}

impl NominationCursor {
    pub fn of(sort: NominationSort, n: &Nomination) -> NominationCursor {
        match sort {
            NominationSort::Name => NominationCursor::Name(n.nominee_key.clone(), n.id),
            NominationSort::Newest => NominationCursor::Newest(n.created_at, n.id),
            NominationSort::MostVotes => NominationCursor::Votes(n.vote_count, n.id),
        }
    }
}

type NomQuery<'a> = nominations::BoxedQuery<'a, Pg>;

fn scoped(scope: NominationScope, status: Option<&str>) -> NomQuery<'_> {
    let mut q = nominations::table.into_boxed();
    q = match scope {
        NominationScope::Award(id) => q.filter(
            nominations::category_id.eq_any(
                award_categories::table
                    .filter(award_categories::award_id.eq(id))
                    .select(award_categories::id),
            ),
        ),
        NominationScope::Submitter(id) => q.filter(nominations::submitted_by.eq(id)),
    };
    if let Some(s) = status {
        q = q.filter(nominations::status.eq(s));
    }
    q
}

/// Up to `limit` nominations of the scope after the cursor, and (when `with_total`) how many
/// the scope holds in all (0 otherwise). BAD_INPUT on `after` for a cursor of another order.
pub async fn nomination_page(
    conn: &AsyncPgConnection,
    scope: NominationScope,
    status: Option<&str>,
    sort: NominationSort,
    after: Option<NominationCursor>,
    limit: i64,
    with_total: bool,
) -> Result<(Vec<Nomination>, i64)> {
    let mut q = scoped(scope, status);
    q = match (sort, after) {
        (_, None) => q,
        (NominationSort::Name, Some(NominationCursor::Name(k, id))) => q.filter(
            nominations::nominee_key
                .gt(k.clone())
                .or(nominations::nominee_key.eq(k).and(nominations::id.gt(id))),
        ),
        (NominationSort::Newest, Some(NominationCursor::Newest(t, id))) => q.filter(
            nominations::created_at
                .lt(t)
                .or(nominations::created_at.eq(t).and(nominations::id.lt(id))),
        ),
        (NominationSort::MostVotes, Some(NominationCursor::Votes(v, id))) => q.filter(
            nominations::vote_count
                .lt(v)
                .or(nominations::vote_count.eq(v).and(nominations::id.gt(id))),
        ),
        _ => return Err(Error::bad_input("after", "is not a cursor of this list")),
    };
    q = match sort {
        NominationSort::Name => q.order((nominations::nominee_key.asc(), nominations::id.asc())),
        NominationSort::Newest => q.order((nominations::created_at.desc(), nominations::id.desc())),
        NominationSort::MostVotes => {
            q.order((nominations::vote_count.desc(), nominations::id.asc()))
        }
    };
    let rows = q
        .limit(limit)
        .select(Nomination::as_select())
        .load(&mut &*conn)
        .await?;
    let total = if with_total {
        scoped(scope, status)
            .count()
            .get_result(&mut &*conn)
            .await?
    } else {
        0
    };
    Ok((rows, total))
}

/// The awards list's filter; `country` normalized already.
#[derive(Clone, Debug, Default)]
pub struct AwardFilter {
    pub year: Option<i32>,
    pub phase: Option<Phase>,
    pub country: Option<String>,
}

type AwardQuery<'a> = awards::BoxedQuery<'a, Pg>;

/// The awards in `phase` at `t` as date conditions: the same boundaries as `awards::phase`.
fn in_phase(q: AwardQuery<'_>, phase: Phase, t: DateTime<Utc>) -> AwardQuery<'_> {
    match phase {
        Phase::Upcoming => q.filter(awards::nomination_opens_at.gt(t)),
        Phase::Nomination => q
            .filter(awards::nomination_opens_at.le(t))
            .filter(awards::nomination_closes_at.gt(t)),
        Phase::Review => q
            .filter(awards::nomination_closes_at.le(t))
            .filter(awards::voting_opens_at.gt(t)),
        Phase::Voting => q
            .filter(awards::voting_opens_at.le(t))
            .filter(awards::voting_closes_at.gt(t)),
        Phase::Closed => q.filter(awards::voting_closes_at.le(t)).filter(
            awards::results_published_at
                .is_null()
                .or(awards::results_published_at.gt(t)),
        ),
        Phase::Results => q
            .filter(awards::voting_closes_at.le(t))
            .filter(awards::results_published_at.le(t)),
    }
}

fn filtered(filter: &AwardFilter, t: DateTime<Utc>) -> AwardQuery<'static> {
    let mut q = awards::table.into_boxed();
    if let Some(y) = filter.year {
        q = q.filter(awards::year.eq(y));
    }
    if let Some(c) = &filter.country {
        q = q.filter(awards::countries.contains(vec![c.clone()]));
    }
    if let Some(p) = filter.phase {
        q = in_phase(q, p, t);
    }
    q
}

/// Up to `limit` awards, newest year first, after the cursor `(year, id)`; and (when
/// `with_total`) how many match in all (0 otherwise). The phase is the one at `t`.
pub async fn awards_page(
    conn: &AsyncPgConnection,
    filter: &AwardFilter,
    t: DateTime<Utc>,
    after: Option<(i32, i64)>,
    limit: i64,
    with_total: bool,
) -> Result<(Vec<Award>, i64)> {
    let mut q = filtered(filter, t);
    if let Some((y, id)) = after {
        q = q.filter(
            awards::year
                .lt(y)
                .or(awards::year.eq(y).and(awards::id.lt(id))),
        );
    }
    let rows = q
        .order((awards::year.desc(), awards::id.desc()))
        .limit(limit)
        .select(Award::as_select())
        .load(&mut &*conn)
        .await?;
    let total = if with_total {
        filtered(filter, t).count().get_result(&mut &*conn).await?
    } else {
        0
    };
    Ok((rows, total))
}
