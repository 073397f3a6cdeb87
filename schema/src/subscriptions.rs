//! Email subscriptions: double opt-in, confirmation, unsubscribe (all or some topics) and
//! preferences, all reached by a link: a one-time token to confirm, a long-lived HMAC token to
//! unsubscribe or change preferences (RFC 8058 one-click needs a token that works repeatedly).
//! The long-lived token is a MAC over the id of the subscription or, for bulk mail to an account
//! that never subscribed, of the user: the address is in no link (docs/privacy.md).
//!
//! `subscribe` answers the same whatever the address's state, so it tells nobody whether an
//! address is subscribed; only the mailbox owner learns more, through the email.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::i18n::Locale;
use crate::models::{EmailSubscription, text_enum};
use crate::outbox::{self, Email, NewEmail};
use crate::tables::{email_subscriptions, one_time_tokens};
use crate::tokens;

/// How long a confirmation link works.
pub const CONFIRM_TTL: Duration = Duration::days(7);
/// The HMAC purpose of the legacy unsubscribe/preferences tokens, which carried the address
/// (`base64(address).mac`); still accepted until `Config::legacy_unsubscribe_tokens_until`.
pub const LEGACY_UNSUBSCRIBE_PURPOSE: &str = "unsubscribe";
/// The HMAC purpose of today's opaque unsubscribe/preferences tokens.
pub const UNSUBSCRIBE_PURPOSE: &str = "unsubscribe-v2";
/// The id an unsubscribe token names: a kind byte and a big-endian `i64`.
pub(crate) const SUBJECT_LEN: usize = 9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Topic {
    WeeklyDigest,
    AwardUpdates,
    News,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::WeeklyDigest, Topic::AwardUpdates, Topic::News];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::WeeklyDigest => "WEEKLY_DIGEST",
            Topic::AwardUpdates => "AWARD_UPDATES",
            Topic::News => "NEWS",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

text_enum! {
    /// `email_subscriptions.status`: double opt-in, so a new address waits for its confirmation.
    pub enum SubscriptionStatus {
        PendingConfirmation => "PENDING_CONFIRMATION",
        Active => "ACTIVE",
        Unsubscribed => "UNSUBSCRIBED",
    }
}

pub const PENDING: &str = SubscriptionStatus::PendingConfirmation.as_str();
pub const ACTIVE: &str = SubscriptionStatus::Active.as_str();
pub const UNSUBSCRIBED: &str = SubscriptionStatus::Unsubscribed.as_str();

/// Lower-cased, trimmed, and plausible enough to be worth a confirmation email.
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"\\".contains(c));
    if valid {
        Ok(email)
    } else {
        Err(Error::bad_input("email", "is not a valid email address"))
    }
}

fn topic_strings(topics: &[Topic]) -> Vec<String> {
    let mut v: Vec<String> = Topic::ALL
        .iter()
        .filter(|t| topics.contains(t))
        .map(|t| t.as_str().to_owned())
        .collect();
    v.dedup();
    v
}

/// The topics of a subscription as enums (unknown values, impossible by the CHECK, are dropped).
pub fn topics_of(sub: &EmailSubscription) -> Vec<Topic> {
    sub.topics
        .iter()
        .flatten()
        .filter_map(|t| Topic::parse(t))
        .collect()
}

/// Whom an unsubscribe/preferences link stands for: a subscription, or an account that gets
/// bulk mail (reminders) without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkSubject {
    Subscription(i64),
    User(i64),
}

impl LinkSubject {
    pub(crate) fn bytes(self) -> [u8; SUBJECT_LEN] {
        let (kind, id) = match self {
            LinkSubject::Subscription(id) => (b'S', id),
            LinkSubject::User(id) => (b'U', id),
        };
        let mut out = [kind; SUBJECT_LEN];
        out[1..].copy_from_slice(&id.to_be_bytes());
        out
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<LinkSubject> {
        let id = i64::from_be_bytes(b.get(1..SUBJECT_LEN)?.try_into().ok()?);
        match b.first()? {
            b'S' => Some(LinkSubject::Subscription(id)),
            b'U' => Some(LinkSubject::User(id)),
            _ => None,
        }
    }
}

/// The opaque token of the unsubscribe and preferences links of `subject`.
pub fn unsubscribe_token(secret: &str, subject: LinkSubject) -> String {
    tokens::seal(secret, UNSUBSCRIBE_PURPOSE, &subject.bytes())
}

/// Whom bulk mail to `email` is for: its subscription, else its account.
pub async fn link_subject(conn: &mut AsyncPgConnection, email: &str) -> Result<LinkSubject> {
    let sub: Option<i64> = email_subscriptions::table
        .filter(email_subscriptions::email.eq(email))
        .select(email_subscriptions::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = sub {
        return Ok(LinkSubject::Subscription(id));
    }
    let user: Option<i64> = crate::tables::users::table
        .filter(crate::tables::users::email.eq(email))
        .select(crate::tables::users::id)
        .first(conn)
        .await
        .optional()?;
    user.map(LinkSubject::User).ok_or_else(|| {
        Error::Internal("bulk mail to an address with no subscription or account".into())
    })
}

/// The token of the unsubscribe link (footer and List-Unsubscribe) of bulk mail to `email`.
pub async fn unsubscribe_link_token(
    conn: &mut AsyncPgConnection,
    secret: &str,
    email: &str,
) -> Result<String> {
    let subject = link_subject(conn, email).await?;
    Ok(unsubscribe_token(secret, subject))
}

/// Double opt-in. New, pending and unsubscribed addresses get a (new) confirmation email; an
/// active subscription is left as it is (a stranger must not change someone's topics). Returns
/// the outbox id to push after commit, if an email was queued. Call inside a transaction.
pub async fn subscribe(
    conn: &mut AsyncPgConnection,
    email: &str,
    locale: Locale,
    topics: &[Topic],
) -> Result<Option<i64>> {
    let email = normalize_email(email)?;
    let topics = if topics.is_empty() {
        vec![Topic::WeeklyDigest]
    } else {
        topics.to_vec()
    };
    let topics = topic_strings(&topics);
    let existing: Option<EmailSubscription> = email_subscriptions::table
        .filter(email_subscriptions::email.eq(&email))
        .select(EmailSubscription::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match existing {
        Some(sub) if sub.status == ACTIVE => return Ok(None),
        Some(sub) => {
            diesel::update(email_subscriptions::table.find(sub.id))
                .set((
                    email_subscriptions::status.eq(PENDING),
                    email_subscriptions::topics.eq(&topics),
                    email_subscriptions::locale.eq(locale.as_str()),
                ))
                .execute(conn)
                .await?;
        }
        None => {
            diesel::insert_into(email_subscriptions::table)
                .values((
                    email_subscriptions::email.eq(&email),
                    email_subscriptions::locale.eq(locale.as_str()),
                    email_subscriptions::topics.eq(&topics),
                    email_subscriptions::status.eq(PENDING),
                ))
                .on_conflict(email_subscriptions::email)
                .do_nothing()
                .execute(conn)
                .await?;
        }
    }
    let token = tokens::random_token();
    let token_id: i64 = diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::purpose.eq("CONFIRM_SUBSCRIPTION"),
            one_time_tokens::email.eq(&email),
            one_time_tokens::token_hash.eq(tokens::hash_token(&token)),
            one_time_tokens::expires_at.eq(Utc::now() + CONFIRM_TTL),
        ))
        .returning(one_time_tokens::id)
        .get_result(conn)
        .await?;
    outbox::enqueue(
        conn,
        NewEmail {
            email: Email::SubscriptionConfirmation { token: Some(token) },
            recipient: email,
            locale,
            dedupe_key: format!("subscription-confirm:{token_id}"),
        },
    )
    .await
}

/// Confirms with the one-time token of the confirmation email (POST only: scanners GET links).
/// The second use of a link that did confirm is no error: the answer is the subscription and
/// `true` for "already confirmed" (a double click, a mail client that posts twice).
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> Result<(EmailSubscription, bool)> {
    let now = Utc::now();
    let email: Option<String> = diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::token_hash.eq(tokens::hash_token(token)))
            .filter(one_time_tokens::purpose.eq("CONFIRM_SUBSCRIPTION"))
            .filter(one_time_tokens::used_at.is_null())
            .filter(one_time_tokens::expires_at.gt(now)),
    )
    .set(one_time_tokens::used_at.eq(now))
    .returning(one_time_tokens::email)
    .get_result(conn)
    .await
    .optional()?;
    let Some(email) = email else {
        return match confirmed_by(conn, token).await? {
            Some(sub) if sub.status == ACTIVE => Ok((sub, true)),
            _ => Err(Error::bad_input(
                "token",
                "this link is invalid or has expired",
            )),
        };
    };
    let sub =
        diesel::update(email_subscriptions::table.filter(email_subscriptions::email.eq(&email)))
            .set((
                email_subscriptions::status.eq(ACTIVE),
                email_subscriptions::confirmed_at.eq(now),
                email_subscriptions::unsubscribed_at.eq(None::<chrono::DateTime<Utc>>),
                // The first digest covers what happens after confirmation, not the archive.
                email_subscriptions::last_digest_at.eq(now),
            ))
            .returning(EmailSubscription::as_returning())
            .get_result(conn)
            .await
            .optional()?;
    Ok((sub.ok_or(Error::NotFound("subscription"))?, false))
}

/// The active subscription behind a confirmation link that was used (its page opened again):
/// "already confirmed", not "invalid".
pub async fn already_confirmed(
    conn: &AsyncPgConnection,
    token: &str,
) -> Result<Option<EmailSubscription>> {
    Ok(confirmed_by(conn, token)
        .await?
        .filter(|sub| sub.status == ACTIVE))
}

/// The subscription a confirmation token (used or not) was issued for.
async fn confirmed_by(conn: &AsyncPgConnection, token: &str) -> Result<Option<EmailSubscription>> {
    Ok(one_time_tokens::table
        .inner_join(
            email_subscriptions::table.on(email_subscriptions::email.eq(one_time_tokens::email)),
        )
        .filter(one_time_tokens::token_hash.eq(tokens::hash_token(token)))
        .filter(one_time_tokens::purpose.eq("CONFIRM_SUBSCRIPTION"))
        .select(EmailSubscription::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

/// The subscription behind any email link: a preferences/unsubscribe token, or a confirmation
/// token (pending or used). Reading uses nothing up.
pub async fn find_by_any_token(
    conn: &AsyncPgConnection,
    keys: LinkKeys<'_>,
    token: &str,
) -> Result<EmailSubscription> {
    if let Some(subscription) = confirmed_by(conn, token).await? {
        return Ok(subscription);
    }
    find_by_token(conn, keys, token).await
}

/// What verifies unsubscribe/preferences tokens: the key, and until when the legacy tokens
/// that carried the address are still honoured (`None`: no longer).
#[derive(Clone, Copy, Debug)]
pub struct LinkKeys<'a> {
    pub secret: &'a str,
    pub legacy_until: Option<chrono::DateTime<Utc>>,
}

impl<'a> LinkKeys<'a> {
    pub fn of(config: &'a crate::config::Config) -> LinkKeys<'a> {
        LinkKeys {
            secret: &config.app_secret,
            legacy_until: config.legacy_unsubscribe_tokens_until,
        }
    }
}

/// The address of a link's subject (gone: `None`), and its language.
pub(crate) async fn subject_email(
    conn: &AsyncPgConnection,
    subject: LinkSubject,
) -> Result<Option<String>> {
    Ok(subject_address(conn, subject)
        .await?
        .map(|(email, _)| email))
}

/// The address and language of a link's subject.
pub(crate) async fn subject_address(
    conn: &AsyncPgConnection,
    subject: LinkSubject,
) -> Result<Option<(String, String)>> {
    Ok(match subject {
        LinkSubject::Subscription(id) => email_subscriptions::table
            .find(id)
            .select((email_subscriptions::email, email_subscriptions::locale))
            .first(&mut &*conn)
            .await
            .optional()?,
        LinkSubject::User(id) => crate::tables::users::table
            .find(id)
            .select((crate::tables::users::email, crate::tables::users::locale))
            .first(&mut &*conn)
            .await
            .optional()?,
    })
}

/// The address an unsubscribe/preferences token was issued for.
async fn token_email(conn: &AsyncPgConnection, keys: LinkKeys<'_>, token: &str) -> Result<String> {
    let invalid = || Error::bad_input("token", "this link is invalid");
    if let Some(subject) = tokens::unseal(keys.secret, UNSUBSCRIBE_PURPOSE, token, SUBJECT_LEN)
        .as_deref()
        .and_then(LinkSubject::from_bytes)
    {
        return subject_email(conn, subject).await?.ok_or_else(invalid);
    }
    let legacy =
        tokens::verify(keys.secret, LEGACY_UNSUBSCRIBE_PURPOSE, token).ok_or_else(invalid)?;
    if keys.legacy_until.is_some_and(|until| Utc::now() < until) {
        Ok(legacy)
    } else {
        Err(Error::bad_input(
            "token",
            "this link is from an older email and no longer works; use the link in a recent email",
        ))
    }
}

/// The subscription an unsubscribe/preferences token stands for.
pub async fn find_by_token(
    conn: &AsyncPgConnection,
    keys: LinkKeys<'_>,
    token: &str,
) -> Result<EmailSubscription> {
    let email = token_email(conn, keys, token).await?;
    email_subscriptions::table
        .filter(email_subscriptions::email.eq(email))
        .select(EmailSubscription::as_select())
        .first(&mut &*conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("subscription"))
}

/// Reminders go to verified users and volunteers who never subscribed, with the same
/// unsubscribe link: for them, unsubscribing records an opt-out (an UNSUBSCRIBED row with no
/// topics), which the reminders honour and a later `subscribe` turns back into a subscription.
async fn opt_out(
    conn: &mut AsyncPgConnection,
    keys: LinkKeys<'_>,
    token: &str,
) -> Result<EmailSubscription> {
    let email = token_email(conn, keys, token).await?;
    let locale: Option<String> = crate::tables::users::table
        .filter(crate::tables::users::email.eq(&email))
        .select(crate::tables::users::locale)
        .first(conn)
        .await
        .optional()?;
    diesel::insert_into(email_subscriptions::table)
        .values((
            email_subscriptions::email.eq(&email),
            email_subscriptions::locale.eq(locale.unwrap_or_else(|| "kk".to_owned())),
            email_subscriptions::topics.eq(Vec::<String>::new()),
            email_subscriptions::status.eq(UNSUBSCRIBED),
            email_subscriptions::unsubscribed_at.eq(Utc::now()),
        ))
        .on_conflict(email_subscriptions::email)
        .do_nothing()
        .execute(conn)
        .await?;
    find_by_token(conn, keys, token).await
}

/// Unsubscribes from `topics`, or from everything when `topics` is `None` or leaves none.
/// Idempotent: one-click clients may POST twice.
pub async fn unsubscribe(
    conn: &mut AsyncPgConnection,
    keys: LinkKeys<'_>,
    token: &str,
    topics: Option<&[Topic]>,
) -> Result<EmailSubscription> {
    let sub = match find_by_token(conn, keys, token).await {
        Err(Error::NotFound(_)) => opt_out(conn, keys, token).await?,
        found => found?,
    };
    let remaining: Vec<Topic> = match topics {
        None => Vec::new(),
        Some(drop) => topics_of(&sub)
            .into_iter()
            .filter(|t| !drop.contains(t))
            .collect(),
    };
    let now = Utc::now();
    let query = diesel::update(email_subscriptions::table.find(sub.id));
    let updated = if remaining.is_empty() {
        query
            .set((
                email_subscriptions::status.eq(UNSUBSCRIBED),
                email_subscriptions::unsubscribed_at.eq(now),
            ))
            .returning(EmailSubscription::as_returning())
            .get_result(conn)
            .await?
    } else {
        query
            .set(email_subscriptions::topics.eq(topic_strings(&remaining)))
            .returning(EmailSubscription::as_returning())
            .get_result(conn)
            .await?
    };
    Ok(updated)
}

/// The preferences page: change topics and/or language. An empty topic list unsubscribes.
pub async fn update(
    conn: &mut AsyncPgConnection,
    keys: LinkKeys<'_>,
    token: &str,
    topics: Option<&[Topic]>,
    locale: Option<Locale>,
) -> Result<EmailSubscription> {
    let sub = find_by_token(conn, keys, token).await?;
    if let Some(locale) = locale {
        diesel::update(email_subscriptions::table.find(sub.id))
            .set(email_subscriptions::locale.eq(locale.as_str()))
            .execute(conn)
            .await?;
    }
    let Some(topics) = topics else {
        return find_by_token(conn, keys, token).await;
    };
    if topics.is_empty() {
        return unsubscribe(conn, keys, token, None).await;
    }
    // Choosing topics again on an unsubscribed address is the owner acting through their own
    // signed link, so it reactivates without a new confirmation.
    let reactivate = sub.status == UNSUBSCRIBED && sub.confirmed_at.is_some();
    let status = if reactivate {
        ACTIVE
    } else {
        sub.status.as_str()
    };
    Ok(diesel::update(email_subscriptions::table.find(sub.id))
        .set((
            email_subscriptions::topics.eq(topic_strings(topics)),
            email_subscriptions::status.eq(status),
        ))
        .returning(EmailSubscription::as_returning())
        .get_result(conn)
        .await?)
}

/// The language of the subscription a confirmation token belongs to, without using the token
/// up: the GET page shows its button in that language. `None` for an unknown or spent token.
pub async fn confirmation_locale(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> Result<Option<Locale>> {
    let locale: Option<String> = one_time_tokens::table
        .inner_join(
            email_subscriptions::table.on(email_subscriptions::email.eq(one_time_tokens::email)),
        )
        .filter(one_time_tokens::token_hash.eq(tokens::hash_token(token)))
        .filter(one_time_tokens::purpose.eq("CONFIRM_SUBSCRIPTION"))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(Utc::now()))
        .select(email_subscriptions::locale)
        .first(conn)
        .await
        .optional()?;
    Ok(locale.as_deref().and_then(Locale::parse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email(" A@B.kz ").unwrap(), "a@b.kz");
        assert!(normalize_email("a@b").is_err());
        assert!(normalize_email("a\r\nbcc:x@y.z@b.kz").is_err());
        assert!(normalize_email("@b.kz").is_err());
    }

    #[test]
    fn unsubscribe_tokens_name_an_id_not_the_address() {
        let t = unsubscribe_token("s", LinkSubject::Subscription(7));
        let id = tokens::unseal("s", UNSUBSCRIBE_PURPOSE, &t, SUBJECT_LEN).unwrap();
        assert_eq!(
            LinkSubject::from_bytes(&id),
            Some(LinkSubject::Subscription(7))
        );
        assert_ne!(t, unsubscribe_token("s", LinkSubject::User(7)));
        assert_eq!(LinkSubject::from_bytes(b"X00000000"), None);
    }
}
