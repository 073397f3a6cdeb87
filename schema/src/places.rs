//! Places with stable codes: Kazakhstan's regions, cities of republican significance and
//! regional centres, and Russia's federal subjects (the `places` table, shipped by a migration;
//! see docs/language-and-links.md). A row names its region and city by code when the place is
//! listed, and keeps free text otherwise; either way `region` and `city` read in the request's
//! language when a code is set.

use std::collections::HashMap;
use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};
use crate::i18n::{Locale, LocalizedText};
use crate::organizations::Patch;
use crate::tables::places;
use crate::validate;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = places, check_for_backend(diesel::pg::Pg))]
pub struct Place {
    pub code: String,
    pub country: String,
    pub region_code: Option<String>,
    pub is_region: bool,
    pub is_city: bool,
    pub name: LocalizedText,
}

struct Places {
    list: Vec<Place>,
    by_code: HashMap<String, usize>,
}

// The list changes only with a migration, and every process runs the migrations before it
// serves: read once, the names cost resolvers nothing and no request waits on them.
static PLACES: OnceLock<Places> = OnceLock::new();

/// Reads the list once per process (the api calls it at start, after the migrations).
pub async fn load(conn: &mut AsyncPgConnection) -> Result<()> {
    if PLACES.get().is_some() {
        return Ok(());
    }
    let list: Vec<Place> = places::table
        .order(places::code)
        .select(Place::as_select())
        .load(conn)
        .await?;
    let by_code = list
        .iter()
        .enumerate()
        .map(|(i, p)| (p.code.clone(), i))
        .collect();
    PLACES.set(Places { list, by_code }).ok();
    Ok(())
}

/// Every listed place (empty before `load`).
pub fn all() -> &'static [Place] {
    PLACES.get().map(|p| p.list.as_slice()).unwrap_or(&[])
}

pub fn get(code: &str) -> Option<&'static Place> {
    let places = PLACES.get()?;
    places.by_code.get(code).map(|&i| &places.list[i])
}

/// The place's name in `locale`, for a row's `region` or `city`.
pub fn name(code: Option<&str>, locale: Locale) -> Option<&'static str> {
    get(code?)?.name.resolve(locale)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Region,
    City,
}

impl Kind {
    fn fits(self, p: &Place) -> bool {
        match self {
            Kind::Region => p.is_region,
            Kind::City => p.is_city,
        }
    }
}

/// A code as clients write it: trimmed, upper case.
pub fn normalize_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

#[derive(QueryableByName)]
struct Matched {
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
}

/// The listed place a text names in `country`, when exactly one does (`place_match` in SQL,
/// which the migration also used for the rows written before the list).
async fn matching(
    conn: &mut AsyncPgConnection,
    country: &str,
    kind: Kind,
    text: &str,
) -> Result<Option<String>> {
    Ok(diesel::sql_query("SELECT place_match($1, $2, $3) AS code")
        .bind::<Text, _>(country)
        .bind::<Text, _>(text)
        .bind::<Bool, _>(kind == Kind::Region)
        .get_result::<Matched>(conn)
        .await?
        .code)
}

/// What a write stores for a region or a city: (free text, code). A code is checked (it is
/// listed, of that kind, in the row's country); a text that names one listed place is stored as
/// that place's code, so it reads in every language; any other text is kept as written.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    country: &str,
    kind: Kind,
    text: Option<String>,
    code: Option<String>,
) -> Result<(Option<String>, Option<String>)> {
    let (field, code_field) = match kind {
        Kind::Region => ("region", "regionCode"),
        Kind::City => ("city", "cityCode"),
    };
    if let Some(code) = code.map(|c| normalize_code(&c)).filter(|c| !c.is_empty()) {
        let what = match kind {
            Kind::Region => "is not a listed region",
            Kind::City => "is not a listed city",
        };
        let place = get(&code)
            .filter(|p| kind.fits(p))
            .ok_or_else(|| Error::bad_input(code_field, what))?;
        if place.country != country {
            return Err(Error::bad_input(code_field, "is in another country"));
        }
        return Ok((None, Some(code)));
    }
    let Some(text) = validate::opt_text(field, text, validate::SHORT_TEXT_MAX)? else {
        return Ok((None, None));
    };
    match matching(conn, country, kind, &text).await? {
        Some(code) => Ok((None, Some(code))),
        None => Ok((Some(text), None)),
    }
}

/// `resolve` for an update: when neither the text nor the code is in the patch, both stay.
pub async fn resolve_patch(
    conn: &mut AsyncPgConnection,
    country: &str,
    kind: Kind,
    text: Patch<String>,
    code: Patch<String>,
) -> Result<Option<(Option<String>, Option<String>)>> {
    if text.is_none() && code.is_none() {
        return Ok(None);
    }
    Ok(Some(
        resolve(conn, country, kind, text.flatten(), code.flatten()).await?,
    ))
}

/// The region a listed city implies: its own code for a city that is a region, else its
/// region's.
pub fn region_of_city(city_code: Option<&str>) -> Option<String> {
    let city = get(city_code?)?;
    if city.is_region {
        Some(city.code.clone())
    } else {
        city.region_code.clone()
    }
}

/// A list's filter by place, on the columns organizations and projects name alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PlaceFilter {
    pub country: Option<String>,
    /// A listed region's name in any language, or a free text.
    pub region: Option<String>,
    pub region_code: Option<String>,
    /// A listed city's name in any language, or a free text.
    pub city: Option<String>,
    pub city_code: Option<String>,
}

impl PlaceFilter {
    /// Whether it names a region or a city (by name or code), not only a country.
    pub fn names_a_place(&self) -> bool {
        self.region.is_some()
            || self.region_code.is_some()
            || self.city.is_some()
            || self.city_code.is_some()
    }

    pub fn push(&self, sql: &mut crate::sql::Sql) {
        use crate::sql::Bind;
        if let Some(c) = &self.country {
            sql.push(" AND t.country = ")
                .bind(Bind::Text(c.trim().to_ascii_uppercase()));
        }
        if let Some(r) = &self.region {
            push_text_filter(sql, Kind::Region, self.country.as_deref(), r);
        }
        if let Some(c) = &self.region_code {
            sql.push(" AND t.region_code = ")
                .bind(Bind::Text(normalize_code(c)));
        }
        if let Some(c) = &self.city {
            push_text_filter(sql, Kind::City, self.country.as_deref(), c);
        }
        if let Some(c) = &self.city_code {
            sql.push(" AND t.city_code = ")
                .bind(Bind::Text(normalize_code(c)));
        }
    }
}

/// The SQL condition of a `region` or `city` filter by text: the listed place it names (in the
/// filter's country when there is one), or rows whose free text is that text.
fn push_text_filter(sql: &mut crate::sql::Sql, kind: Kind, country: Option<&str>, text: &str) {
    use crate::sql::Bind;
    let (text_col, code_col, region) = match kind {
        Kind::Region => ("t.region", "t.region_code", "true"),
        Kind::City => ("t.city", "t.city_code", "false"),
    };
    sql.push(&format!(" AND ({code_col} = place_match("));
    match country {
        Some(c) => sql.bind(Bind::Text(c.trim().to_ascii_uppercase())),
        None => sql.push("NULL"),
    };
    sql.push("::text, ")
        .bind(Bind::Text(text.trim().to_owned()))
        .push(&format!(", {region}) OR lower({text_col}) = lower("))
        .bind(Bind::Text(text.trim().to_owned()))
        .push("))");
}

/// `resolve` for a new row's region and city, each as (text, code); a listed city with no
/// region given implies its region.
pub async fn resolve_both(
    conn: &mut AsyncPgConnection,
    country: &str,
    region: (Option<String>, Option<String>),
    city: (Option<String>, Option<String>),
) -> Result<(
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
)> {
    let (city, city_code) = resolve(conn, country, Kind::City, city.0, city.1).await?;
    let (region, mut region_code) =
        resolve(conn, country, Kind::Region, region.0, region.1).await?;
    if region.is_none() && region_code.is_none() {
        region_code = region_of_city(city_code.as_deref());
    }
    Ok((region, region_code, city, city_code))
}
