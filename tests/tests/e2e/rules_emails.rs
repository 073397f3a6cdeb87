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
  ('en@example.kz', 'en', '{AWARD_UPDATES}', 'ACTIVE', now());
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
