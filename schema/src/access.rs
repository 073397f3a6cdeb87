//! Who may see or change what: every permission rule of the readable types lives here, so the
//! api's resolvers and the domain's writes ask the same question the same way.
//!
//! The rules that need a fact from the database (a role in an organization, a project's
//! organization) read it through [`Facts`]: the domain passes its connection, the api its
//! request's loaders, so a page of a hundred rows still costs one batched lookup.

use std::future::Future;

use diesel_async::AsyncPgConnection;

use crate::accounts::Viewer;
use crate::awards::APPROVED;
use crate::error::{Error, Result};
use crate::models::{Application, Nomination, Post, Project};
use crate::organizations::{self, OWNER};
use crate::projects::{self, PUBLISHED};

/// The facts the rules below depend on, read however the caller reads.
pub trait Facts: Sync {
    type Error: Send;
    /// The user's role (OWNER/MANAGER) in an organization; None without one.
    fn role_in(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> impl Future<Output = std::result::Result<Option<String>, Self::Error>> + Send;
    /// The organization a project belongs to; None for an unknown project.
    fn organization_of_project(
        &self,
        project_id: i64,
    ) -> impl Future<Output = std::result::Result<Option<i64>, Self::Error>> + Send;
}

impl Facts for AsyncPgConnection {
    type Error = Error;
    async fn role_in(&self, user_id: i64, organization_id: i64) -> Result<Option<String>> {
        organizations::role(self, organization_id, user_id).await
    }
    async fn organization_of_project(&self, project_id: i64) -> Result<Option<i64>> {
        Ok(projects::by_ids(self, &[project_id])
            .await?
            .pop()
            .map(|p| p.organization_id))
    }
}

/// The signed-in admin, FORBIDDEN for anyone else (UNAUTHENTICATED when nobody is signed in).
pub fn require_admin(viewer: Option<&Viewer>) -> Result<&Viewer> {
    let v = viewer.ok_or(Error::Unauthenticated)?;
    if !v.is_admin() {
        return Err(Error::forbidden("admins only"));
    }
    Ok(v)
}

/// Whether the viewer manages the organization (any role) or is an admin; `None` is the
/// platform itself, which only admins manage. Managers see an organization's drafts and
/// unpublished projects, its managers and its volunteers' applications.
pub async fn may_manage<F: Facts + ?Sized>(
    facts: &F,
    viewer: Option<&Viewer>,
    organization_id: Option<i64>,
) -> std::result::Result<bool, F::Error> {
    let Some(v) = viewer else { return Ok(false) };
    if v.is_admin() {
        return Ok(true);
    }
    let Some(org) = organization_id else {
        return Ok(false);
    };
    Ok(facts.role_in(v.user_id, org).await?.is_some())
}

/// Whether the viewer owns the organization or is an admin.
pub async fn may_own<F: Facts + ?Sized>(
    facts: &F,
    viewer: &Viewer,
    organization_id: i64,
) -> std::result::Result<bool, F::Error> {
    Ok(viewer.is_admin()
        || facts
            .role_in(viewer.user_id, organization_id)
            .await?
            .as_deref()
            == Some(OWNER))
}

/// Published projects everyone; the others the organization's managers and admins.
pub async fn may_see_project<F: Facts + ?Sized>(
    facts: &F,
    viewer: Option<&Viewer>,
    p: &Project,
) -> std::result::Result<bool, F::Error> {
    Ok(p.status == PUBLISHED || may_manage(facts, viewer, Some(p.organization_id)).await?)
}

/// Published posts everyone; drafts their organization's managers and admins.
pub async fn may_see_post<F: Facts + ?Sized>(
    facts: &F,
    viewer: Option<&Viewer>,
    p: &Post,
) -> std::result::Result<bool, F::Error> {
    Ok(p.published_at.is_some() || may_manage(facts, viewer, p.organization_id).await?)
}

/// An application: its volunteer, the project's managers and admins.
pub async fn may_see_application<F: Facts + ?Sized>(
    facts: &F,
    viewer: Option<&Viewer>,
    a: &Application,
) -> std::result::Result<bool, F::Error> {
    let Some(v) = viewer else { return Ok(false) };
    if v.user_id == a.volunteer_id || v.is_admin() {
        return Ok(true);
    }
    let Some(org) = facts.organization_of_project(a.project_id).await? else {
        return Ok(false);
    };
    may_manage(facts, viewer, Some(org)).await
}

/// A nomination's submitter and its moderation: the submitter and admins.
pub fn is_submitter_or_admin(viewer: Option<&Viewer>, n: &Nomination) -> bool {
    viewer.is_some_and(|v| v.is_admin() || Some(v.user_id) == n.submitted_by)
}

/// Approved nominations everyone; the others their submitter and admins.
pub fn may_see_nomination(viewer: Option<&Viewer>, n: &Nomination) -> bool {
    n.status == APPROVED || is_submitter_or_admin(viewer, n)
}

/// A user's nominations: the user and admins.
pub fn may_see_nominations_of(viewer: Option<&Viewer>, user_id: i64) -> bool {
    viewer.is_some_and(|v| v.user_id == user_id || v.is_admin())
}

/// A user's votes: the user alone (not even admins: a vote is secret).
pub fn may_see_votes_of(viewer: Option<&Viewer>, user_id: i64) -> bool {
    viewer.is_some_and(|v| v.user_id == user_id)
}
