//! Nominations.

use super::*;

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
pub(super) const AWARDS_BY_YEAR: Order = Order {
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

pub(super) async fn email_submitter(
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
pub(super) async fn lock_nomination(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<(Nomination, Award)> {
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
