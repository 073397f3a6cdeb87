//! Platform-wide counters for the front page.

use diesel::QueryableByName;
use diesel::sql_types::Integer;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::Result;
use crate::sql::Sql;

#[derive(QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformStats {
    #[diesel(sql_type = Integer)]
    pub organizations: i32,
    #[diesel(sql_type = Integer)]
    pub published_projects: i32,
    /// Distinct people with at least one accepted application.
    #[diesel(sql_type = Integer)]
    pub volunteers: i32,
    #[diesel(sql_type = Integer)]
    pub applications: i32,
}

/// The front page's numbers in one statement, prepared once per connection. Published projects
/// are the sum of the organizations' trigger-kept counters (every project has an organization):
/// one row per organization read instead of every project.
pub const PLATFORM_SQL: &str =
    "SELECT o.organizations, o.published_projects,
            (SELECT count(DISTINCT volunteer_id) FROM applications WHERE status = 'ACCEPTED')::int AS volunteers,
            (SELECT count(*) FROM applications WHERE status <> 'WITHDRAWN')::int AS applications
     FROM (SELECT count(*)::int AS organizations,
                  coalesce(sum(published_project_count), 0)::int AS published_projects
           FROM organizations) o";

pub async fn platform(conn: &AsyncPgConnection) -> Result<PlatformStats> {
    Ok(Sql::new(PLATFORM_SQL).get_result(&mut &*conn).await?)
}
