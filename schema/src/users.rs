//! Reading users.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::Result;
use crate::models::User;
use crate::tables::users;

pub async fn find(conn: &AsyncPgConnection, id: i64) -> Result<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

pub async fn by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<User>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(&mut &*conn)
        .await?)
}

/// How much of a person's account a viewer may see. The one place that decides it: the api asks
/// here for every `User` it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserAccess {
    /// The person themself or an admin: every field, and `node(id:)` finds the account.
    Full,
    /// Anyone else, where the contract shows the person (a post's author, an application's
    /// volunteer to the project's managers, a fellow manager): the display name only. The
    /// non-null fields read as neutral values (`masked`), the nullable ones as null, and
    /// `node(id:)` answers null, exactly as for an id that doesn't exist.
    DisplayName,
}

impl UserAccess {
    pub fn is_full(self) -> bool {
        self == UserAccess::Full
    }
}

/// What `viewer` (its user id and whether it is an admin) may see of user `user_id`.
pub fn access(viewer: Option<(i64, bool)>, user_id: i64) -> UserAccess {
    match viewer {
        Some((id, admin)) if admin || id == user_id => UserAccess::Full,
        _ => UserAccess::DisplayName,
    }
}

/// The account as someone with `access` sees it: with `DisplayName`, everything but the id and
/// the display name is replaced by a value that tells nothing (member, unverified, kk, the epoch).
pub fn as_seen(user: User, access: UserAccess) -> User {
    match access {
        UserAccess::Full => user,
        UserAccess::DisplayName => User {
            id: user.id,
            display_name: user.display_name,
            ..masked()
        },
    }
}

fn masked() -> User {
    User {
        id: 0,
        email: String::new(),
        password_hash: None,
        display_name: String::new(),
        locale: crate::i18n::Locale::Kk.as_str().to_owned(),
        role: "MEMBER".to_owned(),
        email_verified_at: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_person_and_admins_have_full_access() {
        assert_eq!(access(Some((1, false)), 1), UserAccess::Full);
        assert_eq!(access(Some((2, true)), 1), UserAccess::Full);
        assert_eq!(access(Some((2, false)), 1), UserAccess::DisplayName);
        assert_eq!(access(None, 1), UserAccess::DisplayName);
    }
}
