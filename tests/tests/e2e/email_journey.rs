//! Where email links lead and why people get participant emails (issue 18, items 15, 18, 19):
//! receipts, decisions, notices and jury reminders say why they came and stop that kind with a
//! link that works (page, one-click, GraphQL); with FRONTEND_URL every link opens the frontend
//! and the api's sign-in page ends there signed in, through a one-time code in the fragment;
//! without it, emails carry no link to a page that doesn't exist.

use birgemiz_tests::api::{TEST_SECRET, test_config};
use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::smtp::{Captured, SmtpServer};
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::awards_common::{MODERATE, nominating_award, submit};
use crate::public_support::{count, exec, org, published_project, token_of};
use crate::rules_awards::{mail_text, wait_mails};

const FRONT: &str = "https://front.test";
const APPLY: &str = "mutation($p: ID!) { applyToProject(projectId: $p) { id status } }";
const DECIDE: &str =
    "mutation($id: ID!, $a: Boolean!) { decideApplication(id: $id, accept: $a) { status } }";
const WITHDRAW: &str = "mutation($id: ID!) { withdrawApplication(id: $id) { status } }";

fn header(c: &Captured, name: &str) -> Option<String> {
    let raw = String::from_utf8_lossy(&c.raw).to_string();
    let prefix = format!("{name}: ");
    raw.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
}

/// The link on the line after the footer's reason.
fn footer_link(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| l.contains("/unsubscribe?token="))
        .unwrap_or_else(|| panic!("no opt-out link in {text}"))
        .trim()
        .to_owned()
}

async fn signed_in(db: &TestDb, api: &TestApi, email: &str, locale: &str) -> Gql {
    let u = fixtures::user(db, email, Kind::Verified).await;
    exec(
        db,
        &format!("UPDATE users SET locale = '{locale}' WHERE email = '{email}'"),
    )
    .await;
    api.client().with_token(&u.token)
}

/// Each kind of participant email, in each language: the reason it came (never "you
/// subscribed"), a footer link and List-Unsubscribe header that stop that kind only, and no
/// link to a page the api does not serve (no FRONTEND_URL here).
#[tokio::test(flavor = "multi_thread")]
async fn participant_emails_say_why_and_stop_by_kind() {
    let (db, redis, smtp) = (
        TestDb::new().await,
        TestRedis::new(),
        SmtpServer::start().await,
    );
    let api = TestApi::start(&db, &redis).await;
    let mut w = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("APP_SECRET", TEST_SECRET)
        .set("PUBLIC_URL", &api.base)
        .spawn_worker();
    let admin = api.client().with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let (_award, category) = nominating_award(&admin, "Kind hearts", false).await;
    let http = reqwest::Client::new();
    // (locale, volunteer's reason, manager's reason, nominator's reason, juror's reason, page title)
    let cases = [
        (
            "kk",
            "жобасына волонтер болуға өтініш бергендіктен",
            "жобасын басқаратындықтан",
            "ұсынғандықтан алдыңыз",
            "қазылар алқасының мүшесі болғандықтан",
            "Өтініштеріңіз туралы хаттар",
        ),
        (
            "ru",
            "потому что подали заявку волонтёра",
            "потому что управляете проектом",
            "потому что номинировали",
            "потому что входите в жюри",
            "Письма о ваших заявках",
        ),
        (
            "en",
            "because you applied to volunteer",
            "because you manage the project",
            "because you nominated",
            "because you accepted a seat on the jury",
            "Emails about your applications",
        ),
    ];
    let subscribed = ["жазылғандықтан", "подписались", "you subscribed"];
    for (l, applied, manage, nominated, jury, title) in cases {
        let owner_email = format!("owner-{l}@example.kz");
        let vol_email = format!("vol-{l}@example.kz");
        let nom_email = format!("nom-{l}@example.kz");
        let owner = signed_in(&db, &api, &owner_email, l).await;
        let vol = signed_in(&db, &api, &vol_email, l).await;
        let nominator = signed_in(&db, &api, &nom_email, l).await;
        let o = org(&owner, &format!("Helpers {l}"), "NGO").await;
        let p = published_project(&owner, &o["id"], &format!("Project {l}")).await;

        let a = vol.ok(APPLY, json!({ "p": p["id"] })).await["applyToProject"]["id"].clone();
        owner.ok(DECIDE, json!({ "id": a, "a": true })).await;
        vol.ok(WITHDRAW, json!({ "id": a })).await;
        let n = submit(&nominator, &category, &format!("Nominee {l}")).await;
        admin
            .ok(
                MODERATE,
                json!({ "id": n, "d": "APPROVE", "note": "Thank you" }),
            )
            .await;
        // (recipient, expected emails, reason)
        let expected = [
            (vol_email.as_str(), 2, applied),
            (owner_email.as_str(), 2, manage),
            (nom_email.as_str(), 2, nominated),
        ];
        for (to, n, reason) in expected {
            wait_mails(&smtp, to, n).await;
            for m in smtp
                .messages()
                .iter()
                .filter(|m| m.rcpt_to.iter().any(|r| r == to))
            {
                let (s, t) = mail_text(m);
                assert!(t.contains(reason), "{l} {to} {s}: {t}");
                for word in subscribed {
                    assert!(!t.contains(word), "{l} {to}: {t}");
                }
                assert!(!t.contains("/projects/") && !t.contains("/awards/"), "{t}");
                let link = footer_link(&t);
                assert!(link.starts_with(&api.base), "{link}");
                let lu = header(m, "List-Unsubscribe").expect("List-Unsubscribe");
                assert_eq!(lu, format!("<{link}>"), "{l} {to}");
                assert_eq!(
                    header(m, "List-Unsubscribe-Post").as_deref(),
                    Some("List-Unsubscribe=One-Click")
                );
            }
        }
        let decided = wait_mails(&smtp, &nom_email, 2).await;
        assert!(
            decided.iter().any(|(_, t)| t.contains("Thank you")),
            "the moderator's note stays: {decided:?}"
        );

        // The juror's reminder.
        exec(
            &db,
            &format!(
                "INSERT INTO jurors (award_id, email, user_id, locale, accepted_at)
                   SELECT a.id, u.email, u.id, '{l}', now() FROM awards a, users u
                   WHERE u.email = '{nom_email}';
                 INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
                   SELECT 'JURY_REMINDER', j.email, '{l}',
                          jsonb_build_object('kind', 'JURY_REMINDER', 'juror_id', j.id),
                          'test-jury-' || j.id, false
                   FROM jurors j WHERE j.email = '{nom_email}';"
            ),
        )
        .await;
        let mails = wait_mails(&smtp, &nom_email, 3).await;
        assert!(
            mails.iter().any(|(_, t)| t.contains(jury)),
            "{l}: {mails:?}"
        );

        // The volunteer's link: GET shows, in their language, and changes nothing.
        let receipt = &smtp
            .messages()
            .into_iter()
            .find(|m| m.rcpt_to.contains(&vol_email))
            .unwrap();
        let link = footer_link(&mail_text(receipt).1);
        let page = http.get(&link).send().await.expect("GET");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        assert!(html.contains(title), "{l}: {html}");
        assert!(html.contains("method=\"post\""));
        let stopped = |email: String| {
            let db = &db;
            async move {
                count(
                    db,
                    &format!("SELECT count(*) AS n FROM email_opt_outs WHERE email = '{email}'"),
                )
                .await
            }
        };
        assert_eq!(stopped(vol_email.clone()).await, 0, "GET acts on nothing");
        let token = link.split("token=").nth(1).unwrap().to_owned();
        let read = "query($t: String!) { emailOptOut(token: $t) { kind optedOut } emailSubscription(token: $t) { email } }";
        let r = api.client().ok(read, json!({ "t": token })).await;
        assert_eq!(
            r["emailOptOut"],
            json!({ "kind": "APPLICATIONS", "optedOut": false })
        );
        assert_eq!(r["emailSubscription"], Value::Null);

        // One-click (RFC 8058), twice: idempotent.
        for _ in 0..2 {
            let posted = http
                .post(&link)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click")
                .send()
                .await
                .expect("one-click");
            assert_eq!(posted.status(), 200);
        }
        assert_eq!(stopped(vol_email.clone()).await, 1);
        let r = api.client().ok(read, json!({ "t": token })).await;
        assert_eq!(r["emailOptOut"]["optedOut"], true);

        // Applying again: the volunteer's receipt is held back, the manager still hears of it.
        vol.ok(APPLY, json!({ "p": p["id"] })).await;
        wait_mails(&smtp, &owner_email, 3).await;
        let held = format!(
            "SELECT count(*) AS n FROM outbox WHERE recipient = '{vol_email}'
               AND status = 'SUPPRESSED' AND last_error LIKE '%stopped this kind%'"
        );
        let mut suppressed = 0;
        for _ in 0..100 {
            suppressed = count(&db, &held).await;
            if suppressed == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(suppressed, 1, "{l}: the receipt is held back");
        assert_eq!(
            wait_mails(&smtp, &vol_email, 2).await.len(),
            2,
            "no receipt after opting out"
        );
        // The same link turns them back on (GraphQL here; the page's resume button below).
        let r = api
            .client()
            .ok(
                "mutation($t: String!) { setEmailOptOut(token: $t, optedOut: false) { kind optedOut } }",
                json!({ "t": token }),
            )
            .await;
        assert_eq!(r["setEmailOptOut"]["optedOut"], false);
        owner.ok(DECIDE, json!({ "id": a, "a": false })).await;
        let mails = wait_mails(&smtp, &vol_email, 3).await;
        assert!(mails[2].1.contains(applied), "{l}: {:?}", mails[2]);
        // Stopping one kind leaves the others: the nominator's emails are untouched.
        assert_eq!(stopped(nom_email.clone()).await, 0);
    }
    // The page's own buttons: stop, then resume.
    let receipt = &smtp
        .messages()
        .into_iter()
        .find(|m| m.rcpt_to.iter().any(|r| r == "nom-en@example.kz"))
        .unwrap();
    let link = footer_link(&mail_text(receipt).1);
    let html = http.post(&link).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("These emails are stopped"), "{html}");
    assert!(html.contains("/unsubscribe/resume?token="), "{html}");
    let resume = link.replace("/unsubscribe?", "/unsubscribe/resume?");
    let html = http
        .post(&resume)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("You will get these emails again"), "{html}");
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM email_opt_outs").await,
        0
    );
    let forged = http
        .post(api.url("/unsubscribe/resume?token=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    w.kill().await.ok();
}

/// Every URL in a text.
fn urls(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

/// One email of each link-carrying kind (sign-in, verification, confirmation, receipt,
/// notice, digest) with or without a frontend: (recipient, subject, text, List-Unsubscribe).
type Mail = (String, String, String, Option<String>);

async fn emails_with(frontend: Option<&str>) -> (TestDb, TestApi, Vec<Mail>) {
    let (db, redis, smtp) = (
        TestDb::new().await,
        TestRedis::new(),
        SmtpServer::start().await,
    );
    let api = TestApi::start(&db, &redis).await;
    let mut env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("APP_SECRET", TEST_SECRET)
        .set("PUBLIC_URL", &api.base);
    if let Some(f) = frontend {
        env = env.set("FRONTEND_URL", f);
    }
    let mut w = env.spawn_worker();
    let owner = signed_in(&db, &api, "owner@example.kz", "en").await;
    let vol = signed_in(&db, &api, "vol@example.kz", "ru").await;
    let o = org(&owner, "Helpers", "NGO").await;
    let p = published_project(&owner, &o["id"], "Winter help").await;
    exec(
        &db,
        "INSERT INTO posts (slug, title, body, published_at)
           VALUES ('first-snow', '{\"en\":\"First snow\"}', '{\"en\":\"Body\"}', now() - interval '1 hour');
         INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at,
                             voting_opens_at, voting_closes_at)
           VALUES ('kind-hearts', '{\"en\":\"Kind hearts\"}', 2026, '{KZ}', now() - interval '1 day',
                   now() + interval '5 days', now() + interval '6 days', now() + interval '9 days');
         INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at, last_digest_at)
           VALUES ('digest@example.kz', 'kk', '{WEEKLY_DIGEST}', 'ACTIVE', now() - interval '30 days',
                   now() - interval '7 days');",
    )
    .await;
    let gql = api.client();
    gql.ok(
        "mutation { subscribe(input: { email: \"sub@example.kz\", locale: RU }) { status } }",
        json!({}),
    )
    .await;
    gql.ok(
        "mutation { requestSignInLink(email: \"signin@example.kz\") }",
        json!({}),
    )
    .await;
    gql.ok(
        "mutation { signUp(input: { email: \"new@example.kz\", password: \"long enough password\", displayName: \"New\", locale: KK }) { token } }",
        json!({}),
    )
    .await;
    vol.ok(APPLY, json!({ "p": p["id"] })).await;
    env.digest_now().await;
    let recipients = [
        "sub@example.kz",
        "signin@example.kz",
        "new@example.kz",
        "vol@example.kz",
        "owner@example.kz",
        "digest@example.kz",
    ];
    for to in recipients {
        wait_mails(&smtp, to, 1).await;
    }
    w.kill().await.ok();
    let all = smtp
        .messages()
        .iter()
        .map(|m| {
            let (s, t) = mail_text(m);
            (m.rcpt_to[0].clone(), s, t, header(m, "List-Unsubscribe"))
        })
        .collect();
    (db, api, all)
}

/// With FRONTEND_URL, every link in every email opens the frontend, at the documented routes;
/// only the one-click target (a header) stays on the api, which takes that POST.
#[tokio::test(flavor = "multi_thread")]
async fn with_a_frontend_every_email_link_opens_it() {
    let (_db, api, mails) = emails_with(Some(FRONT)).await;
    let find = |to: &str| {
        mails
            .iter()
            .find(|m| m.0 == to)
            .unwrap_or_else(|| panic!("no mail to {to}"))
    };
    for (to, subject, text, _) in &mails {
        for url in urls(text) {
            assert!(url.starts_with(FRONT), "{to} {subject}: {url}");
        }
    }
    for (to, route) in [
        ("signin@example.kz", "/sign-in?token="),
        ("new@example.kz", "/verify?token="),
        ("sub@example.kz", "/confirm?token="),
        ("vol@example.kz", "/projects/winter-help"),
        ("vol@example.kz", "/unsubscribe?token="),
        ("owner@example.kz", "/projects/winter-help"),
        ("digest@example.kz", "/projects/winter-help"),
        ("digest@example.kz", "/news/first-snow"),
        ("digest@example.kz", "/awards/kind-hearts"),
        ("digest@example.kz", "/unsubscribe?token="),
    ] {
        let text = &find(to).2;
        assert!(text.contains(&format!("{FRONT}{route}")), "{to}: {text}");
    }
    for to in ["vol@example.kz", "digest@example.kz"] {
        let (_, _, text, lu) = find(to);
        let token = footer_link(text).split("token=").nth(1).unwrap().to_owned();
        assert_eq!(
            lu.as_deref(),
            Some(format!("<{}/unsubscribe?token={token}>", api.base).as_str()),
            "{to}"
        );
    }
}

/// Without FRONTEND_URL, emails link only to pages the api serves (each answers 200), and the
/// content they name (projects, posts, awards) is there without a link.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_frontend_emails_link_to_no_missing_page() {
    // The database lives while the links are opened.
    let (_db, api, mails) = emails_with(None).await;
    let http = reqwest::Client::new();
    let mut opened = 0;
    for (to, subject, text, _) in &mails {
        for url in urls(text) {
            assert!(url.starts_with(&api.base), "{to} {subject}: {url}");
            for path in ["/projects/", "/news/", "/awards/"] {
                assert!(!url.contains(path), "{to}: {url}");
            }
            let r = http.get(&url).send().await.expect("GET");
            assert_eq!(r.status(), 200, "{to}: {url}");
            opened += 1;
        }
    }
    assert!(
        opened >= 6,
        "sign-in, verify, confirm and three unsubscribe links"
    );
    let digest = &mails.iter().find(|m| m.0 == "digest@example.kz").unwrap().2;
    for title in ["Winter help", "First snow", "Kind hearts"] {
        assert!(digest.contains(title), "{digest}");
    }
    let receipt = &mails.iter().find(|m| m.0 == "vol@example.kz").unwrap().2;
    assert!(receipt.contains("Winter help"), "{receipt}");
}

/// The api's sign-in page with a frontend: GET shows a button (and lets its form end in the
/// frontend), POST answers 303 to FRONTEND_URL/sign-in#code=… with no session token in any
/// URL or page; the code, exchanged once through GraphQL, is the session.
#[tokio::test(flavor = "multi_thread")]
async fn the_sign_in_page_ends_in_the_frontend_signed_in() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = test_config(&db, &redis);
    config.frontend_url = Some(FRONT.into());
    let api = TestApi::start_with(config).await;
    let gql = api.client();
    gql.ok(
        "mutation { requestSignInLink(email: \"jan@example.kz\") }",
        json!({}),
    )
    .await;
    let token = token_of(&db, "SIGN_IN_LINK", "jan@example.kz").await;
    let url = api.url(&format!("/auth/link?token={token}"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {FRONT}")),
        "{csp}"
    );
    assert!(page.text().await.unwrap().contains("method=\"post\""));
    assert_eq!(count(&db, "SELECT count(*) AS n FROM sessions").await, 0);

    let done = http
        .post(&url)
        .header("accept-language", "ru")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["cache-control"], "no-store");
    assert_eq!(done.headers()["referrer-policy"], "no-referrer");
    let to = done.headers()["location"].to_str().unwrap().to_owned();
    let code = to
        .strip_prefix(&format!("{FRONT}/sign-in#code="))
        .unwrap_or_else(|| panic!("{to}"))
        .to_owned();
    assert!(
        !to.contains('?'),
        "nothing in the query, which servers log: {to}"
    );
    assert!(
        done.text().await.unwrap().is_empty(),
        "no page with a token"
    );
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM sessions").await,
        0,
        "the session is opened by the exchange, not the page"
    );
    // The sign-in link itself is spent.
    let again = http.post(&url).send().await.unwrap();
    assert_eq!(again.status(), 400);

    const EXCHANGE: &str =
        "mutation($c: String!) { exchangeSignInCode(code: $c) { token user { email } } }";
    let r = gql.ok(EXCHANGE, json!({ "c": code })).await;
    assert_eq!(r["exchangeSignInCode"]["user"]["email"], "jan@example.kz");
    let session = r["exchangeSignInCode"]["token"].as_str().unwrap();
    let me = gql
        .with_token(session)
        .ok("{ viewer { email emailVerified locale } }", json!({}))
        .await;
    assert_eq!(me["viewer"]["email"], "jan@example.kz");
    assert_eq!(me["viewer"]["emailVerified"], true);
    assert_eq!(me["viewer"]["locale"], "RU", "the page's language");
    // Once only; a sign-in token is not a code, nor the other way round.
    let twice = gql.raw(EXCHANGE, json!({ "c": code })).await;
    assert_eq!(crate::public_support::code(&twice), "BAD_USER_INPUT");
    assert_eq!(crate::public_support::field(&twice), "code");
    assert!(twice["data"].is_null(), "{twice}");
    let wrong = gql.raw(EXCHANGE, json!({ "c": token })).await;
    assert_eq!(crate::public_support::code(&wrong), "BAD_USER_INPUT");
    let r = gql
        .raw(
            "mutation($t: String!) { signInWithLink(token: $t) { token } }",
            json!({ "t": code }),
        )
        .await;
    assert_eq!(crate::public_support::code(&r), "BAD_USER_INPUT");

    // Verifying through the api's page ends with a way into the frontend, no session.
    let new = gql
        .ok(
            "mutation { signUp(input: { email: \"ve@example.kz\", password: \"long enough password\", displayName: \"Ve\" }) { token } }",
            json!({}),
        )
        .await;
    assert!(new["signUp"]["token"].is_string());
    let verify = token_of(&db, "VERIFY_EMAIL", "ve@example.kz").await;
    for lang in ["kk", "ru", "en"] {
        let html = http
            .post(api.url(&format!("/auth/link?token={verify}")))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let continue_to = match lang {
            "kk" => "Birgemiz-ге өту",
            "ru" => "Перейти в Birgemiz",
            _ => "Continue to Birgemiz",
        };
        assert!(
            html.contains(&format!("<a href=\"{FRONT}/\">{continue_to}</a>")),
            "{lang}: {html}"
        );
        assert!(!html.contains("<code"), "{html}");
    }
}
