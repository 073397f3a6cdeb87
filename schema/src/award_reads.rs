//! The awards' reads: rows by id and by parent for the api's loaders (one statement per batch of
//! keys, never one per row) and an award by slug. The awards and nominations lists are
//! `awards::list` and `awards::nominations_in`, on the page plumbing every list shares.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::awards::APPROVED;
use crate::error::Result;
use crate::models::{Award, AwardCategory, Nomination, Vote};
use crate::tables::{award_categories, awards, nominations, votes};

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
