//! Opting out of one kind of participant email. Receipts, decisions and notices go to people
//! because of something they did (applied, nominated, manage a project, sit on a jury), not
//! because they subscribed; each such email says why, and its footer link (and its
//! `List-Unsubscribe` header, RFC 8058 one-click) stops that kind only. The link is a MAC over
//! the kind and the id of the account (docs/privacy.md: no address in a link); it works
//! repeatedly, and the same link turns the emails back on. The worker honours an opt-out when it
//! sends, so one recorded after an email was queued still stops it.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};
use crate::i18n::Locale;
use crate::outbox::EmailKind;
use crate::subscriptions::{LinkSubject, SUBJECT_LEN, subject_address};
use crate::tables::{email_opt_outs, email_subscriptions, users};
use crate::tokens;

/// The HMAC purpose of opt-out tokens.
const PURPOSE: &str = "opt-out-v1";

/// A kind of participant email, as one opt-out stops it; stored in `email_opt_outs.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptOutKind {
    /// To a volunteer: the receipt and the decision of their applications.
    Applications,
    /// To a project's managers: new applications, withdrawals.
    ProjectManagement,
    /// To a nominator: the receipt and the moderation decision of their nominations.
    Nominations,
    /// To a juror: the reminder to submit scores.
    Jury,
}

impl OptOutKind {
    pub const ALL: [OptOutKind; 4] = [
        OptOutKind::Applications,
        OptOutKind::ProjectManagement,
        OptOutKind::Nominations,
        OptOutKind::Jury,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OptOutKind::Applications => "APPLICATIONS",
            OptOutKind::ProjectManagement => "PROJECT_MANAGEMENT",
            OptOutKind::Nominations => "NOMINATIONS",
            OptOutKind::Jury => "JURY",
        }
    }

    pub fn parse(s: &str) -> Option<OptOutKind> {
        OptOutKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn byte(self) -> u8 {
        match self {
            OptOutKind::Applications => b'A',
            OptOutKind::ProjectManagement => b'M',
            OptOutKind::Nominations => b'N',
            OptOutKind::Jury => b'J',
        }
    }

    fn from_byte(b: u8) -> Option<OptOutKind> {
        OptOutKind::ALL.into_iter().find(|k| k.byte() == b)
    }

    /// The kind an email belongs to. Sign-in, verification and confirmation links answer the
    /// reader's own request, and a jury invitation is a one-off sign-in link: none of them
    /// can be opted out of. Bulk mail has its own unsubscribe link (subscriptions).
    pub fn of(kind: EmailKind) -> Option<OptOutKind> {
        match kind {
            EmailKind::ApplicationReceipt | EmailKind::ApplicationDecision => {
                Some(OptOutKind::Applications)
            }
            EmailKind::NewApplicationNotice | EmailKind::VolunteerWithdrewNotice => {
                Some(OptOutKind::ProjectManagement)
            }
            EmailKind::NominationReceipt | EmailKind::NominationDecision => {
                Some(OptOutKind::Nominations)
            }
            EmailKind::JuryReminder => Some(OptOutKind::Jury),
            _ => None,
        }
    }
}

/// The opaque token of `subject`'s opt-out link for `kind`.
pub fn token(secret: &str, kind: OptOutKind, subject: LinkSubject) -> String {
    let mut id = vec![kind.byte()];
    id.extend_from_slice(&subject.bytes());
    tokens::seal(secret, PURPOSE, &id)
}

/// Whom an opt-out link to `email` stands for: its account, else its subscription; `None` when
/// the address has neither (the email then goes without the link).
pub async fn subject_for(conn: &mut AsyncPgConnection, email: &str) -> Result<Option<LinkSubject>> {
    let user: Option<i64> = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = user {
        return Ok(Some(LinkSubject::User(id)));
    }
    let sub: Option<i64> = email_subscriptions::table
        .filter(email_subscriptions::email.eq(email))
        .select(email_subscriptions::id)
        .first(conn)
        .await
        .optional()?;
    Ok(sub.map(LinkSubject::Subscription))
}

/// What an opt-out link stands for, and whether that kind is stopped now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOut {
    pub email: String,
    pub kind: OptOutKind,
    pub locale: Locale,
    pub opted_out: bool,
}

fn decode(secret: &str, token: &str) -> Option<(OptOutKind, LinkSubject)> {
    let id = tokens::unseal(secret, PURPOSE, token, SUBJECT_LEN + 1)?;
    Some((
        OptOutKind::from_byte(id[0])?,
        LinkSubject::from_bytes(&id[1..])?,
    ))
}

/// Whether `token` is an opt-out link at all (it says nothing about the address).
pub fn is_opt_out_token(secret: &str, token: &str) -> bool {
    decode(secret, token).is_some()
}

/// The opt-out an intact link stands for; `None` for any other token. Reading changes nothing.
pub async fn find(conn: &AsyncPgConnection, secret: &str, token: &str) -> Result<Option<OptOut>> {
    let Some((kind, subject)) = decode(secret, token) else {
        return Ok(None);
    };
    let (email, locale) = subject_address(conn, subject)
        .await?
        .ok_or_else(|| Error::bad_input("token", "this link is invalid"))?;
    let opted_out = email_opt_outs::table
        .find((&email, kind.as_str()))
        .count()
        .get_result::<i64>(&mut &*conn)
        .await?
        > 0;
    Ok(Some(OptOut {
        email,
        kind,
        locale: Locale::parse(&locale).unwrap_or_default(),
        opted_out,
    }))
}

/// Stops (`opted_out`) or resumes the kind of email the link stands for. Idempotent: one-click
/// clients may POST twice.
pub async fn set(
    conn: &mut AsyncPgConnection,
    secret: &str,
    token: &str,
    opted_out: bool,
) -> Result<OptOut> {
    let found = find(conn, secret, token)
        .await?
        .ok_or_else(|| Error::bad_input("token", "this link is invalid"))?;
    if opted_out {
        diesel::insert_into(email_opt_outs::table)
            .values((
                email_opt_outs::email.eq(&found.email),
                email_opt_outs::kind.eq(found.kind.as_str()),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    } else {
        diesel::delete(email_opt_outs::table.find((&found.email, found.kind.as_str())))
            .execute(conn)
            .await?;
    }
    Ok(OptOut { opted_out, ..found })
}

/// Of `(address, kind)` pairs, those whose owner stopped that kind: one query for a batch.
pub async fn stopped(
    conn: &mut AsyncPgConnection,
    emails: &[&str],
) -> Result<Vec<(String, OptOutKind)>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String)> = email_opt_outs::table
        .filter(email_opt_outs::email.eq_any(emails))
        .select((email_opt_outs::email, email_opt_outs::kind))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(e, k)| Some((e, OptOutKind::parse(&k)?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_a_kind_and_an_id() {
        let t = token("s", OptOutKind::Nominations, LinkSubject::User(7));
        assert_eq!(
            decode("s", &t),
            Some((OptOutKind::Nominations, LinkSubject::User(7)))
        );
        assert_eq!(decode("other", &t), None);
        // An unsubscribe link can't pass for an opt-out link, nor the other way round.
        let unsub = crate::subscriptions::unsubscribe_token("s", LinkSubject::User(7));
        assert_eq!(decode("s", &unsub), None);
        for kind in EmailKind::ALL {
            if let Some(k) = OptOutKind::of(kind) {
                assert!(!kind.is_bulk(), "{kind:?} has its own unsubscribe link");
                assert_eq!(OptOutKind::parse(k.as_str()), Some(k));
            }
        }
    }
}
