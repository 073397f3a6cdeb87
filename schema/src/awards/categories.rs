//! Awards and categories.

use super::*;

pub struct NewAward {
    pub slug: Option<String>,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub year: i32,
    pub countries: Vec<String>,
    pub dates: Dates,
    pub live_counts: bool,
}

pub(super) fn countries(list: &[String]) -> Result<Vec<String>> {
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
pub(super) async fn lock_award(conn: &mut AsyncPgConnection, id: i64) -> Result<Award> {
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
