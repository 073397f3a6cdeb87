//! Platform-wide counters for the front page.

use diesel::sql_types::Integer;
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::Result;

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

pub async fn platform(conn: &mut AsyncPgConnection) -> Result<PlatformStats> {
    Ok(sql_query(
        "SELECT (SELECT count(*) FROM organizations)::int AS organizations,
                (SELECT count(*) FROM projects WHERE status = 'PUBLISHED')::int AS published_projects,
                (SELECT count(DISTINCT volunteer_id) FROM applications WHERE status = 'ACCEPTED')::int AS volunteers,
                (SELECT count(*) FROM applications WHERE status <> 'WITHDRAWN')::int AS applications",
    )
    .get_result(conn)
    .await?)
}
