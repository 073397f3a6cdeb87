//! The freeze: recounts every vote from the append-only log (without quarantined votes), takes
//! every submitted jury score, ranks with `results::rank_document` and stores the canonical
//! document, its SHA-256 and the ranking rows. After it, every writer that feeds the results
//! refuses with PHASE_CLOSED (each checks `is_frozen` under the award lock).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::models::{FinalResultRow, Juror, SnapshotRow};
use crate::error::{Error, Result};
use crate::i18n::LocalizedText;
use crate::models::{Award, AwardCategory, Nomination};
use crate::results::{
    self, DocAward, DocCategory, DocConflict, DocCriterion, DocCriterionScore, DocExclusion,
    DocJuror, DocNomination, DocScore, Document,
};
use crate::tables::{
    award_categories, awards, final_results, juror_conflicts, jurors, jury_scores, nominations,
    result_snapshots,
};

fn text_map(t: &LocalizedText) -> BTreeMap<String, String> {
    [("kk", &t.kk), ("ru", &t.ru), ("en", &t.en)]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
        .collect()
}

#[derive(QueryableByName)]
struct Tally {
    #[diesel(sql_type = BigInt)]
    nomination_id: i64,
    #[diesel(sql_type = BigInt)]
    counted: i64,
    #[diesel(sql_type = BigInt)]
    excluded: i64,
}

/// Each voter's standing vote per category is the last event of that voter there (a RETRACT
/// leaves none); a standing vote of a voter quarantined in that category (and not released) is
/// excluded rather than counted.
const RECOUNT: &str = "
    WITH last AS (
        SELECT DISTINCT ON (e.category_id, e.user_id) e.category_id, e.user_id, e.kind, e.to_nomination_id
        FROM vote_events e JOIN award_categories c ON c.id = e.category_id
        WHERE c.award_id = $1
        ORDER BY e.category_id, e.user_id, e.id DESC
    )
    SELECT l.to_nomination_id AS nomination_id,
           count(*) FILTER (WHERE NOT q.out)::bigint AS counted,
           count(*) FILTER (WHERE q.out)::bigint AS excluded
    FROM last l
    CROSS JOIN LATERAL (SELECT EXISTS (
        SELECT 1 FROM vote_quarantines v
        WHERE v.category_id = l.category_id AND v.user_id = l.user_id AND v.released_at IS NULL) AS out) q
    WHERE l.kind <> 'RETRACT'
    GROUP BY l.to_nomination_id";

pub async fn snapshots(
    conn: &AsyncPgConnection,
    award_ids: &[i64],
) -> Result<HashMap<i64, SnapshotRow>> {
    let rows: Vec<SnapshotRow> = result_snapshots::table
        .filter(result_snapshots::award_id.eq_any(award_ids))
        .select(SnapshotRow::as_select())
        .load(&mut &*conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.award_id, r)).collect())
}

/// The served document by its hash.
pub async fn document_by_hash(
    conn: &mut AsyncPgConnection,
    sha256: &str,
) -> Result<Option<String>> {
    Ok(result_snapshots::table
        .filter(result_snapshots::sha256.eq(sha256))
        .select(result_snapshots::document)
        .first(conn)
        .await
        .optional()?)
}

/// The final ranking of each category, once the award's results are published (empty before).
pub async fn final_results_of(
    conn: &AsyncPgConnection,
    category_ids: &[i64],
) -> Result<HashMap<i64, Vec<FinalResultRow>>> {
    let rows: Vec<FinalResultRow> = final_results::table
        .inner_join(award_categories::table.inner_join(awards::table))
        .filter(final_results::category_id.eq_any(category_ids))
        .filter(awards::results_published_at.is_not_null())
        .order((
            final_results::category_id,
            final_results::rank,
            final_results::nomination_id,
        ))
        .select(FinalResultRow::as_select())
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<FinalResultRow>> =
        category_ids.iter().map(|c| (*c, Vec::new())).collect();
    for r in rows {
        out.entry(r.category_id).or_default().push(r);
    }
    Ok(out)
}

/// Admins: freezes the results (or returns the snapshot already frozen).
pub async fn freeze(
    conn: &mut AsyncPgConnection,
    admin_id: i64,
    award_id: i64,
    now: DateTime<Utc>,
) -> Result<SnapshotRow> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a: Award = awards::table
            .find(award_id)
            .for_update()
            .select(Award::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::NotFound("award"))?;
        freeze_locked(conn, Some(admin_id), &a, now).await
    })
    .await
}

/// The freeze inside the caller's transaction, which holds the award row exclusively.
pub async fn freeze_locked(
    conn: &mut AsyncPgConnection,
    admin_id: Option<i64>,
    a: &Award,
    now: DateTime<Utc>,
) -> Result<SnapshotRow> {
    if let Some(s) = snapshots(&*conn, &[a.id]).await?.remove(&a.id) {
        return Ok(s);
    }
    if now < a.voting_closes_at {
        return Err(Error::PhaseClosed(
            "results can be frozen once voting has closed".into(),
        ));
    }
    let seats: Vec<Juror> = jurors::table
        .filter(jurors::award_id.eq(a.id))
        .order(jurors::id)
        .select(Juror::as_select())
        .load(conn)
        .await?;
    let pending = seats.iter().filter(|j| j.submitted_at.is_none()).count();
    if pending > 0 {
        return Err(Error::Conflict(format!(
            "{pending} juror(s) have not submitted their scores; wait for them or remove them"
        )));
    }
    let numbers: HashMap<i64, u32> = seats
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id, i as u32 + 1))
        .collect();
    let juror_ids: Vec<i64> = seats.iter().map(|j| j.id).collect();
    let seat_categories = super::categories_of_jurors(&*conn, &juror_ids).await?;

    let categories: Vec<AwardCategory> = award_categories::table
        .filter(award_categories::award_id.eq(a.id))
        .order(award_categories::position)
        .select(AwardCategory::as_select())
        .load(conn)
        .await?;
    let category_ids: Vec<i64> = categories.iter().map(|c| c.id).collect();
    let approved: Vec<Nomination> = nominations::table
        .filter(nominations::category_id.eq_any(&category_ids))
        .filter(nominations::status.eq(crate::awards::APPROVED))
        .order(nominations::id)
        .select(Nomination::as_select())
        .load(conn)
        .await?;
    let tallies: HashMap<i64, Tally> = diesel::sql_query(RECOUNT)
        .bind::<BigInt, _>(a.id)
        .load::<Tally>(conn)
        .await?
        .into_iter()
        .map(|t| (t.nomination_id, t))
        .collect();

    let mut exclusions: HashMap<i64, Vec<DocExclusion>> = HashMap::new();
    for e in crate::integrity::exclusions(conn, a.id).await? {
        exclusions
            .entry(e.nomination_id)
            .or_default()
            .push(DocExclusion {
                signal: e.signal_kind,
                reason: e.reason,
                votes: e.votes,
            });
    }

    let criteria = super::criteria_of(&*conn, &[a.id])
        .await?
        .remove(&a.id)
        .unwrap_or_default();
    let formula = super::formulas(&*conn, &[a.id])
        .await?
        .remove(&a.id)
        .unwrap_or_default();
    let approved_ids: Vec<i64> = approved.iter().map(|n| n.id).collect();
    let score_rows: Vec<(i64, i64, i64)> = jury_scores::table
        .filter(jury_scores::juror_id.eq_any(&juror_ids))
        .filter(jury_scores::nomination_id.eq_any(&approved_ids))
        .order((jury_scores::juror_id, jury_scores::nomination_id))
        .select((
            jury_scores::id,
            jury_scores::juror_id,
            jury_scores::nomination_id,
        ))
        .load(conn)
        .await?;
    let score_ids: Vec<i64> = score_rows.iter().map(|s| s.0).collect();
    let given = super::criterion_scores(&*conn, &score_ids).await?;
    let conflicts: Vec<(i64, i64)> = juror_conflicts::table
        .filter(juror_conflicts::juror_id.eq_any(&juror_ids))
        .filter(juror_conflicts::nomination_id.eq_any(&approved_ids))
        .order((juror_conflicts::juror_id, juror_conflicts::nomination_id))
        .select((juror_conflicts::juror_id, juror_conflicts::nomination_id))
        .load(conn)
        .await?;

    let doc_categories: Vec<DocCategory> = categories
        .iter()
        .map(|c| {
            let noms: Vec<DocNomination> = approved
                .iter()
                .filter(|n| n.category_id == c.id)
                .map(|n| {
                    let t = tallies.get(&n.id);
                    DocNomination {
                        id: n.id,
                        nominee: n.nominee_name.clone(),
                        votes: t.map_or(0, |t| t.counted),
                        votes_excluded: t.map_or(0, |t| t.excluded),
                        exclusions: exclusions.remove(&n.id).unwrap_or_default(),
                    }
                })
                .collect();
            DocCategory {
                id: c.id,
                title: text_map(&c.title),
                votes_counted: noms.iter().map(|n| n.votes).sum(),
                votes_excluded: noms.iter().map(|n| n.votes_excluded).sum(),
                nominations: noms,
                ranking: Vec::new(),
            }
        })
        .collect();
    let mut doc = Document {
        format: results::FORMAT.into(),
        award: DocAward {
            id: a.id,
            slug: a.slug.clone(),
            title: text_map(&a.title),
        },
        frozen_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        formula,
        criteria: criteria
            .iter()
            .map(|c| DocCriterion {
                id: c.id,
                title: text_map(&c.title),
                weight: c.weight,
                max_score: c.max_score,
            })
            .collect(),
        jurors: seats
            .iter()
            .map(|j| DocJuror {
                number: numbers[&j.id],
                categories: seat_categories.get(&j.id).cloned().unwrap_or_default(),
            })
            .collect(),
        scores: score_rows
            .iter()
            .map(|(id, juror, nomination)| DocScore {
                juror: numbers[juror],
                nomination: *nomination,
                criteria: given
                    .get(id)
                    .map(|v| {
                        v.iter()
                            .map(|(c, s)| DocCriterionScore {
                                criterion: *c,
                                score: *s,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        conflicts: conflicts
            .iter()
            .map(|(j, n)| DocConflict {
                juror: numbers[j],
                nomination: *n,
            })
            .collect(),
        votes_counted: doc_categories.iter().map(|c| c.votes_counted).sum(),
        votes_excluded: doc_categories.iter().map(|c| c.votes_excluded).sum(),
        categories: doc_categories,
    };
    let ranked = results::rank_document(&doc);
    for (cat, lines) in doc.categories.iter_mut().zip(ranked) {
        cat.ranking = lines;
    }
    let (text, sha256) = results::serialize(&doc)?;
    let as_i32 = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    let snapshot: SnapshotRow = diesel::insert_into(result_snapshots::table)
        .values((
            result_snapshots::award_id.eq(a.id),
            result_snapshots::frozen_at.eq(now),
            result_snapshots::frozen_by.eq(admin_id),
            result_snapshots::document.eq(&text),
            result_snapshots::sha256.eq(&sha256),
            result_snapshots::votes_counted.eq(as_i32(doc.votes_counted)),
            result_snapshots::votes_excluded.eq(as_i32(doc.votes_excluded)),
        ))
        .returning(SnapshotRow::as_returning())
        .get_result(conn)
        .await?;
    let rows: Vec<FinalResultRow> = doc
        .categories
        .iter()
        .flat_map(|c| {
            c.ranking.iter().map(move |l| FinalResultRow {
                category_id: c.id,
                nomination_id: l.nomination,
                rank: l.rank,
                score: l.score,
                public_votes: as_i32(l.public_votes),
                public_rank: l.public_rank,
                jury_score: l.jury_score,
                jury_rank: l.jury_rank,
                jurors_scored: l.jurors_scored,
            })
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(final_results::table)
            .values(&rows)
            .execute(conn)
            .await?;
    }
    Ok(snapshot)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The results announcement for the award's jurors, each in their language (transactional: they
/// took part, whether or not they subscribed). Returns the new outbox ids.
pub async fn announce_to_jurors(conn: &mut AsyncPgConnection, award_id: i64) -> Result<Vec<i64>> {
    let ids: Vec<Id> = diesel::sql_query(
        "INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
         SELECT 'RESULTS_ANNOUNCEMENT', j.email, j.locale,
                jsonb_build_object('kind', 'RESULTS_ANNOUNCEMENT', 'award_id', j.award_id),
                'results:' || j.award_id || ':juror:' || j.id, false
         FROM jurors j WHERE j.award_id = $1
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING id",
    )
    .bind::<BigInt, _>(award_id)
    .load(conn)
    .await?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}
