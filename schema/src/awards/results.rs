//! Results.

use super::*;

/// A ranked line of the results.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked<T> {
    pub rank: i32,
    pub vote_count: i32,
    pub share: f64,
    pub item: T,
}

/// Orders by votes (most first, then `tiebreak`), gives equal counts the same rank (1, 1, 3),
/// and each its share of `total` (0 when there are no votes).
pub fn rank<T, K: Ord>(
    mut items: Vec<T>,
    votes: impl Fn(&T) -> i32,
    tiebreak: impl Fn(&T) -> K,
    total: i64,
) -> Vec<Ranked<T>> {
    items.sort_by(|a, b| {
        votes(b)
            .cmp(&votes(a))
            .then_with(|| tiebreak(a).cmp(&tiebreak(b)))
    });
    let mut out: Vec<Ranked<T>> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let v = votes(&item);
        let rank = match out.last() {
            Some(prev) if prev.vote_count == v => prev.rank,
            _ => i as i32 + 1,
        };
        let share = if total > 0 {
            f64::from(v) / total as f64
        } else {
            0.0
        };
        out.push(Ranked {
            rank,
            vote_count: v,
            share,
            item,
        });
    }
    out
}

pub(super) const ANNOUNCE: &str = "
    INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
    SELECT 'RESULTS_ANNOUNCEMENT', s.email, s.locale,
           jsonb_build_object('kind', 'RESULTS_ANNOUNCEMENT', 'award_id', $1::bigint),
           'results:' || $1::bigint || ':' || s.id, true
    FROM email_subscriptions s
    WHERE s.status = 'ACTIVE' AND 'AWARD_UPDATES' = ANY(s.topics)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id";

/// Publishes exactly the frozen results once voting has closed (freezing them first when they
/// are not yet: see `juries::freeze`), and writes the announcement for every active
/// AWARD_UPDATES subscriber and every juror in the same transaction. Publishing again changes
/// nothing. Returns the award and the outbox ids to push after commit.
pub async fn publish_results(
    conn: &mut AsyncPgConnection,
    admin_id: Option<i64>,
    award_id: i64,
    now: DateTime<Utc>,
) -> Result<(Award, Vec<i64>)> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, award_id).await?;
        if a.results_published_at.is_some() {
            return Ok((a, Vec::new()));
        }
        if now < a.voting_closes_at {
            return Err(phase_closed(
                "results can be published once voting has closed",
            ));
        }
        // A vote whose own fold failed still has its delta waiting; results count it.
        crate::vote_counts::fold(conn).await?;
        crate::juries::freeze::freeze_locked(conn, admin_id, &a, now).await?;
        let a: Award = diesel::update(awards::table.find(award_id))
            .set(awards::results_published_at.eq(now))
            .returning(Award::as_returning())
            .get_result(conn)
            .await?;
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        let ids: Vec<Id> = diesel::sql_query(ANNOUNCE)
            .bind::<BigInt, _>(award_id)
            .load(conn)
            .await?;
        let mut ids: Vec<i64> = ids.into_iter().map(|r| r.id).collect();
        ids.extend(crate::juries::freeze::announce_to_jurors(conn, award_id).await?);
        Ok((a, ids))
    })
    .await
}
