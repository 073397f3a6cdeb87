//! Reminders are computed from state by the workers' schedule: with three workers running and
//! the schedule firing every second, each reminder still goes out exactly once.

use std::time::Duration;

use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{TestDb, TestRedis};
use diesel_async::SimpleAsyncConnection;

const STATE: &str = "
INSERT INTO users (email, display_name, email_verified_at) VALUES
  ('voted-all@example.kz', 'All', now()), ('voted-one@example.kz', 'One', now()),
  ('unverified@example.kz', 'Unverified', NULL), ('volunteer@example.kz', 'Volunteer', now()),
  ('declined@example.kz', 'Declined', now()), ('opted-out@example.kz', 'Opted out', now());
INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at) VALUES
  ('fan@example.kz', 'en', '{AWARD_UPDATES}', 'ACTIVE', now()),
  ('digest-only@example.kz', 'kk', '{WEEKLY_DIGEST}', 'ACTIVE', now()),
  ('pending@example.kz', 'ru', '{AWARD_UPDATES}', 'PENDING_CONFIRMATION', NULL);
-- A verified user who followed an earlier reminder's unsubscribe link.
INSERT INTO email_subscriptions (email, topics, status, unsubscribed_at) VALUES
  ('opted-out@example.kz', '{}', 'UNSUBSCRIBED', now());
INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at, voting_opens_at, voting_closes_at)
VALUES ('closing', '{\"en\":\"Closing award\"}', 2026, '{KZ}', now() - interval '20 days', now() - interval '10 days',
        now() - interval '9 days', now() + interval '23 hours'),
       ('nominating', '{\"en\":\"Nominating award\"}', 2026, '{KZ}', now() - interval '2 days', now() + interval '48 hours',
        now() + interval '3 days', now() + interval '10 days'),
       ('far', '{\"en\":\"Far award\"}', 2026, '{KZ}', now() - interval '2 days', now() + interval '20 days',
        now() + interval '21 days', now() + interval '30 days');
INSERT INTO award_categories (award_id, position, title)
SELECT id, p, '{\"en\":\"Category\"}' FROM awards, generate_series(1, 2) p WHERE slug = 'closing';
INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, statement, country, status)
SELECT id, 'Nominee ' || position, 'nominee ' || position, 'PERSON', 'Good.', 'KZ', 'APPROVED' FROM award_categories;
INSERT INTO votes (user_id, category_id, nomination_id)
SELECT u.id, n.category_id, n.id FROM users u, nominations n WHERE u.email = 'voted-all@example.kz';
INSERT INTO votes (user_id, category_id, nomination_id)
SELECT u.id, n.category_id, n.id FROM users u, nominations n
WHERE u.email = 'voted-one@example.kz' AND n.nominee_key = 'nominee 1';
INSERT INTO organizations (slug, name, kind, country) VALUES ('org', '{\"en\":\"Org\"}', 'NGO', 'KZ');
INSERT INTO projects (slug, organization_id, title, direction, status, country, starts_at, published_at)
SELECT 'tomorrow', id, '{\"en\":\"Tomorrow\"}', 'SOCIAL', 'PUBLISHED', 'KZ',
       ((now() AT TIME ZONE 'Asia/Almaty')::date + 1 + time '12:00') AT TIME ZONE 'Asia/Almaty', now()
FROM organizations WHERE slug = 'org';
INSERT INTO projects (slug, organization_id, title, direction, status, country, starts_at, published_at)
SELECT 'next-week', id, '{\"en\":\"Next week\"}', 'SOCIAL', 'PUBLISHED', 'KZ', now() + interval '7 days', now()
FROM organizations WHERE slug = 'org';
INSERT INTO applications (project_id, volunteer_id, status, decided_at)
SELECT p.id, u.id, CASE WHEN u.email = 'volunteer@example.kz' THEN 'ACCEPTED' ELSE 'DECLINED' END, now()
FROM projects p, users u WHERE u.email IN ('volunteer@example.kz', 'declined@example.kz');
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_go_out_once_with_three_workers() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let redis = TestRedis::new();
    db.conn().await.batch_execute(STATE).await.expect("state");
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("REMINDER_INTERVAL_SECS", "1")
        .set("TIMEZONE", "Asia/Almaty");
    let mut workers = [env.spawn_worker(), env.spawn_worker(), env.spawn_worker()];
    // Voting closes tomorrow: the AWARD_UPDATES subscriber and every verified user who has not
    // voted in each category; nominations close in two days: the subscriber; a project starts
    // tomorrow: its accepted volunteer. Not: the one who voted everywhere, the unverified, the
    // pending or digest-only subscribers, the verified user who unsubscribed, the far award,
    // next week's project, the declined one.
    let expected = [
        ("declined@example.kz", "Closing award"),
        ("fan@example.kz", "Closing award"),
        ("fan@example.kz", "Nominating award"),
        ("volunteer@example.kz", "Closing award"),
        ("volunteer@example.kz", "Tomorrow"),
        ("voted-one@example.kz", "Closing award"),
    ];
    assert!(
        smtp.wait_for(Duration::from_secs(60), |m| m.len() >= expected.len())
            .await,
        "only {} reminders arrived",
        smtp.count()
    );
    // Several more schedule ticks in every worker: nothing new may be sent.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let messages = smtp.messages();
    let mut got: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            let parsed = mailparse::parse_mail(&m.raw).expect("valid MIME");
            let text = parsed
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == "text/plain")
                .expect("text part");
            let body = text.get_body().expect("body");
            let subject = expected
                .iter()
                .map(|(_, s)| *s)
                .find(|s| body.contains(s))
                .unwrap_or("?")
                .to_owned();
            (m.rcpt_to.join(","), subject)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(a, s)| (a.to_string(), s.to_string()))
        .collect();
    want.sort();
    assert_eq!(
        got, want,
        "each reminder exactly once, to exactly these people"
    );
    for m in &messages {
        let raw = String::from_utf8_lossy(&m.raw);
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "reminders are bulk mail"
        );
    }
    for w in &mut workers {
        w.kill().await.expect("stop worker");
    }
}
