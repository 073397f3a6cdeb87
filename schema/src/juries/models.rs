//! Rows of the jury tables as read (see the `juries` migration).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::i18n::LocalizedText;
use crate::tables::{
    award_result_formulas, final_results, judging_criteria, jurors, jury_scores, result_snapshots,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = award_result_formulas, check_for_backend(diesel::pg::Pg))]
pub struct FormulaRow {
    pub award_id: i64,
    pub public_weight: f64,
    pub method: String,
    pub rank_points: Option<Vec<Option<i32>>>,
    pub normalize_jurors: bool,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = judging_criteria, check_for_backend(diesel::pg::Pg))]
pub struct Criterion {
    pub id: i64,
    pub award_id: i64,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub weight: f64,
    pub max_score: i32,
    pub position: i32,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = jurors, check_for_backend(diesel::pg::Pg))]
pub struct Juror {
    pub id: i64,
    pub award_id: i64,
    pub email: String,
    pub user_id: Option<i64>,
    pub locale: String,
    pub invited_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = jury_scores, check_for_backend(diesel::pg::Pg))]
pub struct JuryScore {
    pub id: i64,
    pub juror_id: i64,
    pub nomination_id: i64,
    pub total: f64,
    pub comment: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = result_snapshots, check_for_backend(diesel::pg::Pg))]
pub struct SnapshotRow {
    pub award_id: i64,
    pub frozen_at: DateTime<Utc>,
    pub frozen_by: Option<i64>,
    pub sha256: String,
    pub votes_counted: i32,
    pub votes_excluded: i32,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = final_results, check_for_backend(diesel::pg::Pg))]
pub struct FinalResultRow {
    pub category_id: i64,
    pub nomination_id: i64,
    pub rank: i32,
    pub score: f64,
    pub public_votes: i32,
    pub public_rank: i32,
    pub jury_score: Option<f64>,
    pub jury_rank: Option<i32>,
    pub jurors_scored: i32,
}
