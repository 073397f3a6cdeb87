//! Users, sessions and roles.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::Result;
use crate::models::User;
use crate::tables::{sessions, users};
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
    /// The language the user saved (`updateProfile(locale:)`, or chosen at sign-up).
    pub locale: Locale,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Resolves a bearer token to its live session and user, touching `last_used_at`.
pub async fn viewer_for_token(conn: &AsyncPgConnection, token: &str) -> Result<Option<Viewer>> {
    let now = Utc::now();
    type Found = (i64, bool, DateTime<Utc>, DateTime<Utc>, User);
    let found: Option<Found> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(tokens::hash_token(token)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            sessions::id,
            sessions::via_link,
            sessions::created_at,
            sessions::last_used_at,
            User::as_select(),
        ))
        .first(&mut &*conn)
        .await
        .optional()?;
    let Some((session_id, via_link, created_at, last_used_at, user)) = found else {
        return Ok(None);
    };
    // Sliding expiry, written at most once a minute per session: every other request of the
    // session is one read, not a read and a write.
    if now - last_used_at >= Duration::minutes(1) {
        diesel::update(sessions::table.find(session_id))
            .filter(sessions::last_used_at.lt(now - Duration::minutes(1)))
            .set((
                sessions::last_used_at.eq(now),
                sessions::expires_at.eq(now + SESSION_TTL),
            ))
            .execute(&mut &*conn)
            .await?;
    }
    Ok(Some(Viewer {
        user_id: user.id,
        session_id,
        role: Role::parse(&user.role),
        email: user.email,
        email_verified: user.email_verified_at.is_some(),
        recent_link_session: via_link && now - created_at < Duration::minutes(15),
        locale: Locale::parse(&user.locale).unwrap_or_default(),
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

// ───────────── sign-up, sign-in, links, profile ─────────────

use crate::error::Error;
use crate::i18n::Locale;
use crate::outbox::{self, Email, NewEmail};
use crate::subscriptions::normalize_email;
use crate::tables::one_time_tokens;
use diesel_async::AsyncConnection;

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 1000;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const SIGN_IN_LINK_TTL: Duration = Duration::minutes(15);
pub const VERIFY_EMAIL_TTL: Duration = Duration::days(7);
const PURPOSE_VERIFY: &str = "VERIFY_EMAIL";
pub(crate) const PURPOSE_SIGN_IN: &str = "SIGN_IN";
const PURPOSE_SIGN_IN_CODE: &str = "SIGN_IN_CODE";

fn check_password(field: &str, password: &str) -> crate::Result<()> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(Error::bad_input(
            field,
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(Error::bad_input(
            field,
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

fn check_display_name(name: &str) -> crate::Result<String> {
    crate::validate::text("displayName", name, DISPLAY_NAME_MAX)
}

/// argon2id with the crate's defaults (m=19456 KiB, t=2, p=1), off the async threads.
pub async fn hash_password(password: &str) -> crate::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use rand::RngCore;
    let password = password.to_owned();
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| Error::Internal(format!("salt: {e}")))?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

pub async fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let (hash, password) = (hash.to_owned(), password.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash of a password nobody has: verified against when the email is unknown, so a wrong
/// email takes as long as a wrong password.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Warms the dummy hash up, so even the first sign-in with an unknown email takes no longer
/// than the others.
pub async fn prepare_dummy_hash() -> crate::Result<()> {
    dummy_hash().await.map(|_| ())
}

async fn dummy_hash() -> crate::Result<&'static String> {
    DUMMY_HASH
        .get_or_try_init(|| async { hash_password(&tokens::random_token()).await })
        .await
}

/// The name of an account made by a sign-in link until its owner sets one: neutral, in the
/// account's language, with a number so two of them can be told apart in a list.
pub fn default_display_name(locale: Locale) -> String {
    use rand::Rng;
    let n: u16 = rand::rng().random_range(1000..10_000);
    match locale {
        Locale::Kk => format!("Ерікті {n}"),
        Locale::Ru => format!("Волонтёр {n}"),
        Locale::En => format!("Volunteer {n}"),
    }
}

fn user_locale(u: &User) -> Locale {
    Locale::parse(&u.locale).unwrap_or_default()
}

pub(crate) async fn insert_token(
    conn: &mut AsyncPgConnection,
    purpose: &str,
    user_id: Option<i64>,
    email: &str,
    ttl: Duration,
) -> crate::Result<(i64, String)> {
    let token = tokens::random_token();
    let id = diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::purpose.eq(purpose),
            one_time_tokens::user_id.eq(user_id),
            one_time_tokens::email.eq(email),
            one_time_tokens::token_hash.eq(tokens::hash_token(&token)),
            one_time_tokens::expires_at.eq(Utc::now() + ttl),
        ))
        .returning(one_time_tokens::id)
        .get_result(conn)
        .await?;
    Ok((id, token))
}

/// Marks a live token of `purpose` used; returns (user_id, email). Single use: a second call
/// with the same token finds nothing.
async fn consume_token(
    conn: &mut AsyncPgConnection,
    purpose: &str,
    token: &str,
) -> crate::Result<(Option<i64>, String)> {
    let now = Utc::now();
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::token_hash.eq(tokens::hash_token(token.trim())))
            .filter(one_time_tokens::purpose.eq(purpose))
            .filter(one_time_tokens::used_at.is_null())
            .filter(one_time_tokens::expires_at.gt(now)),
    )
    .set(one_time_tokens::used_at.eq(now))
    .returning((one_time_tokens::user_id, one_time_tokens::email))
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| Error::bad_input("token", "this link is invalid, used or expired"))
}

async fn queue_verification(conn: &mut AsyncPgConnection, user: &User) -> crate::Result<Vec<i64>> {
    let (token_id, token) = insert_token(
        conn,
        PURPOSE_VERIFY,
        Some(user.id),
        &user.email,
        VERIFY_EMAIL_TTL,
    )
    .await?;
    Ok(outbox::enqueue(
        conn,
        NewEmail {
            email: Email::VerifyEmail { token: Some(token) },
            recipient: user.email.clone(),
            locale: user_locale(user),
            dedupe_key: format!("verify-email:{token_id}"),
        },
    )
    .await?
    .into_iter()
    .collect())
}

/// A new account with a password and a session; the verification email goes to the outbox.
/// Returns the user, the bearer token and the outbox ids to push after commit.
pub async fn sign_up(
    conn: &mut AsyncPgConnection,
    email: &str,
    password: &str,
    display_name: &str,
    locale: Locale,
) -> crate::Result<(User, String, Vec<i64>)> {
    let email = normalize_email(email)?;
    check_password("password", password)?;
    let display_name = check_display_name(display_name)?;
    let hash = hash_password(password).await?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let user: User = diesel::insert_into(users::table)
            .values((
                users::email.eq(&email),
                users::password_hash.eq(Some(&hash)),
                users::display_name.eq(&display_name),
                users::locale.eq(locale.as_str()),
            ))
            .on_conflict(users::email)
            .do_nothing()
            .returning(User::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or_else(|| Error::bad_input("email", "is already registered; sign in instead"))?;
        let ids = queue_verification(conn, &user).await?;
        let token = create_session(conn, user.id, false).await?;
        Ok((user, token, ids))
    })
    .await
}

pub async fn sign_in(
    conn: &mut AsyncPgConnection,
    email: &str,
    password: &str,
) -> crate::Result<(User, String)> {
    let wrong = || Error::bad_input("password", "wrong email or password");
    let email = email.trim().to_lowercase();
    let user: Option<User> = users::table
        .filter(users::email.eq(&email))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?;
    let hash = match user.as_ref().and_then(|u| u.password_hash.clone()) {
        Some(h) => h,
        None => dummy_hash().await?.clone(),
    };
    let ok = verify_password(&hash, password).await;
    match user {
        Some(u) if ok && u.password_hash.is_some() => {
            let token = create_session(conn, u.id, false).await?;
            Ok((u, token))
        }
        _ => Err(wrong()),
    }
}

/// Queues a sign-in link whether or not the address has an account (the answer is the same);
/// for an unknown address the account is created when the link is used.
pub async fn request_sign_in_link(
    conn: &mut AsyncPgConnection,
    email: &str,
    locale: Locale,
) -> crate::Result<Vec<i64>> {
    let email = normalize_email(email)?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let user: Option<User> = users::table
            .filter(users::email.eq(&email))
            .select(User::as_select())
            .first(conn)
            .await
            .optional()?;
        let (token_id, token) = insert_token(
            conn,
            PURPOSE_SIGN_IN,
            user.as_ref().map(|u| u.id),
            &email,
            SIGN_IN_LINK_TTL,
        )
        .await?;
        Ok(outbox::enqueue(
            conn,
            NewEmail {
                email: Email::SignInLink { token: Some(token) },
                recipient: email.clone(),
                locale: user.as_ref().map(user_locale).unwrap_or(locale),
                dedupe_key: format!("sign-in:{token_id}"),
            },
        )
        .await?
        .into_iter()
        .collect())
    })
    .await
}

/// Uses a sign-in link: opens a session (marked as opened by a link), creating the account for
/// an address seen for the first time. Using the link proves the address, so it is verified.
pub async fn sign_in_with_link(
    conn: &mut AsyncPgConnection,
    token: &str,
    locale: Locale,
) -> crate::Result<(User, String)> {
    let token = token.to_owned();
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let user = take_sign_in_link(conn, &token, locale).await?;
        let session = create_session(conn, user.id, true).await?;
        Ok((user, session))
    })
    .await
}

/// How long the code the api's sign-in page hands to the frontend works: the browser follows
/// the redirect at once.
pub const SIGN_IN_CODE_TTL: Duration = Duration::minutes(2);

/// Uses a sign-in link as [`sign_in_with_link`] does, but instead of a session returns a
/// one-time code ([`SIGN_IN_CODE_TTL`]) for the frontend to exchange through
/// [`exchange_sign_in_code`]: the api's page sends it in a URL fragment, which no proxy logs,
/// rather than putting a session token on a page or in a URL.
pub async fn sign_in_code_with_link(
    conn: &mut AsyncPgConnection,
    token: &str,
    locale: Locale,
) -> crate::Result<(User, String)> {
    let token = token.to_owned();
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let user = take_sign_in_link(conn, &token, locale).await?;
        let (_, code) = insert_token(
            conn,
            PURPOSE_SIGN_IN_CODE,
            Some(user.id),
            &user.email,
            SIGN_IN_CODE_TTL,
        )
        .await?;
        Ok((user, code))
    })
    .await
}

/// The session a sign-in code stands for (once: a second exchange is refused).
pub async fn exchange_sign_in_code(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> crate::Result<(User, String)> {
    let code = code.to_owned();
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let (user_id, _) = consume_token(conn, PURPOSE_SIGN_IN_CODE, &code)
            .await
            .map_err(|e| match e {
                Error::BadInput { message, .. } => Error::BadInput {
                    field: "code".into(),
                    message,
                },
                e => e,
            })?;
        let user: User = users::table
            .find(user_id.ok_or_else(|| Error::bad_input("token", "this link is invalid"))?)
            .select(User::as_select())
            .first(conn)
            .await?;
        let session = create_session(conn, user.id, true).await?;
        Ok((user, session))
    })
    .await
}

/// Consumes a sign-in link inside the caller's transaction and returns its (verified) user,
/// creating the account for an address seen for the first time.
async fn take_sign_in_link(
    conn: &mut AsyncPgConnection,
    token: &str,
    locale: Locale,
) -> crate::Result<User> {
    let (_, email) = consume_token(conn, PURPOSE_SIGN_IN, token).await?;
    let now = Utc::now();
    // Never the address's local part: the display name is public.
    let display_name = default_display_name(locale);
    diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::display_name.eq(&display_name),
            users::locale.eq(locale.as_str()),
            users::email_verified_at.eq(Some(now)),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let user: User = diesel::update(users::table.filter(users::email.eq(&email)))
        .set(users::email_verified_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("coalesce(email_verified_at, now())")))
        .returning(User::as_returning())
        .get_result(conn)
        .await?;
    // A jury invitation is a sign-in link: using it (or any link of the address) takes the seat.
    crate::juries::seats_signed_in(conn, token, user.id, &email).await?;
    Ok(user)
}

pub async fn verify_email(conn: &mut AsyncPgConnection, token: &str) -> crate::Result<User> {
    let token = token.to_owned();
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let (user_id, email) = consume_token(conn, PURPOSE_VERIFY, &token).await?;
        let user_id = user_id.ok_or_else(|| Error::bad_input("token", "this link is invalid"))?;
        // The address may have changed since the link was sent: only that address is verified.
        diesel::update(users::table.find(user_id).filter(users::email.eq(&email)))
            .set(users::email_verified_at.eq(Some(Utc::now())))
            .returning(User::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or_else(|| Error::bad_input("token", "this link is invalid"))
    })
    .await
}

/// What an emailed link (`/auth/link?token=`) does when used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    VerifyEmail,
    SignIn,
}

/// The purpose of a live, unused link token, without using it: the page a GET shows must not
/// consume what a mail scanner fetches.
pub async fn peek_link(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> crate::Result<Option<LinkPurpose>> {
    let purpose: Option<String> = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(tokens::hash_token(token.trim())))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(Utc::now()))
        .select(one_time_tokens::purpose)
        .first(conn)
        .await
        .optional()?;
    Ok(match purpose.as_deref() {
        Some(PURPOSE_VERIFY) => Some(LinkPurpose::VerifyEmail),
        Some(PURPOSE_SIGN_IN) => Some(LinkPurpose::SignIn),
        _ => None,
    })
}

/// What using a link did.
pub enum LinkUsed {
    Verified(User),
    /// The user and a new bearer session.
    SignedIn(User, String),
    /// The user and a one-time code for the frontend (`sign_in_code_with_link`).
    HandedOff(User, String),
    /// A verification link whose address is verified already (its second use, or a later
    /// link after another one verified): nothing to do, and nothing wrong.
    AlreadyVerified(User),
}

/// The user behind a verification link (used or not, even expired) when the address it was
/// sent to is still theirs and verified: a second press of the button is not "invalid".
pub async fn already_verified(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> crate::Result<Option<User>> {
    Ok(one_time_tokens::table
        .inner_join(users::table.on(one_time_tokens::user_id.eq(users::id.nullable())))
        .filter(one_time_tokens::token_hash.eq(tokens::hash_token(token.trim())))
        .filter(one_time_tokens::purpose.eq(PURPOSE_VERIFY))
        .filter(users::email.eq(one_time_tokens::email))
        .filter(users::email_verified_at.is_not_null())
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Uses an emailed link for whatever it was issued for, exactly as `verify_email` and
/// `sign_in_with_link` do; `locale` is for an account the sign-in creates. With `hand_off`, a
/// sign-in gives a code for the frontend instead of a session.
pub async fn use_link(
    conn: &mut AsyncPgConnection,
    token: &str,
    locale: Locale,
    hand_off: bool,
) -> crate::Result<LinkUsed> {
    match peek_link(conn, token).await? {
        Some(LinkPurpose::VerifyEmail) => Ok(LinkUsed::Verified(verify_email(conn, token).await?)),
        Some(LinkPurpose::SignIn) if hand_off => {
            let (user, code) = sign_in_code_with_link(conn, token, locale).await?;
            Ok(LinkUsed::HandedOff(user, code))
        }
        Some(LinkPurpose::SignIn) => {
            let (user, session) = sign_in_with_link(conn, token, locale).await?;
            Ok(LinkUsed::SignedIn(user, session))
        }
        None => match already_verified(conn, token).await? {
            Some(user) => Ok(LinkUsed::AlreadyVerified(user)),
            None => Err(Error::bad_input(
                "token",
                "this link is invalid, used or expired",
            )),
        },
    }
}

/// Queues a new verification email, unless the address is verified already (then nothing).
pub async fn resend_verification(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> crate::Result<Vec<i64>> {
    let user_id = viewer.user_id;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let user: User = users::table
            .find(user_id)
            .select(User::as_select())
            .first(conn)
            .await?;
        if user.email_verified_at.is_some() {
            return Ok(Vec::new());
        }
        queue_verification(conn, &user).await
    })
    .await
}

pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    display_name: Option<String>,
    locale: Option<Locale>,
) -> crate::Result<User> {
    let display_name = display_name.map(|n| check_display_name(&n)).transpose()?;
    let q = users::table.find(viewer.user_id);
    if display_name.is_none() && locale.is_none() {
        return Ok(q.select(User::as_select()).first(conn).await?);
    }
    Ok(diesel::update(q)
        .set((
            display_name.map(|n| users::display_name.eq(n)),
            locale.map(|l| users::locale.eq(l.as_str())),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await?)
}

/// Sets or changes the password and revokes the user's other sessions.
pub async fn change_password(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    current: Option<&str>,
    new: &str,
) -> crate::Result<()> {
    check_password("newPassword", new)?;
    let user: User = users::table
        .find(viewer.user_id)
        .select(User::as_select())
        .first(conn)
        .await?;
    if let Some(hash) = &user.password_hash
        && !viewer.recent_link_session
    {
        let Some(current) = current else {
            return Err(Error::bad_input(
                "currentPassword",
                "is required to change the password",
            ));
        };
        if !verify_password(hash, current).await {
            return Err(Error::bad_input("currentPassword", "is wrong"));
        }
    }
    let hash = hash_password(new).await?;
    let (user_id, session_id) = (viewer.user_id, viewer.session_id);
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(Some(hash)))
            .execute(conn)
            .await?;
        diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id.ne(session_id))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(Some(Utc::now())))
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}
