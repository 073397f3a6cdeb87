//! What the emails say (issue 18, items 14–17): reminders tell the real remaining time and the
//! exact moment in TIMEZONE with its name, and one whose moment has passed is never sent.

use std::time::Duration;

use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{TestDb, TestRedis};

use crate::public_support::{count, exec};
use crate::rules_awards::{mail_text, wait_mails};

const STATE: &str = "
INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at) VALUES
  ('ru@example.kz', 'ru', '{AWARD_UPDATES}', 'ACTIVE', now()),
  ('kk@example.kz', 'kk', '{AWARD_UPDATES}', 'ACTIVE', now()),
  ('en@example.kz', 'en', '{AWARD_UPDATES}', 'ACTIVE', now()),
  -- Subscribed when the late reminder was written; no longer asks for award news.
  ('late@example.kz', 'en', '{}', 'ACTIVE', now());
INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at, voting_opens_at, voting_closes_at)
VALUES ('closing', '{\"en\":\"Closing award\"}', 2026, '{KZ}', now() - interval '20 days', now() - interval '10 days',
        now() - interval '9 days', now() + interval '23 hours'),
       ('closed', '{\"en\":\"Closed award\"}', 2026, '{KZ}', now() - interval '20 days', now() - interval '10 days',
        now() - interval '9 days', now() - interval '1 minute');
INSERT INTO award_categories (award_id, position, title)
SELECT id, 1, '{\"en\":\"Category\"}' FROM awards;
-- Written while it was due, sent after its moment (a worker was down): must never go out.
INSERT INTO outbox (kind, recipient, locale, payload, dedupe_key, bulk)
SELECT 'VOTING_CLOSES_REMINDER', 'late@example.kz', 'en',
       jsonb_build_object('kind', 'VOTING_CLOSES_REMINDER', 'award_id', id), 'late', true
FROM awards WHERE slug = 'closed';
";

#[tokio::test(flavor = "multi_thread")]
async fn reminders_tell_the_real_time_left_and_never_come_late() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let redis = TestRedis::new();
    exec(&db, STATE).await;
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("REMINDER_INTERVAL_SECS", "1")
        .set("TIMEZONE", "Asia/Almaty");
    let mut w = env.spawn_worker();
    // Rendered when sent, 23 hours minus seconds before closing: rounded down, never more.
    for (to, left, zone) in [
        ("ru@example.kz", "через 22 часа 59 минут", "(Астана)"),
        ("kk@example.kz", "22 сағат 59 минут қалды", "(Астана)"),
        ("en@example.kz", "closes in 22 hours 59 minutes", "(Astana)"),
    ] {
        let mails = wait_mails(&smtp, to, 1).await;
        let (subject, text) = &mails[0];
        assert!(subject.contains(left), "{to}: {subject}");
        assert!(text.contains(zone), "{to}: {text}");
        assert!(!subject.contains("24"), "{subject}");
    }
    // The late one is marked, not sent.
    let mut suppressed = 0;
    for _ in 0..100 {
        suppressed = count(
            &db,
            "SELECT count(*) AS n FROM outbox WHERE dedupe_key = 'late' AND status = 'SUPPRESSED'
               AND last_error LIKE '%moment has passed%'",
        )
        .await;
        if suppressed == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(suppressed, 1);
    assert!(
        smtp.messages()
            .iter()
            .all(|m| !m.rcpt_to.contains(&"late@example.kz".to_owned())),
        "{:?}",
        smtp.messages().iter().map(mail_text).collect::<Vec<_>>()
    );
    w.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_digest_has_one_line_per_award_with_its_current_phase() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let redis = TestRedis::new();
    exec(
        &db,
        "INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at, last_digest_at) VALUES
           ('ru@example.kz', 'ru', '{WEEKLY_DIGEST}', 'ACTIVE', now() - interval '30 days', now() - interval '7 days'),
           ('en@example.kz', 'en', '{WEEKLY_DIGEST}', 'ACTIVE', now() - interval '30 days', now() - interval '7 days');
         -- Three of its phase changes fell in the week.
         INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at,
                             voting_opens_at, voting_closes_at)
         VALUES ('weekly', '{\"en\":\"Weekly award\",\"ru\":\"Премия недели\"}', 2026, '{KZ}',
                 now() - interval '6 days', now() - interval '4 days', now() - interval '3 days',
                 now() + interval '2 days');",
    )
    .await;
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url());
    let mut w = env.spawn_worker();
    env.digest_now().await;
    for (to, title, phase) in [
        (
            "ru@example.kz",
            "Премия недели",
            "Премия недели: открыто голосование",
        ),
        ("en@example.kz", "Weekly award", "Weekly award: voting open"),
    ] {
        let mails = wait_mails(&smtp, to, 1).await;
        let text = &mails[0].1;
        assert_eq!(text.matches(title).count(), 1, "{text}");
        assert!(text.contains(phase), "{text}");
    }
    w.kill().await.ok();
}

/// A verified user who never subscribed gets the voting reminder: it says why (an account
/// that has not voted everywhere, not "you subscribed"), and its one-click link works.
#[tokio::test(flavor = "multi_thread")]
async fn a_reminder_to_someone_who_never_subscribed_says_why_and_its_link_works() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let redis = TestRedis::new();
    let api = birgemiz_tests::TestApi::start(&db, &redis).await;
    exec(
        &db,
        "INSERT INTO users (email, display_name, email_verified_at, locale)
           VALUES ('voter@example.kz', 'Voter', now(), 'ru');
         INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at,
                             voting_opens_at, voting_closes_at)
         VALUES ('closing', '{\"ru\":\"Премия\"}', 2026, '{KZ}', now() - interval '20 days',
                 now() - interval '10 days', now() - interval '9 days', now() + interval '20 hours');
         INSERT INTO award_categories (award_id, position, title)
         SELECT id, 1, '{\"en\":\"Category\"}' FROM awards;",
    )
    .await;
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("REMINDER_INTERVAL_SECS", "1")
        .set("APP_SECRET", birgemiz_tests::api::TEST_SECRET)
        .set("PUBLIC_URL", &api.base);
    let mut w = env.spawn_worker();
    let mails = wait_mails(&smtp, "voter@example.kz", 1).await;
    let text = &mails[0].1;
    assert!(
        text.contains("проголосовали ещё не во всех категориях"),
        "{text}"
    );
    assert!(!text.contains("потому что подписались"), "{text}");
    let raw = String::from_utf8_lossy(&smtp.messages()[0].raw).to_string();
    let link = raw
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .and_then(|l| l.split('>').next())
        .expect("List-Unsubscribe header")
        .to_owned();
    let http = reqwest::Client::new();
    let page = http.get(&link).send().await.expect("GET");
    assert_eq!(page.status(), 200);
    let posted = http
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(posted.status(), 200);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM email_subscriptions
             WHERE email = 'voter@example.kz' AND status = 'UNSUBSCRIBED'"
        )
        .await,
        1
    );
    w.kill().await.ok();
}

/// The second POST (or a GET) of a confirmation link says "already confirmed";
/// emailSubscription reads a confirmation token (before and after use).
#[tokio::test(flavor = "multi_thread")]
async fn a_confirmation_link_used_twice_says_already_confirmed() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = birgemiz_tests::TestApi::start(&db, &redis).await;
    let gql = api.client().with_locale("kk");
    gql.ok(
        "mutation($i: SubscribeInput!) { subscribe(input: $i) { status } }",
        serde_json::json!({ "i": { "email": "sub@example.kz", "topics": ["NEWS"] } }),
    )
    .await;
    let token =
        crate::public_support::token_of(&db, "SUBSCRIPTION_CONFIRMATION", "sub@example.kz").await;
    let read = "query($t: String!) { emailSubscription(token: $t) { email status topics } }";
    let before = gql.ok(read, serde_json::json!({ "t": token })).await;
    assert_eq!(
        before["emailSubscription"],
        serde_json::json!({ "email": "sub@example.kz", "status": "PENDING_CONFIRMATION", "topics": ["NEWS"] })
    );
    let http = reqwest::Client::new();
    let url = api.url(&format!("/subscriptions/confirm?token={token}"));
    let first = http.post(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.text().await.unwrap().contains("Жазылым расталды"));
    let second = http.post(&url).send().await.unwrap();
    assert_eq!(second.status(), 200);
    assert!(
        second.text().await.unwrap().contains("бұрын расталған"),
        "already confirmed, not invalid"
    );
    // Opening the used link again says the same, with nothing left to press.
    let shown = http.get(&url).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    assert!(html.contains("бұрын расталған"), "{html}");
    assert!(!html.contains("method=\"post\""), "{html}");
    let after = gql.ok(read, serde_json::json!({ "t": token })).await;
    assert_eq!(after["emailSubscription"]["status"], "ACTIVE");
    let bogus = gql.ok(read, serde_json::json!({ "t": "nope" })).await;
    assert!(bogus["emailSubscription"].is_null());
}
