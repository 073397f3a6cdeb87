//! Per-request DataLoaders: every relation and nested list is loaded for all parents of a
//! level at once, so a page costs a fixed number of statements whatever its size.
//! One key type per lookup; all of them are served by `Loaders`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::models::{
    Application, Organization, OrganizationManager, Post, Project, User,
};
use birgemiz_schema::page::{Page, PageArgs};
use birgemiz_schema::projects::ProjectFilter;
use birgemiz_schema::{access, applications, db, organizations, posts, projects, users};

use super::context::ContextExt;
use super::errors::{ApiError, ApiResult};
use super::reads::{ReadConn, ReadSource};

pub struct Loaders {
    reads: ReadSource,
}

pub type AppLoader = DataLoader<Loaders, RequestCache>;

/// A request's loader cache. Its keys are ids and list arguments of one request, so a fast
/// seeded hash will do, and SipHash showed in a front page's profile.
pub type RequestCache = HashMapCache<foldhash::fast::RandomState>;

/// A new loader for one request (created by the HTTP handler). It caches: within a request a
/// row read once (a role, an organization) is not read again.
pub fn for_request(reads: ReadSource, delay: Option<std::time::Duration>) -> AppLoader {
    DataLoader::with_cache(Loaders { reads }, tokio::spawn, RequestCache::new())
        .delay(delay.unwrap_or(BATCH_DELAY))
}

/// The schema-wide loader for requests that bring none: no cache, so nothing outlives a request.
pub fn uncached(pool: db::Pool, delay: Option<std::time::Duration>) -> AppLoader {
    let loader = for_request(ReadSource::Pool(pool), delay);
    loader.enable_all_cache(false);
    loader
}

/// How long a batch waits for more keys. It must cover the resolution of one whole level of the
/// response (e.g. 100 projects' fields): keys arriving after it form a second batch and cost
/// more statements. In release builds no extra wait: the batch's timer still fires through the
/// timer thread, after the level that registered its first key has been polled through: under
/// load a page costs barely more statements than with a few milliseconds' wait, and a single
/// client's page no longer waits for the timer. Unoptimized builds resolve an order of magnitude
/// slower.
pub(super) const BATCH_DELAY: std::time::Duration = if cfg!(debug_assertions) {
    std::time::Duration::from_millis(25)
} else {
    std::time::Duration::ZERO
};

/// The request's loader; requests that bring none (WebSocket) use the schema-wide one, which
/// batches the same way (caching is off, so sharing it across requests leaks nothing).
pub fn loader<'a>(ctx: &'a Context<'_>) -> &'a AppLoader {
    ctx.data_unchecked::<AppLoader>()
}

impl Loaders {
    async fn conn(&self) -> ApiResult<ReadConn<'_>> {
        Ok(self.reads.conn().await?)
    }
}

macro_rules! by_id_loader {
    ($key:ident, $model:ty, $load:path) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for Loaders {
            type Value = $model;
            type Error = ApiError;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $model>, ApiError> {
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let rows = $load(&*self.conn().await?, &ids).await?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id_loader!(UserKey, User, users::by_ids);
by_id_loader!(OrgKey, Organization, organizations::by_ids);
by_id_loader!(ProjectKey, Project, projects::by_ids);
by_id_loader!(ApplicationKey, Application, applications::by_ids);
by_id_loader!(PostKey, Post, posts::by_ids);

/// Keys of a nested page (a parent and the page's arguments) hash by the parent alone. Within a
/// request the arguments nearly always repeat, and each key is hashed about ten times on its way
/// through the loader: hashing the filter and page arguments as well (strings, options, a
/// cursor) showed in a front page's profile. Equality still compares the whole key.
macro_rules! hash_by_parent {
    ($key:ty, $parent:ident) => {
        impl std::hash::Hash for $key {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.$parent.hash(state);
            }
        }
    };
}
pub(super) use hash_by_parent;

/// Groups keys that share their list arguments, so each distinct page shape is one batch.
fn group_by_args<K, A: Clone + Eq + std::hash::Hash>(
    keys: &[K],
    parts: impl Fn(&K) -> (i64, A),
) -> HashMap<A, Vec<i64>> {
    let mut groups: HashMap<A, Vec<i64>> = HashMap::new();
    for k in keys {
        let (id, args) = parts(k);
        groups.entry(args).or_default().push(id);
    }
    groups
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgProjects {
    pub org: i64,
    pub filter: ProjectFilter,
    pub args: PageArgs,
}
hash_by_parent!(OrgProjects, org);

impl Loader<OrgProjects> for Loaders {
    type Value = Arc<Page<Project>>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[OrgProjects],
    ) -> Result<HashMap<OrgProjects, Arc<Page<Project>>>, ApiError> {
        let mut out = HashMap::new();
        let conn = self.conn().await?;
        for ((filter, args), ids) in
            group_by_args(keys, |k| (k.org, (k.filter.clone(), k.args.clone())))
        {
            let mut pages = projects::of_organizations(&conn, &ids, &filter, &args).await?;
            for id in ids {
                let page = Arc::new(pages.remove(&id).unwrap_or_default());
                out.insert(
                    OrgProjects {
                        org: id,
                        filter: filter.clone(),
                        args: args.clone(),
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkMembers {
    pub network: i64,
    pub locale: Locale,
    pub args: PageArgs,
}
hash_by_parent!(NetworkMembers, network);

impl Loader<NetworkMembers> for Loaders {
    type Value = Page<Organization>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[NetworkMembers],
    ) -> Result<HashMap<NetworkMembers, Page<Organization>>, ApiError> {
        let mut out = HashMap::new();
        let conn = self.conn().await?;
        for ((locale, args), ids) in
            group_by_args(keys, |k| (k.network, (k.locale, k.args.clone())))
        {
            let mut pages = organizations::members_of_networks(&conn, &ids, locale, &args).await?;
            for id in ids {
                let page = pages.remove(&id).unwrap_or_default();
                out.insert(
                    NetworkMembers {
                        network: id,
                        locale,
                        args: args.clone(),
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemberOf(pub i64);

impl Loader<MemberOf> for Loaders {
    type Value = Vec<Organization>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[MemberOf],
    ) -> Result<HashMap<MemberOf, Vec<Organization>>, ApiError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = organizations::networks_of(&*self.conn().await?, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (MemberOf(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrgManagers(pub i64);

impl Loader<OrgManagers> for Loaders {
    type Value = Vec<OrganizationManager>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[OrgManagers],
    ) -> Result<HashMap<OrgManagers, Vec<OrganizationManager>>, ApiError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = organizations::managers_of(&*self.conn().await?, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (OrgManagers(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserMemberships(pub i64);

impl Loader<UserMemberships> for Loaders {
    type Value = Vec<OrganizationManager>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[UserMemberships],
    ) -> Result<HashMap<UserMemberships, Vec<OrganizationManager>>, ApiError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = organizations::memberships_of_users(&*self.conn().await?, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (UserMemberships(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// A user's role (OWNER/MANAGER) in an organization, absent when they have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoleIn {
    pub user: i64,
    pub org: i64,
}

impl Loader<RoleIn> for Loaders {
    type Value = String;
    type Error = ApiError;
    async fn load(&self, keys: &[RoleIn]) -> Result<HashMap<RoleIn, String>, ApiError> {
        let mut out = HashMap::new();
        let conn = self.conn().await?;
        let mut by_user: HashMap<i64, Vec<i64>> = HashMap::new();
        for k in keys {
            by_user.entry(k.user).or_default().push(k.org);
        }
        for (user, orgs) in by_user {
            for (org, role) in organizations::roles_of(&conn, user, &orgs).await? {
                out.insert(RoleIn { user, org }, role);
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectApplications {
    pub project: i64,
    pub status: Option<String>,
    pub args: PageArgs,
}
hash_by_parent!(ProjectApplications, project);

impl Loader<ProjectApplications> for Loaders {
    type Value = Page<Application>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[ProjectApplications],
    ) -> Result<HashMap<ProjectApplications, Page<Application>>, ApiError> {
        let mut out = HashMap::new();
        let conn = self.conn().await?;
        for ((status, args), ids) in
            group_by_args(keys, |k| (k.project, (k.status.clone(), k.args.clone())))
        {
            let mut pages = applications::of_projects(&conn, &ids, &status, &args).await?;
            for id in ids {
                let page = pages.remove(&id).unwrap_or_default();
                out.insert(
                    ProjectApplications {
                        project: id,
                        status: status.clone(),
                        args: args.clone(),
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserApplications {
    pub user: i64,
    pub args: PageArgs,
}
hash_by_parent!(UserApplications, user);

impl Loader<UserApplications> for Loaders {
    type Value = Page<Application>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[UserApplications],
    ) -> Result<HashMap<UserApplications, Page<Application>>, ApiError> {
        let mut out = HashMap::new();
        let conn = self.conn().await?;
        for (args, ids) in group_by_args(keys, |k| (k.user, k.args.clone())) {
            let mut pages = applications::of_volunteers(&conn, &ids, &args).await?;
            for id in ids {
                let page = pages.remove(&id).unwrap_or_default();
                out.insert(
                    UserApplications {
                        user: id,
                        args: args.clone(),
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

/// A volunteer's own application to a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApplicationOf {
    pub user: i64,
    pub project: i64,
}

impl Loader<ApplicationOf> for Loaders {
    type Value = Application;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[ApplicationOf],
    ) -> Result<HashMap<ApplicationOf, Application>, ApiError> {
        let mut out = HashMap::new();
        let conn = self.conn().await?;
        let mut by_user: HashMap<i64, Vec<i64>> = HashMap::new();
        for k in keys {
            by_user.entry(k.user).or_default().push(k.project);
        }
        for (user, projects) in by_user {
            for a in applications::of_volunteer_for(&conn, user, &projects).await? {
                out.insert(
                    ApplicationOf {
                        user,
                        project: a.project_id,
                    },
                    a,
                );
            }
        }
        Ok(out)
    }
}

/// The request's loaders as the facts of `birgemiz_schema::access`: roles and projects are read
/// in batches and once per request.
pub struct LoaderFacts<'a>(&'a AppLoader);

pub fn facts<'a>(ctx: &'a Context<'_>) -> LoaderFacts<'a> {
    LoaderFacts(loader(ctx))
}

impl access::Facts for LoaderFacts<'_> {
    type Error = ApiError;
    async fn role_in(&self, user: i64, org: i64) -> ApiResult<Option<String>> {
        self.0.load_one(RoleIn { user, org }).await
    }
    async fn organization_of_project(&self, project: i64) -> ApiResult<Option<i64>> {
        Ok(self
            .0
            .load_one(ProjectKey(project))
            .await?
            .map(|p| p.organization_id))
    }
}

/// Whether the viewer is an admin or manages `org` (`access::may_manage`).
pub async fn can_manage(ctx: &Context<'_>, org: i64) -> ApiResult<bool> {
    access::may_manage(&facts(ctx), ctx.viewer(), Some(org)).await
}
