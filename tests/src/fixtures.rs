//! Rows a test needs before it can start (people with sessions), written straight to the
//! database so a test about voting does not depend on the sign-up flow.

use birgemiz_schema::accounts;
use birgemiz_schema::tables::users;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::TestDb;

pub struct TestUser {
    pub id: i64,
    pub email: String,
    /// A live bearer session.
    pub token: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unverified,
    Verified,
    Admin,
}

/// A user with a session; `email` must be unique within the test.
pub async fn user(db: &TestDb, email: &str, kind: Kind) -> TestUser {
    let mut conn = db.conn().await;
    let verified = (kind != Kind::Unverified).then(chrono::Utc::now);
    let id: i64 = diesel::insert_into(users::table)
        .values((
            users::email.eq(email.to_lowercase()),
            users::display_name.eq(email.split('@').next().unwrap_or(email)),
            users::email_verified_at.eq(verified),
            users::role.eq(if kind == Kind::Admin {
                "ADMIN"
            } else {
                "MEMBER"
            }),
        ))
        .returning(users::id)
        .get_result(&mut conn)
        .await
        .expect("insert user");
    let token = accounts::create_session(&mut conn, id, false)
        .await
        .expect("session");
    TestUser {
        id,
        email: email.to_lowercase(),
        token,
    }
}

/// The unsubscribe/preferences token the worker puts in bulk mail to `email` (its subscription,
/// else its account, must exist).
pub async fn unsubscribe_token(db: &TestDb, email: &str) -> String {
    let subject = birgemiz_schema::subscriptions::link_subject(&mut db.conn().await, email)
        .await
        .expect("a subscription or an account for the address");
    birgemiz_schema::subscriptions::unsubscribe_token(crate::api::TEST_SECRET, subject)
}
