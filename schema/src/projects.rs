//! Volunteer projects: drafted, published and archived by their organization's managers.
//! Everyone sees PUBLISHED ones; drafts and archived ones only the managers and admins.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::LocalizedText;
use crate::models::Project;
use crate::models::text_enum;
use crate::organizations::{self, Patch, insert_with_slug};
use crate::page::{self, Order, Page, PageArgs};
use crate::places;
use crate::sql::{Bind, Sql};
use crate::tables::projects;
use crate::validate;

text_enum! {
    /// `projects.direction`: what kind of volunteering a project is.
    pub enum Direction {
        Social => "SOCIAL",
        Events => "EVENTS",
        Animals => "ANIMALS",
        Ethno => "ETHNO",
        Emergency => "EMERGENCY",
        Medical => "MEDICAL",
        Culture => "CULTURE",
        Media => "MEDIA",
        Online => "ONLINE",
        Environment => "ENVIRONMENT",
        Education => "EDUCATION",
        Sports => "SPORTS",
        Silver => "SILVER",
    }
}

text_enum! {
    /// `projects.status`.
    pub enum ProjectStatus {
        Draft => "DRAFT",
        Published => "PUBLISHED",
        Archived => "ARCHIVED",
    }
}

pub const DRAFT: &str = ProjectStatus::Draft.as_str();
pub const PUBLISHED: &str = ProjectStatus::Published.as_str();
pub const ARCHIVED: &str = ProjectStatus::Archived.as_str();

pub const ORDER_NEWEST: Order = Order {
    name: "NEWEST",
    expr: "t.created_at",
    cast: "timestamptz",
    desc: true,
    id_desc: true,
    nullable: false,
};
pub const ORDER_STARTS_SOON: Order = Order {
    name: "STARTS_SOON",
    expr: "t.starts_at",
    cast: "timestamptz",
    desc: false,
    id_desc: false,
    nullable: true,
};
pub const ORDER_MOST_VOLUNTEERS: Order = Order {
    name: "MOST_VOLUNTEERS",
    expr: "t.volunteer_count",
    cast: "int4",
    desc: true,
    id_desc: true,
    nullable: false,
};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProjectFilter {
    pub direction: Option<String>,
    pub place: places::PlaceFilter,
    pub organization_id: Option<i64>,
    pub status: String,
    pub starts_after: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
}

impl Default for ProjectFilter {
    fn default() -> Self {
        ProjectFilter {
            direction: None,
            place: places::PlaceFilter::default(),
            organization_id: None,
            status: PUBLISHED.into(),
            starts_after: None,
            starts_before: None,
        }
    }
}

impl ProjectFilter {
    fn push(&self, sql: &mut Sql) {
        sql.push(" AND t.status = ")
            .bind(Bind::Text(self.status.clone()));
        if let Some(d) = &self.direction {
            sql.push(" AND t.direction = ").bind(Bind::Text(d.clone()));
        }
        self.place.push(sql);
        if let Some(o) = self.organization_id {
            sql.push(" AND t.organization_id = ").bind(Bind::I64(o));
        }
        if let Some(a) = self.starts_after {
            sql.push(" AND t.starts_at >= ").bind(Bind::Time(a));
        }
        if let Some(b) = self.starts_before {
            sql.push(" AND t.starts_at < ").bind(Bind::Time(b));
        }
    }
}

/// The catalogue's total from the trigger-kept counters where they cover the filter: per facet
/// (status, direction, country; at most one row per combination in use) or an
/// organization's published projects. Start dates are counted live.
fn counter(filter: &ProjectFilter) -> Option<Sql> {
    if filter.starts_after.is_some() || filter.starts_before.is_some() {
        return None;
    }
    // The facets predate place codes: a filter by a place (a name matched through the places
    // list, or a code) is counted live over its index (docs/scale.md).
    if filter.place.names_a_place() {
        return None;
    }
    if let Some(org) = filter.organization_id {
        let unfiltered = ProjectFilter {
            organization_id: Some(org),
            ..ProjectFilter::default()
        };
        if *filter != unfiltered {
            return None;
        }
        let mut sql =
            Sql::new("SELECT published_project_count::int8 AS n FROM organizations WHERE id = ");
        sql.bind(Bind::I64(org));
        return Some(sql);
    }
    // The facet table has the columns the filter names, region already lowered.
    let mut sql = Sql::new(
        "SELECT coalesce(sum(t.projects), 0)::int8 AS n FROM project_facet_counts t WHERE true",
    );
    filter.push(&mut sql);
    Some(sql)
}

pub async fn list(
    conn: &AsyncPgConnection,
    filter: &ProjectFilter,
    order: &Order,
    args: &PageArgs,
) -> Result<Page<Project>> {
    // "Starts soon" lists what is still ahead: a project that has started (or has no start
    // date) is not starting soon.
    let upcoming = (order.name == ORDER_STARTS_SOON.name).then(Utc::now);
    let counter = if args.with_total && upcoming.is_none() {
        counter(filter)
    } else {
        None
    };
    page::list_counted(
        conn,
        "projects t",
        &|s| {
            filter.push(s);
            if let Some(now) = upcoming {
                s.push(" AND t.starts_at > ").bind(Bind::Time(now));
            }
        },
        order,
        args,
        counter,
    )
    .await
}

/// The same page of projects for each organization.
pub async fn of_organizations(
    conn: &AsyncPgConnection,
    org_ids: &[i64],
    filter: &ProjectFilter,
    args: &PageArgs,
) -> Result<HashMap<i64, Page<Project>>> {
    // An organization's published projects are counted by a trigger.
    let counter = (*filter == ProjectFilter::default()).then_some(page::ParentCounter {
        head: "SELECT id AS parent_id, published_project_count::int8 AS n FROM organizations \
               WHERE id = ANY(",
        filter: &|_| {},
    });
    page::list_per_parent_counted(
        conn,
        "projects t",
        "t.organization_id",
        org_ids,
        &|s| filter.push(s),
        &ORDER_NEWEST,
        args,
        counter,
    )
    .await
}

pub async fn by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Project>> {
    Ok(projects::table
        .filter(projects::id.eq_any(ids))
        .select(Project::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn by_slug(conn: &AsyncPgConnection, slug: &str) -> Result<Option<Project>> {
    Ok(projects::table
        .filter(projects::slug.eq(slug.trim().to_ascii_lowercase()))
        .select(Project::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

async fn find(conn: &mut AsyncPgConnection, id: i64) -> Result<Project> {
    projects::table
        .find(id)
        .select(Project::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("project"))
}

/// The project, if the viewer manages its organization (or is an admin).
pub async fn require_manager(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
) -> Result<Project> {
    let p = find(conn, id).await?;
    organizations::require_manager(conn, viewer, p.organization_id).await?;
    Ok(p)
}

pub fn check_direction(d: &str) -> Result<String> {
    if Direction::parse(d).is_some() {
        Ok(d.to_owned())
    } else {
        Err(Error::bad_input("direction", "is not a direction"))
    }
}

fn check_dates(starts: Option<DateTime<Utc>>, ends: Option<DateTime<Utc>>) -> Result<()> {
    if let (Some(s), Some(e)) = (starts, ends)
        && e < s
    {
        return Err(Error::bad_input("endsAt", "must not be before startsAt"));
    }
    Ok(())
}

fn check_needed(n: Option<i32>) -> Result<Option<i32>> {
    match n {
        Some(n) if !(1..=100_000).contains(&n) => Err(Error::bad_input(
            "volunteersNeeded",
            "must be between 1 and 100000",
        )),
        n => Ok(n),
    }
}

#[derive(Clone, Debug, Default)]
pub struct NewProject {
    pub organization_id: i64,
    pub title: LocalizedText,
    pub summary: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub direction: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub region_code: Option<String>,
    pub city_code: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub volunteers_needed: Option<i32>,
    pub slug: Option<String>,
}

/// A new DRAFT; the country defaults to the organization's.
pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    input: NewProject,
) -> Result<Project> {
    let title = input.title.normalized("title", validate::NAME_MAX, true)?;
    let summary =
        input
            .summary
            .unwrap_or_default()
            .normalized("summary", validate::SUMMARY_MAX, false)?;
    let description = input.description.unwrap_or_default().normalized(
        "description",
        validate::DESCRIPTION_MAX,
        false,
    )?;
    let direction = check_direction(&input.direction)?;
    let country = input
        .country
        .map(|c| validate::country("country", &c))
        .transpose()?;
    check_dates(input.starts_at, input.ends_at)?;
    let needed = check_needed(input.volunteers_needed)?;
    let requested = input.slug.map(|s| validate::slug("slug", &s)).transpose()?;
    let org = organizations::require_manager(conn, viewer, input.organization_id).await?;
    let country = country.unwrap_or(org.country);
    let (region, region_code, city, city_code) = places::resolve_both(
        conn,
        &country,
        (input.region, input.region_code),
        (input.city, input.city_code),
    )
    .await?;
    let base = validate::slugify(&title);
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let id = insert_with_slug!(
            conn,
            projects::table,
            projects::id,
            projects::slug,
            requested,
            base,
            |slug| (
                projects::slug.eq(slug),
                projects::organization_id.eq(org.id),
                projects::title.eq(&title),
                projects::summary.eq(&summary),
                projects::description.eq(&description),
                projects::direction.eq(&direction),
                projects::country.eq(&country),
                projects::region.eq(&region),
                projects::city.eq(&city),
                projects::region_code.eq(&region_code),
                projects::city_code.eq(&city_code),
                projects::starts_at.eq(input.starts_at),
                projects::ends_at.eq(input.ends_at),
                projects::volunteers_needed.eq(needed),
            )
        )
        .ok_or_else(|| Error::bad_input("slug", "is taken"))?;
        find(conn, id).await
    })
    .await
}

#[derive(Clone, Debug, Default)]
pub struct ProjectPatch {
    pub title: Option<LocalizedText>,
    pub summary: Patch<LocalizedText>,
    pub description: Patch<LocalizedText>,
    pub direction: Option<String>,
    pub region: Patch<String>,
    pub city: Patch<String>,
    pub region_code: Patch<String>,
    pub city_code: Patch<String>,
    pub starts_at: Patch<DateTime<Utc>>,
    pub ends_at: Patch<DateTime<Utc>>,
    pub volunteers_needed: Patch<i32>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = projects)]
struct ProjectChanges {
    title: Option<LocalizedText>,
    summary: Option<LocalizedText>,
    description: Option<LocalizedText>,
    direction: Option<String>,
    region: Option<Option<String>>,
    city: Option<Option<String>>,
    region_code: Option<Option<String>>,
    city_code: Option<Option<String>>,
    starts_at: Option<Option<DateTime<Utc>>>,
    ends_at: Option<Option<DateTime<Utc>>>,
    volunteers_needed: Option<Option<i32>>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
    patch: ProjectPatch,
) -> Result<Project> {
    let text = |t: Patch<LocalizedText>, field: &str, max: usize| {
        t.map(|t| t.unwrap_or_default().normalized(field, max, false))
            .transpose()
    };
    let mut changes = ProjectChanges {
        title: patch
            .title
            .map(|t| t.normalized("title", validate::NAME_MAX, true))
            .transpose()?,
        summary: text(patch.summary, "summary", validate::SUMMARY_MAX)?,
        description: text(patch.description, "description", validate::DESCRIPTION_MAX)?,
        direction: patch.direction.map(|d| check_direction(&d)).transpose()?,
        starts_at: patch.starts_at,
        ends_at: patch.ends_at,
        volunteers_needed: patch.volunteers_needed.map(check_needed).transpose()?,
        ..Default::default()
    };
    let current = require_manager(conn, viewer, id).await?;
    if let Some((text, code)) = places::resolve_patch(
        conn,
        &current.country,
        places::Kind::Region,
        patch.region,
        patch.region_code,
    )
    .await?
    {
        (changes.region, changes.region_code) = (Some(text), Some(code));
    }
    if let Some((text, code)) = places::resolve_patch(
        conn,
        &current.country,
        places::Kind::City,
        patch.city,
        patch.city_code,
    )
    .await?
    {
        (changes.city, changes.city_code) = (Some(text), Some(code));
    }
    check_dates(
        changes.starts_at.unwrap_or(current.starts_at),
        changes.ends_at.unwrap_or(current.ends_at),
    )?;
    let empty = changes.title.is_none()
        && changes.summary.is_none()
        && changes.description.is_none()
        && changes.direction.is_none()
        && changes.region.is_none()
        && changes.city.is_none()
        && changes.starts_at.is_none()
        && changes.ends_at.is_none()
        && changes.volunteers_needed.is_none();
    if empty {
        return Ok(current);
    }
    Ok(diesel::update(projects::table.find(id))
        .set(&changes)
        .returning(Project::as_returning())
        .get_result(conn)
        .await?)
}

/// DRAFT or ARCHIVED → PUBLISHED; publishing a published project changes nothing.
pub async fn publish(conn: &mut AsyncPgConnection, viewer: &Viewer, id: i64) -> Result<Project> {
    let p = require_manager(conn, viewer, id).await?;
    if p.status == PUBLISHED {
        return Ok(p);
    }
    Ok(diesel::update(projects::table.find(id))
        .set((
            projects::status.eq(PUBLISHED),
            projects::published_at.eq(p.published_at.unwrap_or_else(Utc::now)),
        ))
        .returning(Project::as_returning())
        .get_result(conn)
        .await?)
}

/// Archived projects take no applications and leave public lists; a DRAFT can't be archived
/// (there is nothing public to retire).
pub async fn archive(conn: &mut AsyncPgConnection, viewer: &Viewer, id: i64) -> Result<Project> {
    let p = require_manager(conn, viewer, id).await?;
    match p.status.as_str() {
        ARCHIVED => Ok(p),
        DRAFT => Err(Error::Conflict(
            "a draft can't be archived; publish it first".into(),
        )),
        _ => Ok(diesel::update(projects::table.find(id))
            .set(projects::status.eq(ARCHIVED))
            .returning(Project::as_returning())
            .get_result(conn)
            .await?),
    }
}
