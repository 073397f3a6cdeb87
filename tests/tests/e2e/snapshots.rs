//! What people read, as recorded snapshots (insta): every kind of email in every language, as
//! the worker sends it, and a few representative GraphQL answers, byte for byte. A change of
//! wording or shape fails here until the snapshot is reviewed and accepted (README,
//! Development). Tokens, dates, remaining times and ids are redacted: they differ per run.

use std::collections::BTreeMap;
use std::time::Duration;

use birgemiz_tests::api::TEST_SECRET;
use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::smtp::{Captured, SmtpServer};
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use chrono::Utc;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::awards_common::{
    CAST, CREATE_AWARD, CREATE_CATEGORY, MODERATE, close_voting, open_voting,
};
use crate::public_support::{count, exec};
use crate::rules_awards::wait_mails;

const FRONT: &str = "https://front.test";
const LOCALES: [&str; 3] = ["kk", "ru", "en"];

/// Every template, by the recipient who gets it in each language (`{l}` is the language).
const EXPECTED: [(&str, &str); 18] = [
    ("VERIFY_EMAIL", "new-{l}"),
    ("SIGN_IN_LINK", "signin-{l}"),
    ("SUBSCRIPTION_CONFIRMATION", "fan-{l}"),
    ("APPLICATION_RECEIPT", "vol-{l}"),
    ("NEW_APPLICATION_NOTICE", "owner-{l}"),
    ("APPLICATION_ACCEPTED", "vol-{l}"),
    ("VOLUNTEER_WITHDREW_NOTICE", "owner-{l}"),
    ("APPLICATION_DECLINED", "vol-{l}"),
    ("PROJECT_STARTS_REMINDER", "crew-{l}"),
    ("NOMINATION_RECEIPT", "nom-{l}"),
    ("NOMINATION_APPROVED", "nom-{l}"),
    ("NOMINATION_REJECTED", "nom-{l}"),
    ("NOMINATION_CLOSES_REMINDER", "fan-{l}"),
    ("VOTING_CLOSES_REMINDER", "fan-{l}"),
    ("JURY_INVITATION", "juror-{l}"),
    ("JURY_REMINDER", "juror-{l}"),
    ("RESULTS_ANNOUNCEMENT", "fan-{l}"),
    ("DIGEST", "fan-{l}"),
];

/// Kinds whose text says how long is left, which differs by the second.
const WITH_REMAINING: [&str; 4] = [
    "VOTING_CLOSES_REMINDER",
    "NOMINATION_CLOSES_REMINDER",
    "PROJECT_STARTS_REMINDER",
    "JURY_REMINDER",
];

fn address(who: &str, l: &str) -> String {
    format!("{}@example.kz", who.replace("{l}", l))
}

fn upper(l: &str) -> String {
    l.to_uppercase()
}

/// The same words in the three languages, as a LocalizedTextInput.
fn i18n(kk: &str, ru: &str, en: &str) -> Value {
    json!({ "kk": kk, "ru": ru, "en": en })
}

async fn person(db: &TestDb, api: &TestApi, who: &str, l: &str) -> Gql {
    let email = address(who, l);
    let u = fixtures::user(db, &email, Kind::Verified).await;
    exec(
        db,
        &format!("UPDATE users SET locale = '{l}' WHERE email = '{email}'"),
    )
    .await;
    api.client().with_token(&u.token)
}

/// An outbox row's template and addressee, for the Message-ID `<outbox.ID@…>`.
#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    template: String,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    locale: String,
}

/// The template each row was rendered from: a decision's is named by its outcome.
const ROWS: &str = "SELECT id, recipient, locale,
    CASE WHEN kind = 'APPLICATION_DECISION' THEN 'APPLICATION_' || (payload->>'decision')
         WHEN kind = 'NOMINATION_DECISION' AND payload->>'decision' = 'APPROVED' THEN 'NOMINATION_APPROVED'
         WHEN kind = 'NOMINATION_DECISION' THEN 'NOMINATION_REJECTED'
         ELSE kind END AS template
    FROM outbox ORDER BY id";

fn outbox_id(c: &Captured) -> Option<i64> {
    let raw = String::from_utf8_lossy(&c.raw);
    let start = raw.find("<outbox.")? + "<outbox.".len();
    let end = start + raw[start..].find('@')?;
    raw[start..end].parse().ok()
}

/// Subject, List-Unsubscribe, text part and HTML part of a message, decoded.
fn readable(c: &Captured) -> String {
    let parsed = mailparse::parse_mail(&c.raw).expect("valid MIME");
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
    };
    let part = |mime: &str| {
        parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .unwrap_or_else(|| panic!("no {mime} part"))
            .get_body()
            .expect("body")
            .replace("\r\n", "\n")
    };
    format!(
        "Subject: {}\nList-Unsubscribe: {}\n\n--- text/plain\n{}\n--- text/html\n{}",
        header("subject").unwrap_or_default(),
        header("list-unsubscribe").unwrap_or_else(|| "-".into()),
        part("text/plain").trim_end(),
        part("text/html").trim_end(),
    )
}

/// Redactions every email snapshot takes; `remaining` adds "in 23 hours 59 minutes".
fn email_settings(remaining: bool) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_omit_expression(true);
    s.add_filter(r"token=[A-Za-z0-9_.%~-]+", "token=[token]");
    s.add_filter(r"#nomination-\d+", "#nomination-[id]");
    // Moments as the worker writes them: kk "05.12.2026, 20:23", ru "05.12.2026 в 20:23",
    // en "5 Dec 2026 at 20:23".
    s.add_filter(r"\d{2}\.\d{2}\.\d{4}(, | в )\d{2}:\d{2}", "[moment]");
    s.add_filter(r"\d{1,2} [A-Z][a-z]{2} \d{4} at \d{2}:\d{2}", "[moment]");
    if remaining {
        let unit = "(күн|сағат|минут|день|дня|дней|часа|часов|час|минуту|минуты|минут|days?|hours?|minutes?)";
        s.add_filter(format!(r"\d+ {unit}( \d+ {unit})?").as_str(), "[remaining]");
    }
    s
}

/// A confirmed subscriber in `l` to the award news and the digest, through the link in the
/// confirmation email (the worker clears a sent email's token from its outbox row).
async fn fan(api: &TestApi, smtp: &SmtpServer, l: &str) {
    let anon = api.client().with_locale(l);
    let fan = address("fan-{l}", l);
    anon.ok(
        "mutation($i: SubscribeInput!) { subscribe(input: $i) { status } }",
        json!({ "i": { "email": fan, "locale": upper(l), "topics": ["AWARD_UPDATES", "WEEKLY_DIGEST"] } }),
    )
    .await;
    let (_, text) = wait_mails(smtp, &fan, 1).await.remove(0);
    let token = text
        .split_whitespace()
        .find_map(|w| w.split_once("token=").map(|(_, t)| t.to_owned()))
        .expect("a confirmation link");
    anon.ok(
        "mutation($t: String!) { confirmSubscription(token: $t) { status } }",
        json!({ "t": token }),
    )
    .await;
}

/// Waits until the outbox holds `n` rows of `kind`.
async fn wait_outbox(db: &TestDb, kind: &str, n: i64) {
    let sql = format!("SELECT count(*) AS n FROM outbox WHERE kind = '{kind}'");
    for _ in 0..300 {
        if count(db, &sql).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} {kind} emails were written");
}

/// Sets up what makes the rest of the emails in `l` through the API: accounts, applications,
/// nominations, a jury seat.
async fn people_of(db: &TestDb, api: &TestApi, admin: &Gql, l: &str, award: &str, category: &str) {
    let anon = api.client().with_locale(l);
    anon.ok(
        "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
        json!({ "i": { "email": address("new-{l}", l), "password": "long enough password",
                       "displayName": "Aruzhan", "locale": upper(l) } }),
    )
    .await;
    anon.ok(
        "mutation($e: String!) { requestSignInLink(email: $e) }",
        json!({ "e": address("signin-{l}", l) }),
    )
    .await;

    let owner = person(db, api, "owner-{l}", l).await;
    let vol = person(db, api, "vol-{l}", l).await;
    let crew = person(db, api, "crew-{l}", l).await;
    let o = owner
        .ok(
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "name": i18n(&format!("Жәрдем {l}"), &format!("Помощь {l}"), &format!("Helpers {l}")),
                           "kind": "NGO", "country": "KZ" } }),
        )
        .await["createOrganization"]["id"]
        .clone();
    let title = match l {
        "kk" => i18n("Қарттарға көмек", "Помощь пожилым", "Help for the elderly"),
        "ru" => i18n("Өзенді тазалау", "Уборка реки", "River cleanup"),
        _ => i18n("Ағаш отырғызу", "Посадка деревьев", "Tree planting"),
    };
    // Tomorrow wherever the platform's day is: the start reminder is due at once.
    let starts = (Utc::now() + chrono::Duration::hours(24)).to_rfc3339();
    let p = owner
        .ok(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            json!({ "i": { "organizationId": o, "title": title, "direction": "SOCIAL", "startsAt": starts } }),
        )
        .await["createProject"]["id"]
        .clone();
    owner
        .ok(
            "mutation($id: ID!) { publishProject(id: $id) { status } }",
            json!({ "id": p }),
        )
        .await;
    const APPLY: &str = "mutation($p: ID!) { applyToProject(projectId: $p) { id } }";
    const DECIDE: &str =
        "mutation($id: ID!, $a: Boolean!) { decideApplication(id: $id, accept: $a) { status } }";
    let a = vol.ok(APPLY, json!({ "p": p })).await["applyToProject"]["id"].clone();
    owner.ok(DECIDE, json!({ "id": a, "a": true })).await;
    vol.ok(
        "mutation($id: ID!) { withdrawApplication(id: $id) { status } }",
        json!({ "id": a }),
    )
    .await;
    let a = vol.ok(APPLY, json!({ "p": p })).await["applyToProject"]["id"].clone();
    owner.ok(DECIDE, json!({ "id": a, "a": false })).await;
    let c = crew.ok(APPLY, json!({ "p": p })).await["applyToProject"]["id"].clone();
    owner.ok(DECIDE, json!({ "id": c, "a": true })).await;

    let nominator = person(db, api, "nom-{l}", l).await;
    let (approved, rejected, note) = match l {
        "kk" => (
            "Айгерім Сәрсенова",
            "Болат Ахметов",
            "Рақмет, толық жазылған",
        ),
        "ru" => (
            "Анна Иванова",
            "Борис Петров",
            "Спасибо за подробное описание",
        ),
        _ => (
            "Jane Doe",
            "John Roe",
            "Thank you for the careful statement",
        ),
    };
    for (name, decision) in [(approved, "APPROVE"), (rejected, "REJECT")] {
        let id = nominator
            .ok(
                "mutation($i: SubmitNominationInput!) { submitNomination(input: $i) { id } }",
                json!({ "i": { "categoryId": category, "nomineeName": name, "nomineeKind": "PERSON",
                               "statement": "Organised winter help for elderly people", "country": "KZ" } }),
            )
            .await["submitNomination"]["id"]
            .clone();
        admin
            .ok(MODERATE, json!({ "id": id, "d": decision, "note": note }))
            .await;
    }
    admin
        .with_locale(l)
        .ok(
            "mutation($a: ID!, $e: String!) { inviteJuror(awardId: $a, email: $e) { id } }",
            json!({ "a": award, "e": address("juror-{l}", l) }),
        )
        .await;
}

/// An award with one category, its dates as offsets in seconds from now; (id, slug, category).
async fn award(
    admin: &Gql,
    titles: Value,
    offsets: [i64; 4],
    category: Value,
) -> (String, String, String) {
    let at = |s: i64| (Utc::now() + chrono::Duration::seconds(s)).to_rfc3339();
    let created = admin
        .ok(
            CREATE_AWARD,
            json!({ "input": { "title": titles, "year": 2026, "countries": ["KZ"],
                "nominationOpensAt": at(offsets[0]), "nominationClosesAt": at(offsets[1]),
                "votingOpensAt": at(offsets[2]), "votingClosesAt": at(offsets[3]) } }),
        )
        .await;
    let a = created["createAward"]["id"].as_str().unwrap().to_owned();
    let slug = created["createAward"]["slug"].as_str().unwrap().to_owned();
    let c = admin
        .ok(
            CREATE_CATEGORY,
            json!({ "input": { "awardId": a, "title": category } }),
        )
        .await["createAwardCategory"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (a, slug, c)
}

/// "Clean city", its voting over and its results published: `votes[i]` voters for the i-th
/// of `nominees`, submitted by `nominator`; (id, slug, category).
async fn published_award(
    db: &TestDb,
    api: &TestApi,
    admin: &Gql,
    nominator: &Gql,
    nominees: &[&str],
    votes: &[usize],
) -> (String, String, String) {
    // Nominations close beyond the reminder's 72 hours: this award sends only its results.
    let (id, slug, category) = award(
        admin,
        i18n("Таза қала", "Чистый город", "Clean city"),
        [-3600, 5 * 86400, 6 * 86400, 7 * 86400],
        i18n("Жыл жобасы", "Проект года", "Project of the year"),
    )
    .await;
    let mut nominations = Vec::new();
    for name in nominees {
        let n = nominator
            .ok(
                "mutation($i: SubmitNominationInput!) { submitNomination(input: $i) { id } }",
                json!({ "i": { "categoryId": category, "nomineeName": name, "nomineeKind": "PROJECT",
                               "statement": "Cleaned the city's parks", "country": "KZ" } }),
            )
            .await["submitNomination"]["id"]
            .clone();
        admin.ok(MODERATE, json!({ "id": n, "d": "APPROVE" })).await;
        nominations.push(n);
    }
    open_voting(admin, &id, 2 * 86400).await;
    let mut voter = 0;
    for (n, count) in votes.iter().enumerate() {
        for _ in 0..*count {
            voter += 1;
            let u = fixtures::user(db, &format!("voter-{voter}@example.kz"), Kind::Verified).await;
            api.client()
                .with_token(&u.token)
                .ok(CAST, json!({ "n": nominations[n] }))
                .await;
        }
    }
    close_voting(db, &id, 3).await;
    admin
        .ok(
            "mutation($a: ID!) { publishResults(awardId: $a) { phase } }",
            json!({ "a": id }),
        )
        .await;
    (id, slug, category)
}

/// Each of the 18 templates in kk, ru and en, sent by the worker and captured over SMTP.
#[tokio::test(flavor = "multi_thread")]
async fn every_email_in_every_language() {
    let (db, redis, smtp) = (
        TestDb::new().await,
        TestRedis::new(),
        SmtpServer::start().await,
    );
    let api = TestApi::start(&db, &redis).await;
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("APP_SECRET", TEST_SECRET)
        .set("FRONTEND_URL", FRONT)
        .set("TIMEZONE", "Asia/Almaty")
        .set("REMINDER_INTERVAL_SECS", "1");
    let mut worker = env.spawn_worker();
    let admin = api.client().with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    // Nominations close within the reminder's 72 hours.
    let (kind_hearts, _, hearts_category) = award(
        &admin,
        i18n("Мейірімді жүрек", "Доброе сердце", "Kind hearts"),
        [-3600, 7200, 10800, 14400],
        i18n("Жыл еріктісі", "Волонтёр года", "Volunteer of the year"),
    )
    .await;
    for l in LOCALES {
        fan(&api, &smtp, l).await;
    }
    // The reminder (once a second) has seen every subscriber before nominations close.
    wait_outbox(&db, "NOMINATION_CLOSES_REMINDER", 3).await;
    // A subscriber's digest covers what happened since they confirmed: a moment later, all
    // that follows is in each one, whatever the machine's speed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for l in LOCALES {
        people_of(&db, &api, &admin, l, &kind_hearts, &hearts_category).await;
    }
    admin
        .ok(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "title": i18n("Алғашқы қар", "Первый снег", "First snow"),
                           "body": i18n("Қар жауды.", "Выпал снег.", "It snowed."), "publish": true } }),
        )
        .await;
    // Voting closes within a day: the voting and the jury reminders.
    open_voting(&admin, &kind_hearts, 20 * 3600).await;

    published_award(
        &db,
        &api,
        &admin,
        &admin,
        &["Green Steppe", "River Friends"],
        &[2, 1],
    )
    .await;
    env.digest_now().await;

    // Every expected email arrived; the first of its template to its recipient is the one shown.
    let wanted: Vec<(String, String, String)> = LOCALES
        .iter()
        .flat_map(|l| {
            EXPECTED
                .iter()
                .map(|(t, who)| (t.to_string(), address(who, l), l.to_string()))
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let found = loop {
        let rows: Vec<Row> = diesel::sql_query(ROWS)
            .load(&mut db.conn().await)
            .await
            .expect("outbox");
        let rows: BTreeMap<i64, Row> = rows.into_iter().map(|r| (r.id, r)).collect();
        let mut messages: Vec<(i64, Captured)> = smtp
            .messages()
            .into_iter()
            .filter_map(|m| Some((outbox_id(&m)?, m)))
            .collect();
        messages.sort_by_key(|(id, _)| *id);
        let mut found: BTreeMap<(String, String), Captured> = BTreeMap::new();
        for (template, to, l) in &wanted {
            let first = messages.iter().find(|(id, _)| {
                rows.get(id).is_some_and(|r| {
                    &r.template == template && &r.recipient == to && &r.locale == l
                })
            });
            if let Some((_, m)) = first {
                found.insert((template.clone(), l.clone()), m.clone());
            }
        }
        if found.len() == wanted.len() {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "missing: {:?}",
            wanted
                .iter()
                .filter(|(t, _, l)| !found.contains_key(&(t.clone(), l.clone())))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    worker.kill().await.ok();
    for ((template, l), m) in &found {
        email_settings(WITH_REMAINING.contains(&template.as_str())).bind(|| {
            insta::assert_snapshot!(format!("email_{template}_{l}"), readable(m));
        });
    }
}

/// A response body as served, laid out one member per line for a readable diff; every byte but
/// the insignificant whitespace stays (member order, escapes, numbers as written).
fn laid_out(body: &str) -> String {
    let mut out = String::with_capacity(body.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let chars: Vec<char> = body.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let empty = matches!(chars.get(i + 1), Some('}' | ']'));
                depth += 1;
                if !empty {
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth -= 1;
                if !matches!(chars.get(i.wrapping_sub(1)), Some('{' | '[')) {
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn response_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_omit_expression(true);
    s.add_filter(r#""(id|\w+Id)": "[^"]*""#, r#""$1": "[id]""#);
    s.add_filter(r#""\d{4}-\d{2}-\d{2}T[^"]*""#, r#""[date]""#);
    s
}

/// The status and the body as served, laid out.
async fn served(gql: &Gql, query: &str, variables: Value) -> String {
    let (status, body) = gql.served(query, variables).await;
    format!("{status}\n{}", laid_out(&body))
}

const PROJECT_PAGE: &str = "query($slug: String!) { project(slug: $slug) {
    id slug title summary description direction status country startsAt volunteersNeeded
    volunteerCount spotsLeft viewerApplication { status }
    organization { name kind country } } }";
const AWARD_RESULTS: &str = "query($slug: String!) { award(slug: $slug) {
    title phase resultsPublishedAt
    categories { title voteCount results { rank voteCount share nomination { nomineeName } } } } }";

/// The front page, a project page, an award's results, a refusal and invalid input, as served
/// (with or without GRAPHQL_FAST_PATHS: the same bytes).
#[tokio::test(flavor = "multi_thread")]
async fn graphql_answers_as_served() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let admin_user = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    let admin = api.client().with_token(&admin_user.token);
    let member = api.client().with_token(
        &fixtures::user(&db, "member@example.kz", Kind::Verified)
            .await
            .token,
    );
    let o = admin
        .ok(
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "name": i18n("Таза өзен", "Чистая река", "Clean River"), "kind": "NGO", "country": "KZ" } }),
        )
        .await["createOrganization"]["id"]
        .clone();
    let p = admin
        .ok(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id slug } }",
            json!({ "i": { "organizationId": o, "title": i18n("Өзенді тазалау", "Уборка реки", "River cleanup"),
                           "summary": i18n("Жағаны тазалаймыз", "Убираем берег", "We clean the bank"),
                           "description": i18n("Сенбі күні **таңертең**.", "В субботу **утром**.", "On Saturday **morning**."),
                           "direction": "ENVIRONMENT", "volunteersNeeded": 12,
                           "startsAt": "2030-05-04T05:00:00Z" } }),
        )
        .await["createProject"]
        .clone();
    admin
        .ok(
            "mutation($id: ID!) { publishProject(id: $id) { status } }",
            json!({ "id": p["id"] }),
        )
        .await;
    member
        .ok(
            "mutation($p: ID!) { applyToProject(projectId: $p) { id } }",
            json!({ "p": p["id"] }),
        )
        .await;
    admin
        .ok(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "title": i18n("Алғашқы қар", "Первый снег", "First snow"), "organizationId": o,
                           "body": i18n("Қар **жауды**.", "Выпал **снег**.", "It **snowed**."), "publish": true } }),
        )
        .await;
    let (results_award, slug, category) = published_award(
        &db,
        &api,
        &admin,
        &member,
        &["Green Steppe", "River Friends", "Clean Yard"],
        &[3, 1, 1],
    )
    .await;
    let forbidden = served(
        &member.with_locale("ru"),
        "mutation($a: ID!) { publishResults(awardId: $a) { phase } }",
        json!({ "a": results_award }),
    )
    .await;
    let anon = api.client();
    let answers = [
        (
            "front_page_en",
            served(
                &anon.with_locale("en"),
                crate::public_front_page::FRONT_PAGE,
                json!({ "n": 5 }),
            )
            .await,
        ),
        (
            "project_page_kk",
            served(
                &member.with_locale("kk"),
                PROJECT_PAGE,
                json!({ "slug": p["slug"] }),
            )
            .await,
        ),
        (
            "award_results_ru",
            served(
                &anon.with_locale("ru"),
                AWARD_RESULTS,
                json!({ "slug": slug }),
            )
            .await,
        ),
        ("forbidden_ru", forbidden),
        (
            "invalid_input_en",
            served(
                &member.with_locale("en"),
                "mutation($i: SubmitNominationInput!) { submitNomination(input: $i) { id } }",
                json!({ "i": { "categoryId": category, "nomineeName": "", "nomineeKind": "PERSON",
                               "statement": "Fine", "country": "KZ" } }),
            )
            .await,
        ),
        (
            "unknown_field_kk",
            served(
                &anon.with_locale("kk"),
                "{ projects { nodes { colour } } }",
                json!({}),
            )
            .await,
        ),
    ];
    for (name, body) in answers {
        response_settings().bind(|| {
            insta::assert_snapshot!(format!("graphql_{name}"), body);
        });
    }
}

#[test]
fn laid_out_keeps_every_byte_but_whitespace() {
    let body = r#"{"data":{"a":[1,{"b":"x, y: {z}\"]"}],"e":{},"f":[]}}"#;
    let out = laid_out(body);
    let squeezed: String = {
        let mut s = String::new();
        let mut in_string = false;
        let mut escaped = false;
        for c in out.chars() {
            if in_string || !c.is_whitespace() {
                s.push(c);
            }
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else if c == '"' {
                in_string = true;
            }
        }
        s
    };
    assert_eq!(squeezed, body);
    assert!(out.contains("\"e\": {}"), "{out}");
}
