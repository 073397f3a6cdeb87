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

/// The front page's numbers in one statement, prepared once per connection: the sums of the
/// 16 slots of the trigger-kept `platform_counts` (see its migration), the same 16 rows whatever
/// the number of organizations, projects and applications.
pub const PLATFORM_SQL: &str = "SELECT coalesce(sum(organizations), 0)::int AS organizations,
            coalesce(sum(published_projects), 0)::int AS published_projects,
            coalesce(sum(volunteers), 0)::int AS volunteers,
            coalesce(sum(applications), 0)::int AS applications
     FROM platform_counts";

/// The same numbers counted from the rows, for checks of the counters (reads every
/// application: never on a request path).
pub const LIVE_SQL: &str = "SELECT (SELECT count(*) FROM organizations)::int AS organizations,
            (SELECT count(*) FROM projects WHERE status = 'PUBLISHED')::int AS published_projects,
            (SELECT count(DISTINCT volunteer_id) FROM applications WHERE status = 'ACCEPTED')::int AS volunteers,
            (SELECT count(*) FROM applications WHERE status <> 'WITHDRAWN')::int AS applications";

pub async fn platform(conn: &AsyncPgConnection) -> Result<PlatformStats> {
    Ok(Sql::new(PLATFORM_SQL).get_result(&mut &*conn).await?)
}

/// `platform` counted live from the rows (see `LIVE_SQL`).
pub async fn platform_live(conn: &AsyncPgConnection) -> Result<PlatformStats> {
    Ok(Sql::new(LIVE_SQL).get_result(&mut &*conn).await?)
}
