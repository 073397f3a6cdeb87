//! Organizations, their managers (OWNER/MANAGER) and network membership.
//!
//! Who may do what: any verified user creates an organization and becomes its OWNER; its
//! managers (either role) and admins update it; OWNERs and admins add and remove managers;
//! the managers of a NETWORK and admins add and remove its members; admins verify.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::access;
use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::{Locale, LocalizedText};
use crate::models::text_enum;
use crate::models::{Organization, OrganizationManager, User};
use crate::page::{self, Order, Page, PageArgs};
use crate::places;
use crate::sql::{Bind, Sql};
use crate::tables::{network_memberships, organization_managers, organizations, users};
use crate::validate;

text_enum! {
    /// `organizations.kind`.
    pub enum OrganizationKind {
        Ngo => "NGO",
        State => "STATE",
        InitiativeGroup => "INITIATIVE_GROUP",
        Club => "CLUB",
        Network => "NETWORK",
        International => "INTERNATIONAL",
        Company => "COMPANY",
    }
}

text_enum! {
    /// `organization_managers.role`.
    pub enum OrganizationRole {
        Owner => "OWNER",
        Manager => "MANAGER",
    }
}

pub const OWNER: &str = OrganizationRole::Owner.as_str();
pub const MANAGER: &str = OrganizationRole::Manager.as_str();

/// By name in the request's language, with that language's ICU collation; each is served by
/// its own `organizations_name_*_idx`. Cursors name the language, so a cursor of one language's
/// order is refused by another's.
pub const ORDER_NAME_KK: Order = Order {
    name: "NAME_KK",
    expr: "coalesce(t.name->>'kk', t.name->>'ru', t.name->>'en') COLLATE \"kk-KZ\"",
    cast: "text",
    desc: false,
    id_desc: false,
    nullable: false,
};
pub const ORDER_NAME_RU: Order = Order {
    name: "NAME_RU",
    expr: "coalesce(t.name->>'ru', t.name->>'kk', t.name->>'en') COLLATE \"ru-RU\"",
    cast: "text",
    desc: false,
    id_desc: false,
    nullable: false,
};
pub const ORDER_NAME_EN: Order = Order {
    name: "NAME_EN",
    expr: "coalesce(t.name->>'en', t.name->>'kk', t.name->>'ru') COLLATE \"en-US\"",
    cast: "text",
    desc: false,
    id_desc: false,
    nullable: false,
};

pub fn order_name(locale: Locale) -> &'static Order {
    match locale {
        Locale::Kk => &ORDER_NAME_KK,
        Locale::Ru => &ORDER_NAME_RU,
        Locale::En => &ORDER_NAME_EN,
    }
}
pub const ORDER_NEWEST: Order = Order {
    name: "NEWEST",
    expr: "t.created_at",
    cast: "timestamptz",
    desc: true,
    id_desc: true,
    nullable: false,
};
pub const ORDER_MOST_PROJECTS: Order = Order {
    name: "MOST_PROJECTS",
    expr: "t.published_project_count",
    cast: "int4",
    desc: true,
    id_desc: true,
    nullable: false,
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrgFilter {
    pub kind: Option<String>,
    pub place: places::PlaceFilter,
    pub verified: Option<bool>,
    pub member_of: Option<i64>,
}

impl OrgFilter {
    fn push(&self, sql: &mut Sql) {
        if let Some(k) = &self.kind {
            sql.push(" AND t.kind = ").bind(Bind::Text(k.clone()));
        }
        self.place.push(sql);
        if let Some(v) = self.verified {
            sql.push(" AND t.verified = ").bind(Bind::Bool(v));
        }
        if let Some(n) = self.member_of {
            sql.push(" AND EXISTS (SELECT 1 FROM network_memberships nm WHERE nm.member_id = t.id AND nm.network_id = ")
                .bind(Bind::I64(n))
                .push(")");
        }
    }
}

pub async fn list(
    conn: &AsyncPgConnection,
    filter: &OrgFilter,
    order: &Order,
    args: &PageArgs,
) -> Result<Page<Organization>> {
    // Every organization: the trigger-kept platform counter.
    let counter = (*filter == OrgFilter::default() && args.with_total).then(|| {
        Sql::new("SELECT coalesce(sum(organizations), 0)::int8 AS n FROM platform_counts")
    });
    page::list_counted(
        conn,
        "organizations t",
        &|s| filter.push(s),
        order,
        args,
        counter,
    )
    .await
}

/// The member organizations of each network, by name in `locale`.
pub async fn members_of_networks(
    conn: &AsyncPgConnection,
    network_ids: &[i64],
    locale: Locale,
    args: &PageArgs,
) -> Result<HashMap<i64, Page<Organization>>> {
    page::list_per_parent(
        conn,
        "organizations t JOIN network_memberships nm ON nm.member_id = t.id",
        "nm.network_id",
        network_ids,
        &|_| {},
        order_name(locale),
        args,
    )
    .await
}

pub async fn by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Organization>> {
    Ok(organizations::table
        .filter(organizations::id.eq_any(ids))
        .select(Organization::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn by_slug(conn: &AsyncPgConnection, slug: &str) -> Result<Option<Organization>> {
    Ok(organizations::table
        .filter(organizations::slug.eq(slug.trim().to_ascii_lowercase()))
        .select(Organization::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

/// The networks each organization belongs to.
pub async fn networks_of(
    conn: &AsyncPgConnection,
    member_ids: &[i64],
) -> Result<HashMap<i64, Vec<Organization>>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM network_memberships nm \
         JOIN organizations t ON t.id = nm.network_id WHERE nm.member_id = ANY(",
        page::listed_columns::<Organization>("NULL::text", "nm.member_id", page::Reads::ALL)
    ));
    q.bind(Bind::I64s(member_ids.to_vec()))
        .push(") ORDER BY nm.member_id, t.id");
    let rows = q.load::<page::Listed<Organization>>(&mut &*conn).await?;
    let mut out: HashMap<i64, Vec<Organization>> = HashMap::new();
    for r in rows {
        if let Some(p) = r.parent_id {
            out.entry(p).or_default().push(r.row);
        }
    }
    Ok(out)
}

/// Managers of each organization, owners first.
pub async fn managers_of(
    conn: &AsyncPgConnection,
    org_ids: &[i64],
) -> Result<HashMap<i64, Vec<OrganizationManager>>> {
    let rows: Vec<OrganizationManager> = organization_managers::table
        .filter(organization_managers::organization_id.eq_any(org_ids))
        .order((
            organization_managers::organization_id,
            organization_managers::role.desc(),
            organization_managers::created_at,
        ))
        .select(OrganizationManager::as_select())
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<OrganizationManager>> = HashMap::new();
    for r in rows {
        out.entry(r.organization_id).or_default().push(r);
    }
    Ok(out)
}

/// The organizations each user manages.
pub async fn memberships_of_users(
    conn: &AsyncPgConnection,
    user_ids: &[i64],
) -> Result<HashMap<i64, Vec<OrganizationManager>>> {
    let rows: Vec<OrganizationManager> = organization_managers::table
        .filter(organization_managers::user_id.eq_any(user_ids))
        .order((
            organization_managers::user_id,
            organization_managers::created_at,
        ))
        .select(OrganizationManager::as_select())
        .load(&mut &*conn)
        .await?;
    let mut out: HashMap<i64, Vec<OrganizationManager>> = HashMap::new();
    for r in rows {
        out.entry(r.user_id).or_default().push(r);
    }
    Ok(out)
}

/// The user's role in each of `org_ids` where they have one.
pub async fn roles_of(
    conn: &AsyncPgConnection,
    user_id: i64,
    org_ids: &[i64],
) -> Result<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = organization_managers::table
        .filter(organization_managers::user_id.eq(user_id))
        .filter(organization_managers::organization_id.eq_any(org_ids))
        .select((
            organization_managers::organization_id,
            organization_managers::role,
        ))
        .load(&mut &*conn)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn role(conn: &AsyncPgConnection, org_id: i64, user_id: i64) -> Result<Option<String>> {
    Ok(roles_of(conn, user_id, &[org_id]).await?.remove(&org_id))
}

async fn find(conn: &mut AsyncPgConnection, id: i64) -> Result<Organization> {
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("organization"))
}

/// Managers (any role) and admins; NOT_FOUND for an unknown organization.
pub async fn require_manager(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    org_id: i64,
) -> Result<Organization> {
    let org = find(conn, org_id).await?;
    if access::may_manage(&*conn, Some(viewer), Some(org_id)).await? {
        Ok(org)
    } else {
        Err(Error::forbidden(
            "only the organization's managers may do this",
        ))
    }
}

async fn require_owner(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    org_id: i64,
) -> Result<Organization> {
    let org = find(conn, org_id).await?;
    if access::may_own(&*conn, viewer, org_id).await? {
        Ok(org)
    } else {
        Err(Error::forbidden(
            "only the organization's owners may do this",
        ))
    }
}

pub fn check_kind(kind: &str) -> Result<String> {
    if OrganizationKind::parse(kind).is_some() {
        Ok(kind.to_owned())
    } else {
        Err(Error::bad_input("kind", "is not an organization kind"))
    }
}

#[derive(Clone, Debug, Default)]
pub struct NewOrganization {
    pub name: LocalizedText,
    pub description: Option<LocalizedText>,
    pub kind: String,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub region_code: Option<String>,
    pub city_code: Option<String>,
    pub website: Option<String>,
    pub slug: Option<String>,
}

/// Inserts under `slug`, or under the first free `base`, `base-2`, … when no slug was asked for.
/// Returns None when an explicitly requested slug is taken.
macro_rules! insert_with_slug {
    ($conn:expr, $table:path, $id_col:expr, $slug_col:expr, $requested:expr, $base:expr, |$s:ident| $values:expr) => {{
        let mut found: Option<i64> = None;
        for attempt in 1..=50 {
            let $s: String = match (&$requested, attempt) {
                (Some(r), 1) => r.clone(),
                (Some(_), _) => break,
                (None, 1) => $base.clone(),
                (None, n) => format!("{}-{n}", $base),
            };
            let id: Option<i64> = diesel::insert_into($table)
                .values($values)
                .on_conflict($slug_col)
                .do_nothing()
                .returning($id_col)
                .get_result($conn)
                .await
                .optional()?;
            if id.is_some() {
                found = id;
                break;
            }
        }
        found
    }};
}
pub(crate) use insert_with_slug;

pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    input: NewOrganization,
) -> Result<Organization> {
    if !viewer.email_verified {
        return Err(Error::forbidden(
            "verify your email address before creating an organization",
        ));
    }
    let name = input.name.normalized("name", validate::NAME_MAX, true)?;
    let description = input.description.unwrap_or_default().normalized(
        "description",
        validate::DESCRIPTION_MAX,
        false,
    )?;
    let kind = check_kind(&input.kind)?;
    let country = validate::country("country", &input.country)?;
    let (region, region_code, city, city_code) = places::resolve_both(
        conn,
        &country,
        (input.region, input.region_code),
        (input.city, input.city_code),
    )
    .await?;
    let website = validate::website("website", input.website)?;
    let requested = input.slug.map(|s| validate::slug("slug", &s)).transpose()?;
    let base = validate::slugify(&name);
    let user_id = viewer.user_id;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let id = insert_with_slug!(
            conn,
            organizations::table,
            organizations::id,
            organizations::slug,
            requested,
            base,
            |slug| (
                organizations::slug.eq(slug),
                organizations::name.eq(&name),
                organizations::description.eq(&description),
                organizations::kind.eq(&kind),
                organizations::country.eq(&country),
                organizations::region.eq(&region),
                organizations::city.eq(&city),
                organizations::region_code.eq(&region_code),
                organizations::city_code.eq(&city_code),
                organizations::website.eq(&website),
            )
        )
        .ok_or_else(|| Error::bad_input("slug", "is taken"))?;
        diesel::insert_into(organization_managers::table)
            .values((
                organization_managers::organization_id.eq(id),
                organization_managers::user_id.eq(user_id),
                organization_managers::role.eq(OWNER),
            ))
            .execute(conn)
            .await?;
        find(conn, id).await
    })
    .await
}

/// A field of an update: absent (leave), `Some(None)` (clear) or `Some(Some(v))` (set).
pub type Patch<T> = Option<Option<T>>;

#[derive(Clone, Debug, Default)]
pub struct OrganizationPatch {
    pub name: Option<LocalizedText>,
    pub description: Patch<LocalizedText>,
    pub kind: Option<String>,
    pub region: Patch<String>,
    pub city: Patch<String>,
    pub region_code: Patch<String>,
    pub city_code: Patch<String>,
    pub website: Patch<String>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = organizations)]
struct OrganizationChanges {
    name: Option<LocalizedText>,
    description: Option<LocalizedText>,
    kind: Option<String>,
    region: Option<Option<String>>,
    city: Option<Option<String>>,
    region_code: Option<Option<String>>,
    city_code: Option<Option<String>>,
    website: Option<Option<String>>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
    patch: OrganizationPatch,
) -> Result<Organization> {
    let mut changes = OrganizationChanges {
        name: patch
            .name
            .map(|n| n.normalized("name", validate::NAME_MAX, true))
            .transpose()?,
        description: patch
            .description
            .map(|d| {
                d.unwrap_or_default()
                    .normalized("description", validate::DESCRIPTION_MAX, false)
            })
            .transpose()?,
        kind: patch.kind.map(|k| check_kind(&k)).transpose()?,
        website: patch
            .website
            .map(|w| validate::website("website", w))
            .transpose()?,
        ..Default::default()
    };
    let org = require_manager(conn, viewer, id).await?;
    if let Some((text, code)) = places::resolve_patch(
        conn,
        &org.country,
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
        &org.country,
        places::Kind::City,
        patch.city,
        patch.city_code,
    )
    .await?
    {
        (changes.city, changes.city_code) = (Some(text), Some(code));
    }
    let empty = changes.name.is_none()
        && changes.description.is_none()
        && changes.kind.is_none()
        && changes.region.is_none()
        && changes.city.is_none()
        && changes.website.is_none();
    if empty {
        return Ok(org);
    }
    Ok(diesel::update(organizations::table.find(id))
        .set(&changes)
        .returning(Organization::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn verify(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
) -> Result<Organization> {
    if !viewer.is_admin() {
        return Err(Error::forbidden("only admins verify organizations"));
    }
    diesel::update(organizations::table.find(id))
        .set(organizations::verified.eq(true))
        .returning(Organization::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("organization"))
}

/// Adds (or changes the role of) a manager by email; the person must have an account.
pub async fn add_manager(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    org_id: i64,
    email: &str,
    role: &str,
) -> Result<OrganizationManager> {
    if role != OWNER && role != MANAGER {
        return Err(Error::bad_input("role", "must be OWNER or MANAGER"));
    }
    let email = crate::subscriptions::normalize_email(email)?;
    require_owner(conn, viewer, org_id).await?;
    let user: User = users::table
        .filter(users::email.eq(&email))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::bad_input("email", "no account has this email address"))?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let m = diesel::insert_into(organization_managers::table)
            .values((
                organization_managers::organization_id.eq(org_id),
                organization_managers::user_id.eq(user.id),
                organization_managers::role.eq(role),
            ))
            .on_conflict((
                organization_managers::organization_id,
                organization_managers::user_id,
            ))
            .do_update()
            .set(organization_managers::role.eq(role))
            .returning(OrganizationManager::as_returning())
            .get_result(conn)
            .await?;
        ensure_an_owner(conn, org_id).await?;
        Ok(m)
    })
    .await
}

/// An organization always keeps an owner: demoting or removing the last one is refused.
async fn ensure_an_owner(conn: &mut AsyncPgConnection, org_id: i64) -> Result<()> {
    let owners: i64 = organization_managers::table
        .filter(organization_managers::organization_id.eq(org_id))
        .filter(organization_managers::role.eq(OWNER))
        .count()
        .get_result(conn)
        .await?;
    if owners == 0 {
        return Err(Error::Conflict(
            "an organization needs at least one owner".into(),
        ));
    }
    Ok(())
}

pub async fn remove_manager(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    org_id: i64,
    user_id: i64,
) -> Result<Organization> {
    // Managers may step down themselves; removing others takes an owner.
    if user_id == viewer.user_id {
        require_manager(conn, viewer, org_id).await?;
    } else {
        require_owner(conn, viewer, org_id).await?;
    }
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let n = diesel::delete(
            organization_managers::table
                .filter(organization_managers::organization_id.eq(org_id))
                .filter(organization_managers::user_id.eq(user_id)),
        )
        .execute(conn)
        .await?;
        if n == 0 {
            return Err(Error::NotFound("manager"));
        }
        ensure_an_owner(conn, org_id).await?;
        find(conn, org_id).await
    })
    .await
}

async fn require_network_manager(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    network_id: i64,
    member_id: i64,
) -> Result<Organization> {
    let network = require_manager(conn, viewer, network_id).await?;
    if network.kind != "NETWORK" {
        return Err(Error::bad_input(
            "networkId",
            "only a NETWORK organization has members",
        ));
    }
    if network_id == member_id {
        return Err(Error::bad_input(
            "memberId",
            "a network can't be its own member",
        ));
    }
    find(conn, member_id).await?;
    Ok(network)
}

pub async fn add_network_member(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    network_id: i64,
    member_id: i64,
) -> Result<Organization> {
    let network = require_network_manager(conn, viewer, network_id, member_id).await?;
    diesel::insert_into(network_memberships::table)
        .values((
            network_memberships::network_id.eq(network_id),
            network_memberships::member_id.eq(member_id),
            network_memberships::created_at.eq(Utc::now()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(network)
}

pub async fn remove_network_member(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    network_id: i64,
    member_id: i64,
) -> Result<Organization> {
    let network = require_network_manager(conn, viewer, network_id, member_id).await?;
    diesel::delete(
        network_memberships::table
            .filter(network_memberships::network_id.eq(network_id))
            .filter(network_memberships::member_id.eq(member_id)),
    )
    .execute(conn)
    .await?;
    Ok(network)
}
