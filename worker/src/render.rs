//! Turns an outbox row into subject, text and HTML: loads what the payload's ids point at, in the
//! row's locale, and fills the kind's template. Everything shown is read from current rows, except
//! a digest's time window, which the row fixes so that a re-send renders the same bytes.

use std::collections::HashMap;
use std::sync::Arc;

use birgemiz_schema::i18n::{Locale, LocalizedText};
use birgemiz_schema::outbox::{Email, EmailKind};
use birgemiz_schema::schema::{
    applications, award_categories, awards, final_results, jurors, nominations, posts, projects,
    users,
};
use birgemiz_schema::{Error, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::template::{self, Rendered, Value};

/// What rendering needs besides the row.
pub struct RenderEnv {
    pub public_url: String,
    pub app_secret: String,
    pub timezone: Tz,
}

macro_rules! sources {
    ($($kind:ident => $file:literal),* $(,)?) => {
        fn source(locale: Locale, kind: EmailKind) -> &'static str {
            match (locale, kind) {
                $(
                    (Locale::Kk, EmailKind::$kind) => include_str!(concat!("../templates/kk/", $file, ".txt")),
                    (Locale::Ru, EmailKind::$kind) => include_str!(concat!("../templates/ru/", $file, ".txt")),
                    (Locale::En, EmailKind::$kind) => include_str!(concat!("../templates/en/", $file, ".txt")),
                )*
            }
        }
    };
}

sources! {
    VerifyEmail => "VERIFY_EMAIL",
    SignInLink => "SIGN_IN_LINK",
    ApplicationReceipt => "APPLICATION_RECEIPT",
    NewApplicationNotice => "NEW_APPLICATION_NOTICE",
    ApplicationDecision => "APPLICATION_DECISION",
    NominationReceipt => "NOMINATION_RECEIPT",
    NominationDecision => "NOMINATION_DECISION",
    SubscriptionConfirmation => "SUBSCRIPTION_CONFIRMATION",
    ResultsAnnouncement => "RESULTS_ANNOUNCEMENT",
    VotingClosesReminder => "VOTING_CLOSES_REMINDER",
    NominationClosesReminder => "NOMINATION_CLOSES_REMINDER",
    ProjectStartsReminder => "PROJECT_STARTS_REMINDER",
    Digest => "DIGEST",
    JuryInvitation => "JURY_INVITATION",
    JuryReminder => "JURY_REMINDER",
}

/// An award's title, slug and its five phase dates (nomination open/close, voting open/close,
/// results).
type AwardPhases = (LocalizedText, String, [Option<DateTime<Utc>>; 5]);

fn footer(locale: Locale) -> &'static str {
    match locale {
        Locale::Kk => include_str!("../templates/kk/FOOTER.txt"),
        Locale::Ru => include_str!("../templates/ru/FOOTER.txt"),
        Locale::En => include_str!("../templates/en/FOOTER.txt"),
    }
}

fn decision_word(locale: Locale, status: &str) -> &'static str {
    match (locale, status) {
        (Locale::En, "ACCEPTED") => "accepted",
        (Locale::En, "APPROVED") => "approved",
        (Locale::En, _) => "declined",
        (Locale::Ru, "ACCEPTED") => "принята",
        (Locale::Ru, "APPROVED") => "одобрена",
        (Locale::Ru, _) => "отклонена",
        (Locale::Kk, "ACCEPTED") => "қабылданды",
        (Locale::Kk, "APPROVED") => "мақұлданды",
        (Locale::Kk, _) => "қабылданбады",
    }
}

fn nothing_new(locale: Locale) -> &'static str {
    match locale {
        Locale::Kk => "— жаңалық жоқ",
        Locale::Ru => "— ничего нового",
        Locale::En => "— nothing new",
    }
}

fn text(t: &LocalizedText, locale: Locale) -> String {
    t.resolve(locale).unwrap_or("Birgemiz").to_owned()
}

/// What a digest of one window lists, in every language.
struct DigestContent {
    projects: Vec<(LocalizedText, String)>,
    posts: Vec<(LocalizedText, String)>,
    awards: Vec<AwardPhases>,
}

/// Digest content by window, loaded once for all the rows of a batch that share it (a run's
/// subscribers mostly do): three queries per batch instead of three per message. Kept only for
/// one batch, so what is shown is as current as before.
#[derive(Default)]
pub struct DigestCache {
    windows: HashMap<(DateTime<Utc>, DateTime<Utc>), Arc<DigestContent>>,
}

impl DigestCache {
    async fn get(
        &mut self,
        conn: &mut AsyncPgConnection,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Arc<DigestContent>> {
        if let Some(content) = self.windows.get(&(since, until)) {
            return Ok(content.clone());
        }
        let content = Arc::new(load_digest(conn, since, until).await?);
        self.windows.insert((since, until), content.clone());
        Ok(content)
    }
}

async fn load_digest(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<DigestContent> {
    let projects = projects::table
        .filter(projects::status.eq("PUBLISHED"))
        .filter(projects::published_at.ge(since))
        .filter(projects::published_at.lt(until))
        .order((projects::published_at.desc(), projects::id.desc()))
        .limit(20)
        .select((projects::title, projects::slug))
        .load(conn)
        .await?;
    let posts = posts::table
        .filter(posts::published_at.ge(since))
        .filter(posts::published_at.lt(until))
        .order((posts::published_at.desc(), posts::id.desc()))
        .limit(20)
        .select((posts::title, posts::slug))
        .load(conn)
        .await?;
    let awards = awards::table
        .order(awards::id)
        .select((
            awards::title,
            awards::slug,
            awards::nomination_opens_at,
            awards::nomination_closes_at,
            awards::voting_opens_at,
            awards::voting_closes_at,
            awards::results_published_at,
        ))
        .load::<(
            LocalizedText,
            String,
            DateTime<Utc>,
            DateTime<Utc>,
            DateTime<Utc>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
        )>(conn)
        .await?
        .into_iter()
        .map(|(t, s, a, b, c, d, e)| (t, s, [Some(a), Some(b), Some(c), Some(d), e]))
        .collect();
    Ok(DigestContent {
        projects,
        posts,
        awards,
    })
}

/// The title and slug of a juror's award.
async fn juror_award(
    conn: &mut AsyncPgConnection,
    juror_id: i64,
) -> Result<(LocalizedText, String)> {
    Ok(jurors::table
        .inner_join(awards::table)
        .filter(jurors::id.eq(juror_id))
        .select((awards::title, awards::slug))
        .first(conn)
        .await?)
}

/// Every category's first rank (all of them when tied), in the categories' order, each with a
/// link to the nomination on the award's page.
async fn winners(
    conn: &mut AsyncPgConnection,
    award_id: i64,
    slug: &str,
    locale: Locale,
    public_url: &str,
) -> Result<Value> {
    let rows: Vec<(LocalizedText, i64, String)> = final_results::table
        .inner_join(award_categories::table)
        .inner_join(nominations::table)
        .filter(award_categories::award_id.eq(award_id))
        .filter(final_results::rank.eq(1))
        .order((award_categories::position, nominations::id))
        .select((
            award_categories::title,
            nominations::id,
            nominations::nominee_name,
        ))
        .load(conn)
        .await?;
    let empty = match locale {
        Locale::Kk => "— жеңімпаз жоқ",
        Locale::Ru => "— победителей нет",
        Locale::En => "— no winners",
    };
    Ok(Value::List {
        items: rows
            .into_iter()
            .map(|(category, id, name)| {
                (
                    format!("{}: {name}", text(&category, locale)),
                    Some(format!("{public_url}/awards/{slug}#nomination-{id}")),
                )
            })
            .collect(),
        empty: empty.to_owned(),
    })
}

/// Renders `email` in `locale`; bulk mail passes its unsubscribe link, which
/// adds the footer.
pub async fn render(
    conn: &mut AsyncPgConnection,
    digests: &mut DigestCache,
    env: &RenderEnv,
    email: &Email,
    locale: Locale,
    unsubscribe_url: Option<&str>,
) -> Result<Rendered> {
    let url = |path: &str| format!("{}{path}", env.public_url);
    let when = |t: DateTime<Utc>| {
        t.with_timezone(&env.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut v: HashMap<&str, Value> = HashMap::new();
    let token_link = |token: &Option<String>, path: &str| -> Result<Value> {
        let token = token
            .as_deref()
            .ok_or_else(|| Error::Internal("link token already cleared".into()))?;
        Ok(Value::Link(format!(
            "{}{path}?token={token}",
            env.public_url
        )))
    };
    match email {
        Email::VerifyEmail { token } | Email::SignInLink { token } => {
            v.insert("link", token_link(token, "/auth/link")?);
        }
        Email::SubscriptionConfirmation { token } => {
            v.insert("link", token_link(token, "/subscriptions/confirm")?);
        }
        Email::ApplicationReceipt { application_id }
        | Email::NewApplicationNotice { application_id }
        | Email::ApplicationDecision { application_id } => {
            let (status, title, slug, volunteer): (String, LocalizedText, String, String) =
                applications::table
                    .inner_join(projects::table)
                    .inner_join(users::table)
                    .filter(applications::id.eq(application_id))
                    .select((
                        applications::status,
                        projects::title,
                        projects::slug,
                        users::display_name,
                    ))
                    .first(conn)
                    .await?;
            v.insert("project", Value::Text(text(&title, locale)));
            v.insert("volunteer", Value::Text(volunteer));
            v.insert(
                "decision",
                Value::Text(decision_word(locale, &status).to_owned()),
            );
            v.insert("link", Value::Link(url(&format!("/projects/{slug}"))));
        }
        Email::NominationReceipt { nomination_id }
        | Email::NominationDecision { nomination_id } => {
            let (name, status, category, award, slug): (
                String,
                String,
                LocalizedText,
                LocalizedText,
                String,
            ) = nominations::table
                .inner_join(award_categories::table.inner_join(awards::table))
                .filter(nominations::id.eq(nomination_id))
                .select((
                    nominations::nominee_name,
                    nominations::status,
                    award_categories::title,
                    awards::title,
                    awards::slug,
                ))
                .first(conn)
                .await?;
            v.insert("nominee", Value::Text(name));
            v.insert("category", Value::Text(text(&category, locale)));
            v.insert("award", Value::Text(text(&award, locale)));
            v.insert(
                "decision",
                Value::Text(decision_word(locale, &status).to_owned()),
            );
            v.insert("link", Value::Link(url(&format!("/awards/{slug}"))));
        }
        Email::ResultsAnnouncement { award_id }
        | Email::VotingClosesReminder { award_id }
        | Email::NominationClosesReminder { award_id } => {
            let (title, slug, nomination_closes, voting_closes): (
                LocalizedText,
                String,
                DateTime<Utc>,
                DateTime<Utc>,
            ) = awards::table
                .find(award_id)
                .select((
                    awards::title,
                    awards::slug,
                    awards::nomination_closes_at,
                    awards::voting_closes_at,
                ))
                .first(conn)
                .await?;
            let deadline = if matches!(email, Email::NominationClosesReminder { .. }) {
                nomination_closes
            } else {
                voting_closes
            };
            v.insert("award", Value::Text(text(&title, locale)));
            v.insert("deadline", Value::Text(when(deadline)));
            v.insert("link", Value::Link(url(&format!("/awards/{slug}"))));
            if matches!(email, Email::ResultsAnnouncement { .. }) {
                v.insert(
                    "winners",
                    winners(conn, *award_id, &slug, locale, &env.public_url).await?,
                );
            }
        }
        Email::JuryInvitation { juror_id, token } => {
            let (title, _) = juror_award(conn, *juror_id).await?;
            v.insert("award", Value::Text(text(&title, locale)));
            v.insert("link", token_link(token, "/auth/link")?);
        }
        Email::JuryReminder { juror_id } => {
            let (title, slug) = juror_award(conn, *juror_id).await?;
            let deadline: DateTime<Utc> = jurors::table
                .inner_join(awards::table)
                .filter(jurors::id.eq(juror_id))
                .select(awards::voting_closes_at)
                .first(conn)
                .await?;
            v.insert("award", Value::Text(text(&title, locale)));
            v.insert("deadline", Value::Text(when(deadline)));
            v.insert("link", Value::Link(url(&format!("/awards/{slug}"))));
        }
        Email::ProjectStartsReminder { project_id } => {
            let (title, slug, starts): (LocalizedText, String, Option<DateTime<Utc>>) =
                projects::table
                    .find(project_id)
                    .select((projects::title, projects::slug, projects::starts_at))
                    .first(conn)
                    .await?;
            v.insert("project", Value::Text(text(&title, locale)));
            v.insert("starts", Value::Text(starts.map(when).unwrap_or_default()));
            v.insert("link", Value::Link(url(&format!("/projects/{slug}"))));
        }
        Email::Digest { since, until } => {
            let content = digests.get(conn, *since, *until).await?;
            let in_window = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= *since && t < *until);
            let phase_names: [&str; 5] = match locale {
                Locale::En => [
                    "nominations open",
                    "nominations closed",
                    "voting open",
                    "voting closed",
                    "results published",
                ],
                Locale::Ru => [
                    "открыт приём номинаций",
                    "приём номинаций закрыт",
                    "открыто голосование",
                    "голосование закрыто",
                    "опубликованы итоги",
                ],
                Locale::Kk => [
                    "номинация қабылдау ашылды",
                    "номинация қабылдау жабылды",
                    "дауыс беру ашылды",
                    "дауыс беру жабылды",
                    "қорытынды жарияланды",
                ],
            };
            let mut award_items = Vec::new();
            for (title, slug, phases) in &content.awards {
                for (phase, at) in phases.iter().enumerate() {
                    if in_window(*at) {
                        award_items.push((
                            format!("{}: {}", text(title, locale), phase_names[phase]),
                            Some(url(&format!("/awards/{slug}"))),
                        ));
                    }
                }
            }
            let list = |items: Vec<(String, Option<String>)>| Value::List {
                items,
                empty: nothing_new(locale).to_owned(),
            };
            v.insert(
                "projects",
                list(
                    content
                        .projects
                        .iter()
                        .map(|(t, s)| (text(t, locale), Some(url(&format!("/projects/{s}")))))
                        .collect(),
                ),
            );
            v.insert(
                "posts",
                list(
                    content
                        .posts
                        .iter()
                        .map(|(t, s)| (text(t, locale), Some(url(&format!("/news/{s}")))))
                        .collect(),
                ),
            );
            v.insert("awards", list(award_items));
        }
    }
    let mut source = source(locale, email.kind()).to_owned();
    if let Some(link) = unsubscribe_url {
        source = format!("{}\n\n{}", source.trim_end(), footer(locale));
        v.insert("unsubscribe", Value::Link(link.to_owned()));
    }
    template::render(&source, locale.as_str(), &v)
        .map_err(|e| Error::Internal(format!("template: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_a_subject_line() {
        for kind in EmailKind::ALL {
            for locale in Locale::ALL {
                let s = source(locale, kind);
                assert!(s.starts_with("Subject: "), "{kind:?} {locale:?}");
                assert!(s.contains("\n\n"), "{kind:?} {locale:?}");
            }
        }
    }
}
