//! Votes.

use super::*;

#[derive(QueryableByName, Debug, Clone)]
pub(super) struct CastRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    category_id: i64,
    #[diesel(sql_type = BigInt)]
    nomination_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    from_id: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Bool)]
    live_counts: bool,
}

/// The phase and status checks, the upsert and the event in one statement, kept in the database
/// (see the `cast_vote_function` migration) so that its plan is cached.
pub(super) const CAST: &str = "SELECT * FROM cast_vote($1, $2, $3, $4, $5, $6)";

/// What a castVote changed, for the response and the live counts.
#[derive(Clone, Debug)]
pub struct CastOutcome {
    pub vote_id: i64,
    pub category_id: i64,
    pub nomination_id: i64,
    pub created_at: DateTime<Utc>,
    /// None when nothing changed (the same nomination again).
    pub change: Option<VoteChange>,
    pub live_counts: bool,
}

/// The nominations whose counts moved: `from` lost a vote, `to` gained one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteChange {
    pub category_id: i64,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub async fn cast_vote(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    nomination_id: i64,
    forensics: Forensics,
    now: DateTime<Utc>,
) -> Result<CastOutcome> {
    // A second round only when a racing retraction of the same voter removed the vote between
    // the no-op upsert and the read below; a third such race is implausible, not impossible.
    for _ in 0..3 {
        let row: Option<CastRow> = diesel::sql_query(CAST)
            .bind::<BigInt, _>(user_id)
            .bind::<BigInt, _>(nomination_id)
            .bind::<Nullable<BigInt>, _>(forensics.net)
            .bind::<Nullable<BigInt>, _>(forensics.addr)
            .bind::<Nullable<BigInt>, _>(forensics.user_agent)
            .bind::<Timestamptz, _>(now)
            .get_result(conn)
            .await
            .optional()?;
        if let Some(r) = row {
            return Ok(CastOutcome {
                vote_id: r.id,
                category_id: r.category_id,
                nomination_id: r.nomination_id,
                created_at: r.created_at,
                change: Some(VoteChange {
                    category_id: r.category_id,
                    from: r.from_id,
                    to: Some(r.nomination_id),
                }),
                live_counts: r.live_counts,
            });
        }
        // Nothing written: say why, or it was the same nomination again (a no-op).
        let found: Option<(Nomination, Award)> = nominations::table
            .inner_join(award_categories::table.inner_join(awards::table))
            .filter(nominations::id.eq(nomination_id))
            .select((Nomination::as_select(), Award::as_select()))
            .first(conn)
            .await
            .optional()?;
        let Some((n, a)) = found else {
            return Err(Error::NotFound("nomination"));
        };
        if award_phase(&a, now) != Phase::Voting {
            return Err(phase_closed("voting is not open"));
        }
        if n.status != APPROVED {
            return Err(Error::bad_input(
                "nominationId",
                "only approved nominations can receive votes",
            ));
        }
        // The voter's vote as it is now: a racing request of the same voter may have moved it
        // since, and the latest state is the truthful answer.
        let current: Option<Vote> = votes::table
            .filter(votes::user_id.eq(user_id))
            .filter(votes::category_id.eq(n.category_id))
            .select(Vote::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(v) = current {
            return Ok(CastOutcome {
                vote_id: v.id,
                category_id: v.category_id,
                nomination_id: v.nomination_id,
                created_at: v.created_at,
                change: None,
                live_counts: a.live_counts,
            });
        }
    }
    Err(Error::Conflict(
        "the vote changed concurrently; try again".into(),
    ))
}

#[derive(QueryableByName)]
pub(super) struct RetractRow {
    #[diesel(sql_type = BigInt)]
    nomination_id: i64,
}

pub(super) const RETRACT: &str = "
    WITH d AS (
        DELETE FROM votes WHERE user_id = $1 AND category_id = $2
        RETURNING id, category_id, nomination_id
    ), e AS (
        INSERT INTO vote_events (vote_id, user_id, category_id, kind, from_nomination_id,
                                 net_hash, addr_hash, ua_hash)
        SELECT id, $1, category_id, 'RETRACT', nomination_id, $3, $4, $5 FROM d
    )
    SELECT nomination_id FROM d";

/// Removes the voter's vote in the category, if any; returns the category, its award and the
/// change (None when there was no vote).
pub async fn retract_vote(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    category_id: i64,
    forensics: Forensics,
    now: DateTime<Utc>,
) -> Result<(AwardCategory, Award, Option<VoteChange>)> {
    let (c, a): (AwardCategory, Award) = award_categories::table
        .inner_join(awards::table)
        .filter(award_categories::id.eq(category_id))
        .select((AwardCategory::as_select(), Award::as_select()))
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("award category"))?;
    if award_phase(&a, now) != Phase::Voting {
        return Err(phase_closed("voting is not open"));
    }
    let row: Option<RetractRow> = diesel::sql_query(RETRACT)
        .bind::<BigInt, _>(user_id)
        .bind::<BigInt, _>(category_id)
        .bind::<Nullable<BigInt>, _>(forensics.net)
        .bind::<Nullable<BigInt>, _>(forensics.addr)
        .bind::<Nullable<BigInt>, _>(forensics.user_agent)
        .get_result(conn)
        .await
        .optional()?;
    let change = row.map(|r| VoteChange {
        category_id,
        from: Some(r.nomination_id),
        to: None,
    });
    Ok((c, a, change))
}

/// Current counts of some nominations and of their categories, read together.
#[derive(Queryable, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountRow {
    pub category_id: i64,
    pub nomination_id: i64,
    pub vote_count: i32,
    pub category_vote_count: i32,
}

/// The counts of every approved nomination of some categories: what live-count subscribers are
/// sent again after the process's Redis subscription was lost and restored.
pub async fn category_counts(
    conn: &mut AsyncPgConnection,
    category_ids: &[i64],
) -> Result<Vec<CountRow>> {
    Ok(nominations::table
        .inner_join(award_categories::table)
        .filter(nominations::category_id.eq_any(category_ids))
        .filter(nominations::status.eq(APPROVED))
        .select((
            award_categories::id,
            nominations::id,
            nominations::vote_count,
            award_categories::vote_count,
        ))
        .load(conn)
        .await?)
}

/// Built with the query builder rather than as text so that its prepared statement is cached.
pub async fn counts(conn: &mut AsyncPgConnection, nomination_ids: &[i64]) -> Result<Vec<CountRow>> {
    Ok(nominations::table
        .inner_join(award_categories::table)
        .filter(nominations::id.eq_any(nomination_ids))
        .select((
            award_categories::id,
            nominations::id,
            nominations::vote_count,
            award_categories::vote_count,
        ))
        .load(conn)
        .await?)
}

#[derive(QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recount {
    #[diesel(sql_type = BigInt)]
    pub nomination_id: i64,
    /// Computed from the event log alone.
    #[diesel(sql_type = BigInt)]
    pub from_log: i64,
    /// Rows in `votes` now.
    #[diesel(sql_type = BigInt)]
    pub from_votes: i64,
    /// The counter the trigger keeps.
    #[diesel(sql_type = Integer)]
    pub stored: i32,
}

/// Recomputes every nomination's count of a category from the event log (+1 for each event
/// arriving at it, −1 for each leaving it), next to the live votes and the stored counter.
pub async fn recount(conn: &mut AsyncPgConnection, category_id: i64) -> Result<Vec<Recount>> {
    Ok(diesel::sql_query(
        // One pass over the category's events and votes, whatever the number of nominations.
        "SELECT n.id AS nomination_id, coalesce(l.n, 0)::bigint AS from_log,
                coalesce(v.n, 0)::bigint AS from_votes, n.vote_count AS stored
         FROM nominations n
         LEFT JOIN (SELECT id, sum(d) AS n FROM (
                        SELECT to_nomination_id AS id, 1 AS d FROM vote_events
                        WHERE category_id = $1 AND to_nomination_id IS NOT NULL
                        UNION ALL
                        SELECT from_nomination_id, -1 FROM vote_events
                        WHERE category_id = $1 AND from_nomination_id IS NOT NULL) e
                    GROUP BY id) l ON l.id = n.id
         LEFT JOIN (SELECT nomination_id, count(*) AS n FROM votes WHERE category_id = $1
                    GROUP BY nomination_id) v ON v.nomination_id = n.id
         WHERE n.category_id = $1 ORDER BY n.id",
    )
    .bind::<BigInt, _>(category_id)
    .load(conn)
    .await?)
}

/// The category's total as the event log tells it (casts minus retractions; moves keep it).
pub async fn category_total_from_log(
    conn: &mut AsyncPgConnection,
    category_id: i64,
) -> Result<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(
        "SELECT (count(*) FILTER (WHERE kind = 'CAST') - count(*) FILTER (WHERE kind = 'RETRACT'))::bigint AS n
         FROM vote_events WHERE category_id = $1",
    )
    .bind::<BigInt, _>(category_id)
    .get_result(conn)
    .await?;
    Ok(n.n)
}
