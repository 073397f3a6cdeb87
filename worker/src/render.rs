//! Turns an outbox row into subject, text and HTML: loads what the payload's ids point at, in the
//! row's locale, and fills the kind's template. Everything shown is read from current rows, except
//! a digest's time window, which the row fixes so that a re-send renders the same bytes.

use std::collections::HashMap;
use std::sync::Arc;

use birgemiz_schema::applications::ApplicationStatus;
use birgemiz_schema::awards::NominationStatus;
use birgemiz_schema::i18n::{Locale, LocalizedText};
use birgemiz_schema::links::Links;
use birgemiz_schema::opt_outs::OptOutKind;
use birgemiz_schema::outbox::{Email, EmailKind};
use birgemiz_schema::tables::{
    applications, award_categories, awards, final_results, jurors, nominations, posts, projects,
    users,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};
use crate::template::{self, Rendered, Value};

/// What rendering needs besides the row.
pub struct RenderEnv {
    pub links: Links,
    pub app_secret: String,
    pub timezone: Tz,
}

macro_rules! sources {
    ($($file:literal),* $(,)?) => {
        /// Every template file, in each language.
        #[cfg_attr(not(test), allow(dead_code))]
        const FILES: &[&str] = &[$($file),*];

        fn source(locale: Locale, file: &str) -> Option<&'static str> {
            Some(match (locale, file) {
                $(
                    (Locale::Kk, $file) => include_str!(concat!("../templates/kk/", $file, ".txt")),
                    (Locale::Ru, $file) => include_str!(concat!("../templates/ru/", $file, ".txt")),
                    (Locale::En, $file) => include_str!(concat!("../templates/en/", $file, ".txt")),
                )*
                _ => return None,
            })
        }
    };
}

// A kind's template is the file of its name; a decision has one file per outcome, so each
// reads by what happened (received, accepted, declined) rather than by a word put in a slot.
sources! {
    "VERIFY_EMAIL",
    "SIGN_IN_LINK",
    "APPLICATION_RECEIPT",
    "NEW_APPLICATION_NOTICE",
    "VOLUNTEER_WITHDREW_NOTICE",
    "APPLICATION_ACCEPTED",
    "APPLICATION_DECLINED",
    "NOMINATION_RECEIPT",
    "NOMINATION_APPROVED",
    "NOMINATION_REJECTED",
    "SUBSCRIPTION_CONFIRMATION",
    "RESULTS_ANNOUNCEMENT",
    "VOTING_CLOSES_REMINDER",
    "NOMINATION_CLOSES_REMINDER",
    "PROJECT_STARTS_REMINDER",
    "DIGEST",
    "JURY_INVITATION",
    "JURY_REMINDER",
}

/// The template file of an email whose outcome is `status` (for the decisions, the status word
/// of the application or nomination).
fn template_file(kind: EmailKind, status: &str) -> &'static str {
    match kind {
        EmailKind::ApplicationDecision => match ApplicationStatus::parse(status) {
            Some(ApplicationStatus::Accepted) => "APPLICATION_ACCEPTED",
            _ => "APPLICATION_DECLINED",
        },
        EmailKind::NominationDecision => match NominationStatus::parse(status) {
            Some(NominationStatus::Approved) => "NOMINATION_APPROVED",
            _ => "NOMINATION_REJECTED",
        },
        kind => kind.as_str(),
    }
}

fn note_line(locale: Locale, note: &str) -> String {
    match locale {
        Locale::Kk => format!("Модератордың түсініктемесі: {note}"),
        Locale::Ru => format!("Комментарий модератора: {note}"),
        Locale::En => format!("The moderator's note: {note}"),
    }
}

/// A link, or nothing when it would open a page that doesn't exist (no frontend).
fn link(url: Option<String>) -> Value {
    url.map_or(Value::Omit, Value::Link)
}

/// An award's title, slug and its five phase dates (nomination open/close, voting open/close,
/// results).
type AwardPhases = (LocalizedText, String, [Option<DateTime<Utc>>; 5]);

/// Why the reader gets a bulk email, by kind: only subscribers get the digest, the results and
/// the nominations reminder; the voting reminder also goes to verified users who have not voted
/// everywhere, and the project reminder to the project's accepted volunteers, who never
/// subscribed and must not be told they did.
fn footer(locale: Locale, kind: EmailKind) -> &'static str {
    match (kind, locale) {
        (EmailKind::VotingClosesReminder, Locale::Kk) => {
            include_str!("../templates/kk/FOOTER_VOTING.txt")
        }
        (EmailKind::VotingClosesReminder, Locale::Ru) => {
            include_str!("../templates/ru/FOOTER_VOTING.txt")
        }
        (EmailKind::VotingClosesReminder, Locale::En) => {
            include_str!("../templates/en/FOOTER_VOTING.txt")
        }
        (EmailKind::ProjectStartsReminder, Locale::Kk) => {
            include_str!("../templates/kk/FOOTER_PROJECT.txt")
        }
        (EmailKind::ProjectStartsReminder, Locale::Ru) => {
            include_str!("../templates/ru/FOOTER_PROJECT.txt")
        }
        (EmailKind::ProjectStartsReminder, Locale::En) => {
            include_str!("../templates/en/FOOTER_PROJECT.txt")
        }
        (_, Locale::Kk) => include_str!("../templates/kk/FOOTER.txt"),
        (_, Locale::Ru) => include_str!("../templates/ru/FOOTER.txt"),
        (_, Locale::En) => include_str!("../templates/en/FOOTER.txt"),
    }
}

/// Why the reader gets a participant email (they applied, manage the project, nominated, sit on
/// the jury), with the link that stops that kind (schema's opt_outs).
fn opt_out_footer(locale: Locale, kind: OptOutKind) -> &'static str {
    macro_rules! by_locale {
        ($file:literal) => {
            match locale {
                Locale::Kk => include_str!(concat!("../templates/kk/", $file, ".txt")),
                Locale::Ru => include_str!(concat!("../templates/ru/", $file, ".txt")),
                Locale::En => include_str!(concat!("../templates/en/", $file, ".txt")),
            }
        };
    }
    match kind {
        OptOutKind::Applications => by_locale!("FOOTER_APPLICATIONS"),
        OptOutKind::ProjectManagement => by_locale!("FOOTER_PROJECT_MANAGEMENT"),
        OptOutKind::Nominations => by_locale!("FOOTER_NOMINATIONS"),
        OptOutKind::Jury => by_locale!("FOOTER_JURY"),
    }
}

fn nothing_new(locale: Locale) -> &'static str {
    match locale {
        Locale::Kk => "— жаңалық жоқ",
        Locale::Ru => "— ничего нового",
        Locale::En => "— nothing new",
    }
}

/// The template with its footer as the last paragraphs.
fn with_footer(source: &str, footer: &str) -> String {
    format!("{}\n\n{}", source.trim_end(), footer)
}

/// What an email about an award's deadline names: the award, the moment, the time left and the
/// award's page.
fn award_deadline(
    v: &mut HashMap<&str, Value>,
    env: &RenderEnv,
    locale: Locale,
    (title, slug): (&LocalizedText, &str),
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    v.insert("award", Value::Text(text(title, locale)));
    let at = moment(deadline, env.timezone, locale);
    v.insert("deadline", Value::Text(at));
    v.insert("remaining", Value::Text(remaining(deadline - now, locale)));
    v.insert("link", link(env.links.award(slug)));
}

fn text(t: &LocalizedText, locale: Locale) -> String {
    t.resolve(locale).unwrap_or("Birgemiz").to_owned()
}

/// The time zone by the name people use for it (`TIMEZONE`); Kazakhstan keeps one time,
/// named after the capital.
fn zone_name(tz: Tz, locale: Locale) -> String {
    let names: Option<[&str; 3]> = match tz.name() {
        "Asia/Almaty" | "Asia/Qostanay" => Some(["Астана", "Астана", "Astana"]),
        "Asia/Aqtobe" => Some(["Ақтөбе", "Актобе", "Aktobe"]),
        "Asia/Oral" => Some(["Орал", "Уральск", "Oral"]),
        "Asia/Aqtau" => Some(["Ақтау", "Актау", "Aktau"]),
        "Asia/Atyrau" => Some(["Атырау", "Атырау", "Atyrau"]),
        "Asia/Qyzylorda" => Some(["Қызылорда", "Кызылорда", "Kyzylorda"]),
        "Europe/Moscow" => Some(["Мәскеу", "Москва", "Moscow"]),
        "Asia/Bishkek" => Some(["Бішкек", "Бишкек", "Bishkek"]),
        "Asia/Tashkent" => Some(["Ташкент", "Ташкент", "Tashkent"]),
        "UTC" | "Etc/UTC" => Some(["UTC", "UTC", "UTC"]),
        _ => None,
    };
    match (names, locale) {
        (Some(n), Locale::Kk) => n[0].to_owned(),
        (Some(n), Locale::Ru) => n[1].to_owned(),
        (Some(n), Locale::En) => n[2].to_owned(),
        (None, _) => tz
            .name()
            .rsplit('/')
            .next()
            .unwrap_or("UTC")
            .replace('_', " "),
    }
}

/// The exact moment in `TIMEZONE`, with the zone's name: "05.12.2026, 20:23 (Астана)".
fn moment(t: DateTime<Utc>, tz: Tz, locale: Locale) -> String {
    let local = t.with_timezone(&tz);
    let zone = zone_name(tz, locale);
    match locale {
        Locale::Kk => format!(
            "{}, {} ({zone})",
            local.format("%d.%m.%Y"),
            local.format("%H:%M")
        ),
        Locale::Ru => format!(
            "{} в {} ({zone})",
            local.format("%d.%m.%Y"),
            local.format("%H:%M")
        ),
        Locale::En => format!(
            "{} at {} ({zone})",
            local.format("%-d %b %Y"),
            local.format("%H:%M")
        ),
    }
}

/// A count with its Russian noun, e.g. "5 дней".
fn ru_plural(n: i64, forms: [&str; 3]) -> String {
    format!("{n} {}", birgemiz_schema::i18n::ru_form(n, forms))
}

/// How long is left, rounded down to at most two units ("2 days 5 hours", "40 minutes"); at
/// least one minute. Read at sending, so it is what is left when the email leaves.
fn remaining(left: chrono::Duration, locale: Locale) -> String {
    let minutes = left.num_minutes().max(1);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let unit = |n: i64, u: usize| -> String {
        match locale {
            Locale::Kk => format!("{n} {}", ["күн", "сағат", "минут"][u]),
            // After "через": the accusative, "1 минуту".
            Locale::Ru => ru_plural(
                n,
                [
                    ["день", "дня", "дней"],
                    ["час", "часа", "часов"],
                    ["минуту", "минуты", "минут"],
                ][u],
            ),
            Locale::En => {
                let w = ["day", "hour", "minute"][u];
                if n == 1 {
                    format!("1 {w}")
                } else {
                    format!("{n} {w}s")
                }
            }
        }
    };
    let parts: Vec<String> = if days > 0 {
        [(days, 0), (hours, 1)]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|&(n, u)| unit(n, u))
            .collect()
    } else if hours > 0 {
        [(hours, 1), (mins, 2)]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|&(n, u)| unit(n, u))
            .collect()
    } else {
        vec![unit(mins, 2)]
    };
    parts.join(" ")
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
    links: &Links,
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
                    links.nomination(slug, id),
                )
            })
            .collect(),
        empty: empty.to_owned(),
    })
}

/// Renders `email` in `locale`; bulk mail passes its unsubscribe link and participant mail its
/// opt-out link, which add the footer saying why the reader gets it.
pub async fn render(
    conn: &mut AsyncPgConnection,
    digests: &mut DigestCache,
    env: &RenderEnv,
    email: &Email,
    locale: Locale,
    unsubscribe_url: Option<&str>,
) -> Result<Option<Rendered>> {
    let now = Utc::now();
    let links = &env.links;
    let mut v: HashMap<&str, Value> = HashMap::new();
    let mut file = template_file(email.kind(), "");
    let token_link = |token: &Option<String>, to: fn(&Links, &str) -> String| -> Result<Value> {
        let token = token
            .as_deref()
            .ok_or_else(|| Error::Message("link token already cleared".into()))?;
        Ok(Value::Link(to(links, token)))
    };
    match email {
        Email::VerifyEmail { token } => {
            v.insert("link", token_link(token, Links::verify)?);
        }
        Email::SignInLink { token } => {
            v.insert("link", token_link(token, Links::sign_in)?);
        }
        Email::SubscriptionConfirmation { token } => {
            v.insert("link", token_link(token, Links::confirm)?);
        }
        Email::ApplicationReceipt { application_id }
        | Email::NewApplicationNotice { application_id }
        | Email::VolunteerWithdrewNotice { application_id }
        | Email::ApplicationDecision { application_id, .. } => {
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
            if let Email::ApplicationDecision { decision, .. } = email {
                file = template_file(email.kind(), decision.as_deref().unwrap_or(&status));
            }
            v.insert("link", link(links.project(&slug)));
        }
        Email::NominationReceipt { nomination_id }
        | Email::NominationDecision { nomination_id, .. } => {
            let (name, status, note, category, award, slug): (
                String,
                String,
                Option<String>,
                LocalizedText,
                LocalizedText,
                String,
            ) = nominations::table
                .inner_join(award_categories::table.inner_join(awards::table))
                .filter(nominations::id.eq(nomination_id))
                .select((
                    nominations::nominee_name,
                    nominations::status,
                    nominations::moderation_note,
                    award_categories::title,
                    awards::title,
                    awards::slug,
                ))
                .first(conn)
                .await?;
            v.insert("nominee", Value::Text(name));
            v.insert("category", Value::Text(text(&category, locale)));
            v.insert("award", Value::Text(text(&award, locale)));
            if let Email::NominationDecision { decision, .. } = email {
                file = template_file(email.kind(), decision.as_deref().unwrap_or(&status));
            }
            v.insert(
                "note",
                note.map_or(Value::Omit, |n| Value::Text(note_line(locale, &n))),
            );
            v.insert("link", link(links.award(&slug)));
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
            let reminder = !matches!(email, Email::ResultsAnnouncement { .. });
            // A reminder of a moment that has passed (a backlog, dates moved) would lie.
            if reminder && deadline <= now {
                return Ok(None);
            }
            award_deadline(&mut v, env, locale, (&title, &slug), deadline, now);
            if matches!(email, Email::ResultsAnnouncement { .. }) {
                v.insert(
                    "winners",
                    winners(conn, *award_id, &slug, locale, links).await?,
                );
            }
        }
        Email::JuryInvitation { juror_id, token } => {
            let (title, _) = juror_award(conn, *juror_id).await?;
            v.insert("award", Value::Text(text(&title, locale)));
            v.insert("link", token_link(token, Links::sign_in)?);
        }
        Email::JuryReminder { juror_id } => {
            let (title, slug) = juror_award(conn, *juror_id).await?;
            let deadline: DateTime<Utc> = jurors::table
                .inner_join(awards::table)
                .filter(jurors::id.eq(juror_id))
                .select(awards::voting_closes_at)
                .first(conn)
                .await?;
            // Scoring closes with voting; past it, the reminder would lie.
            if deadline <= now {
                return Ok(None);
            }
            award_deadline(&mut v, env, locale, (&title, &slug), deadline, now);
        }
        Email::ProjectStartsReminder { project_id } => {
            let (title, slug, starts): (LocalizedText, String, Option<DateTime<Utc>>) =
                projects::table
                    .find(project_id)
                    .select((projects::title, projects::slug, projects::starts_at))
                    .first(conn)
                    .await?;
            let Some(starts) = starts.filter(|t| *t > now) else {
                return Ok(None);
            };
            v.insert("project", Value::Text(text(&title, locale)));
            v.insert("starts", Value::Text(moment(starts, env.timezone, locale)));
            v.insert("remaining", Value::Text(remaining(starts - now, locale)));
            v.insert("link", link(links.project(&slug)));
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
            // One line per award: where it stands now, i.e. the latest of its phase changes in
            // the window (the earlier ones are over by the time the digest is read).
            for (title, slug, phases) in &content.awards {
                if let Some(phase) = phases.iter().rposition(|at| in_window(*at)) {
                    award_items.push((
                        format!("{}: {}", text(title, locale), phase_names[phase]),
                        links.award(slug),
                    ));
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
                        .map(|(t, s)| (text(t, locale), links.project(s)))
                        .collect(),
                ),
            );
            v.insert(
                "posts",
                list(
                    content
                        .posts
                        .iter()
                        .map(|(t, s)| (text(t, locale), links.post(s)))
                        .collect(),
                ),
            );
            v.insert("awards", list(award_items));
        }
    }
    let mut source = source(locale, file)
        .ok_or_else(|| Error::Message(format!("no template {file}")))?
        .to_owned();
    if let Some(link) = unsubscribe_url {
        let kind = email.kind();
        let footer = match OptOutKind::of(kind) {
            Some(opt_out) => opt_out_footer(locale, opt_out),
            None => footer(locale, kind),
        };
        source = with_footer(&source, footer);
        v.insert("unsubscribe", Value::Link(link.to_owned()));
    }
    template::render(&source, locale.as_str(), &v).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lifetimes an email promises are the ones its token has (a verification email once
    /// said 24 hours of a link that lives seven days).
    #[test]
    fn emails_state_the_lifetime_their_links_have() {
        use birgemiz_schema::{accounts, juries};
        let days = |d: chrono::Duration| {
            let n = d.num_days();
            [format!("{n} күн"), format!("{n} дн"), format!("{n} days")]
        };
        let minutes = |d: chrono::Duration| {
            let n = d.num_minutes();
            [
                format!("{n} минут"),
                format!("{n} минут"),
                format!("{n} minutes"),
            ]
        };
        for (file, said) in [
            ("VERIFY_EMAIL", days(accounts::VERIFY_EMAIL_TTL)),
            ("JURY_INVITATION", days(juries::INVITATION_TTL)),
            ("SIGN_IN_LINK", minutes(accounts::SIGN_IN_LINK_TTL)),
        ] {
            for (locale, words) in [Locale::Kk, Locale::Ru, Locale::En].into_iter().zip(said) {
                let text = source(locale, file).expect("listed");
                assert!(
                    text.contains(&words),
                    "{file} {locale:?} should say {words:?}"
                );
            }
        }
    }

    #[test]
    fn every_template_has_a_subject_line() {
        for file in FILES {
            for locale in Locale::ALL {
                let s = source(locale, file).expect("listed");
                assert!(s.starts_with("Subject: "), "{file} {locale:?}");
                assert!(s.contains("\n\n"), "{file} {locale:?}");
            }
        }
        for kind in EmailKind::ALL {
            let statuses = ApplicationStatus::ALL.iter().map(|s| s.as_str());
            let statuses = statuses.chain(NominationStatus::ALL.iter().map(|s| s.as_str()));
            for status in statuses.chain([""]) {
                assert!(FILES.contains(&template_file(kind, status)), "{kind:?}");
            }
        }
    }

    #[test]
    fn remaining_time_and_moments_read_naturally() {
        let d = |m: i64| chrono::Duration::minutes(m);
        assert_eq!(
            remaining(d(2 * 1440 + 5 * 60 + 7), Locale::En),
            "2 days 5 hours"
        );
        assert_eq!(remaining(d(23 * 60 + 59), Locale::Ru), "23 часа 59 минут");
        assert_eq!(remaining(d(21), Locale::Ru), "21 минуту");
        assert_eq!(remaining(d(1440), Locale::Ru), "1 день");
        assert_eq!(remaining(d(5 * 1440), Locale::Ru), "5 дней");
        assert_eq!(remaining(d(61), Locale::Kk), "1 сағат 1 минут");
        assert_eq!(
            remaining(chrono::Duration::seconds(20), Locale::En),
            "1 minute"
        );
        let t = DateTime::parse_from_rfc3339("2026-12-05T15:23:00Z")
            .unwrap()
            .to_utc();
        let tz: Tz = "Asia/Almaty".parse().unwrap();
        assert!(
            moment(t, tz, Locale::Kk).ends_with("20:23 (Астана)"),
            "{}",
            moment(t, tz, Locale::Kk)
        );
        assert_eq!(moment(t, tz, Locale::Ru), "05.12.2026 в 20:23 (Астана)");
        assert_eq!(moment(t, tz, Locale::En), "5 Dec 2026 at 20:23 (Astana)");
    }

    /// The digest as sent, in HTML: its lists are blocks, with no line break or empty
    /// paragraph left where the text's lines led into or out of them.
    #[test]
    fn a_digest_has_no_stray_line_breaks_in_html() {
        let item = |t: &str| (t.to_owned(), Some(format!("https://x/{t}")));
        for locale in Locale::ALL {
            let source = with_footer(
                source(locale, "DIGEST").unwrap(),
                footer(locale, EmailKind::Digest),
            );
            let mut v = HashMap::new();
            let list = |items| Value::List {
                items,
                empty: "—".into(),
            };
            v.insert("projects", list(vec![item("p1"), item("p2")]));
            v.insert("posts", list(Vec::new()));
            v.insert("awards", list(vec![item("a1")]));
            v.insert("unsubscribe", Value::Link("https://x/u".into()));
            let html = template::render(&source, locale.as_str(), &v).unwrap().html;
            for stray in [
                "<br>\n</p>",
                "<p><br>",
                "<p></p>",
                "<br>\n<ul>",
                "</ul>\n<br>",
            ] {
                assert!(!html.contains(stray), "{locale:?}: {stray:?} in\n{html}");
            }
            assert_eq!(html.matches("<ul>").count(), 2, "{html}");
            assert!(html.contains("<br>\n<a href=\"https://x/u\">"), "{html}");
        }
    }

    /// What each state's words mean, per language: a receipt must never read like an
    /// acceptance ("Өтінішіңіз қабылданды" is "your application was accepted"), an acceptance
    /// must say so, a refusal must say so.
    #[test]
    fn every_template_reads_by_the_meaning_of_its_state() {
        // (language, words of acceptance, words of refusal, words of a mere receipt)
        type Words = &'static [&'static str];
        let words: [(Locale, Words, Words, Words); 3] = [
            (
                Locale::Kk,
                &["қабылдандыңыз", "мақұлданды"],
                &["қабылданбады", "бас тартты"],
                &["алдық", "әлі шешім емес"],
            ),
            (
                Locale::Ru,
                &["приняты", "одобрен"],
                &["отклонен", "отказали"],
                &["получен", "ещё не решение"],
            ),
            (
                Locale::En,
                &["accepted", "approved"],
                &["declined"],
                &["received", "not a decision yet"],
            ),
        ];
        let has = |s: &str, list: &[&str]| list.iter().any(|w| s.to_lowercase().contains(w));
        for (locale, yes, no, receipt) in words {
            for file in ["APPLICATION_RECEIPT", "NOMINATION_RECEIPT"] {
                let s = source(locale, file).unwrap();
                // "қабылданды" alone (not "қабылданбады") is the acceptance word.
                let accepts = has(s, yes) || s.replace("қабылданбады", "").contains("қабылданды");
                assert!(!accepts, "{file} {locale:?} reads like an acceptance");
                assert!(!has(s, no), "{file} {locale:?} reads like a refusal");
                assert!(has(s, receipt), "{file} {locale:?} says it was received");
            }
            for file in ["APPLICATION_ACCEPTED", "NOMINATION_APPROVED"] {
                let s = source(locale, file).unwrap();
                assert!(has(s, yes), "{file} {locale:?} says yes");
                assert!(!has(s, no), "{file} {locale:?} says no");
            }
            for file in ["APPLICATION_DECLINED", "NOMINATION_REJECTED"] {
                let s = source(locale, file).unwrap();
                assert!(has(s, no), "{file} {locale:?} says no");
                assert!(!has(s, yes), "{file} {locale:?} says yes");
            }
            // Nothing else reads as a decision about the reader's own request.
            for file in FILES.iter().filter(|f| {
                !f.contains("ACCEPTED")
                    && !f.contains("DECLINED")
                    && !f.contains("APPROVED")
                    && !f.contains("REJECTED")
            }) {
                let s = source(locale, file).unwrap();
                assert!(
                    !s.replace("қабылданбады", "").contains("қабылданды"),
                    "{file} {locale:?}"
                );
            }
        }
    }
}
