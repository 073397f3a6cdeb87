//! Users, sessions and roles.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::Result;
use crate::models::User;
use crate::schema::{sessions, users};
use crate::tokens;

/// How long a bearer session lives without use.
pub const SESSION_TTL: Duration = Duration::days(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn parse(s: &str) -> Role {
        if s == "ADMIN" {
            Role::Admin
        } else {
            Role::Member
        }
    }
}

/// The signed-in person behind a request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: i64,
    pub session_id: i64,
    pub role: Role,
    pub email: String,
    pub email_verified: bool,
    /// Opened by a sign-in link within the last 15 minutes: may set a password without the old one.
    pub recent_link_session: bool,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Resolves a bearer token to its live session and user, touching `last_used_at`.
pub async fn viewer_for_token(conn: &mut AsyncPgConnection, token: &str) -> Result<Option<Viewer>> {
    let now = Utc::now();
    let found: Option<(i64, bool, chrono::DateTime<Utc>, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(tokens::hash_token(token)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            sessions::id,
            sessions::via_link,
            sessions::created_at,
            User::as_select(),
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((session_id, via_link, created_at, user)) = found else {
        return Ok(None);
    };
    // Sliding expiry, written at most once a minute per session to keep reads cheap.
    diesel::update(sessions::table.find(session_id))
        .filter(sessions::last_used_at.lt(now - Duration::minutes(1)))
        .set((
            sessions::last_used_at.eq(now),
            sessions::expires_at.eq(now + SESSION_TTL),
        ))
        .execute(conn)
        .await?;
    Ok(Some(Viewer {
        user_id: user.id,
        session_id,
        role: Role::parse(&user.role),
        email: user.email,
        email_verified: user.email_verified_at.is_some(),
        recent_link_session: via_link && now - created_at < Duration::minutes(15),
    }))
}

/// Opens a session and returns its bearer token (only its hash is stored).
pub async fn create_session(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    via_link: bool,
) -> Result<String> {
    let token = tokens::random_token();
    diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::token_hash.eq(tokens::hash_token(&token)),
            sessions::via_link.eq(via_link),
            sessions::expires_at.eq(Utc::now() + SESSION_TTL),
        ))
        .execute(conn)
        .await?;
    Ok(token)
}

pub async fn revoke_session(conn: &mut AsyncPgConnection, session_id: i64) -> Result<()> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::revoked_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives an existing user the ADMIN role; false when no such user.
pub async fn make_admin(conn: &mut AsyncPgConnection, email: &str) -> Result<bool> {
    let n = diesel::update(users::table.filter(users::email.eq(email.trim().to_lowercase())))
        .set(users::role.eq("ADMIN"))
        .execute(conn)
        .await?;
    Ok(n == 1)
}
