//! Reminders, computed from state by a worker schedule and written to the outbox with a dedupe key
//! of (kind, subject, recipient): running them every minute, in any number of workers, sends each
//! reminder once. Recipients are the ones docs/architecture.md names; all reminders are bulk mail.

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::Result;

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Voting closes within 24 hours: AWARD_UPDATES subscribers, and verified users who have not
/// voted in every category of the award. One email per address and award.
const VOTING_CLOSES: &str = "
    WITH award AS (
        SELECT id FROM awards WHERE voting_opens_at <= now() AND voting_closes_at > now()
                              AND voting_closes_at <= now() + interval '24 hours'
    ), recipients AS (
        SELECT a.id AS award_id, s.email, s.locale FROM award a
        CROSS JOIN email_subscriptions s
        WHERE s.status = 'ACTIVE' AND 'AWARD_UPDATES' = ANY(s.topics)
        UNION
        SELECT a.id, u.email, u.locale FROM award a
        CROSS JOIN users u
        WHERE u.email_verified_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM email_subscriptions o
                          WHERE o.email = u.email AND o.status = 'UNSUBSCRIBED')
          AND EXISTS (SELECT 1 FROM award_categories c WHERE c.award_id = a.id
                      AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.category_id = c.id AND v.user_id = u.id))
    )
    INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
    SELECT DISTINCT ON (award_id, email) 'VOTING_CLOSES_REMINDER', email, locale,
           jsonb_build_object('kind', 'VOTING_CLOSES_REMINDER', 'award_id', award_id),
           'voting-closes:' || award_id || ':' || email, true
    FROM recipients ORDER BY award_id, email
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id";

/// Nomination closes within 72 hours: AWARD_UPDATES subscribers.
const NOMINATION_CLOSES: &str = "
    INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
    SELECT 'NOMINATION_CLOSES_REMINDER', s.email, s.locale,
           jsonb_build_object('kind', 'NOMINATION_CLOSES_REMINDER', 'award_id', a.id),
           'nomination-closes:' || a.id || ':' || s.email, true
    FROM awards a CROSS JOIN email_subscriptions s
    WHERE a.nomination_opens_at <= now() AND a.nomination_closes_at > now()
      AND a.nomination_closes_at <= now() + interval '72 hours'
      AND s.status = 'ACTIVE' AND 'AWARD_UPDATES' = ANY(s.topics)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id";

/// A published project starts tomorrow (in `$1`, the platform's time zone): its accepted volunteers.
const PROJECT_STARTS: &str = "
    INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
    SELECT 'PROJECT_STARTS_REMINDER', u.email, u.locale,
           jsonb_build_object('kind', 'PROJECT_STARTS_REMINDER', 'project_id', p.id),
           'project-starts:' || p.id || ':' || u.id, true
    FROM projects p
    JOIN applications ap ON ap.project_id = p.id AND ap.status = 'ACCEPTED'
    JOIN users u ON u.id = ap.volunteer_id
    WHERE p.status = 'PUBLISHED' AND NOT EXISTS (SELECT 1 FROM email_subscriptions o
                          WHERE o.email = u.email AND o.status = 'UNSUBSCRIBED')
      AND p.starts_at > now()
      AND (p.starts_at AT TIME ZONE $1)::date = (now() AT TIME ZONE $1)::date + 1
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id";

/// Writes every reminder that is due and not yet written; returns the new outbox ids to push.
pub async fn enqueue_due(conn: &mut AsyncPgConnection, timezone: &str) -> Result<Vec<i64>> {
    let mut ids: Vec<Id> = diesel::sql_query(VOTING_CLOSES).load(conn).await?;
    ids.extend(
        diesel::sql_query(NOMINATION_CLOSES)
            .load::<Id>(conn)
            .await?,
    );
    ids.extend(
        diesel::sql_query(PROJECT_STARTS)
            .bind::<Text, _>(timezone)
            .load::<Id>(conn)
            .await?,
    );
    ids.extend(
        diesel::sql_query(crate::juries::reminder_sql())
            .load::<Id>(conn)
            .await?,
    );
    Ok(ids.into_iter().map(|r| r.id).collect())
}
