//! Applications of volunteers to projects: one per volunteer and project.
//!
//! SUBMITTED → ACCEPTED/DECLINED by the organization's managers (who may change their mind);
//! the volunteer may withdraw at any time and re-apply later (the same row is reopened). No
//! decision on a withdrawn application; no application to a draft or archived project, nor to
//! one that has ended; no acceptance beyond `volunteers_needed`. Every
//! email is an outbox row in the same transaction; callers push the returned ids after commit.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::Locale;
use crate::models::text_enum;
use crate::models::{Application, Project, User};
use crate::outbox::{self, Email, NewEmail};
use crate::page::{self, Order, Page, PageArgs};
use crate::sql::{Bind, Sql};
use crate::tables::{applications, organization_managers, projects, users};
use crate::{organizations, validate};

text_enum! {
    /// `applications.status`; a decision email names the one it tells (ACCEPTED or DECLINED).
    pub enum ApplicationStatus {
        Submitted => "SUBMITTED",
        Accepted => "ACCEPTED",
        Declined => "DECLINED",
        Withdrawn => "WITHDRAWN",
    }
}

pub const SUBMITTED: &str = ApplicationStatus::Submitted.as_str();
pub const ACCEPTED: &str = ApplicationStatus::Accepted.as_str();
pub const DECLINED: &str = ApplicationStatus::Declined.as_str();
pub const WITHDRAWN: &str = ApplicationStatus::Withdrawn.as_str();

pub const ORDER_NEWEST: Order = Order {
    name: "NEWEST",
    expr: "t.created_at",
    cast: "timestamptz",
    desc: true,
    id_desc: true,
    nullable: false,
};

fn status_filter(status: &Option<String>) -> impl Fn(&mut Sql) + '_ {
    move |s: &mut Sql| {
        if let Some(st) = status {
            s.push(" AND t.status = ").bind(Bind::Text(st.clone()));
        }
    }
}

pub async fn of_projects(
    conn: &AsyncPgConnection,
    project_ids: &[i64],
    status: &Option<String>,
    args: &PageArgs,
) -> Result<HashMap<i64, Page<Application>>> {
    page::list_per_parent(
        conn,
        "applications t",
        "t.project_id",
        project_ids,
        &status_filter(status),
        &ORDER_NEWEST,
        args,
    )
    .await
}

pub async fn of_volunteers(
    conn: &AsyncPgConnection,
    user_ids: &[i64],
    args: &PageArgs,
) -> Result<HashMap<i64, Page<Application>>> {
    page::list_per_parent(
        conn,
        "applications t",
        "t.volunteer_id",
        user_ids,
        &|_| {},
        &ORDER_NEWEST,
        args,
    )
    .await
}

/// The volunteer's application to each of `project_ids`, where there is one.
pub async fn of_volunteer_for(
    conn: &AsyncPgConnection,
    user_id: i64,
    project_ids: &[i64],
) -> Result<Vec<Application>> {
    Ok(applications::table
        .filter(applications::volunteer_id.eq(user_id))
        .filter(applications::project_id.eq_any(project_ids))
        .select(Application::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Application>> {
    Ok(applications::table
        .filter(applications::id.eq_any(ids))
        .select(Application::as_select())
        .load(&mut &*conn)
        .await?)
}

fn locale_of(u: &User) -> Locale {
    Locale::parse(&u.locale).unwrap_or_default()
}

async fn user(conn: &mut AsyncPgConnection, id: i64) -> Result<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("user"))
}

/// Applies (or re-applies after a withdrawal). Returns the application and the outbox ids.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    project_id: i64,
    message: Option<String>,
) -> Result<(Application, Vec<i64>)> {
    let message = validate::opt_text("message", message, validate::MESSAGE_MAX)?;
    let user_id = viewer.user_id;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        // Locked so an archive racing with the application is seen by one or the other.
        let project: Project = projects::table
            .find(project_id)
            .select(Project::as_select())
            .for_share()
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::NotFound("project"))?;
        if project.status != crate::projects::PUBLISHED {
            // A draft is invisible to the public: don't reveal that it exists.
            return Err(if project.status == crate::projects::DRAFT {
                Error::NotFound("project")
            } else {
                Error::Conflict("this project is archived and takes no applications".into())
            });
        }
        if project.ends_at.is_some_and(|end| end <= Utc::now()) {
            return Err(Error::PhaseClosed(
                "this project has ended and takes no applications".into(),
            ));
        }
        let existing: Option<Application> = applications::table
            .filter(applications::project_id.eq(project_id))
            .filter(applications::volunteer_id.eq(user_id))
            .select(Application::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let app: Application = match existing {
            Some(a) if a.status != WITHDRAWN => {
                return Err(Error::Conflict(
                    "you have already applied to this project".into(),
                ));
            }
            Some(a) => {
                diesel::update(applications::table.find(a.id))
                    .set((
                        applications::status.eq(SUBMITTED),
                        applications::message.eq(&message),
                        applications::decided_at.eq(None::<chrono::DateTime<Utc>>),
                    ))
                    .returning(Application::as_returning())
                    .get_result(conn)
                    .await?
            }
            None => {
                diesel::insert_into(applications::table)
                    .values((
                        applications::project_id.eq(project_id),
                        applications::volunteer_id.eq(user_id),
                        applications::message.eq(&message),
                    ))
                    .returning(Application::as_returning())
                    .get_result(conn)
                    .await?
            }
        };
        let volunteer = user(conn, user_id).await?;
        // A re-application is a new email: the key includes when it was (re)submitted.
        let stamp = app.updated_at.timestamp_micros();
        let mut emails = vec![NewEmail {
            email: Email::ApplicationReceipt {
                application_id: app.id,
            },
            recipient: volunteer.email.clone(),
            locale: locale_of(&volunteer),
            dedupe_key: format!("application-receipt:{}:{stamp}", app.id),
        }];
        let managers: Vec<User> = organization_managers::table
            .inner_join(users::table)
            .filter(organization_managers::organization_id.eq(project.organization_id))
            .select(User::as_select())
            .load(conn)
            .await?;
        for m in managers {
            emails.push(NewEmail {
                email: Email::NewApplicationNotice {
                    application_id: app.id,
                },
                recipient: m.email.clone(),
                locale: locale_of(&m),
                dedupe_key: format!("application-notice:{}:{stamp}:{}", app.id, m.id),
            });
        }
        let ids = outbox::enqueue_many(conn, &emails).await?;
        Ok((app, ids))
    })
    .await
}

/// The volunteer withdraws (at any time). Withdrawing an accepted place tells the
/// organization's managers, whose team just got smaller; returns the outbox ids.
pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
) -> Result<(Application, Vec<i64>)> {
    let viewer = viewer.clone();
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let app: Application = applications::table
            .find(id)
            .select(Application::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::NotFound("application"))?;
        if app.volunteer_id != viewer.user_id {
            // The project's managers see the application; to anyone else it doesn't exist.
            return Err(
                match crate::projects::require_manager(conn, &viewer, app.project_id).await {
                    Ok(_) => Error::forbidden("only the volunteer may withdraw an application"),
                    Err(Error::Forbidden(_) | Error::NotFound(_)) => Error::NotFound("application"),
                    Err(e) => e,
                },
            );
        }
        if app.status == WITHDRAWN {
            return Ok((app, Vec::new()));
        }
        let was_accepted = app.status == ACCEPTED;
        let app: Application = diesel::update(applications::table.find(id))
            .set(applications::status.eq(WITHDRAWN))
            .returning(Application::as_returning())
            .get_result(conn)
            .await?;
        if !was_accepted {
            return Ok((app, Vec::new()));
        }
        let organization_id: i64 = projects::table
            .find(app.project_id)
            .select(projects::organization_id)
            .first(conn)
            .await?;
        let managers: Vec<User> = organization_managers::table
            .inner_join(users::table)
            .filter(organization_managers::organization_id.eq(organization_id))
            .select(User::as_select())
            .load(conn)
            .await?;
        // Keyed by the withdrawal's moment: withdrawing again after a new acceptance is news.
        let stamp = app.updated_at.timestamp_micros();
        let emails: Vec<NewEmail> = managers
            .iter()
            .map(|m| NewEmail {
                email: Email::VolunteerWithdrewNotice {
                    application_id: app.id,
                },
                recipient: m.email.clone(),
                locale: locale_of(m),
                dedupe_key: format!("volunteer-withdrew:{}:{stamp}:{}", app.id, m.id),
            })
            .collect();
        let ids = outbox::enqueue_many(conn, &emails).await?;
        Ok((app, ids))
    })
    .await
}

/// Accepts or declines; emails the volunteer when the decision changes.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
    accept: bool,
) -> Result<(Application, Vec<i64>)> {
    let viewer = viewer.clone();
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let app: Application = applications::table
            .find(id)
            .select(Application::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::NotFound("application"))?;
        // Locked: two acceptances racing for the last place take turns on the project row
        // (whose volunteer_count the trigger updates).
        let project: Project = projects::table
            .find(app.project_id)
            .select(Project::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::NotFound("project"))?;
        organizations::require_manager(conn, &viewer, project.organization_id).await?;
        if app.status == WITHDRAWN {
            return Err(Error::Conflict(
                "the volunteer has withdrawn this application".into(),
            ));
        }
        let status = if accept { ACCEPTED } else { DECLINED };
        if app.status == status {
            return Ok((app, Vec::new()));
        }
        if accept
            && let Some(needed) = project.volunteers_needed
            && project.volunteer_count >= needed
        {
            return Err(Error::Conflict(format!(
                "all {needed} places are taken; raise volunteersNeeded to accept more"
            )));
        }
        let app: Application = diesel::update(applications::table.find(id))
            .set((
                applications::status.eq(status),
                applications::decided_at.eq(Some(Utc::now())),
            ))
            .returning(Application::as_returning())
            .get_result(conn)
            .await?;
        let volunteer = user(conn, app.volunteer_id).await?;
        let stamp = app.decided_at.map(|d| d.timestamp_micros()).unwrap_or(0);
        let ids = outbox::enqueue(
            conn,
            NewEmail {
                email: Email::ApplicationDecision {
                    application_id: app.id,
                    decision: Some(status.to_owned()),
                },
                recipient: volunteer.email.clone(),
                locale: locale_of(&volunteer),
                dedupe_key: format!("application-decision:{}:{status}:{stamp}", app.id),
            },
        )
        .await?
        .into_iter()
        .collect();
        Ok((app, ids))
    })
    .await
}
