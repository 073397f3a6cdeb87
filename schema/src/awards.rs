//! Awards: phases, nominations, moderation, votes, the vote event log, results.
//!
//! The phase is never stored: it follows from the award's dates and the clock, so a date change or
//! the passing of time needs no job. Every rule that depends on the phase takes `now` explicitly,
//! which keeps the boundaries testable to the second.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::{Locale, LocalizedText};
use crate::integrity::Forensics;
use crate::models::{Award, AwardCategory, Nomination, Vote, text_enum};
use crate::organizations::insert_with_slug;
use crate::outbox::{self, Email, NewEmail};
use crate::page::{self, Order, Page, PageArgs};
use crate::schema::{award_categories, awards, nominations, users, votes};
use crate::sql::{Bind, Sql};
use crate::validate;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Upcoming,
    Nomination,
    Review,
    Voting,
    Closed,
    Results,
}

/// The four dates that define the phases, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dates {
    pub nomination_opens_at: DateTime<Utc>,
    pub nomination_closes_at: DateTime<Utc>,
    pub voting_opens_at: DateTime<Utc>,
    pub voting_closes_at: DateTime<Utc>,
}

impl Dates {
    pub fn of(a: &Award) -> Dates {
        Dates {
            nomination_opens_at: a.nomination_opens_at,
            nomination_closes_at: a.nomination_closes_at,
            voting_opens_at: a.voting_opens_at,
            voting_closes_at: a.voting_closes_at,
        }
    }

    /// The same order as the table's CHECK, reported on the first field out of order.
    pub fn validate(&self) -> Result<()> {
        if self.nomination_closes_at <= self.nomination_opens_at {
            return Err(Error::bad_input(
                "nominationClosesAt",
                "must be after nominationOpensAt",
            ));
        }
        if self.voting_opens_at < self.nomination_closes_at {
            return Err(Error::bad_input(
                "votingOpensAt",
                "must not be before nominationClosesAt",
            ));
        }
        if self.voting_closes_at <= self.voting_opens_at {
            return Err(Error::bad_input(
                "votingClosesAt",
                "must be after votingOpensAt",
            ));
        }
        Ok(())
    }
}

/// Each phase starts at its date (inclusive) and ends at the next one (exclusive).
pub fn phase(d: &Dates, results_published_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Phase {
    if now < d.nomination_opens_at {
        Phase::Upcoming
    } else if now < d.nomination_closes_at {
        Phase::Nomination
    } else if now < d.voting_opens_at {
        Phase::Review
    } else if now < d.voting_closes_at {
        Phase::Voting
    } else if results_published_at.is_some_and(|p| p <= now) {
        Phase::Results
    } else {
        Phase::Closed
    }
}

pub fn award_phase(a: &Award, now: DateTime<Utc>) -> Phase {
    phase(&Dates::of(a), a.results_published_at, now)
}

/// Whether vote counts of the award may be shown at all: live counts, or results out.
pub fn counts_visible(a: &Award) -> bool {
    a.live_counts || a.results_published_at.is_some()
}

/// Whether one category's counts may be shown, to anyone (admins too): once results are out,
/// or with live counts when the category has at least `min_votes` votes. In a category of a
/// handful of votes, a count that moves right after someone known voted tells how they voted.
pub fn category_counts_visible(a: &Award, category_votes: i32, min_votes: i32) -> bool {
    a.results_published_at.is_some() || (a.live_counts && category_votes >= min_votes)
}

/// Once voting has opened, dates, categories and the approved set are frozen.
pub fn frozen(a: &Award, now: DateTime<Utc>) -> bool {
    now >= a.voting_opens_at
}

fn phase_closed(what: &str) -> Error {
    Error::PhaseClosed(what.to_owned())
}

/// The name folded for sorting by NAME: case, punctuation and runs of spaces aside
/// ("Айгерим  Бекова", "айгерим бекова." sort together). Sameness is [`nominee_identity`].
pub fn nominee_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ё' => 'е',
            c => c,
        };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// ISO 3166-1 alpha-2, upper-cased: the same check as organizations and projects.
pub fn normalize_country(field: &str, c: &str) -> Result<String> {
    validate::country(field, c)
}

diesel::define_sql_function! {
    /// Who a nomination is about (migration `2026-12-03-300001_nominee_identity`, the rule's
    /// one home): a linked project or organization by id, anyone else by kind, country and
    /// a folded name. A trigger writes it into `nominations.nominee_identity`.
    fn nominee_identity_of(
        kind: Text,
        project_id: Nullable<BigInt>,
        organization_id: Nullable<BigInt>,
        country: Text,
        name: Text,
    ) -> Text;
}

fn is_unique_violation(e: &DieselError, constraint: &str) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

fn is_fk_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
    )
}

// ───────────── awards and categories ─────────────

pub struct NewAward {
    pub slug: Option<String>,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub year: i32,
    pub countries: Vec<String>,
    pub dates: Dates,
    pub live_counts: bool,
}

fn countries(list: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in list {
        let c = normalize_country("countries", c)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(Error::bad_input("countries", "needs at least one country"));
    }
    Ok(out)
}

pub async fn create_award(conn: &mut AsyncPgConnection, new: NewAward) -> Result<Award> {
    let title = new.title.normalized("title", 200, true)?;
    let description = new.description.normalized("description", 5000, false)?;
    if !(2000..=2200).contains(&new.year) {
        return Err(Error::bad_input("year", "must be between 2000 and 2200"));
    }
    let countries = countries(&new.countries)?;
    new.dates.validate()?;
    let requested = new.slug.map(|s| validate::slug("slug", &s)).transpose()?;
    let base = match validate::slugify(&title) {
        // slugify's placeholder for a title without letters: say what it is.
        s if s == "item" => "award".to_owned(),
        s => s,
    };
    let year = new.year.to_string();
    let base = if base.split('-').any(|p| p == year) {
        base
    } else {
        format!("{base}-{year}")
    };
    let id = insert_with_slug!(
        conn,
        awards::table,
        awards::id,
        awards::slug,
        requested,
        base,
        |slug| (
            awards::slug.eq(slug),
            awards::title.eq(&title),
            awards::description.eq(&description),
            awards::year.eq(new.year),
            awards::countries.eq(&countries),
            awards::nomination_opens_at.eq(new.dates.nomination_opens_at),
            awards::nomination_closes_at.eq(new.dates.nomination_closes_at),
            awards::voting_opens_at.eq(new.dates.voting_opens_at),
            awards::voting_closes_at.eq(new.dates.voting_closes_at),
            awards::live_counts.eq(new.live_counts),
        )
    )
    .ok_or_else(|| Error::bad_input("slug", "is taken"))?;
    Ok(awards::table
        .find(id)
        .select(Award::as_select())
        .first(conn)
        .await?)
}

#[derive(Default)]
pub struct AwardChanges {
    pub title: Option<LocalizedText>,
    /// `Some(None)` clears it.
    pub description: Option<Option<LocalizedText>>,
    pub countries: Option<Vec<String>>,
    pub nomination_opens_at: Option<DateTime<Utc>>,
    pub nomination_closes_at: Option<DateTime<Utc>>,
    pub voting_opens_at: Option<DateTime<Utc>>,
    pub voting_closes_at: Option<DateTime<Utc>>,
    pub live_counts: Option<bool>,
}

/// Locks the award row: date changes, category changes and moderation take turns on it, so a
/// check of the phase holds until commit.
async fn lock_award(conn: &mut AsyncPgConnection, id: i64) -> Result<Award> {
    awards::table
        .find(id)
        .for_update()
        .select(Award::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("award"))
}

pub async fn update_award(
    conn: &mut AsyncPgConnection,
    id: i64,
    ch: AwardChanges,
    now: DateTime<Utc>,
) -> Result<Award> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, id).await?;
        let old = Dates::of(&a);
        let dates = Dates {
            nomination_opens_at: ch.nomination_opens_at.unwrap_or(old.nomination_opens_at),
            nomination_closes_at: ch.nomination_closes_at.unwrap_or(old.nomination_closes_at),
            voting_opens_at: ch.voting_opens_at.unwrap_or(old.voting_opens_at),
            voting_closes_at: ch.voting_closes_at.unwrap_or(old.voting_closes_at),
        };
        if dates != old {
            if frozen(&a, now) {
                return Err(phase_closed(
                    "the dates can't change once voting has opened",
                ));
            }
            dates.validate()?;
        }
        let title = match ch.title {
            Some(t) => t.normalized("title", 200, true)?,
            None => a.title.clone(),
        };
        let description = match ch.description {
            Some(Some(d)) => d.normalized("description", 5000, false)?,
            Some(None) => LocalizedText::default(),
            None => a.description.clone(),
        };
        let countries = match ch.countries {
            Some(c) => countries(&c)?,
            None => a.countries.iter().flatten().cloned().collect(),
        };
        Ok(diesel::update(awards::table.find(id))
            .set((
                awards::title.eq(&title),
                awards::description.eq(&description),
                awards::countries.eq(&countries),
                awards::nomination_opens_at.eq(dates.nomination_opens_at),
                awards::nomination_closes_at.eq(dates.nomination_closes_at),
                awards::voting_opens_at.eq(dates.voting_opens_at),
                awards::voting_closes_at.eq(dates.voting_closes_at),
                awards::live_counts.eq(ch.live_counts.unwrap_or(a.live_counts)),
            ))
            .returning(Award::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Deletes an award that has never opened nominations, with its categories (they cascade).
/// Once nominations have opened, people may have acted on it: PHASE_CLOSED.
pub async fn delete_award(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> Result<()> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, id).await?;
        if now >= a.nomination_opens_at {
            return Err(phase_closed(
                "an award can be deleted only before its nominations open",
            ));
        }
        match diesel::delete(awards::table.find(id)).execute(conn).await {
            Ok(_) => Ok(()),
            // Nominations written around the API (nominations.category_id is RESTRICT).
            Err(e) if is_fk_violation(&e) => {
                Err(Error::Conflict("the award has nominations".into()))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

pub async fn create_category(
    conn: &mut AsyncPgConnection,
    award_id: i64,
    title: LocalizedText,
    description: Option<LocalizedText>,
    now: DateTime<Utc>,
) -> Result<AwardCategory> {
    let title = title.normalized("title", 200, true)?;
    let description = description
        .unwrap_or_default()
        .normalized("description", 5000, false)?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let a = lock_award(conn, award_id).await?;
        if frozen(&a, now) {
            return Err(phase_closed(
                "categories can't change once voting has opened",
            ));
        }
        let next: Option<i32> = award_categories::table
            .filter(award_categories::award_id.eq(award_id))
            .select(diesel::dsl::max(award_categories::position))
            .first(conn)
            .await?;
        Ok(diesel::insert_into(award_categories::table)
            .values((
                award_categories::award_id.eq(award_id),
                award_categories::title.eq(&title),
                award_categories::description.eq(&description),
                award_categories::position.eq(next.map_or(0, |p| p + 1)),
            ))
            .returning(AwardCategory::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// An award by slug with its categories in their order, in one statement: a page that shows
/// both would otherwise wait for the award before it could ask for the categories.
pub async fn award_with_categories(
    conn: &AsyncPgConnection,
    slug: &str,
) -> Result<Option<(Award, Vec<AwardCategory>)>> {
    let rows: Vec<(Award, Option<AwardCategory>)> = awards::table
        .left_join(award_categories::table)
        .filter(awards::slug.eq(slug))
        .order(award_categories::position)
        .select((Award::as_select(), Option::<AwardCategory>::as_select()))
        .load(&mut &*conn)
        .await?;
    let mut rows = rows.into_iter();
    let Some((award, first)) = rows.next() else {
        return Ok(None);
    };
    let categories = first
        .into_iter()
        .chain(rows.filter_map(|(_, c)| c))
        .collect();
    Ok(Some((award, categories)))
}

pub async fn category(conn: &mut AsyncPgConnection, id: i64) -> Result<AwardCategory> {
    award_categories::table
        .find(id)
        .select(AwardCategory::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("award category"))
}

pub async fn update_category(
    conn: &mut AsyncPgConnection,
    id: i64,
    title: Option<LocalizedText>,
    description: Option<Option<LocalizedText>>,
    now: DateTime<Utc>,
) -> Result<AwardCategory> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let c = category(conn, id).await?;
        let a = lock_award(conn, c.award_id).await?;
        if frozen(&a, now) {
            return Err(phase_closed(
                "categories can't change once voting has opened",
            ));
        }
        let title = match title {
            Some(t) => t.normalized("title", 200, true)?,
            None => c.title,
        };
        let description = match description {
            Some(Some(d)) => d.normalized("description", 5000, false)?,
            Some(None) => LocalizedText::default(),
            None => c.description,
        };
        Ok(diesel::update(award_categories::table.find(id))
            .set((
                award_categories::title.eq(&title),
                award_categories::description.eq(&description),
            ))
            .returning(AwardCategory::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Deletes a category without nominations; returns its award.
pub async fn delete_category(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Award> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let c = category(conn, id).await?;
        let a = lock_award(conn, c.award_id).await?;
        if frozen(&a, now) {
            return Err(phase_closed(
                "categories can't change once voting has opened",
            ));
        }
        match diesel::delete(award_categories::table.find(id))
            .execute(conn)
            .await
        {
            Ok(_) => Ok(a),
            // nominations.category_id is ON DELETE RESTRICT: that is the "no nominations" rule.
            Err(e) if is_fk_violation(&e) => {
                Err(Error::Conflict("the category has nominations".into()))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

// ───────────── nominations ─────────────

text_enum! {
    /// `nominations.nominee_kind`.
    pub enum NomineeKind {
        Person => "PERSON",
        Project => "PROJECT",
        Organization => "ORGANIZATION",
    }
}

text_enum! {
    /// `nominations.status`; a decision email names the one it tells (APPROVED or REJECTED).
    pub enum NominationStatus {
        Pending => "PENDING",
        Approved => "APPROVED",
        Rejected => "REJECTED",
        Withdrawn => "WITHDRAWN",
    }
}

pub const PENDING: &str = NominationStatus::Pending.as_str();
pub const APPROVED: &str = NominationStatus::Approved.as_str();

/// Orders of a category's nominations; each is served by a `nominations_category_*_idx` index.
pub const NOMINATIONS_BY_NAME: Order = Order {
    name: "NAME",
    expr: "t.nominee_key",
    cast: "text",
    desc: false,
    id_desc: false,
    nullable: false,
};
pub const NOMINATIONS_NEWEST: Order = Order {
    name: "NEWEST",
    expr: "t.created_at",
    cast: "timestamptz",
    desc: true,
    id_desc: true,
    nullable: false,
};
/// Ties go to the earlier nomination, as the index (vote_count DESC, id) lists them.
pub const NOMINATIONS_MOST_VOTES: Order = Order {
    name: "MOST_VOTES",
    expr: "t.vote_count",
    cast: "integer",
    desc: true,
    id_desc: false,
    nullable: false,
};

/// The same page of the nominations of one status of each category, for all of them at once.
pub async fn nominations_of_categories(
    conn: &AsyncPgConnection,
    category_ids: &[i64],
    status: &str,
    order: &Order,
    args: &PageArgs,
) -> Result<HashMap<i64, Page<Nomination>>> {
    let status_is = |s: &mut Sql| {
        s.push(" AND t.status = ")
            .bind(Bind::Text(status.to_owned()));
    };
    // Counted per category and status by a trigger (`nomination_counts`).
    let counter = page::ParentCounter {
        head: "SELECT t.category_id AS parent_id, t.nominations AS n FROM nomination_counts t \
               WHERE t.category_id = ANY(",
        filter: &status_is,
    };
    page::list_per_parent_counted(
        conn,
        "nominations t",
        "t.category_id",
        category_ids,
        &status_is,
        order,
        args,
        Some(counter),
    )
    .await
}
pub const REJECTED: &str = NominationStatus::Rejected.as_str();
pub const WITHDRAWN: &str = NominationStatus::Withdrawn.as_str();
/// Which nominations a list of every category reads: an award's (the moderation queue) or a
/// submitter's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NominationScope {
    Award(i64),
    Submitter(i64),
}

/// A page of the nominations in `scope`, of one status or all, newest first.
pub async fn nominations_in(
    conn: &AsyncPgConnection,
    scope: NominationScope,
    status: Option<&str>,
    args: &PageArgs,
) -> Result<Page<Nomination>> {
    let filter = |s: &mut Sql| {
        match scope {
            NominationScope::Award(id) => s
                .push(" AND t.category_id IN (SELECT c.id FROM award_categories c WHERE c.award_id = ")
                .bind(Bind::I64(id))
                .push(")"),
            NominationScope::Submitter(id) => s.push(" AND t.submitted_by = ").bind(Bind::I64(id)),
        };
        if let Some(st) = status {
            s.push(" AND t.status = ").bind(Bind::Text(st.to_owned()));
        }
    };
    page::list(conn, "nominations t", &filter, &NOMINATIONS_NEWEST, args).await
}

/// Awards by year, the latest first.
const AWARDS_BY_YEAR: Order = Order {
    name: "YEAR",
    expr: "t.year",
    cast: "int4",
    desc: true,
    id_desc: true,
    nullable: false,
};

#[derive(Clone, Debug, Default)]
pub struct AwardFilter {
    pub year: Option<i32>,
    pub phase: Option<Phase>,
    /// Normalized (`normalize_country`).
    pub country: Option<String>,
}

/// A page of awards, the latest year first; the phase is the same date boundaries as `phase`,
/// at `now`.
pub async fn list(
    conn: &AsyncPgConnection,
    filter: &AwardFilter,
    now: DateTime<Utc>,
    args: &PageArgs,
) -> Result<Page<Award>> {
    let push = |s: &mut Sql| {
        if let Some(y) = filter.year {
            s.push(" AND t.year = ").bind(Bind::I32(y));
        }
        if let Some(c) = &filter.country {
            s.push(" AND t.countries @> ARRAY[")
                .bind(Bind::Text(c.clone()))
                .push("]::text[]");
        }
        let at = |s: &mut Sql, cond: &str| {
            s.push(&format!(" AND {cond}")).bind(Bind::Time(now));
        };
        match filter.phase {
            None => {}
            Some(Phase::Upcoming) => at(s, "t.nomination_opens_at > "),
            Some(Phase::Nomination) => {
                at(s, "t.nomination_opens_at <= ");
                at(s, "t.nomination_closes_at > ");
            }
            Some(Phase::Review) => {
                at(s, "t.nomination_closes_at <= ");
                at(s, "t.voting_opens_at > ");
            }
            Some(Phase::Voting) => {
                at(s, "t.voting_opens_at <= ");
                at(s, "t.voting_closes_at > ");
            }
            Some(Phase::Closed) => {
                at(s, "t.voting_closes_at <= ");
                at(
                    s,
                    "(t.results_published_at IS NULL OR t.results_published_at > ",
                );
                s.push(")");
            }
            Some(Phase::Results) => {
                at(s, "t.voting_closes_at <= ");
                at(s, "t.results_published_at <= ");
            }
        }
    };
    page::list(conn, "awards t", &push, &AWARDS_BY_YEAR, args).await
}

pub struct NewNomination {
    pub category_id: i64,
    pub nominee_name: String,
    pub nominee_kind: NomineeKind,
    pub project_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub statement: String,
    pub country: String,
    pub region: Option<String>,
}

/// Returns the nomination and the receipt's outbox id to push after commit.
pub async fn submit_nomination(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    n: NewNomination,
    now: DateTime<Utc>,
) -> Result<(Nomination, Option<i64>)> {
    let submitter_id = viewer.user_id;
    let is_admin = viewer.is_admin();
    let name = n
        .nominee_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::bad_input(
            "nomineeName",
            "must be 1 to 200 characters",
        ));
    }
    let key = nominee_key(&name);
    if key.is_empty() {
        return Err(Error::bad_input("nomineeName", "needs letters or digits"));
    }
    let statement = n.statement.trim().to_owned();
    if statement.is_empty() || statement.chars().count() > 5000 {
        return Err(Error::bad_input(
            "statement",
            "must be 1 to 5000 characters",
        ));
    }
    let country = normalize_country("country", &n.country)?;
    let region = n
        .region
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if region.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(Error::bad_input("region", "must be at most 200 characters"));
    }
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let c = category(conn, n.category_id).await?;
        let a: Award = awards::table
            .find(c.award_id)
            .select(Award::as_select())
            .first(conn)
            .await?;
        if award_phase(&a, now) != Phase::Nomination {
            return Err(phase_closed("nominations are not open"));
        }
        if !a.countries.iter().flatten().any(|x| *x == country) {
            return Err(Error::bad_input(
                "country",
                "is not among the award's countries",
            ));
        }
        // Looked up first so the answer can name it; the unique index still decides a race.
        let existing: Option<Nomination> = nominations::table
            .filter(nominations::category_id.eq(c.id))
            .filter(nominations::nominee_identity.eq(nominee_identity_of(
                n.nominee_kind.as_str(),
                n.project_id,
                n.organization_id,
                &country,
                &name,
            )))
            .filter(nominations::status.eq_any([PENDING, APPROVED]))
            .select(Nomination::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(e) = existing {
            // Named only to whoever may see it: a pending nomination is its submitter's and
            // the moderators' business.
            let visible = e.status == APPROVED || e.submitted_by == Some(submitter_id) || is_admin;
            return Err(Error::DuplicateNomination {
                existing: visible.then_some((e.id, e.nominee_name)),
            });
        }
        let inserted = diesel::insert_into(nominations::table)
            .values((
                nominations::category_id.eq(c.id),
                nominations::nominee_name.eq(&name),
                nominations::nominee_key.eq(&key),
                nominations::nominee_kind.eq(n.nominee_kind.as_str()),
                nominations::project_id.eq(n.project_id),
                nominations::organization_id.eq(n.organization_id),
                nominations::statement.eq(&statement),
                nominations::country.eq(&country),
                nominations::region.eq(&region),
                nominations::submitted_by.eq(submitter_id),
            ))
            .returning(Nomination::as_returning())
            .get_result(conn)
            .await;
        let nom = match inserted {
            Ok(nom) => nom,
            Err(e) if is_unique_violation(&e, "nominations_unique_identity") => {
                return Err(Error::DuplicateNomination { existing: None });
            }
            Err(e) if is_fk_violation(&e) => {
                let field = if n.project_id.is_some() {
                    "projectId"
                } else {
                    "organizationId"
                };
                return Err(Error::bad_input(field, "does not exist"));
            }
            Err(e) => return Err(e.into()),
        };
        let outbox_id = email_submitter(
            conn,
            submitter_id,
            Email::NominationReceipt {
                nomination_id: nom.id,
            },
            format!("nomination-receipt:{}", nom.id),
        )
        .await?;
        Ok((nom, outbox_id))
    })
    .await
}

async fn email_submitter(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    email: Email,
    dedupe_key: String,
) -> Result<Option<i64>> {
    let Some((address, locale)) = users::table
        .find(user_id)
        .select((users::email, users::locale))
        .first::<(String, String)>(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    outbox::enqueue(
        conn,
        NewEmail {
            email,
            recipient: address,
            locale: Locale::parse(&locale).unwrap_or_default(),
            dedupe_key,
        },
    )
    .await
}

/// Locks the award (shared: date changes wait) and then the nomination, the same order as every
/// other writer, so the phase read here holds until commit.
async fn lock_nomination(conn: &mut AsyncPgConnection, id: i64) -> Result<(Nomination, Award)> {
    let award_id: i64 = nominations::table
        .inner_join(award_categories::table)
        .filter(nominations::id.eq(id))
        .select(award_categories::award_id)
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("nomination"))?;
    let a: Award = awards::table
        .find(award_id)
        .for_share()
        .select(Award::as_select())
        .first(conn)
        .await?;
    let n: Nomination = nominations::table
        .find(id)
        .for_update()
        .select(Nomination::as_select())
        .first(conn)
        .await?;
    Ok((n, a))
}

pub async fn withdraw_nomination(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Nomination> {
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let (n, a) = lock_nomination(conn, id).await?;
        if n.submitted_by != Some(user_id) {
            return Err(Error::forbidden(
                "only the submitter may withdraw a nomination",
            ));
        }
        if frozen(&a, now) {
            return Err(phase_closed(
                "nominations can't be withdrawn once voting has opened",
            ));
        }
        if n.status == WITHDRAWN {
            return Ok(n);
        }
        if n.status == REJECTED {
            return Err(Error::Conflict(
                "a rejected nomination can't be withdrawn".into(),
            ));
        }
        Ok(diesel::update(nominations::table.find(id))
            .set(nominations::status.eq(WITHDRAWN))
            .returning(Nomination::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Approves or rejects; returns the nomination and the decision email's outbox id.
pub async fn moderate_nomination(
    conn: &mut AsyncPgConnection,
    moderator_id: i64,
    id: i64,
    approve: bool,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(Nomination, Option<i64>)> {
    let note = note.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if note.as_ref().is_some_and(|s| s.chars().count() > 2000) {
        return Err(Error::bad_input("note", "must be at most 2000 characters"));
    }
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let (n, a) = lock_nomination(conn, id).await?;
        if frozen(&a, now) {
            return Err(phase_closed("moderation ends when voting opens"));
        }
        if n.status == WITHDRAWN {
            return Err(Error::Conflict("the nomination was withdrawn".into()));
        }
        let status = if approve { APPROVED } else { REJECTED };
        let updated = diesel::update(nominations::table.find(id))
            .set((
                nominations::status.eq(status),
                nominations::moderation_note.eq(&note),
                nominations::moderated_by.eq(moderator_id),
                nominations::moderated_at.eq(now),
            ))
            .returning(Nomination::as_returning())
            .get_result(conn)
            .await;
        let updated = match updated {
            Ok(u) => u,
            Err(e) if is_unique_violation(&e, "nominations_unique_identity") => {
                return Err(Error::DuplicateNomination { existing: None });
            }
            Err(e) => return Err(e.into()),
        };
        let outbox_id = match (n.status == status, updated.submitted_by) {
            (false, Some(submitter)) => {
                email_submitter(
                    conn,
                    submitter,
                    Email::NominationDecision {
                        nomination_id: id,
                        decision: Some(status.to_owned()),
                    },
                    format!("nomination-decision:{id}:{status}"),
                )
                .await?
            }
            _ => None,
        };
        Ok((updated, outbox_id))
    })
    .await
}

// ───────────── votes ─────────────

#[derive(QueryableByName, Debug, Clone)]
struct CastRow {
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
const CAST: &str = "SELECT * FROM cast_vote($1, $2, $3, $4, $5, $6)";

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
struct RetractRow {
    #[diesel(sql_type = BigInt)]
    nomination_id: i64,
}

const RETRACT: &str = "
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

// ───────────── results ─────────────

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

const ANNOUNCE: &str = "
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn dates() -> Dates {
        let t = |d| Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap();
        Dates {
            nomination_opens_at: t(1),
            nomination_closes_at: t(10),
            voting_opens_at: t(15),
            voting_closes_at: t(20),
        }
    }

    #[test]
    fn phases_change_exactly_at_each_date() {
        let d = dates();
        let s = Duration::seconds(1);
        let cases = [
            (d.nomination_opens_at - s, Phase::Upcoming),
            (d.nomination_opens_at, Phase::Nomination),
            (d.nomination_closes_at - s, Phase::Nomination),
            (d.nomination_closes_at, Phase::Review),
            (d.voting_opens_at - s, Phase::Review),
            (d.voting_opens_at, Phase::Voting),
            (d.voting_closes_at - s, Phase::Voting),
            (d.voting_closes_at, Phase::Closed),
        ];
        for (now, want) in cases {
            assert_eq!(phase(&d, None, now), want, "at {now}");
        }
        let published = d.voting_closes_at + Duration::hours(1);
        assert_eq!(phase(&d, Some(published), published - s), Phase::Closed);
        assert_eq!(phase(&d, Some(published), published), Phase::Results);
    }

    #[test]
    fn review_may_be_empty() {
        let mut d = dates();
        d.voting_opens_at = d.nomination_closes_at;
        assert!(d.validate().is_ok());
        assert_eq!(phase(&d, None, d.nomination_closes_at), Phase::Voting);
    }

    #[test]
    fn dates_out_of_order_name_the_field() {
        let mut d = dates();
        d.nomination_closes_at = d.nomination_opens_at;
        assert!(
            matches!(d.validate(), Err(Error::BadInput { field, .. }) if field == "nominationClosesAt")
        );
        let mut d = dates();
        d.voting_opens_at = d.nomination_closes_at - Duration::seconds(1);
        assert!(
            matches!(d.validate(), Err(Error::BadInput { field, .. }) if field == "votingOpensAt")
        );
        let mut d = dates();
        d.voting_closes_at = d.voting_opens_at;
        assert!(
            matches!(d.validate(), Err(Error::BadInput { field, .. }) if field == "votingClosesAt")
        );
    }

    #[test]
    fn nominee_keys_ignore_case_spacing_and_punctuation() {
        assert_eq!(nominee_key("  Айгерим   БЕКОВА. "), "айгерим бекова");
        assert_eq!(nominee_key("айгерим-бекова"), "айгерим бекова");
        assert_eq!(nominee_key("Алёна"), nominee_key("АЛЕНА"));
        assert_eq!(nominee_key("«Birgemiz» NGO"), "birgemiz ngo");
        assert_ne!(nominee_key("Ivan Petrov"), nominee_key("Ivan Petrova"));
        assert_eq!(nominee_key("..."), "");
    }

    #[test]
    fn ties_share_a_rank() {
        let r = rank(
            vec![("a", 3), ("b", 5), ("c", 3), ("d", 0)],
            |x| x.1,
            |x| x.0,
            11,
        );
        let got: Vec<_> = r.iter().map(|x| (x.rank, x.item.0)).collect();
        assert_eq!(got, vec![(1, "b"), (2, "a"), (2, "c"), (4, "d")]);
        assert!((r[0].share - 5.0 / 11.0).abs() < 1e-9);
        let none = rank(vec![("a", 0), ("b", 0)], |x| x.1, |x| x.0, 0);
        assert!(none.iter().all(|x| x.rank == 1 && x.share == 0.0));
    }
}
